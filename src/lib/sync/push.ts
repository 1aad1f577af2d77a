/**
 * Push notifications, opt-in: this device subscribes (the service worker's pushManager, with the
 * relay's VAPID public key from its hello) and asks the relay to wake it when something lands in the
 * rooms of its contracts. The push carries the room id alone; the service worker (service-worker.ts)
 * then pulls that room, verifies and folds what came with the device's own copy of the contract, and
 * says what happened from that local data (`catchUpRoom`, describe.ts).
 *
 * One relay pushes to a device: a browser keeps one push subscription per service worker, tied to
 * one VAPID key, so the first of this device's relays that offers push is the one. The relay then
 * sees one endpoint follow several rooms: it can link those rooms (contracts) to one device. That is
 * what push reveals, and why it is off until the person turns it on.
 *
 * Records (IndexedDB `milestone-push`, readable by the service worker): `state` (the relay, its key,
 * this subscription's endpoint) and `rooms` (room id → contract and relay) for every room subscribed.
 */
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { describeNews, type Announcement } from '../contract/describe';
import { ContractLog } from '../contract/log';
import { authenticate } from '../identity/authenticate';
import { sign } from '../identity/ed25519';
import { openProof, subscribeProof, unsubscribeProof, type RelayMessage, type WirePushSubscription } from '../../relay/protocol';
import { setOwnPushEndpoint } from './push-endpoint';
import { identityKeyOf, listContracts, loadDevice, relayCursorStorage, type ContractEntry } from './device-db';
import { deriveRelayKeys, RelayClient, RelayError, type ReceivedEnvelope, type RelayKeys } from './relay-client';
import { contractRelays, loadRelays } from './settings';
import { inStore } from './idb-transaction';

export type PushPermission = 'unsupported' | NotificationPermission;

export interface PushState {
	/** The relay that pushes to this device, and the VAPID key the subscription was made with. */
	relay: string;
	key: string;
	endpoint: string;
	enabledAt: number;
}

export interface PushRoom {
	room: string;
	contract: string;
	relay: string;
	subscribedAt: number;
}

/** Tag of the Periodic Background Sync registration (service-worker.ts pulls every followed room). */
export const PERIODIC_TAG = 'milestone-relay-pull';
/** The y-indexeddb database of a contract (as contract-session.svelte.ts names it). */
export const contractDbName = (contract: string) => `milestone-contract-${contract}`;

// —— records ——

const DB = 'milestone-push';
let opening: Promise<IDBDatabase> | undefined;

function db(): Promise<IDBDatabase> {
	opening ??= new Promise<IDBDatabase>((resolve, reject) => {
		const req = indexedDB.open(DB, 1);
		req.onupgradeneeded = () => {
			req.result.createObjectStore('state');
			req.result.createObjectStore('rooms', { keyPath: 'room' });
		};
		req.onsuccess = () => {
			const d = req.result;
			d.onversionchange = () => {
				d.close();
				opening = undefined;
			};
			resolve(d);
		};
		req.onerror = () => reject(new Error(`Push settings cannot be stored in this browser (${req.error?.message ?? 'IndexedDB refused'}).`));
	}).catch((e) => {
		opening = undefined;
		throw e;
	});
	return opening;
}

function tx<T>(store: string, mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T> {
	return db().then((d) => inStore(d, store, mode, op, (e) => e ?? new Error('A push setting could not be stored.')));
}

export const loadPushState = () => tx<PushState | undefined>('state', 'readonly', (s) => s.get('self'));
export const listPushRooms = () => tx<PushRoom[]>('rooms', 'readonly', (s) => s.getAll());
export const getPushRoom = (room: string) => tx<PushRoom | undefined>('rooms', 'readonly', (s) => s.get(room));
const savePushState = (p: PushState) => tx('state', 'readwrite', (s) => s.put(p, 'self'));
const savePushRoom = (r: PushRoom) => tx('rooms', 'readwrite', (s) => s.put(r));
const clearPush = async () => {
	await tx('state', 'readwrite', (s) => s.clear());
	await tx('rooms', 'readwrite', (s) => s.clear());
};

export { ownPushEndpoint } from './push-endpoint';

// —— what the browser offers ——

export function pushPermission(): PushPermission {
	if (typeof window === 'undefined' || !('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return 'unsupported';
	return Notification.permission;
}

async function registration(timeoutMs = 10_000): Promise<ServiceWorkerRegistration> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	try {
		return await Promise.race([
			navigator.serviceWorker.ready,
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => reject(new Error('The app’s service worker is not running, so this browser cannot receive pushes. Reload the page and try again.')), timeoutMs);
			})
		]);
	} finally {
		clearTimeout(timer);
	}
}

