/**
 * The relay's wire protocol, shared by the relay (Node and Durable Object builds) and the client
 * library: message shapes, the bytes each signature covers, the room id rule, limits and their
 * error messages. Pure and synchronous apart from signature checks; no transport, no storage.
 * README.md ("Relay protocol") is the prose version.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64url, toBase64url, utf8 } from '../lib/contract/encoding';

export const PROTOCOL = 'milestone-relay/1';

/**
 * The contract's envelope limit (MAX_ENVELOPE_BYTES in src/lib/contract/schema.ts). Repeated here,
 * not imported, so the relay bundle does not carry the schema library (zod) it never runs;
 * tests/relay/client.test.ts fails if the two ever differ.
 */
export const ENVELOPE_LIMIT = 32 * 1024;
/** XChaCha20-Poly1305: a 24-byte nonce before the ciphertext, a 16-byte tag after it. */
export const ITEM_OVERHEAD = 24 + 16;
/** The largest item: one envelope at the contract's limit, encrypted. */
export const MAX_ITEM_BYTES = ENVELOPE_LIMIT + ITEM_OVERHEAD;
/**
 * The largest bundle (many envelopes sealed in one ciphertext, for a contract's past): 256 KiB of
 * ciphertext, so a catch-up page carries a few, and at most this many events (dedup tags) in one.
 */
export const MAX_BUNDLE_BYTES = 256 * 1024;
/** AES-256-GCM: a 12-byte nonce before a bundle's ciphertext, a 16-byte tag after it. */
export const BUNDLE_OVERHEAD = 12 + 16;
export const MAX_TAGS_PER_BUNDLE = 2000;
/** What one stored tag costs against a room's byte quota. */
export const TAG_BYTES = 32;
/** Room ids, room public keys and dedup tags: 32 bytes as unpadded base64url. */
const B64_32 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const B64 = /^[A-Za-z0-9_-]*$/;

export interface RelayLimits {
	/** Largest item (ciphertext bytes). */
	maxItemBytes: number;
	/** Largest bundle item (ciphertext bytes), and the most events (tags) one bundle may claim. */
	maxBundleBytes: number;
	maxTagsPerBundle: number;
	/** Largest message a client may send (characters of JSON). */
	maxMessageBytes: number;
	/** Items in one push. */
	maxItemsPerPush: number;
	/** Quota of one room: items and ciphertext bytes. */
	maxItemsPerRoom: number;
	maxBytesPerRoom: number;
	/** At most this many items / bytes of items in one pull answer (always at least one item). */
	maxPullItems: number;
	maxPullBytes: number;
	/** Connections from one client address at once. */
	maxConnectionsPerAddress: number;
	/** Rooms one client address has open at once (summed over its connections). */
	maxRoomsPerAddress: number;
	/** Rooms one client address may create (first write) per hour. */
	maxNewRoomsPerAddressPerHour: number;
	/** Messages per second from one connection, and from one address (all its connections). */
	maxMessagesPerSecond: number;
	maxMessagesPerSecondPerAddress: number;
	/** Item bytes sent to a connection and not yet confirmed read; past it the reader is dropped. */
	maxUnreadBytes: number;
	/** Bytes queued in one socket's send buffer (where the transport can tell); past it the reader is dropped. */
	maxBufferedBytesPerSocket: number;
	/** Web Push subscriptions one room keeps (Node relay only; see push.ts). */
	maxSubscriptionsPerRoom: number;
	/** A room nobody wrote to or opened for this long is deleted whole. */
	retentionMs: number;
	pingIntervalMs: number;
}

export const DAY_MS = 86_400_000;

