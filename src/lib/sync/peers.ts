/**
 * Peer-to-peer sync of one contract document over WebRTC (y-webrtc), found through our own
 * signaling server. Room = hash of the link secret; password = the secret. Big messages are
 * chunked (see chunking.ts). Going offline is a state of the app: the browser's offline event
 * drops the peers (an established loopback data channel would otherwise keep flowing), online
 * reconnects; "Pause sync" does the same by hand. y-webrtc's signaling client retries with backoff.
 */
import * as bc from 'lib0/broadcastchannel';
import Peer from 'simple-peer/simplepeer.min.js';
import { WebrtcProvider, type Room } from 'y-webrtc';
import * as Y from 'yjs';
import { filterInbound, installChunking } from './chunking';
import { roomName } from './links';
import { installRoomConnect } from './room-connect';
import type { NetworkSettings } from './settings';

installChunking(Peer);

/**
 * A performance mark on the way to a first sync (`sync:…`): what tests/bench/sync.ts reads to tell
 * where a joining device's time goes. Each name is marked once per page.
 */
const marked = new Set<string>();
export function syncMark(name: string): void {
	if (marked.has(name) || typeof performance === 'undefined' || typeof performance.mark !== 'function') return;
	marked.add(name);
	performance.mark(`sync:${name}`);
}

/**
 * y-webrtc answers a peer's sync step 1 by encoding everything the peer lacks: for a device that
 * holds nothing, the whole contract (6 MB and a deflate for 10,000 events, ~130 ms of this page's
 * thread). An honest y-webrtc peer asks once per connection (when its data channel opens); a link
 * holder could ask in a loop, a few bytes each, and keep this device encoding. So one connection's
 * step 1 is taken at most once per STEP_ONE_EVERY_MS; more are dropped (a reconnect is a new one).
 */
export const STEP_ONE_EVERY_MS = 10_000;
export function limitSyncAsks(peer: object, now: () => number = Date.now): void {
	let last = -Infinity;
	filterInbound(peer, (m) => {
		// [messageSync = 0][syncStep1 = 0][state vector]: anything else passes as it is.
		if (m[0] !== 0 || m[1] !== 0) return true;
		const t = now();
		if (t - last < STEP_ONE_EVERY_MS) return false;
		last = t;
		return true;
	});
}

/** A relay catch-up waits at most this long for a peer's first sync (see `settled`). */
const SETTLE_MAX_MS = 5000;
/** How long the signaling server's answer to a presence question is waited for (one that never answers: a y-webrtc server). */
const PRESENCE_ANSWER_MS = 1000;
/** How long another device the signaling server says is in the room has to start connecting. */
const PRESENCE_CONNECT_MS = 3000;

/** Whether a transaction added or deleted anything (Yjs emits `update` only then). */
const brought = (tr: Y.Transaction) => tr.deleteSet.clients.size > 0 || [...tr.afterState].some(([client, clock]) => tr.beforeState.get(client) !== clock);

/**
 * Yjs encodes every transaction once more for the document's `update` listeners (y-indexeddb
 * stores what it gets): for a peer's first sync of a 10,000-event contract that is a 6 MB encoding
 * on the main thread, and an IndexedDB write, before anything is shown. While a room's first sync
 * with its peers is under way (`room.synced` false), the transactions that apply what peers send
 * go without their `update` event; what they brought is encoded once, from the state before the
 * first of them, and handed to the `update` listeners as the room's when `later` resolves (the
 * contract is on the page), or at once when `flush` is called (the session closes, the page hides).
 * Stored a moment later, not less: a page gone before that (a crash) takes it again from the peer or
 * relay on its next open.
 */
