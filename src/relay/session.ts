/**
 * One client connection to the relay, independent of the transport: it checks every message
 * (shape, size, rate, proof of the room key), runs pushes and pulls against the host's store, and
 * guards the reader (items sent and not confirmed read, bytes queued in the socket). The Node
 * relay (node.ts) and the Durable Object (worker.ts) are hosts: they supply the socket, storage,
 * live fan-out and the per-address limits that need more than one connection's view.
 */
import { verify } from '../lib/identity/ed25519';
import {
	CLOSE,
	carriesItems,
	compactProof,
	encodeItemsFrame,
	FRAME_VERSION,
	openProof,
	parseClientMessage,
	PROTOCOL,
	publicLimits,
	pushProof,
	RelayError,
	roomIdOf,
	subscribeProof,
	unsubscribeProof,
	type BundleItem,
	type ClientMessage,
	type RelayLimits,
	type RelayMessage,
	type StoredItem,
	type WireItem,
	type WirePushSubscription
} from './protocol';
import type { AppendResult, CompactResult, RawReadResult, ReadResult } from './store';

export interface RelayHost {
	readonly limits: RelayLimits;
	/** One socket may open many rooms (Node); false: one room per socket (Durable Objects). */
	readonly mux: boolean;
	/** A text message, or a binary frame (protocol.ts, "binary frames"). */
	send(data: string | Uint8Array): void;
	/** Bytes queued in the socket's send buffer, where the transport can tell (0 otherwise). */
	buffered(): number;
	close(code: number, reason: string): void;
	/** Per-address message rate: an error when this address is over it. */
	admit(): RelayError | undefined;
	/** May this connection open `room` (per-address room count, the object's own room)? */
	mayOpen(room: string): RelayError | undefined;
	opened(room: string, live: boolean): void;
	left(room: string): void;
	/** Store a push; resolves only once it is durable. Throws RelayError to refuse it. */
	append(room: string, items: WireItem[]): Promise<AppendResult>;
	read(room: string, after: number): Promise<ReadResult> | ReadResult;
	/** `read` with the stored bytes as they are, for a binary frame. */
	readRaw(room: string, after: number): Promise<RawReadResult> | RawReadResult;
	/** Compactions (store.ts `compact`): store some, durably; a page that takes them; what is left to compact. */
	compact(room: string, items: BundleItem[]): Promise<CompactResult> | CompactResult;
	readCompacted(room: string, after: number): Promise<RawReadResult> | RawReadResult;
	loose(room: string): number;
	head(room: string): number;
	/** Deliver freshly stored items to the room's other live sessions. */
	publish(room: string, items: StoredItem[]): void;
	/** The session's state changed (a room opened or left): hosts that hibernate persist it. */
	persist?(state: SessionState): void;
	/**
	 * Web Push (Node relay, push.ts). A host without it answers subscribes with `push-unavailable`.
	 * `pushKey`: the VAPID public key announced in hello. `subscribe` resolves with the room's
	 * subscription count, or throws RelayError (bound, endpoint policy).
	 */
	readonly pushKey?: string;
	subscribe?(room: string, subscription: WirePushSubscription): number | Promise<number>;
	unsubscribe?(room: string, endpoint: string): void | Promise<void>;
	/** New items landed in `room`: push to its subscriptions, except the uploader's own (`except`). */
	notify?(room: string, except: readonly string[]): void;
}

/** What a session must remember across hibernation: its challenge and its open rooms. */
export interface SessionState {
	challenge: string;
	rooms: Record<string, { key: string; live: boolean }>;
}

export function newChallenge(): string {
	let s = '';
	for (const b of crypto.getRandomValues(new Uint8Array(24))) s += b.toString(16).padStart(2, '0');
	return s;
}

export class RelaySession {
	readonly state: SessionState;
	/** Item-carrying bytes sent, and the count the client confirmed reading. */
	private sent = 0;
	private read = 0;
	private windowStart = 0;
	private inWindow = 0;
	private tail: Promise<void> = Promise.resolve();
	/** Push endpoints this connection subscribed: its own pushes are not announced to them. */
	private readonly own = new Set<string>();
	closed = false;

	constructor(
		private readonly host: RelayHost,
		state?: SessionState
	) {
		this.state = state ?? { challenge: newChallenge(), rooms: {} };
	}

	hello(): void {
		const push = this.host.pushKey ? { key: this.host.pushKey } : undefined;
		this.send({ t: 'hello', protocol: PROTOCOL, challenge: this.state.challenge, mux: this.host.mux, limits: publicLimits(this.host.limits), push, frames: [FRAME_VERSION], compaction: 1 });
	}

