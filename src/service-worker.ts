/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * Precaches the app shell (the build and static files) under a versioned cache, so an installed
 * app reloads with no network; older caches are removed on activation. Contract data never passes
 * through here: it lives in IndexedDB.
 */
import { build, files, version } from '$service-worker';

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