export function storeFirstSyncLater(doc: Y.Doc, room: Room, later: () => Promise<void>): { flush: () => void } {
	const observers = (doc as unknown as { _observers: Map<string, Set<(...args: unknown[]) => void>> })._observers;
	let held: Set<(...args: unknown[]) => void> | undefined;
	let since: Map<number, number> | undefined;
	let waiting = false;
	const putBack = () => {
		if (!held) return;
		const now = observers.get('update');
		if (now) held.forEach((f) => now.add(f));
		else observers.set('update', held);
		held = undefined;
	};
	const flush = () => {
		putBack();
		if (!since || doc.isDestroyed) return;
		const update = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(since));
		since = undefined;
		doc.emit('update', [update, room, doc, null as never]);
	};
	// Emitted right before Yjs encodes a transaction for `update`: take the listeners off for a peer's
	// first-sync transaction only; any other transaction (a later one in the same cleanup) keeps them.
	doc.on('afterTransactionCleanup', (tr: Y.Transaction) => {
		putBack();
		if (tr.origin !== room || room.synced || !observers.has('update') || !brought(tr)) return;
		held = observers.get('update');
		observers.delete('update');
		since ??= tr.beforeState;
		if (waiting) return;
		waiting = true;
		void later()
			.catch(() => undefined)
			.then(() => {
				waiting = false;
				flush();
			});
	});
	doc.on('afterAllTransactions', putBack);
	return { flush };
}

/**
 * y-webrtc as it stands does the work of a big first sync three times over. It sends every
 * document update to all peers and to the other tabs, the ones that came from a peer too: the
 * megabytes a joining device has just received go straight back to the peer that sent them, and
 * are encrypted for the tabs. And lib0 hands a tab's own broadcast-channel messages back to the
 * tab itself, which decrypts them and applies them again. (Its connect also pushed the whole
 * document to the tabs, unasked: room-connect.ts.)
 *
 * The room is patched once it exists (y-webrtc opens it when the room key is derived; this runs
 * right after, before any message has left): updates that arrived from a peer or a tab (origin:
 * the room) are not sent on, as every peer syncs with every other itself (peers find each other
 * through signaling, tabs through the channel); and the tab ignores its own channel messages.
 * The room's connect and disconnect read both handlers from the room, so pause and resume keep them.
 */
function passNothingBack(room: Room, doc: Y.Doc): void {
	const r = room as unknown as {
		_docUpdateHandler: (update: Uint8Array, origin: unknown) => void;
		_bcSubscriber: (data: ArrayBuffer, origin?: unknown) => void;
		bcconnected: boolean;
		name: string;
	};
	if ((r as { __passNothingBack?: boolean }).__passNothingBack) return;
	(r as { __passNothingBack?: boolean }).__passNothingBack = true;
	const send = r._docUpdateHandler;
	const hear = r._bcSubscriber;
	const onUpdate = (update: Uint8Array, origin: unknown) => void (origin === room || send(update, origin));
	// lib0 delivers another tab's message with the origin 'broadcastchannel', this tab's own with none.
	const onChannel = (data: ArrayBuffer, origin?: unknown) => void (origin === 'broadcastchannel' && hear(data));
	r._docUpdateHandler = onUpdate;
	r._bcSubscriber = onChannel;
	if (!r.bcconnected) return;
	doc.off('update', send);
	doc.on('update', onUpdate);
	// The new subscriber first: a channel left without subscribers is closed.
	bc.subscribe(r.name, onChannel);
	if (bc.unsubscribe(r.name, hear)) return;
	// Another copy of lib0 (not the room's channel): leave the room as it was.
	bc.unsubscribe(r.name, onChannel);
	r._bcSubscriber = hear;
}

// Before any room connects: a connect no longer pushes the whole document to the other tabs (room-connect.ts).
installRoomConnect();

export type PeerStatus = 'connecting' | 'connected' | 'offline' | 'paused';

export interface PeerState {
	status: PeerStatus;
	/** Browsers connected over WebRTC, plus other tabs of this browser. */
	peers: number;
	/** When the last update from a peer arrived. */
	lastSyncedAt?: number;
}

export interface PeerOptions {
	/**
	 * What a peer's first sync brings is stored (handed to the document's `update` listeners) once
	 * this resolves, not before (see `storeFirstSyncLater`). Unset: at once, as Yjs does.
	 */
	storeAfter?: () => Promise<void>;
}

type SignalingConn = {
	connected: boolean;
	send(message: object): void;
	on(event: string, f: (m: never) => void): void;
	off(event: string, f: (m: never) => void): void;
};

