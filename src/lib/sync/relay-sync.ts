/**
 * Sync later: one contract's events through its relays, for two parties who are never online at
 * the same moment (WebRTC, peers.ts, carries live work; this makes the contract converge anyway).
 *
 * - Every event written on this device goes into a persistent upload queue, one per relay
 *   (relay-queue.ts), and leaves it only once that relay acknowledged it (durable there). A relay
 *   this contract has not used from this device before is first given everything the device holds.
 * - The device pulls from its cursor (kept per contract and relay) on start, on the browser's
 *   `online`, after a dropped connection comes back, and on an interval; live items arrive between.
 * - What arrives is written into the contract's Yjs map, like an update from a peer: the same
 *   ContractDoc verifies and folds it, and keeps nothing the rules refuse. The relay is trusted with
 *   ciphertext only (relay-client.ts).
 * - Pause and offline leave the rooms (no live items, no pulls), as they drop the peers.
 * - Work Diary thumbnails (the document's `thumbnails` map, screenshots.ts) go the same way as
 *   items of their own kind: each one this device writes is queued, a relay used for the first time
 *   is given those held, and one that arrives is written into the map only if it hashes to its name.
 *
 * No Svelte: the session (contract-session.svelte.ts) subscribes to the state and shows it.
 */
import { ownPushEndpoint } from './push-endpoint';
import type * as Y from 'yjs';
import type { ContractLog } from '../contract/log';
import { toBase64url } from '../contract/encoding';
import { discardedScreenshots, thumbnailContentRefusal } from '../contract/thumbnail';
import type { ContractDoc } from './contract-doc';
import { deriveRelayKeys, itemTag, RelayClient, RelayError, THUMBNAIL_QUEUE_PREFIX, type ReceivedEnvelope, type ReceivedThumbnail, type RelayKeys, type RelayRoom, type SocketFactory } from './relay-client';
import type { UploadQueue } from './relay-queue';

/** Transaction origin of writes that came from a relay: not queued again for upload. */
export const RELAY_ORIGIN = Symbol('relay');

/** The contract document's map of screenshot thumbnails, hash → bytes (screenshots.ts). */
export const THUMBNAILS = 'thumbnails';

/** Why thumbnails that came from a relay were refused, per document: the diary says so while it holds no good copy. */
export interface RelayThumbnailRefusals {
	readonly reasons: Map<string, string>;
	readonly listeners: Set<() => void>;
}
const refusals = new WeakMap<Y.Doc, RelayThumbnailRefusals>();
export function relayThumbnailRefusals(doc: Y.Doc): RelayThumbnailRefusals {
	let r = refusals.get(doc);
	if (!r) refusals.set(doc, (r = { reasons: new Map(), listeners: new Set() }));
	return r;
}

/** Where this device stands with one relay for one contract. */
export interface RelayCursor {
	contract: string;
	relay: string;
	/** Highest contiguous sequence number received and written into the document. */
	cursor: number;
	/** Everything this device held was queued for this relay once (new relay, or a contract from before relays). */
	seeded: boolean;
	lastPullAt?: number;
}

export interface RelayCursorStore {
	get(contract: string, relay: string): Promise<RelayCursor | undefined>;
	put(cursor: RelayCursor): Promise<void>;
	/** Forget every relay cursor of a contract. */
	remove(contract: string): Promise<void>;
}

/** In memory: tests, and a device without storage. */
export class MemoryCursorStore implements RelayCursorStore {
	readonly cursors = new Map<string, RelayCursor>();
	async get(contract: string, relay: string): Promise<RelayCursor | undefined> {
		const c = this.cursors.get(`${contract} ${relay}`);
		return c && { ...c };
	}
	async put(c: RelayCursor): Promise<void> {
		this.cursors.set(`${c.contract} ${c.relay}`, { ...c });
	}
	async remove(contract: string): Promise<void> {
		for (const [k, c] of this.cursors) if (c.contract === contract) this.cursors.delete(k);
	}
}