	rooms(): string[] {
		return Object.keys(this.state.rooms);
	}

	isLive(room: string): boolean {
		return this.state.rooms[room]?.live === true;
	}

	/** Send one message; item-carrying ones are refused to a reader that is too far behind (dropped). */
	send(m: RelayMessage): boolean {
		return this.sendText(JSON.stringify(m), carriesItems(m));
	}

	/** A text message (counted in characters: ASCII) or a binary frame (in bytes). */
	sendText(text: string | Uint8Array, items: boolean): boolean {
		if (this.closed) return false;
		const l = this.host.limits;
		const size = typeof text === 'string' ? text.length : text.byteLength;
		if (items) {
			if (this.sent - this.read + size > l.maxUnreadBytes) {
				this.drop(`reading too slowly: more than ${l.maxUnreadBytes} bytes of items sent and not confirmed read`);
				return false;
			}
			this.sent += size;
		}
		if (this.host.buffered() + size > l.maxBufferedBytesPerSocket) {
			this.drop(`reading too slowly: more than ${l.maxBufferedBytesPerSocket} bytes queued`);
			return false;
		}
		this.host.send(text);
		return true;
	}

	drop(reason: string, code: number = CLOSE.policy): void {
		if (this.closed) return;
		this.closed = true;
		this.host.close(code, reason);
	}

	private error(e: unknown, id?: number, room?: string): void {
		const err = e instanceof RelayError ? e : new RelayError('storage-failed', 'The relay could not store or read this just now; nothing was acknowledged. Try again.');
		this.send({ t: 'error', id, room, code: err.code, message: err.message });
	}

	/** One message from the client. Work on a connection runs in arrival order. */
	receive(text: string): void {
		if (this.closed) return;
		const l = this.host.limits;
		const now = Date.now();
		if (now - this.windowStart >= 1000) {
			this.windowStart = now;
			this.inWindow = 0;
		}
		let m: ClientMessage;
		try {
			if (++this.inWindow > l.maxMessagesPerSecond)
				throw new RelayError('rate-limited', `Too many requests: at most ${l.maxMessagesPerSecond} messages a second on one connection. Slow down and retry.`);
			const perAddress = this.host.admit();
			if (perAddress) throw perAddress;
			m = parseClientMessage(text, l);
		} catch (e) {
			return this.error(e, idOf(text), roomOf(text));
		}
		if (m.read !== undefined && m.read > this.read && m.read <= this.sent) this.read = m.read;
		if (m.t === 'read') return;
		if (m.t === 'ping') {
			this.send({ t: 'pong', id: m.id });
			return;
		}
		// Signatures are checked as messages arrive (in parallel); effects happen in order.
		const check =
			m.t === 'open'
				? this.checkOpen(m)
				: m.t === 'push'
					? this.checkPush(m)
					: m.t === 'compact'
					? this.checkSigned(m.room, (c) => compactProof(c, m.room, m.items), m.sig)
					: m.t === 'subscribe'
						? this.checkSigned(m.room, (c) => subscribeProof(c, m.room, m.subscription), m.sig)
						: m.t === 'unsubscribe'
							? this.checkSigned(m.room, (c) => unsubscribeProof(c, m.room, m.endpoint), m.sig)
							: undefined;
		this.tail = this.tail.then(async () => {
			if (this.closed) return;
			try {
				await check;
				await this.run(m);
			} catch (e) {
				this.error(e, m.id, m.room);
			}
		});
	}

	/** Settles once everything received so far has been handled (tests, shutdown). */
	idle(): Promise<void> {
		return this.tail;
	}

	private async checkOpen(m: Extract<ClientMessage, { t: 'open' }>): Promise<void> {
		if (roomIdOf(m.key) !== m.room) throw new RelayError('wrong-room', 'This key does not belong to this room: a room id is the hash of its key.');
		if (!(await verify(m.key, openProof(this.state.challenge, m.room), m.sig)))
			throw new RelayError('bad-proof', 'The proof of the room key does not verify: only a holder of the link can open this room.');
	}

	private async checkPush(m: Extract<ClientMessage, { t: 'push' }>): Promise<void> {
		const key = this.state.rooms[m.room]?.key;
		if (!key) throw notOpen();
		if (!(await verify(key, pushProof(this.state.challenge, m.room, m.items), m.sig)))
			throw new RelayError('bad-signature', 'This write is not signed by the room key; nothing was stored.');
	}