export const DEFAULT_LIMITS: RelayLimits = {
	maxItemBytes: MAX_ITEM_BYTES,
	maxBundleBytes: MAX_BUNDLE_BYTES,
	maxTagsPerBundle: MAX_TAGS_PER_BUNDLE,
	maxMessageBytes: 1024 * 1024,
	maxItemsPerPush: 100,
	maxItemsPerRoom: 100_000,
	maxBytesPerRoom: 64 * 1024 * 1024,
	maxPullItems: 1000,
	maxPullBytes: 512 * 1024,
	maxConnectionsPerAddress: 50,
	maxRoomsPerAddress: 1000,
	maxNewRoomsPerAddressPerHour: 200,
	maxMessagesPerSecond: 200,
	maxMessagesPerSecondPerAddress: 1000,
	maxUnreadBytes: 4 * 1024 * 1024,
	maxBufferedBytesPerSocket: 4 * 1024 * 1024,
	maxSubscriptionsPerRoom: 20,
	retentionMs: 400 * DAY_MS,
	pingIntervalMs: 30_000
};

export function checkLimits(limits: RelayLimits): void {
	for (const [name, value] of Object.entries(limits)) {
		if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`relay limit ${name} must be a positive number, got ${value}`);
	}
	// An item must fit in a message, and a pull answer must be able to carry the largest item.
	const itemChars = Math.max(Math.ceil((limits.maxItemBytes * 4) / 3), Math.ceil((limits.maxBundleBytes * 4) / 3) + limits.maxTagsPerBundle * 46) + 200;
	if (limits.maxMessageBytes < itemChars) throw new RangeError('relay limit maxMessageBytes must leave room for one item of maxItemBytes');
	if (limits.maxUnreadBytes < limits.maxPullBytes * 2 + itemChars) throw new RangeError('relay limit maxUnreadBytes must leave room for a full pull answer');
}

/** WebSocket close codes the relay uses. */
export const CLOSE = {
	/** Policy: too many connections from one address, reading too slowly, or a protocol violation. */
	policy: 1008,
	/** A message over the size limit. */
	tooBig: 1009,
	/** Try again later. */
	overloaded: 1013
} as const;

// —— messages ——

/**
 * One event (`tag`), or a bundle of events (`tags`, one per event inside) sealed together: the
 * relay cannot look inside a bundle, so its tags are a claim; see store.ts for how it dedups them.
 */
export type WireItem = SingleItem | BundleItem;
export interface SingleItem {
	/** Keyed hash of the event id (dedup key): base64url of 32 bytes. */
	tag: string;
	tags?: undefined;
	/** nonce ‖ ciphertext ‖ tag, base64url. */
	data: string;
}
export interface BundleItem {
	tag?: undefined;
	/** The dedup tag of each event inside, distinct. */
	tags: string[];
	/** nonce ‖ ciphertext ‖ tag, base64url. */
	data: string;
}
export type StoredItem = WireItem & { seq: number };
export const isBundle = (i: WireItem): i is BundleItem => i.tags !== undefined;

/** A browser's PushSubscription as `subscription.toJSON()` gives it (keys base64url). */
export interface WirePushSubscription {
	endpoint: string;
	keys: { p256dh: string; auth: string };
}

export type ClientMessage =
	| { t: 'open'; id: number; room: string; key: string; sig: string; live?: boolean; read?: number }
	| { t: 'push'; id: number; room: string; items: WireItem[]; sig: string; read?: number; own?: string }
	| { t: 'subscribe'; id: number; room: string; subscription: WirePushSubscription; sig: string; read?: number }
	| { t: 'unsubscribe'; id: number; room: string; endpoint: string; sig: string; read?: number }
	| { t: 'pull'; id: number; room: string; after: number; read?: number; bin?: typeof FRAME_VERSION; compact?: true }
	| { t: 'leave'; id: number; room: string; read?: number }
	| { t: 'compact'; id: number; room: string; items: BundleItem[]; sig: string; read?: number }
	| { t: 'read'; read: number }
	| { t: 'ping'; id: number; read?: number };