/** One relay as the status shows it. */
export interface RelayChannelState {
	url: string;
	/** undefined: not reached yet since this session started. */
	reachable?: boolean;
	/** The last failure or refusal, in the relay client's words. */
	problem?: string;
	/** Events written on this device that this relay has not acknowledged yet. */
	waiting: number;
	lastPullAt?: number;
	cursor: number;
	/** The relay's last sequence number as last seen. */
	head: number;
	/** Items being received since this catch-up began, out of how many the relay holds past that point. */
	catchUp?: { done: number; total: number };
}

export interface RelaySyncState {
	relays: RelayChannelState[];
	paused: boolean;
	offline: boolean;
	/** Events written a moment ago are being added to the queue (not counted as waiting yet). */
	queueing: boolean;
}

interface PoolUser {
	room: string;
	/** The connection dropped (or the relay reported a problem with no room). */
	dropped(error: Error): void;
}

/**
 * One RelayClient per relay URL for every contract of this device, so 50 contracts share one
 * socket instead of opening 50 (the relay limits connections per address). A client closes with
 * its last user. Reconnecting is left to each RelaySync (it must open its room again with a fresh
 * proof, then upload and pull).
 */
export class RelayPool {
	private readonly clients = new Map<string, { client: RelayClient; users: Set<PoolUser> }>();

	constructor(private readonly options: { socket?: SocketFactory; requestTimeoutMs?: number; frames?: boolean } = {}) {}

	acquire(url: string, user: PoolUser): RelayClient {
		let entry = this.clients.get(url);
		if (!entry) {
			const users = new Set<PoolUser>();
			const client = new RelayClient({
				url,
				socket: this.options.socket,
				reconnect: false,
				requestTimeoutMs: this.options.requestTimeoutMs ?? 20_000,
				frames: this.options.frames,
				// This device's own uploads never wake it through push.
				ownPushEndpoint,
				// Errors about one room's items (junk a link holder wrote) are skipped by the client; an error
				// with no room is the connection: every contract on it opens its room again.
				onError: (error, room) => {
					if (room === undefined) for (const u of [...users]) u.dropped(error);
				}
			});
			this.clients.set(url, (entry = { client, users }));
		}
		entry.users.add(user);
		return entry.client;
	}

	release(url: string, user: PoolUser): void {
		const entry = this.clients.get(url);
		if (!entry) return;
		entry.users.delete(user);
		if (entry.users.size === 0) {
			this.clients.delete(url);
			entry.client.close();
		}
	}
}

export interface RelaySyncOptions {
	cdoc: ContractDoc;
	secret: string;
	relays: readonly string[];
	pool: RelayPool;
	/** The persistent upload queue of one relay. */
	queue: (relay: string) => UploadQueue;
	cursors: RelayCursorStore;
	/** Pull this often while active (default 30 s); live items arrive between pulls. */
	pullEveryMs?: number;
	/**
	 * Wait this long after opening before giving a relay everything held (default 0). The app waits:
	 * a large contract from before relays would otherwise be encrypted and uploaded while the page
	 * opens and its peers sync (measured: 10,000 events, two browsers, 4.1 s → 10 s to identical state).
	 */
	seedAfterMs?: number;
	/** Compact a room with this many single items past its last compaction (default COMPACT_FROM). */
	compactFrom?: number;
	/** Longest wait between attempts to reach an unreachable relay (default 15 s). */
	retryMaxMs?: number;
	/** Where `online` and `offline` are announced (default: the window, in a browser). */
	events?: EventTarget;
	/** Offline at start (default: navigator.onLine === false). */
	offline?: boolean;
	now?: () => number;
}

const UPLOAD_BATCH = 100;
/**
 * A queue this long is a contract's past (a first upload to a relay, or a backlog written while
 * away): it goes up sealed many envelopes to an item (a bundle), which a catching-up device opens
 * in one decryption instead of one per event. Fewer waiting go up one item each, like live events.
 */
const BUNDLE_FROM = 20;
/** Events listed from the queue at a time for a bundled upload. */
const BACKLOG_BATCH = 2000;
/** Events queued at a time when a relay is given everything (see `seed`). */
const SEED_SLICE = 500;
/** Tag the document's events when at most this many per relay item still to read (see `holds`). */
const TAG_PAYS_OFF = 4;
/**
 * A room with at least this many single items past its last compaction is compacted by a device
 * that has read it all (RelayRoom.compact): it re-uploads what it holds as bundles, which a reader
 * starting below them gets instead of every single item. At most once per relay per session.
 */