export class PeerSync {
	private provider: WebrtcProvider;
	private paused = false;
	private offline = typeof navigator !== 'undefined' && navigator.onLine === false;
	private readonly listeners = new Set<(s: PeerState) => void>();
	/** Until when a relay catch-up waits for a device the signaling server says is in the room (or for its answer). */
	private expectPeerUntil = 0;
	/** Presence questions sent and not answered yet: an answer nobody asked for is ignored. */
	private asked = 0;
	/** Called when what `settled` waits on may have changed. */
	private readonly changed = new Set<() => void>();
	private readonly hooked = new Map<SignalingConn, { connect: () => void; message: (m: never) => void }>();
	private stored?: { flush: () => void };
	state: PeerState = { status: 'connecting', peers: 0 };

	constructor(doc: Y.Doc, secret: string, settings: NetworkSettings, options: PeerOptions = {}) {
		syncMark('peers-start');
		this.provider = new WebrtcProvider(roomName(secret), doc, {
			signaling: settings.signaling,
			password: secret,
			peerOpts: { config: { iceServers: settings.iceServers } }
		});
		// y-webrtc's own handler ran first: the room exists and is subscribed on every open signaling connection.
		void this.provider.key.then(() => {
			syncMark('room-key');
			const room = this.provider.room;
			if (!room) return;
			passNothingBack(room, doc);
			if (options.storeAfter) this.stored = storeFirstSyncLater(doc, room, options.storeAfter);
			for (const conn of this.hooked.keys()) if (conn.connected) this.askPresence(conn);
		});
		doc.on('beforeTransaction', (tr: Y.Transaction) => void (tr.origin !== null && tr.origin === this.provider.room && syncMark('peer-update-start')));
		this.provider.on('peers', (e: { webrtcPeers: string[]; bcPeers: string[] }) => {
			if (e.webrtcPeers.length) syncMark('peer-found');
			for (const c of this.provider.room?.webrtcConns.values() ?? []) {
				const peer = c.peer as { once(e: string, f: () => void): void; __marked?: boolean };
				if (peer.__marked) continue;
				peer.__marked = true;
				peer.once('connect', () => syncMark('channel-open'));
				peer.once('data', () => syncMark('first-message'));
				limitSyncAsks(peer);
			}
			this.state = { ...this.state, peers: e.webrtcPeers.length + e.bcPeers.length };
			this.update();
			this.recheck();
		});
		this.provider.on('synced', () => this.recheck());
		// Not `update`: a first sync's update event comes later (storeFirstSyncLater); this is when it arrived.
		doc.on('afterTransaction', (tr: Y.Transaction) => {
			if (tr.origin === null || tr.origin !== this.provider.room || (!tr.changed.size && !tr.deleteSet.clients.size)) return;
			syncMark('peer-update-applied');
			this.state = { ...this.state, lastSyncedAt: Date.now() };
			this.update();
		});
		if (typeof window !== 'undefined') {
			window.addEventListener('offline', this.onOffline);
			window.addEventListener('online', this.onOnline);
			window.addEventListener('pagehide', this.onPageHide);
		}
		this.apply();
	}

	/**
	 * Resolves once no peer is still in its first sync with this device (at once when none is), and
	 * after `maxMs` at the latest: a relay catch-up waits for it (RelaySync.deferTo). A peer counts
	 * from the moment the signaling server says another device is in the room (it is about to
	 * connect), or while that answer is awaited, for a few seconds at most.
	 */
	settled(maxMs = SETTLE_MAX_MS): Promise<void> | void {
		if (!this.pending()) return;
		return new Promise<void>((resolve) => {
			let timer: ReturnType<typeof setTimeout> | undefined;
			const done = () => {
				clearTimeout(timer);
				clearTimeout(overall);
				this.changed.delete(check);
				resolve();
			};
			const check = () => {
				if (!this.pending()) return done();
				// The presence wait ends by itself: look again then.
				clearTimeout(timer);
				const left = this.expectPeerUntil - Date.now();
				if (left > 0) timer = setTimeout(check, left + 1);
			};
			const overall = setTimeout(done, maxMs);
			this.changed.add(check);
			check();
		});
	}

	private pending(): boolean {
		const room = this.provider.room;
		if (!room || !this.provider.connected) return false;
		if (room.webrtcConns.size > 0) return !room.synced;
		return Date.now() < this.expectPeerUntil;
	}