export type RelayMessage =
	| {
			t: 'hello';
			protocol: string;
			challenge: string;
			mux: boolean;
			limits: Pick<RelayLimits, 'maxItemBytes' | 'maxItemsPerPush' | 'maxMessageBytes' | 'maxItemsPerRoom' | 'maxBytesPerRoom' | 'maxUnreadBytes'> &
				Partial<Pick<RelayLimits, 'maxBundleBytes' | 'maxTagsPerBundle'>>;
			/** Present when the relay sends Web Push: its VAPID public key (base64url, 65 bytes). */
			push?: { key: string };
			/** Binary framing versions this relay answers pulls in (see "binary frames" below); absent: JSON only. */
			frames?: number[];
			/** The relay keeps compactions (see "compaction" below). */
			compaction?: 1;
	  }
	| { t: 'opened'; id: number; room: string; head: number; loose?: number }
	| { t: 'compacted'; id: number; room: string; covered: number[]; loose: number }
	| { t: 'acked'; id: number; room: string; seqs: number[]; head: number }
	| { t: 'items'; id: number; room: string; items: StoredItem[]; head: number; more: boolean }
	| ({ t: 'item'; room: string } & StoredItem)
	| { t: 'left'; id: number; room: string }
	| { t: 'subscribed'; id: number; room: string; subscriptions: number }
	| { t: 'unsubscribed'; id: number; room: string }
	| { t: 'pong'; id: number }
	| { t: 'error'; id?: number; room?: string; code: ErrorCode; message: string };

export type ErrorCode =
	| 'bad-message'
	| 'message-too-large'
	| 'not-open'
	| 'wrong-room'
	| 'bad-proof'
	| 'bad-signature'
	| 'item-too-large'
	| 'bundle-too-large'
	| 'too-many-items'
	| 'room-full'
	| 'too-many-rooms'
	| 'too-many-new-rooms'
	| 'rate-limited'
	| 'storage-failed'
	| 'push-unavailable'
	| 'bad-subscription'
	| 'too-many-subscriptions';

/** A refusal: its code for programs, its message for people. */
export class RelayError extends Error {
	constructor(
		readonly code: ErrorCode,
		message: string
	) {
		super(message);
		this.name = 'RelayError';
	}
}

const int = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const bad = (why: string) => new RelayError('bad-message', `This is not a valid relay message: ${why}.`);

/** Parse and shape-check one client message; throws RelayError with what is wrong. */
export function parseClientMessage(text: string, limits: RelayLimits): ClientMessage {
	if (text.length > limits.maxMessageBytes)
		throw new RelayError('message-too-large', `A message is at most ${limits.maxMessageBytes} bytes; this one is ${text.length}.`);
	let m: Record<string, unknown>;
	try {
		m = JSON.parse(text);
	} catch {
		throw bad('it is not JSON');
	}
	if (!m || typeof m !== 'object' || Array.isArray(m) || typeof m.t !== 'string') throw bad('it has no type');
	if (m.read !== undefined && !int(m.read)) throw bad('"read" must be a whole number of bytes');
	if (m.t === 'read') {
		if (!int(m.read)) throw bad('"read" must be a whole number of bytes');
		return { t: 'read', read: m.read };
	}
	if (!int(m.id)) throw bad('it has no request id');
	if (m.t === 'ping') return m as ClientMessage;
	if (typeof m.room !== 'string' || !B64_32.test(m.room)) throw bad('the room id must be 32 bytes of base64url');
	switch (m.t) {
		case 'open':
			if (typeof m.key !== 'string' || !B64_32.test(m.key)) throw bad('the room key must be 32 bytes of base64url');
			if (typeof m.sig !== 'string') throw bad('an open needs the room key’s signature');
			if (m.live !== undefined && typeof m.live !== 'boolean') throw bad('"live" must be true or false');
			return m as ClientMessage;
		case 'push': {
			if (typeof m.sig !== 'string') throw bad('a push needs the room key’s signature');
			if (!Array.isArray(m.items) || m.items.length === 0) throw bad('a push carries at least one item');
			if (m.items.length > limits.maxItemsPerPush)
				throw new RelayError('too-many-items', `A push carries at most ${limits.maxItemsPerPush} items; this one has ${m.items.length}. Send them in several pushes.`);
			for (const item of m.items as unknown[]) checkItem(item, limits);
			if (m.own !== undefined && !isEndpoint(m.own)) throw bad('"own" must be the endpoint of this device’s push subscription');
			return m as ClientMessage;
		}
		case 'subscribe':
			if (typeof m.sig !== 'string') throw bad('a subscribe needs the room key’s signature');
			checkSubscription(m.subscription);
			return m as ClientMessage;
		case 'unsubscribe':
			if (typeof m.sig !== 'string') throw bad('an unsubscribe needs the room key’s signature');
			if (!isEndpoint(m.endpoint)) throw bad('"endpoint" must be a push subscription’s https URL');
			return m as ClientMessage;
		case 'pull':
			if (!int(m.after)) throw bad('"after" must be a sequence number (0 for the start)');
			if (m.bin !== undefined && m.bin !== FRAME_VERSION) throw bad(`"bin" names a binary framing this relay does not speak (it speaks ${FRAME_VERSION})`);
			if (m.compact !== undefined && (m.compact !== true || m.bin !== FRAME_VERSION)) throw bad('"compact" is true, and only with a binary frame ("bin")');
			return m as ClientMessage;
		case 'leave':
			return m as ClientMessage;
		case 'compact': {
			if (typeof m.sig !== 'string') throw bad('a compaction needs the room key’s signature');
			if (!Array.isArray(m.items) || m.items.length === 0) throw bad('a compaction carries at least one bundle');
			if (m.items.length > limits.maxItemsPerPush)
				throw new RelayError('too-many-items', `A compaction carries at most ${limits.maxItemsPerPush} bundles; this one has ${m.items.length}. Send them in several.`);
			for (const item of m.items as unknown[]) {
				if ((item as WireItem)?.tags === undefined) throw bad('a compaction is made of bundles (with "tags")');
				checkItem(item, limits);
			}
			return m as ClientMessage;
		}
	}
	throw bad(`unknown type "${String(m.t).slice(0, 20)}"`);
}