export const COMPACT_FROM = 1000;
/** Cursor writes wait this long, so the document's own storage has written what they count. */
const CURSOR_SAVE_MS = 400;

class Link {
	room?: RelayRoom;
	/** The room is open (with proof) on the current connection. */
	open = false;
	cursor = 0;
	seeded = false;
	lastPullAt?: number;
	reachable?: boolean;
	problem?: string;
	/** Ids queued for this relay and not acknowledged (a mirror of the queue, for the status). */
	readonly unsent = new Set<string>();
	/** Cursor when the current catch-up began. */
	base?: number;
	running?: Promise<void>;
	again = false;
	wantPull = false;
	timer?: ReturnType<typeof setTimeout>;
	saveTimer?: ReturnType<typeof setTimeout>;
	attempts = 0;
	/** This session compacted the room on this relay (or tried). */
	compacted = false;
	user?: PoolUser;
	client?: RelayClient;

	constructor(
		readonly url: string,
		readonly queue: UploadQueue
	) {}
}

export class RelaySync {
	readonly keys: RelayKeys;
	private readonly links: Link[];
	private readonly listeners = new Set<(s: RelaySyncState) => void>();
	private paused = false;
	private offline: boolean;
	private stopped = false;
	private started?: Promise<void>;
	private interval?: ReturnType<typeof setInterval>;
	private lastStamp = 0;
	/** Queue writes in flight: an upload waits for them, and "all saved" is not said before they land. */
	private writes: Promise<void> = Promise.resolve();
	private writing = 0;
	/** Seeding in progress (see `seed`): like writing, "all saved" waits for it. */
	private seeding = 0;
	/** Dedup tags of events in the document (tag → id), and the ids tagged (see `holds`). */
	private readonly tagged = new Map<string, string>();
	private readonly taggedIds = new Set<string>();
	private readonly events?: EventTarget;
	private readonly thumbnails: Y.Map<unknown>;
	state: RelaySyncState;

	constructor(private readonly o: RelaySyncOptions) {
		this.keys = deriveRelayKeys(o.secret);
		this.links = [...new Set(o.relays)].map((url) => new Link(url, o.queue(url)));
		this.offline = o.offline ?? (typeof navigator !== 'undefined' && navigator.onLine === false);
		this.events = o.events ?? (typeof window !== 'undefined' ? window : undefined);
		this.state = this.snapshot();
		// From the moment the session exists, every event written on this device is queued.
		o.cdoc.events.observe(this.observer);
		this.thumbnails = o.cdoc.doc.getMap(THUMBNAILS);
		this.thumbnails.observe(this.thumbnailObserver);
	}

	get relays(): string[] {
		return this.links.map((l) => l.url);
	}

	subscribe(fn: (s: RelaySyncState) => void): () => void {
		this.listeners.add(fn);
		fn(this.state);
		return () => this.listeners.delete(fn);
	}

	/** Load cursors and queues, give new relays what this device holds, then upload and pull. */
	start(): Promise<void> {
		this.started ??= (async () => {
			const { cdoc, cursors } = this.o;
			for (const link of this.links) {
				const c = await cursors.get(cdoc.contract, link.url).catch(() => undefined);
				link.cursor = c?.cursor ?? 0;
				link.seeded = c?.seeded ?? false;
				link.lastPullAt = c?.lastPullAt;
				for (const q of await link.queue.list(this.keys.room).catch(() => [])) link.unsent.add(q.id);
				link.user = { room: this.keys.room, dropped: (e) => this.dropped(link, e) };
				link.client = this.o.pool.acquire(link.url, link.user);
			}
			if (this.stopped) return this.releaseAll();
			this.events?.addEventListener('online', this.onOnline);
			this.events?.addEventListener('offline', this.onOffline);
			this.interval = setInterval(() => this.syncAll(true), this.o.pullEveryMs ?? 30_000);
			(this.interval as { unref?: () => void }).unref?.();
			this.publish();
			this.syncAll(true);
			const unseeded = this.links.filter((l) => !l.seeded);
			// Delayed, the past goes up in the background: opening does not wait for it.
			if (unseeded.length && this.o.seedAfterMs) void this.seed(unseeded).catch(() => {});
			else if (unseeded.length) await this.seed(unseeded);
		})();
		return this.started;
	}

