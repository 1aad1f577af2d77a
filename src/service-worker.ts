/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * Precaches the app shell (the build and static files) under a versioned cache, so an installed
 * app reloads with no network; older caches are removed on activation. Contract data never passes
 * through the cache: it lives in IndexedDB.
 *
 * Push (opt-in, src/lib/sync/push.ts): a relay's push carries a room id and nothing else. The worker
 * pulls that room, verifies and folds what arrived with the contract stored on this device, keeps it
 * there, and shows what happened from that local data ("Ada released $500.00 on Design"). Periodic
 * Background Sync, where the browser offers it, does the same for every followed room. A click on
 * the notification opens the contract.
 */
import { build, files, version } from '$service-worker';
import { catchUpRoom, followedRooms, PERIODIC_TAG } from '$lib/sync/push';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `milestone-shell-${version}`;
const SHELL = [...build, ...files, './'];

sw.addEventListener('install', (event) => {
	event.waitUntil(
		caches
			.open(CACHE)
			.then((cache) => cache.addAll(SHELL))
			.then(() => sw.skipWaiting())
	);
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		caches
			.keys()
			.then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
			.then(() => sw.clients.claim())
	);
});

sw.addEventListener('fetch', (event) => {
	const request = event.request;
	if (request.method !== 'GET' || new URL(request.url).origin !== sw.location.origin) return;
	event.respondWith(
		(async () => {
			const cache = await caches.open(CACHE);
			const cached = await cache.match(request, { ignoreSearch: true });
			if (cached) return cached;
			try {
				return await fetch(request);
			} catch {
				// Offline and not precached: every route of the SPA is the same shell.
				return (await cache.match('./')) ?? Response.error();
			}
		})()
	);
});

/** Catch up `rooms` and show one notification per contract with news. */
async function announce(rooms: readonly string[]): Promise<void> {
	const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
	for (const room of rooms) {
		try {
			const news = await catchUpRoom(room);
			if (!news) continue;
			// The person is looking at this contract right now: the page shows it already.
			const watching = windows.some((w) => w.focused && w.visibilityState === 'visible' && new URL(w.url).hash.startsWith(`#/c/${news.contract}`));
			if (watching) continue;
			await sw.registration.showNotification(news.title, {
				body: news.body,
				tag: `contract:${news.contract}`,
				data: { contract: news.contract },
				icon: 'icon-192.png'
			});
		} catch (e) {
			// Unreachable relay or storage: the app catches up when it opens.
			console.warn('Could not catch up a pushed room:', e);
		}
	}
}

function pushedRoom(data: PushMessageData | null): string | undefined {
	try {
		const room = (data?.json() as { room?: unknown } | undefined)?.room;
		return typeof room === 'string' ? room : undefined;
	} catch {
		return undefined;
	}
}

sw.addEventListener('push', (event) => {
	event.waitUntil(
		(async () => {
			const room = pushedRoom(event.data);
			// A push without a room id: every followed room.
			await announce(room ? [room] : await followedRooms());
		})()
	);
});

sw.addEventListener('periodicsync' as 'push', (event) => {
	const e = event as unknown as ExtendableEvent & { tag: string };
	if (e.tag !== PERIODIC_TAG) return;
	e.waitUntil(followedRooms().then(announce));
});

sw.addEventListener('notificationclick', (event) => {
	event.notification.close();
	const contract = (event.notification.data as { contract?: string } | null)?.contract;
	const url = new URL(contract ? `./#/c/${contract}` : './', sw.registration.scope).href;
	event.waitUntil(
		(async () => {
			const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
			const open = windows.find((w) => new URL(w.url).origin === sw.location.origin);
			if (open) {
				await open.focus();
				await open.navigate(url).catch(() => undefined);
				return;
			}
			await sw.clients.openWindow(url);
		})()
	);
});