	private recheck(): void {
		for (const f of [...this.changed]) f();
	}

	/** Ask the signaling server whether another device is in this room (src/signaling/server.js, `presence`). */
	private askPresence(conn: SignalingConn): void {
		const room = this.provider.room;
		if (!room || !this.provider.connected) return;
		try {
			conn.send({ type: 'presence', topics: [room.name] });
			this.asked++;
			this.expectPeerUntil = Math.max(this.expectPeerUntil, Date.now() + PRESENCE_ANSWER_MS);
		} catch {
			// Not sent: nothing to wait for.
		}
	}

	private heard(m: { type?: unknown; topics?: unknown }): void {
		const room = this.provider.room;
		if (!room || m.type !== 'presence' || typeof m.topics !== 'object' || m.topics === null) return;
		const count = (m.topics as Record<string, unknown>)[room.name];
		if (typeof count !== 'number' || this.asked === 0) return;
		this.asked--;
		// This connection, and this browser's other tabs (they sync over the broadcast channel), are not peers to wait for.
		const others = count - 1 - room.bcConns.size;
		this.expectPeerUntil = others > 0 && room.webrtcConns.size === 0 ? Date.now() + PRESENCE_CONNECT_MS : 0;
		this.recheck();
	}

	/** Listen to each signaling connection once (y-webrtc shares them between rooms and may replace them on reconnect). */
	private hookSignaling(): void {
		for (const conn of this.provider.signalingConns as unknown as SignalingConn[]) {
			if (this.hooked.has(conn)) continue;
			const hooks = {
				// After y-webrtc's own connect handler (registered first), which subscribes to the room.
				connect: () => {
					syncMark('signaling-open');
					this.askPresence(conn);
				},
				message: (m: never) => this.heard(m)
			};
			this.hooked.set(conn, hooks);
			conn.on('connect', hooks.connect);
			conn.on('message', hooks.message);
			if (conn.connected) syncMark('signaling-open');
		}
	}

	private unhookSignaling(): void {
		for (const [conn, hooks] of this.hooked) {
			conn.off('connect', hooks.connect);
			conn.off('message', hooks.message);
		}
		this.hooked.clear();
	}

	subscribe(fn: (s: PeerState) => void): () => void {
		this.listeners.add(fn);
		fn(this.state);
		return () => this.listeners.delete(fn);
	}

	pause(): void {
		this.paused = true;
		this.apply();
	}

	resume(): void {
		this.paused = false;
		this.apply();
	}

	destroy(): void {
		if (typeof window !== 'undefined') {
			window.removeEventListener('offline', this.onOffline);
			window.removeEventListener('online', this.onOnline);
			window.removeEventListener('pagehide', this.onPageHide);
		}
		// What a first sync brought is stored before the document's storage lets go.
		this.stored?.flush();
		this.unhookSignaling();
		// y-webrtc's destroy leaves the signaling connections open (and reconnecting): let go of them first.
		this.provider.disconnect();
		this.provider.destroy();
		this.listeners.clear();
		this.recheck();
	}

	private readonly onOffline = () => {
		this.offline = true;
		this.apply();
	};

	/** The page is going away: what a first sync brought is stored now, not after it is drawn. */
	private readonly onPageHide = () => this.stored?.flush();

	private readonly onOnline = () => {
		this.offline = false;
		this.apply();
	};

	private apply(): void {
		const shouldConnect = !this.paused && !this.offline;
		if (shouldConnect && !this.provider.connected) this.provider.connect();
		if (!shouldConnect && this.provider.connected) {
			this.provider.disconnect();
			this.unhookSignaling();
			this.expectPeerUntil = this.asked = 0;
		}
		if (shouldConnect) this.hookSignaling();
		this.update();
		this.recheck();
	}

	private update(): void {
		const status: PeerStatus = this.paused ? 'paused' : this.offline ? 'offline' : this.state.peers > 0 ? 'connected' : 'connecting';
		this.state = { ...this.state, status, peers: status === 'paused' || status === 'offline' ? 0 : this.state.peers };
		for (const fn of this.listeners) fn(this.state);
	}
}