	/**
	 * Queue everything this device holds for relays this contract has not used from here before (a
	 * contract from before relays, a relay just added), in slices between which the page can draw:
	 * after the first pull has started, never ahead of it. Dedup on the relay makes it safe to
	 * repeat; a relay is marked seeded only once all of it is queued.
	 */
	private async seed(links: Link[]): Promise<void> {
		if (this.o.seedAfterMs) await new Promise((r) => setTimeout(r, this.o.seedAfterMs));
		if (this.stopped) return;
		this.seeding++;
		try {
			const all = [...this.held(), ...this.heldThumbnails()];
			for (let i = 0; i < all.length && !this.stopped; i += SEED_SLICE) {
				await this.enqueue(links, all.slice(i, i + SEED_SLICE));
				await new Promise((r) => setTimeout(r, 0));
			}
			if (this.stopped) return;
			for (const link of links) {
				link.seeded = true;
				await this.saveCursor(link);
			}
		} finally {
			this.seeding--;
			this.publish();
		}
		this.syncAll(false);
	}

	/** While this resolves later, a relay catch-up waits: peers are delivering the same events (see `deferTo`). */
	private peersSettled?: () => Promise<void> | void;

	/**
	 * Hold a relay catch-up back, page by page, until `settled` resolves: while a peer's first sync
	 * brings the same events over WebRTC, decrypting them from the relay too (and writing them into
	 * the document, from where they go back to that peer) is work for nothing. What the peer
	 * delivered is then passed over undecrypted.
	 */
	deferTo(settled: () => Promise<void> | void): void {
		this.peersSettled = settled;
	}

	/** Upload and pull now on every relay; resolves when each attempt has finished (or failed). */
	async syncNow(): Promise<void> {
		await this.start();
		await Promise.all(this.links.map((l) => this.run(l, true)));
	}

	/** Stop receiving (leave the rooms) until resume(); writes are still queued. */
	pause(): void {
		this.paused = true;
		this.leaveAll();
		this.publish();
	}

	resume(): void {
		this.paused = false;
		this.publish();
		this.syncAll(true);
	}

	/** Stop for good: leave the rooms, release the connections. The queue and cursors stay stored. */
	async stop(): Promise<void> {
		if (this.stopped) return;
		this.stopped = true;
		this.o.cdoc.events.unobserve(this.observer);
		this.thumbnails.unobserve(this.thumbnailObserver);
		this.events?.removeEventListener('online', this.onOnline);
		this.events?.removeEventListener('offline', this.onOffline);
		clearInterval(this.interval);
		this.leaveAll();
		await Promise.all(this.links.map((l) => this.flushCursor(l)));
		await this.writes;
		if (this.started) {
			await this.started.catch(() => {});
			this.releaseAll();
		}
		this.listeners.clear();
	}

	/** Stop, and drop this contract's queues and cursors from the device (the contract was removed). */
	async forget(): Promise<void> {
		await this.stop();
		for (const link of this.links) {
			const ids = (await link.queue.list(this.keys.room).catch(() => [])).map((e) => e.id);
			await link.queue.remove(this.keys.room, ids).catch(() => {});
		}
		await this.o.cursors.remove(this.o.cdoc.contract).catch(() => {});
	}

	// —— writes on this device ——

	private readonly observer = (e: Y.YMapEvent<string>, tx: Y.Transaction) => {
		// Peers' and storage's updates are not local; the relay's and the document's own restores are marked.
		if (!tx.local || tx.origin === RELAY_ORIGIN || tx.origin === this.o.cdoc) return;
		const out: { id: string; envelope: string }[] = [];
		for (const [id, change] of e.changes.keys) {
			if (change.action === 'delete') continue;
			const envelope = this.o.cdoc.events.get(id);
			if (typeof envelope === 'string') out.push({ id, envelope });
		}
		if (out.length) void this.enqueue(this.links, out).then(() => this.syncAll(false));
	};