/** Decoded size of base64url text. */
export const base64urlBytes = (text: string) => Math.floor((text.length * 3) / 4);

function checkItem(item: unknown, limits: RelayLimits): asserts item is WireItem {
	const i = item as WireItem;
	if (!i || typeof i !== 'object') throw bad('each item must be an object');
	if (i.tags !== undefined) return checkBundle(i, limits);
	if (typeof i.tag !== 'string' || !B64_32.test(i.tag)) throw bad('each item needs a tag of 32 bytes of base64url');
	if (typeof i.data !== 'string' || !B64.test(i.data) || i.data.length % 4 === 1) throw bad('each item’s data must be base64url');
	const bytes = base64urlBytes(i.data);
	if (bytes > limits.maxItemBytes)
		throw new RelayError(
			'item-too-large',
			`An item is at most ${limits.maxItemBytes} bytes (one envelope of at most ${limits.maxItemBytes - ITEM_OVERHEAD} bytes, plus ${ITEM_OVERHEAD} of encryption); this one is ${bytes}.`
		);
	if (bytes <= ITEM_OVERHEAD) throw bad('an item is an encrypted envelope, longer than its nonce and tag');
}

function checkBundle(i: BundleItem, limits: RelayLimits): void {
	if ((i as { tag?: unknown }).tag !== undefined) throw bad('a bundle has "tags", not "tag"');
	if (!Array.isArray(i.tags) || i.tags.length === 0) throw bad('a bundle names the tag of each event inside, at least one');
	if (i.tags.length > limits.maxTagsPerBundle)
		throw new RelayError('bundle-too-large', `A bundle carries at most ${limits.maxTagsPerBundle} events; this one claims ${i.tags.length}. Send the rest in another bundle.`);
	for (const t of i.tags) if (typeof t !== 'string' || !B64_32.test(t)) throw bad('each tag of a bundle must be 32 bytes of base64url');
	if (new Set(i.tags).size !== i.tags.length) throw bad('a bundle names each event once');
	if (typeof i.data !== 'string' || !B64.test(i.data) || i.data.length % 4 === 1) throw bad('a bundle’s data must be base64url');
	const bytes = base64urlBytes(i.data);
	if (bytes > limits.maxBundleBytes)
		throw new RelayError('bundle-too-large', `A bundle is at most ${limits.maxBundleBytes} bytes of ciphertext; this one is ${bytes}. Split it into smaller bundles.`);
	if (bytes <= BUNDLE_OVERHEAD) throw bad('a bundle is encrypted envelopes, longer than its nonce and tag');
}