	/** A write other than a push (subscribe, unsubscribe): signed by the key the room was opened with. */
	private async checkSigned(room: string, proof: (challenge: string) => Uint8Array, sig: string): Promise<void> {
		const key = this.state.rooms[room]?.key;
		if (!key) throw notOpen();
		if (!(await verify(key, proof(this.state.challenge), sig))) throw new RelayError('bad-signature', 'This request is not signed by the room key; nothing was changed.');
	}

	private async run(m: Exclude<ClientMessage, { t: 'read' } | { t: 'ping' }>): Promise<void> {
		switch (m.t) {
			case 'open': {
				const live = m.live !== false;
				if (!this.state.rooms[m.room]) {
					const refused = this.host.mayOpen(m.room);
					if (refused) throw refused;
				}
				this.state.rooms[m.room] = { key: m.key, live };
				this.host.opened(m.room, live);
				this.host.persist?.(this.state);
				this.send({ t: 'opened', id: m.id, room: m.room, head: this.host.head(m.room), loose: this.host.loose(m.room) });
				return;
			}
			case 'push': {
				if (!this.state.rooms[m.room]) throw notOpen();
				const result = await this.host.append(m.room, m.items);
				this.send({ t: 'acked', id: m.id, room: m.room, seqs: result.seqs, head: result.head });
				if (result.fresh.length) {
					this.host.publish(m.room, result.fresh);
					this.host.notify?.(m.room, m.own ? [...this.own, m.own] : [...this.own]);
				}
				return;
			}
			case 'subscribe': {
				if (!this.state.rooms[m.room]) throw notOpen();
				if (!this.host.subscribe) throw noPush();
				const subscriptions = await this.host.subscribe(m.room, m.subscription);
				this.own.add(m.subscription.endpoint);
				this.send({ t: 'subscribed', id: m.id, room: m.room, subscriptions });
				return;
			}
			case 'unsubscribe': {
				if (!this.state.rooms[m.room]) throw notOpen();
				if (!this.host.unsubscribe) throw noPush();
				await this.host.unsubscribe(m.room, m.endpoint);
				this.send({ t: 'unsubscribed', id: m.id, room: m.room });
				return;
			}
			case 'pull': {
				if (!this.state.rooms[m.room]) throw notOpen();
				if (m.bin === FRAME_VERSION) {
					const raw = await (m.compact ? this.host.readCompacted(m.room, m.after) : this.host.readRaw(m.room, m.after));
					this.sendText(encodeItemsFrame({ id: m.id, room: m.room, head: raw.head, more: raw.more, end: raw.end }, raw.items), true);
					return;
				}
				const r = await this.host.read(m.room, m.after);
				this.send({ t: 'items', id: m.id, room: m.room, items: r.items, head: r.head, more: r.more });
				return;
			}
			case 'compact': {
				if (!this.state.rooms[m.room]) throw notOpen();
				const r = await this.host.compact(m.room, m.items);
				this.send({ t: 'compacted', id: m.id, room: m.room, covered: r.covered, loose: r.loose });
				return;
			}
			case 'leave': {
				if (this.state.rooms[m.room]) {
					delete this.state.rooms[m.room];
					this.host.left(m.room);
					this.host.persist?.(this.state);
				}
				this.send({ t: 'left', id: m.id, room: m.room });
				return;
			}
		}
	}
}

const noPush = () =>
	new RelayError(
		'push-unavailable',
		'Push notifications are not offered by this relay (the Cloudflare Workers build leaves them to the Node relay). Items are still kept here; use a Node relay for push.'
	);
const notOpen = () => new RelayError('not-open', 'Open this room first, with proof of its key: the relay serves a room only to holders of its link.');

/** The request id and room of a message that failed to parse, when they can be read, to answer it. */
function idOf(text: string): number | undefined {
	const m = /"id"\s*:\s*(\d{1,15})/.exec(text.slice(0, 200));
	return m ? Number(m[1]) : undefined;
}
function roomOf(text: string): string | undefined {
	const m = /"room"\s*:\s*"([A-Za-z0-9_-]{43})"/.exec(text.slice(0, 300));
	return m?.[1];
}

/** Live item message, serialised once for every receiver. */
export function liveText(room: string, item: StoredItem): string {
	const m: RelayMessage = item.tags ? { t: 'item', room, seq: item.seq, tags: item.tags, data: item.data } : { t: 'item', room, seq: item.seq, tag: item.tag, data: item.data };
	return JSON.stringify(m);
}