	/** A thumbnail written on this device is queued; one deleted here (discarded) is not uploaded after all. */
	private readonly thumbnailObserver = (e: Y.YMapEvent<unknown>, tx: Y.Transaction) => {
		if (!tx.local || tx.origin === RELAY_ORIGIN || tx.origin === this.o.cdoc) return;
		const out: { id: string; envelope: string }[] = [];
		const gone: string[] = [];
		for (const [hash, change] of e.changes.keys) {
			if (change.action === 'delete') gone.push(THUMBNAIL_QUEUE_PREFIX + hash);
			else {
				const entry = this.thumbnailEntry(hash, this.thumbnails.get(hash));
				if (entry) out.push(entry);
			}
		}
		if (gone.length)
			for (const l of this.links) {
				for (const id of gone) l.unsent.delete(id);
				void l.queue.remove(this.keys.room, gone).catch(() => {});
			}
		if (out.length) void this.enqueue(this.links, out).then(() => this.syncAll(false));
	};

	/** A thumbnail as a queue entry; undefined when the bytes are not the thumbnail named `hash` (never uploaded). */
	private thumbnailEntry(hash: string, value: unknown): { id: string; envelope: string } | undefined {
		if (thumbnailContentRefusal(hash, value)) return undefined;
		return { id: THUMBNAIL_QUEUE_PREFIX + hash, envelope: toBase64url(value as Uint8Array) };
	}

	/** The thumbnails this device holds, as queue entries. */
	private heldThumbnails(): { id: string; envelope: string }[] {
		const out: { id: string; envelope: string }[] = [];
		this.thumbnails.forEach((value, hash) => {
			const entry = this.thumbnailEntry(hash, value);
			if (entry) out.push(entry);
		});
		return out;
	}

	/**
	 * Thumbnails from the relay: written into the map only when they hash to their name (and are not
	 * of a screenshot discarded here); screenshots.ts then decides whether one is shown. A refusal
	 * is kept with its reason for the diary.
	 */
	private receivedThumbnails(link: Link, got: readonly ReceivedThumbnail[]): void {
		const discarded = discardedScreenshots(this.o.cdoc.log.derive().state);
		const fresh: ReceivedThumbnail[] = [];
		const refused = relayThumbnailRefusals(this.o.cdoc.doc);
		for (const g of got) {
			if (!g.bytes) {
				refused.reasons.set(g.hash, g.refused ?? 'The screenshot from the relay was refused.');
				continue;
			}
			refused.reasons.delete(g.hash);
			if (!discarded.has(g.hash) && thumbnailContentRefusal(g.hash, this.thumbnails.get(g.hash))) fresh.push(g);
		}
		if (fresh.length)
			this.o.cdoc.doc.transact(() => {
				for (const g of fresh) this.thumbnails.set(g.hash, g.bytes);
			}, RELAY_ORIGIN);
		// What this relay holds need not be uploaded to it.
		this.forgetUploaded(
			link,
			got.filter((g) => g.bytes).map((g) => THUMBNAIL_QUEUE_PREFIX + g.hash).filter((id) => link.unsent.has(id))
		);
		for (const fn of refused.listeners) fn();
	}

	/** What this device holds, authentic, each event after what it names. */
	private held(): { id: string; envelope: string }[] {
		return this.o.cdoc.log.authenticEnvelopes().map(([id, envelope]) => ({ id, envelope }));
	}

	private stamp(): number {
		this.lastStamp = Math.max(this.o.now?.() ?? Date.now(), this.lastStamp + 0.001);
		return this.lastStamp;
	}