/** Push endpoints are URLs of the browser's push service, at most this long. */
export const MAX_ENDPOINT_CHARS = 2048;

const isEndpoint = (v: unknown): v is string => {
	if (typeof v !== 'string' || v.length > MAX_ENDPOINT_CHARS) return false;
	try {
		const u = new URL(v);
		return u.protocol === 'https:' || u.protocol === 'http:';
	} catch {
		return false;
	}
};

/** Base64url (padding tolerated, as some browsers add it) decoding to exactly `bytes` bytes. */
const b64Of = (v: unknown, bytes: number) => typeof v === 'string' && /^[A-Za-z0-9_-]+={0,2}$/.test(v) && base64urlBytes(v.replace(/=+$/, '')) === bytes;

function checkSubscription(sub: unknown): asserts sub is WirePushSubscription {
	const s = sub as WirePushSubscription;
	if (!s || typeof s !== 'object' || !isEndpoint(s.endpoint)) throw bad('a subscription needs the push service’s endpoint URL');
	if (!s.keys || typeof s.keys !== 'object') throw bad('a subscription needs its keys (p256dh and auth)');
	if (!b64Of(s.keys.p256dh, 65)) throw bad('the subscription’s p256dh key must be 65 bytes of base64url');
	if (!b64Of(s.keys.auth, 16)) throw bad('the subscription’s auth secret must be 16 bytes of base64url');
}

// —— what is signed ——

/** Room id: a hash of the room public key, so only the holder of its private key can write or read. */
export function roomIdOf(publicKey: string): string {
	const key = fromBase64url(publicKey);
	const prefix = utf8.encode(`${PROTOCOL} room\n`);
	const bytes = new Uint8Array(prefix.length + key.length);
	bytes.set(prefix);
	bytes.set(key, prefix.length);
	return toBase64url(sha256(bytes));
}

/** The bytes an open signs: the relay's fresh challenge for this connection and the room. */
export function openProof(challenge: string, room: string): Uint8Array {
	return utf8.encode(`${PROTOCOL} open\n${challenge}\n${room}`);
}

/** The bytes a push signs: challenge, room and a digest of every item in order (a bundle: `*` and its tags). */
export function pushProof(challenge: string, room: string, items: readonly WireItem[]): Uint8Array {
	let text = '';
	for (const i of items) text += i.tags ? `*${i.tags.join(',')}.${i.data}\n` : `${i.tag}.${i.data}\n`;
	return utf8.encode(`${PROTOCOL} push\n${challenge}\n${room}\n${toBase64url(sha256(utf8.encode(text)))}`);
}

/**
 * Compaction (hello `compaction: 1`). A room whose events went up one by one costs a reader one
 * decryption per event. A device that holds them sends `compact`: bundles of the events, each
 * claiming (in the clear, as a bundle does) the dedup tags of the events inside. The relay keeps them
 * beside the item sequence (store.ts `compact`), records which single item holds each claimed tag,
 * and answers `compacted` with how many items each now covers and how many single items are still
 * `loose` (also in `opened`). A pull with `compact: true` (binary frames only) gets, from its
 * cursor on, each compaction once in place of the items it covers, with their seqs (`covers`), the
 * other items as they are, and the page's `end`. The reader opens each compaction, checks that every
 * claimed tag is the tag of an event inside, hands the events over, and counts a covered item as read
 * only once its event is confirmed authentic by its owner; its cursor moves to the last seq before
 * which every item was read or counted. Anything else (a compaction that fails to open, omits or
 * forges an event, or a seq nobody accounts for) leaves the cursor there, and the reader pulls
 * from it without compactions: a lying compaction costs time, never an event.
 */