// —— talking to the relay (subscribe and unsubscribe only: items go through relay-client.ts) ——

type Hello = Extract<RelayMessage, { t: 'hello' }>;

/** One short-lived protocol connection: hello, then requests answered by id. */
class RelayLine {
	private readonly ws: WebSocket;
	private nextId = 1;
	private readonly waiting = new Map<number, (m: RelayMessage) => void>();
	readonly hello: Promise<Hello>;

	constructor(url: string, room: string) {
		this.ws = new WebSocket(`${url.replace(/\/+$/, '')}/room/${room}`);
		this.hello = new Promise<Hello>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`The relay ${url} did not answer.`)), 10_000);
			this.ws.onmessage = (ev) => {
				let m: RelayMessage;
				try {
					m = JSON.parse(String(ev.data));
				} catch {
					return;
				}
				if (m.t === 'hello') {
					clearTimeout(timer);
					return resolve(m);
				}
				if ('id' in m && m.id !== undefined) this.waiting.get(m.id)?.(m);
			};
			this.ws.onclose = (ev) => {
				clearTimeout(timer);
				reject(new Error(`The relay ${url} could not be reached${ev.reason ? `: ${ev.reason}` : ''}.`));
				for (const w of this.waiting.values()) w({ t: 'error', code: 'storage-failed', message: 'The relay connection closed.' });
			};
		});
		this.hello.catch(() => {});
	}

	async request<T extends RelayMessage>(body: Record<string, unknown>): Promise<T> {
		await this.hello;
		const id = this.nextId++;
		const answer = await new Promise<RelayMessage>((resolve) => {
			const timer = setTimeout(() => resolve({ t: 'error', code: 'storage-failed', message: 'The relay did not answer in time.' }), 15_000);
			this.waiting.set(id, (m) => {
				clearTimeout(timer);
				this.waiting.delete(id);
				resolve(m);
			});
			this.ws.send(JSON.stringify({ t: body.t, id, ...body }));
		});
		if (answer.t === 'error') throw new RelayError(answer.code, answer.message);
		return answer as T;
	}

	/** Open a room with proof of its key (the relay serves a room only to holders of its link). */
	async open(keys: RelayKeys): Promise<string> {
		const { challenge } = await this.hello;
		await this.request({ t: 'open', room: keys.room, key: keys.roomKey.publicKey, sig: await sign(keys.roomKey, openProof(challenge, keys.room)), live: false });
		return challenge;
	}

	close(): void {
		this.ws.close(1000, 'done');
	}
}

/** The relay's VAPID key, from its hello; undefined when it offers no push. */
export async function relayPushKey(url: string): Promise<string | undefined> {
	// The hello comes before any room is opened: any well-formed room id in the path will do.
	const line = new RelayLine(url, 'A'.repeat(43));
	try {
		return (await line.hello).push?.key;
	} finally {
		line.close();
	}
}