	private enqueue(links: readonly Link[], entries: readonly { id: string; envelope: string }[]): Promise<void> {
		if (!entries.length || !links.length) return this.writes;
		for (const l of links) for (const e of entries) l.unsent.add(e.id);
		const queued = entries.map((e) => ({ room: this.keys.room, id: e.id, envelope: e.envelope, queuedAt: this.stamp() }));
		this.writing++;
		this.publish();
		const w = this.writes
			.then(() => Promise.all(links.map((l) => l.queue.add(queued))))
			.then(
				() => undefined,
				(e: unknown) => {
					for (const l of links) l.problem = `This device could not keep its upload queue: ${e instanceof Error ? e.message : String(e)}`;
				}
			)
			.finally(() => {
				this.writing--;
				this.publish();
			});
		this.writes = w;
		return w;
	}

	// —— the relays ——

	private get active(): boolean {
		return !this.paused && !this.offline && !this.stopped && this.started !== undefined;
	}

	private syncAll(pull: boolean): void {
		for (const l of this.links) void this.run(l, pull);
	}

	/** One attempt at a time per relay; a request during an attempt runs once more after it. */
	private run(link: Link, pull: boolean): Promise<void> {
		link.wantPull ||= pull;
		if (link.running) {
			link.again = true;
			return link.running;
		}
		link.running = (async () => {
			try {
				do {
					link.again = false;
					const p = link.wantPull;
					link.wantPull = false;
					await this.attempt(link, p);
				} while (link.again && this.active);
			} finally {
				link.running = undefined;
			}
		})();
		return link.running;
	}

	private async attempt(link: Link, pull: boolean): Promise<void> {
		if (!this.active || !link.client) return;
		clearTimeout(link.timer);
		link.timer = undefined;
		try {
			await this.writes;
			let room = link.room;
			if (!room) room = link.room = await this.join(link, link.client);
			else if (!link.open) await room.open();
			link.open = true;
			link.reachable = true;
			this.publish();
			await this.upload(link, room);
			if (pull && this.active && link.room === room) {
				await room.pull();
				link.lastPullAt = this.o.now?.() ?? Date.now();
				this.saveCursorSoon(link);
				if (this.active && link.room === room && !link.compacted && room.loose >= (this.o.compactFrom ?? COMPACT_FROM) && room.cursor >= room.head) {
					link.compacted = true;
					// What it holds once verified: what was just pulled is still being checked.
					await this.o.cdoc.settled();
					await room.compact(this.held());
				}
			}
			link.problem = undefined;
			link.attempts = 0;
		} catch (e) {
			const error = e instanceof Error ? e : new Error(String(e));
			link.problem = error.message;
			if (e instanceof RelayError) {
				// The relay answered and refused (a limit, a room it no longer has open for us): say so, try again later.
				link.reachable = true;
				if (e.code === 'not-open') link.open = false;
			} else {
				link.reachable = false;
				link.open = false;
			}
			this.retryLater(link);
		} finally {
			this.publish();
		}
	}

	private async join(link: Link, client: RelayClient): Promise<RelayRoom> {
		try {
			return await client.room(this.keys, {
				cursor: link.cursor,
				holds: (tags) => this.holds(link, tags),
				ready: () => this.peersSettled?.(),
				confirm: (ids) => this.authentic(ids),
				onEnvelopes: (got) => this.received(link, got),
				onThumbnails: (got) => this.receivedThumbnails(link, got),
				onCursor: (c) => this.moved(link, c),
				onReset: () => this.reset(link)
			});
		} catch (e) {
			// Unreachable: the client keeps the room (with this link's callbacks); opening it again is the retry.
			const kept = client.joined().find((r) => r.keys.room === this.keys.room);
			if (kept) {
				link.room = kept;
				link.open = false;
			}
			throw e;
		}
	}

	private async upload(link: Link, room: RelayRoom): Promise<void> {
		for (;;) {
			if (!this.active || link.room !== room) return;
			let batch = await link.queue.list(this.keys.room, UPLOAD_BATCH);
			// A long queue: take more of it at once, to be sealed in full bundles.
			if (batch.length === UPLOAD_BATCH) batch = await link.queue.list(this.keys.room, BACKLOG_BATCH);
			if (!batch.length) {
				// The queue is the truth: another tab may have uploaded what this one counted.
				if (this.writing === 0 && this.seeding === 0) link.unsent.clear();
				return;
			}
			await room.push(batch, { bundle: batch.length >= BUNDLE_FROM });
			await link.queue.remove(
				this.keys.room,
				batch.map((b) => b.id)
			);
			for (const b of batch) link.unsent.delete(b.id);
			this.publish();
		}
	}