/** The bytes a compaction signs: as a push, under its own label (one can never pass for the other). */
export function compactProof(challenge: string, room: string, items: readonly BundleItem[]): Uint8Array {
	let text = '';
	for (const i of items) text += `*${i.tags.join(',')}.${i.data}\n`;
	return utf8.encode(`${PROTOCOL} compact\n${challenge}\n${room}\n${toBase64url(sha256(utf8.encode(text)))}`);
}

/** The bytes a subscribe signs: challenge, room and the whole subscription. */
export function subscribeProof(challenge: string, room: string, sub: WirePushSubscription): Uint8Array {
	return utf8.encode(`${PROTOCOL} subscribe\n${challenge}\n${room}\n${sub.endpoint}\n${sub.keys.p256dh}\n${sub.keys.auth}`);
}

/** The bytes an unsubscribe signs. */
export function unsubscribeProof(challenge: string, room: string, endpoint: string): Uint8Array {
	return utf8.encode(`${PROTOCOL} unsubscribe\n${challenge}\n${room}\n${endpoint}`);
}

/** What the relay announces about itself in its hello. */
export function publicLimits(l: RelayLimits): Extract<RelayMessage, { t: 'hello' }>['limits'] {
	return { maxItemBytes: l.maxItemBytes, maxBundleBytes: l.maxBundleBytes, maxTagsPerBundle: l.maxTagsPerBundle, maxItemsPerPush: l.maxItemsPerPush, maxMessageBytes: l.maxMessageBytes, maxItemsPerRoom: l.maxItemsPerRoom, maxBytesPerRoom: l.maxBytesPerRoom, maxUnreadBytes: l.maxUnreadBytes };
}

/** Messages that carry items count against a reader's unread bytes (their JSON length: ASCII only). */
export const carriesItems = (m: RelayMessage) => m.t === 'item' || m.t === 'items';

// —— binary frames ——

/**
 * A pull page as one binary WebSocket message instead of JSON, so neither side base64-encodes,
 * stringifies or parses the ciphertext (a catch-up of 10,000 events is ~11 MB of it as JSON).
 * Negotiated: the relay lists the versions it speaks in hello (`frames`), a client that speaks one
 * asks for it per pull (`bin`), and everything else (an old client, an old relay) stays JSON.
 * Clients never send binary messages. Version 1, all integers big-endian:
 *
 *   u8 0x4D ('M')  u8 version (1)  u8 kind (1: items page)  u8 flags (bit 0: more)
 *   u32 header length, then the header: UTF-8 JSON {"t":"items","id","room","head","end"}
 *   then each item:  f64 seq  u8 type (0: single, 1: bundle, 2: compaction)
 *     single: 32 bytes tag              bundle: u32 n, then n × 32 bytes tags
 *     compaction: u32 n, n × 32 bytes tags, then n × f64: the seq of the single item holding each
 *       tag (0: none); its `seq` is the highest of them. Only in answers to pulls with `compact`.
 *     u32 data length, then the data (nonce ‖ ciphertext ‖ tag, as in JSON's base64url `data`)
 *   `end` (optional): the last sequence number the page accounts for, items and compactions together.
 *
 * The relay's flow control counts a frame's bytes where it counts a JSON page's characters.
 */
export const FRAME_VERSION = 1;
const FRAME_MAGIC = 0x4d;
const FRAME_ITEMS = 1;
const TAG_LEN = 32;

/** An item as the store holds it: raw bytes (a bundle's tags concatenated, 32 bytes each). */
export interface RawItem {
	seq: number;
	tag?: Uint8Array;
	tags?: Uint8Array;
	/** A compaction: the seq of the single item holding each tag (0: none). */
	covers?: number[];
	data: Uint8Array;
}

/** An item read from a binary frame: `data` is empty and `bytes` holds the raw ciphertext. */
export type FramedItem = StoredItem & { bytes?: Uint8Array; covers?: number[] };

type ItemsHeader = { id: number; room: string; head: number; more: boolean; end?: number };

