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
import type * as Y from 'yjs';
import { installChunking } from './chunking';
import { roomName } from './links';
import type { NetworkSettings } from './settings';

installChunking(Peer);

/** A relay catch-up waits at most this long for a peer's first sync (see `settled`). */
const SETTLE_MAX_MS = 5000;

/**
 * y-webrtc as it stands does the work of a big first sync three times over. It sends every
 * document update to all peers and to the other tabs, the ones that came from a peer too: the
 * megabytes a joining device has just received go straight back to the peer that sent them, and
 * are encrypted for the tabs. And lib0 hands a tab's own broadcast-channel messages back to the
 * tab itself, which decrypts them and applies them again (its own full state on every open).
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

export type PeerStatus = 'connecting' | 'connected' | 'offline' | 'paused';

export interface PeerState {
	status: PeerStatus;
	/** Browsers connected over WebRTC, plus other tabs of this browser. */
	peers: number;
	/** When the last update from a peer arrived. */
	lastSyncedAt?: number;
}

export class PeerSync {
	private provider: WebrtcProvider;
	private paused = false;
	private offline = typeof navigator !== 'undefined' && navigator.onLine === false;
	private readonly listeners = new Set<(s: PeerState) => void>();
	state: PeerState = { status: 'connecting', peers: 0 };

	constructor(doc: Y.Doc, secret: string, settings: NetworkSettings) {
		this.provider = new WebrtcProvider(roomName(secret), doc, {
			signaling: settings.signaling,
			password: secret,
			peerOpts: { config: { iceServers: settings.iceServers } }
		});
		void this.provider.key.then(() => this.provider.room && passNothingBack(this.provider.room, doc));
		this.provider.on('peers', (e: { webrtcPeers: string[]; bcPeers: string[] }) => {
			this.state = { ...this.state, peers: e.webrtcPeers.length + e.bcPeers.length };
			this.update();
		});
		doc.on('update', (_u: Uint8Array, origin: unknown) => {
			if (origin !== null && origin === this.provider.room) {
				this.state = { ...this.state, lastSyncedAt: Date.now() };
				this.update();
			}
		});
		if (typeof window !== 'undefined') {
			window.addEventListener('offline', this.onOffline);
			window.addEventListener('online', this.onOnline);
		}
		this.apply();
	}

	/**
	 * Resolves once no connected peer is still in its first sync with this device (at once when none
	 * is), and after `maxMs` at the latest: a relay catch-up waits for it (RelaySync.deferTo).
	 */
	settled(maxMs = SETTLE_MAX_MS): Promise<void> | void {
		const room = this.provider.room;
		const pending = () => !!room && room.webrtcConns.size > 0 && !room.synced;
		if (!pending()) return;
		return new Promise<void>((resolve) => {
			const done = () => {
				clearTimeout(timer);
				this.provider.off('synced', check);
				this.provider.off('peers', check);
				resolve();
			};
			const check = () => void (pending() || done());
			const timer = setTimeout(done, maxMs);
			this.provider.on('synced', check);
			this.provider.on('peers', check);
		});
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
		}
		this.provider.destroy();
		this.listeners.clear();
	}

	private readonly onOffline = () => {
		this.offline = true;
		this.apply();
	};

	private readonly onOnline = () => {
		this.offline = false;
		this.apply();
	};

	private apply(): void {
		const shouldConnect = !this.paused && !this.offline;
		if (shouldConnect && !this.provider.connected) this.provider.connect();
		if (!shouldConnect && this.provider.connected) this.provider.disconnect();
		this.update();
	}

	private update(): void {
		const status: PeerStatus = this.paused ? 'paused' : this.offline ? 'offline' : this.state.peers > 0 ? 'connected' : 'connecting';
		this.state = { ...this.state, status, peers: status === 'paused' || status === 'offline' ? 0 : this.state.peers };
		for (const fn of this.listeners) fn(this.state);
	}
}