	/**
	 * Which of these relay items carry an event this device holds already (by dedup tag): those are
	 * not decrypted. Tags are computed for the document's events when a catch-up is large enough to
	 * repay it (one HMAC per held event against one decryption per item; decrypting costs several
	 * HMACs): the events a peer delivered while the relay catch-up ran, or the whole contract on a
	 * device that holds it and reads its relay from the start.
	 */
	private holds(link: Link, tags: readonly string[]): boolean[] | undefined {
		const { cdoc } = this.o;
		const untagged = cdoc.events.size - this.taggedIds.size;
		const remaining = Math.max(tags.length, (link.room?.head ?? 0) - link.cursor);
		if (untagged > 0 && untagged <= TAG_PAYS_OFF * remaining)
			for (const id of cdoc.events.keys())
				if (!this.taggedIds.has(id)) {
					this.taggedIds.add(id);
					this.tagged.set(itemTag(this.keys, id), id);
				}
		if (this.tagged.size === 0) return undefined;
		const known: string[] = [];
		const held = tags.map((tag) => {
			const id = this.tagged.get(tag);
			if (id === undefined || cdoc.log.envelope(id) === undefined) return false;
			if (link.unsent.has(id)) known.push(id);
			return true;
		});
		this.forgetUploaded(link, known);
		return held;
	}

	/** Which of these events the document holds authentically, once what was handed over is verified. */
	private async authentic(ids: readonly string[]): Promise<boolean[]> {
		await this.o.cdoc.settled();
		const ok = new Set<string>();
		for (const [id] of this.o.cdoc.log.authenticEnvelopes()) ok.add(id);
		return ids.map((id) => ok.has(id));
	}

	/** What this relay already holds need not be uploaded to it. */
	private forgetUploaded(link: Link, ids: readonly string[]): void {
		if (!ids.length) return;
		for (const id of ids) link.unsent.delete(id);
		void link.queue.remove(this.keys.room, ids).catch(() => {});
	}

	/** Items from the relay: into the document, like a peer's update; the document verifies and folds them. */
	private received(link: Link, got: readonly ReceivedEnvelope[]): void {
		const { cdoc } = this.o;
		// What came from the relay need not be tagged again to be recognised there (see `holds`).
		for (const g of got) {
			this.taggedIds.add(g.id);
			if (g.tag) this.tagged.set(g.tag, g.id);
		}
		const fresh = got.filter((g) => cdoc.log.envelope(g.id) === undefined && cdoc.events.get(g.id) !== g.envelope);
		if (fresh.length)
			cdoc.doc.transact(() => {
				for (const g of fresh) cdoc.events.set(g.id, g.envelope);
			}, RELAY_ORIGIN);
		this.forgetUploaded(
			link,
			got.filter((g) => link.unsent.has(g.id)).map((g) => g.id)
		);
		this.publish();
	}

	private moved(link: Link, cursor: number): void {
		link.cursor = cursor;
		this.saveCursorSoon(link);
		this.publish();
	}

	/** The relay lost or expired this room: it gets everything this device holds again. */
	private reset(link: Link): void {
		link.cursor = 0;
		link.base = undefined;
		this.saveCursorSoon(link);
		void this.enqueue([link], [...this.held(), ...this.heldThumbnails()]).then(() => this.run(link, false));
	}

	private dropped(link: Link, error: Error): void {
		link.open = false;
		if (this.stopped) return;
		link.reachable = false;
		link.problem = error.message;
		this.publish();
		this.retryLater(link);
	}

	private retryLater(link: Link): void {
		if (!this.active || link.timer) return;
		const delay = Math.min(this.o.retryMaxMs ?? 15_000, 1000 * 2 ** link.attempts++);
		link.timer = setTimeout(() => {
			link.timer = undefined;
			void this.run(link, true);
		}, delay);
		(link.timer as { unref?: () => void }).unref?.();
	}

	private leaveAll(): void {
		for (const link of this.links) {
			clearTimeout(link.timer);
			link.timer = undefined;
			const room = link.room;
			link.room = undefined;
			link.open = false;
			if (room) void room.leave().catch(() => {});
		}
	}