const keyBytes = (b64url: string) => Uint8Array.from(atob(b64url.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const sameKey = (a: ArrayBuffer | null | undefined, b: Uint8Array) => !!a && a.byteLength === b.length && new Uint8Array(a).every((v, i) => v === b[i]);

function wireSubscription(sub: PushSubscription): WirePushSubscription {
	const json = sub.toJSON();
	if (!json.endpoint || !json.keys?.p256dh || !json.keys?.auth) throw new Error('This browser made a push subscription without its keys; it cannot be used.');
	return { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } };
}

export interface PushResult {
	permission: PushPermission;
	enabled: boolean;
	relay?: string;
	/** Contracts followed, and those the relay refused, in its words. */
	rooms: number;
	problems: string[];
}

/** Subscribe, on `relay`, the rooms of every contract of this device that uses it. */
async function subscribeRooms(state: PushState, sub: WirePushSubscription, only?: (e: ContractEntry) => boolean): Promise<{ rooms: number; problems: string[] }> {
	const entries = (await listContracts()).filter((e) => contractRelays(e.relays).includes(state.relay) && (!only || only(e)));
	const problems: string[] = [];
	let rooms = 0;
	if (!entries.length) return { rooms, problems };
	let line: RelayLine | undefined;
	try {
		for (const entry of entries) {
			const keys = deriveRelayKeys(entry.secret);
			line ??= new RelayLine(state.relay, keys.room);
			try {
				// A relay that pushes is a Node relay: one connection carries every room (mux).
				const challenge = await line.open(keys);
				await line.request({ t: 'subscribe', room: keys.room, subscription: sub, sig: await sign(keys.roomKey, subscribeProof(challenge, keys.room, sub)) });
				await line.request({ t: 'leave', room: keys.room });
				await savePushRoom({ room: keys.room, contract: entry.contract, relay: state.relay, subscribedAt: Date.now() });
				rooms++;
			} catch (e) {
				if (!(e instanceof RelayError)) throw e;
				problems.push(`“${entry.title}”: ${e.message}`);
			}
		}
	} finally {
		line?.close();
	}
	return { rooms, problems };
}

/** Devices' relays first, then the contracts' own: the first that offers push. */
async function pushRelay(): Promise<{ relay: string; key: string } | undefined> {
	const candidates = contractRelays((await listContracts()).flatMap((e) => e.relays ?? []), loadRelays());
	const ordered = [...loadRelays(), ...candidates.filter((c) => !loadRelays().includes(c))];
	for (const relay of ordered) {
		try {
			const key = await relayPushKey(relay);
			if (key) return { relay, key };
		} catch {
			// Unreachable now: try the next.
		}
	}
	return undefined;
}

/**
 * Turn push on: ask the browser's permission, subscribe with the pushing relay's key, and ask the
 * relay to wake this device for every contract that uses it. Throws with a sentence a person can act on.
 */
export async function enablePush(): Promise<PushResult> {
	let permission = pushPermission();
	if (permission === 'unsupported') return { permission, enabled: false, rooms: 0, problems: [] };
	if (permission === 'default') permission = await Notification.requestPermission();
	if (permission !== 'granted') return { permission, enabled: false, rooms: 0, problems: [] };
	const reg = await registration();
	const relay = await pushRelay();
	if (!relay) throw new Error('None of this device’s relays offers push notifications (a relay on Cloudflare Workers does not; the Node relay does). Add one in Settings → Relays.');
	const key = keyBytes(relay.key);
	let sub = await reg.pushManager.getSubscription();
	if (sub && !sameKey(sub.options.applicationServerKey, key)) {
		// Made with another relay's key: a browser keeps one subscription, so it is replaced.
		await sub.unsubscribe();
		sub = null;
	}
	try {
		sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
	} catch (e) {
		throw new Error(`This browser could not subscribe to pushes (${(e as Error).message}). Its push service may be unreachable or turned off.`);
	}
	const wire = wireSubscription(sub);
	const state: PushState = { relay: relay.relay, key: relay.key, endpoint: wire.endpoint, enabledAt: Date.now() };
	await savePushState(state);
	setOwnPushEndpoint(wire.endpoint);
	const { rooms, problems } = await subscribeRooms(state, wire);
	void registerPeriodicSync(reg);
	return { permission, enabled: true, relay: relay.relay, rooms, problems };
}

/**
 * With push on, follow the contracts added since (and all of them again if the browser replaced its
 * subscription). Cheap when nothing changed; call it when the app starts or a contract is added.
 */
export async function refreshPush(): Promise<PushResult | undefined> {
	const permission = pushPermission();
	const state = await loadPushState().catch(() => undefined);
	if (!state || permission !== 'granted') return undefined;
	const reg = await registration();
	const sub = await reg.pushManager.getSubscription();
	if (!sub) return enablePush(); // the browser dropped it: subscribe again
	const wire = wireSubscription(sub);
	setOwnPushEndpoint(wire.endpoint);
	const known = new Set((await listPushRooms()).map((r) => r.contract));
	const changed = wire.endpoint !== state.endpoint;
	if (changed) await savePushState({ ...state, endpoint: wire.endpoint });
	const { rooms, problems } = await subscribeRooms({ ...state, endpoint: wire.endpoint }, wire, changed ? undefined : (e) => !known.has(e.contract));
	return { permission, enabled: true, relay: state.relay, rooms: known.size + rooms, problems };
}

/** Turn push off: the relay forgets this device's subscription for every room, and so does the browser. */
export async function disablePush(): Promise<void> {
	const state = await loadPushState();
	const rooms = await listPushRooms();
	if (state) {
		const secrets = new Map((await listContracts()).map((e) => [e.contract, e.secret]));
		let line: RelayLine | undefined;
		try {
			for (const r of rooms.filter((r) => r.relay === state.relay)) {
				const secret = secrets.get(r.contract);
				if (!secret) continue;
				const keys = deriveRelayKeys(secret);
				line ??= new RelayLine(state.relay, keys.room);
				try {
					const challenge = await line.open(keys);
					await line.request({ t: 'unsubscribe', room: keys.room, endpoint: state.endpoint, sig: await sign(keys.roomKey, unsubscribeProof(challenge, keys.room, state.endpoint)) });
					await line.request({ t: 'leave', room: keys.room });
				} catch {
					// The relay forgets it anyway once the browser's subscription is gone (its push fails with 410).
				}
			}
		} catch {
			// Unreachable relay: as above.
		} finally {
			line?.close();
		}
	}
	if (pushPermission() !== 'unsupported') {
		const reg = await navigator.serviceWorker.getRegistration();
		await (await reg?.pushManager.getSubscription())?.unsubscribe();
		await (reg as PeriodicSyncRegistration | undefined)?.periodicSync?.unregister(PERIODIC_TAG).catch(() => undefined);
	}
	setOwnPushEndpoint(undefined);
	await clearPush();
}

type PeriodicSyncRegistration = ServiceWorkerRegistration & {
	periodicSync?: { register(tag: string, o: { minInterval: number }): Promise<void>; unregister(tag: string): Promise<void> };
};

/** Periodic Background Sync, where the browser offers it (installed Chromium apps): best effort. */
async function registerPeriodicSync(reg: ServiceWorkerRegistration): Promise<void> {
	try {
		const periodic = (reg as PeriodicSyncRegistration).periodicSync;
		if (!periodic) return;
		const status = await navigator.permissions.query({ name: 'periodic-background-sync' as PermissionName });
		if (status.state === 'granted') await periodic.register(PERIODIC_TAG, { minInterval: 12 * 3_600_000 });
	} catch {
		// Not offered: pushes and opening the app still catch up.
	}
}

// —— the service worker's side: pull one room, fold it with what the device holds, say what is new ——

/** The rooms of this device's contracts (what a push without a room id, or a periodic sync, catches up). */
export async function followedRooms(): Promise<string[]> {
	return (await listContracts()).map((e) => deriveRelayKeys(e.secret).room);
}

/** The contract whose room this is, and the relays to pull it from (the contract's, and the one that pushes). */
async function roomOf(room: string): Promise<{ entry: ContractEntry; relays: string[] } | undefined> {
	for (const entry of await listContracts()) {
		if (deriveRelayKeys(entry.secret).room !== room) continue;
		const pushing = (await getPushRoom(room).catch(() => undefined))?.relay;
		const relays = [...new Set([...(pushing ? [pushing] : []), ...(entry.relays ?? [])])];
		return { entry, relays };
	}
	return undefined;
}

/**
 * Pull `room` from the contract's relays, verify and fold the new items together with the
 * contract's events stored on this device (its y-indexeddb document), store what arrived in that
 * document (so the app opens with it), and describe what is news to this device. Undefined when no
 * contract of this device has this room, or nothing new is news. Throws only when no relay answered.
 */
export async function catchUpRoom(room: string, timeoutMs = 20_000): Promise<Announcement | undefined> {
	const found = await roomOf(room);
	const device = await loadDevice();
	if (!found || !device) return undefined;
	const { entry, relays } = found;

	const doc = new Y.Doc();
	const persistence = new IndexeddbPersistence(contractDbName(entry.contract), doc);
	try {
		await withTimeout(persistence.whenSynced, timeoutMs, 'The contract’s storage did not open in time.');
		const events = doc.getMap<string>('events');
		const log = new ContractLog(entry.contract);
		events.forEach((envelope, id) => log.add(id, envelope));

		// Every relay of the contract: one that withholds an item is made up for by another.
		const received = new Map<string, string>();
		const failures: string[] = [];
		for (const relay of relays) {
			const start = (await relayCursorStorage.get(entry.contract, relay).catch(() => undefined))?.cursor ?? 0;
			const client = new RelayClient({ url: relay, reconnect: false, requestTimeoutMs: timeoutMs });
			try {
				const r = await client.room(entry.secret, { cursor: start, live: false, onEnvelopes: (got: ReceivedEnvelope[]) => got.forEach((e) => received.set(e.id, e.envelope)) });
				await withTimeout(r.pull(), timeoutMs, 'The relay did not answer in time.');
			} catch (e) {
				failures.push(`${relay}: ${(e as Error).message}`);
			} finally {
				client.close();
			}
		}
		if (relays.length && failures.length === relays.length) throw new Error(`No relay of “${entry.title}” answered (${failures.join('; ')}).`);

		const fresh = [...received].filter(([id]) => events.get(id) === undefined);
		if (!fresh.length) return undefined;
		for (const [id, envelope] of fresh) log.add(id, envelope);
		await authenticate(log);
		const derived = log.derive();
		// Kept for the app: well-formed envelopes only (what the log keeps for their id).
		doc.transact(() => {
			for (const [id] of fresh) {
				const kept = log.envelope(id);
				if (kept !== undefined) events.set(id, kept);
			}
		});
		return describeNews(
			derived.state,
			fresh.map(([id]) => id),
			identityKeyOf(device)!
		);
	} finally {
		// Closing waits for the writes above to commit.
		await persistence.destroy();
	}
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}