export function encodeItemsFrame(h: ItemsHeader, items: readonly RawItem[]): Uint8Array {
	const header = utf8.encode(JSON.stringify({ t: 'items', id: h.id, room: h.room, head: h.head, end: h.end }));
	let size = 8 + header.length;
	for (const i of items) size += 9 + (i.tags ? 4 + i.tags.length : TAG_LEN) + (i.covers ? i.covers.length * 8 : 0) + 4 + i.data.length;
	const out = new Uint8Array(size);
	const view = new DataView(out.buffer);
	out[0] = FRAME_MAGIC;
	out[1] = FRAME_VERSION;
	out[2] = FRAME_ITEMS;
	out[3] = h.more ? 1 : 0;
	view.setUint32(4, header.length);
	out.set(header, 8);
	let o = 8 + header.length;
	for (const i of items) {
		view.setFloat64(o, i.seq);
		o += 8;
		if (i.tags) {
			out[o++] = i.covers ? 2 : 1;
			view.setUint32(o, i.tags.length / TAG_LEN);
			out.set(i.tags, o + 4);
			o += 4 + i.tags.length;
			if (i.covers) for (const c of i.covers) (view.setFloat64(o, c), (o += 8));
		} else {
			out[o++] = 0;
			out.set(i.tag!.subarray(0, TAG_LEN), o);
			o += TAG_LEN;
		}
		view.setUint32(o, i.data.length);
		out.set(i.data, o + 4);
		o += 4 + i.data.length;
	}
	return out;
}

/** A binary frame → the `items` message it stands for. Throws on anything malformed. */
export function decodeItemsFrame(bytes: Uint8Array): Omit<Extract<RelayMessage, { t: 'items' }>, 'items'> & { items: FramedItem[]; end?: number } {
	const fail = () => new Error('The relay sent a malformed binary frame.');
	if (bytes.length < 8 || bytes[0] !== FRAME_MAGIC || bytes[1] !== FRAME_VERSION || bytes[2] !== FRAME_ITEMS) throw fail();
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const more = (bytes[3]! & 1) === 1;
	const hl = view.getUint32(4);
	if (8 + hl > bytes.length) throw fail();
	const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hl))) as { t?: unknown; id?: unknown; room?: unknown; head?: unknown; end?: unknown };
	if (h.t !== 'items' || !int(h.id) || typeof h.room !== 'string' || !int(h.head) || (h.end !== undefined && !int(h.end))) throw fail();
	const items: FramedItem[] = [];
	let o = 8 + hl;
	const need = (n: number) => {
		if (o + n > bytes.length) throw fail();
	};
	while (o < bytes.length) {
		need(9);
		const seq = view.getFloat64(o);
		const type = bytes[o + 8];
		o += 9;
		if (!int(seq, 1)) throw fail();
		let item: FramedItem;
		if (type === 1 || type === 2) {
			need(4);
			const n = view.getUint32(o);
			o += 4;
			need(n * TAG_LEN);
			const tags: string[] = [];
			for (let k = 0; k < n; k++) tags.push(toBase64url(bytes.subarray(o + k * TAG_LEN, o + (k + 1) * TAG_LEN)));
			o += n * TAG_LEN;
			item = { seq, tags, data: '' };
			if (type === 2) {
				need(n * 8);
				const covers: number[] = [];
				for (let k = 0; k < n; k++) covers.push(view.getFloat64(o + k * 8));
				o += n * 8;
				if (!covers.every((c) => int(c))) throw fail();
				item.covers = covers;
			}
		} else if (type === 0) {
			need(TAG_LEN);
			item = { seq, tag: toBase64url(bytes.subarray(o, o + TAG_LEN)), data: '' };
			o += TAG_LEN;
		} else throw fail();
		need(4);
		const len = view.getUint32(o);
		o += 4;
		need(len);
		item.bytes = bytes.subarray(o, o + len);
		o += len;
		items.push(item);
	}
	return { t: 'items', id: h.id, room: h.room, head: h.head, more, items, end: h.end as number | undefined };
}