	private releaseAll(): void {
		for (const link of this.links) if (link.user) this.o.pool.release(link.url, link.user);
	}

	private readonly onOnline = () => {
		this.offline = false;
		this.publish();
		this.syncAll(true);
	};

	private readonly onOffline = () => {
		this.offline = true;
		this.leaveAll();
		this.publish();
	};

	// —— cursors ——

	private saveCursor(link: Link): Promise<void> {
		return this.o.cursors
			.put({ contract: this.o.cdoc.contract, relay: link.url, cursor: link.cursor, seeded: link.seeded, lastPullAt: link.lastPullAt })
			.catch(() => {});
	}

	/**
	 * A little later than the items it counts: the document's storage writes them first, so a page
	 * closed in between reads them again rather than skipping them.
	 */
	private saveCursorSoon(link: Link): void {
		link.saveTimer ??= setTimeout(() => {
			link.saveTimer = undefined;
			void this.saveCursor(link);
		}, CURSOR_SAVE_MS);
	}

	private async flushCursor(link: Link): Promise<void> {
		if (!link.saveTimer) return;
		clearTimeout(link.saveTimer);
		link.saveTimer = undefined;
		await this.saveCursor(link);
	}

	// —— status ——

	private snapshot(): RelaySyncState {
		return {
			paused: this.paused,
			offline: this.offline,
			queueing: this.writing > 0 || this.seeding > 0,
			relays: this.links.map((l) => {
				const head = Math.max(l.room?.head ?? 0, l.cursor);
				if (head > l.cursor) l.base ??= l.cursor;
				else l.base = undefined;
				return {
					url: l.url,
					reachable: l.reachable,
					problem: l.problem,
					waiting: l.unsent.size,
					lastPullAt: l.lastPullAt,
					cursor: l.cursor,
					head,
					catchUp: l.base === undefined ? undefined : { done: l.cursor - l.base, total: head - l.base }
				};
			})
		};
	}

	private publish(): void {
		this.state = this.snapshot();
		for (const fn of this.listeners) fn(this.state);
	}

	/** Resolves once no queue write is in flight (tests, and closing a page cleanly). */
	async settled(): Promise<void> {
		await this.writes;
	}

	/** True while events this device wrote are still being queued (not yet counted as waiting). */
	get queueing(): boolean {
		return this.writing > 0 || this.seeding > 0;
	}
}

/** An author whose chain has a gap on this device: a `prev` this device does not hold. */
export interface MissingEarlier {
	/** The author's key; undefined when what is missing is another event it depends on (author unknown). */
	author?: string;
	/** Events of that author waiting for it. */
	events: number;
}

/**
 * Why events are waiting: for each waiting event, the `prev` (same author, earlier) or dependency
 * this device does not hold. Events whose gap is further down their own chain are counted with
 * their author too. Never silent: the status names the author ("waiting for earlier events from Ada").
 */
export function missingEarlier(log: ContractLog, waiting: readonly string[]): MissingEarlier[] {
	const byAuthor = new Map<string | undefined, number>();
	const stuck = new Set(waiting);
	for (const id of waiting) {
		let body: { author?: unknown; prev?: unknown; deps?: unknown };
		try {
			body = JSON.parse((JSON.parse(log.envelope(id) ?? 'null') as { body: string }).body);
		} catch {
			continue;
		}
		const author = typeof body.author === 'string' ? body.author : undefined;
		const prev = typeof body.prev === 'string' ? body.prev : undefined;
		const deps = Array.isArray(body.deps) ? body.deps.filter((d): d is string => typeof d === 'string') : [];
		let who: string | undefined | null = null;
		if (prev && log.envelope(prev) === undefined) who = author;
		else if (deps.some((d) => log.envelope(d) === undefined)) who = undefined;
		else if (prev && stuck.has(prev)) who = author;
		if (who === null) continue;
		byAuthor.set(who, (byAuthor.get(who) ?? 0) + 1);
	}
	return [...byAuthor].map(([author, events]) => ({ author, events }));
}
