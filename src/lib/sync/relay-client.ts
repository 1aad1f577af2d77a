/**
 * Client of the relay (README.md, "Relay protocol"): derives a contract's relay keys from its link
 * secret, encrypts each signed envelope into one item, pushes, pulls after a cursor and receives
 * live items. No Svelte, no storage: the session keeps the cursor (`onCursor`) and the upload
 * queue (relay-queue.ts) and hands decrypted envelopes to the same verification and fold as
 * envelopes from a peer — the relay is never trusted with anything but ciphertext.
 *
 * One WebSocket per relay carries every room when the relay says `mux: true` (Node); a relay that
 * serves one room per socket (the Durable Object build) gets one socket per room.
 */
import { chacha20, hchacha, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64url, toBase64url, utf8 } from '../contract/encoding';
import { publicKeyFromSeed, sign, type DeviceKey } from '../identity/ed25519';
import { thumbnailContentRefusal } from '../contract/thumbnail';
import { sha256Bytes, sha256Implementation } from '../contract/sha256';
import { base64urlBytes, BUNDLE_OVERHEAD, compactProof, decodeItemsFrame, FRAME_VERSION, MAX_ITEM_BYTES, openProof, PROTOCOL, pushProof, RelayError, roomIdOf, type BundleItem, type ErrorCode, type FramedItem, type RelayMessage, type SingleItem, type StoredItem, type WireItem } from '../../relay/protocol';
import type { UploadQueue } from './relay-queue';

export { RelayError };

export interface RelayKeys {
	/** Room id: hash of the room public key. */
	room: string;
	/** Ed25519 room key: proves to the relay that this device holds the link. */
	roomKey: DeviceKey;
	/** XChaCha20-Poly1305 key for items. */
	encryptionKey: Uint8Array;
	/** HMAC key for dedup tags (the relay cannot test guesses of event ids). */
	tagKey: Uint8Array;
	/** AES-256-GCM key for bundles, and the HMAC key that derives a bundle's nonce from its content. */
	bundleKey: Uint8Array;
	bundleNonceKey: Uint8Array;
	/** HMAC key for thumbnails' dedup tags: a key of its own, so no event id can ever tag like a thumbnail. */
	thumbnailTagKey: Uint8Array;
}

const SALT = utf8.encode(PROTOCOL);
const derive = (secret: string, info: string) => hkdf(sha256, utf8.encode(secret), SALT, utf8.encode(info), 32);

/** Everything the relay protocol needs, from the link secret alone (HKDF-SHA256). */
export function deriveRelayKeys(secret: string): RelayKeys {
	const seed = toBase64url(derive(secret, 'room key'));
	const roomKey = { seed, publicKey: publicKeyFromSeed(seed) };
	return {
		room: roomIdOf(roomKey.publicKey),
		roomKey,
		encryptionKey: derive(secret, 'item encryption'),
		tagKey: derive(secret, 'dedup tag'),
		bundleKey: derive(secret, 'bundle encryption'),
		bundleNonceKey: derive(secret, 'bundle nonce'),
		thumbnailTagKey: derive(secret, 'thumbnail tag')
	};
}

/** The HMAC keyed once per tag key: each tag then costs a clone, not two more hashes of the key. */
const tagMacs = new WeakMap<Uint8Array, ReturnType<typeof hmac.create>>();
/** The tag key XOR ipad and XOR opad (RFC 2104), each a 64-byte block, for `sha256Bytes` below. */
const tagPads = new WeakMap<Uint8Array, { inner: Uint8Array; outer: Uint8Array }>();

/**
 * HMAC-SHA256 over the installed SHA-256 (WebAssembly, sync/wasm-sha256.ts): the same value as
 * noble's HMAC, at a fraction of its cost for the 10,000 tags a compacted catch-up recomputes.
 * Event ids are base64url (ASCII); anything else takes noble's path.
 */
function fastTag(key: Uint8Array, eventId: string): Uint8Array | undefined {
	if (sha256Implementation() !== 'installed' || eventId.length > 256 || !/^[A-Za-z0-9_-]*$/.test(eventId)) return undefined;
	let pads = tagPads.get(key);
	if (!pads) {
		const inner = new Uint8Array(64 + 256);
		const outer = new Uint8Array(64 + 32);
		for (let i = 0; i < 64; i++) {
			const k = key[i] ?? 0;
			inner[i] = k ^ 0x36;
			outer[i] = k ^ 0x5c;
		}
		tagPads.set(key, (pads = { inner, outer }));
	}
	for (let i = 0; i < eventId.length; i++) pads.inner[64 + i] = eventId.charCodeAt(i);
	pads.outer.set(sha256Bytes(pads.inner.subarray(0, 64 + eventId.length)), 64);
	return sha256Bytes(pads.outer);
}

/** The dedup tag of an event: HMAC-SHA256(tag key, event id). */
export function itemTag(keys: RelayKeys, eventId: string): string {
	const fast = keys.tagKey.length <= 64 ? fastTag(keys.tagKey, eventId) : undefined;
	if (fast) return toBase64url(fast);
	let mac = tagMacs.get(keys.tagKey);
	if (!mac) tagMacs.set(keys.tagKey, (mac = hmac.create(sha256, keys.tagKey)));
	return toBase64url(mac.clone().update(utf8.encode(eventId)).digest());
}

const aadPrefixes = new WeakMap<RelayKeys, Uint8Array>();

/** The item is bound to its room and tag: the relay cannot move it to another room or tag. */
function aad(keys: RelayKeys, tag: string): Uint8Array {
	let prefix = aadPrefixes.get(keys);
	if (!prefix) aadPrefixes.set(keys, (prefix = utf8.encode(`${PROTOCOL} item\n${keys.room}\n`)));
	// A tag is base64url (ASCII); anything else is encoded as text, as before.
	if (!/^[A-Za-z0-9_-]*$/.test(tag)) return utf8.encode(`${PROTOCOL} item\n${keys.room}\n${tag}`);
	const out = new Uint8Array(prefix.length + tag.length);
	out.set(prefix);
	for (let i = 0; i < tag.length; i++) out[prefix.length + i] = tag.charCodeAt(i);
	return out;
}

/** One envelope → one item: a fresh random 24-byte nonce, then the ciphertext and its tag. */
export function encryptItem(keys: RelayKeys, eventId: string, envelope: string): SingleItem {
	const tag = itemTag(keys, eventId);
	const nonce = crypto.getRandomValues(new Uint8Array(24));
	const sealed = xchacha20poly1305(keys.encryptionKey, nonce, aad(keys, tag)).encrypt(utf8.encode(envelope));
	const data = new Uint8Array(24 + sealed.length);
	data.set(nonce);
	data.set(sealed, 24);
	return { tag, data: toBase64url(data) };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** An item's ciphertext: as it came in a binary frame, or decoded from JSON's base64url. */
const itemBytes = (item: WireItem, decode: (text: string) => Uint8Array): Uint8Array => (item as FramedItem).bytes ?? decode(item.data);

/** "expand 32-byte k" */
const SIGMA = /* @__PURE__ */ new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
const ZEROS16 = new Uint8Array(16);
const keyWords = new WeakMap<Uint8Array, Uint32Array>();
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XChaCha20-Poly1305 opening (the same construction as noble's `xchacha20poly1305`, RFC 8439 with
 * HChaCha20 nonce extension) from noble's parts, for a catch-up of thousands of small items: one
 * HChaCha20 per item instead of two, no copies of the key or the ciphertext before decrypting.
 * The wrapped cipher spends most of its time per call rather than per byte (10,000 envelopes of
 * ~570 bytes: 190 ms, one 6 MB message: 35 ms); decryptItem over those 10,000 went from about 345
 * to 255 ms with this and the keyed tag HMAC below. Big-endian hosts take the wrapped cipher.
 */
function open(key: Uint8Array, data: Uint8Array, ad: Uint8Array): Uint8Array {
	if (!littleEndian) return xchacha20poly1305(key, data.subarray(0, 24), ad).decrypt(data.subarray(24));
	let k32 = keyWords.get(key);
	if (!k32) keyWords.set(key, (k32 = new Uint32Array(key.slice().buffer, 0, 8)));
	const sub = new Uint32Array(8);
	hchacha(SIGMA, k32, new Uint32Array(data.slice(0, 16).buffer), sub);
	const subkey = new Uint8Array(sub.buffer);
	const nonce = new Uint8Array(12);
	nonce.set(data.subarray(16, 24), 4);
	const sealed = data.subarray(24, data.length - 16);
	const mac = poly1305.create(chacha20(subkey, nonce, new Uint8Array(32)));
	mac.update(ad);
	if (ad.length % 16) mac.update(ZEROS16.subarray(ad.length % 16));
	mac.update(sealed);
	if (sealed.length % 16) mac.update(ZEROS16.subarray(sealed.length % 16));
	const lengths = new Uint8Array(16);
	const view = new DataView(lengths.buffer);
	view.setUint32(0, ad.length, true);
	view.setUint32(8, sealed.length, true);
	mac.update(lengths);
	if (!equalBytes(mac.digest(), data.subarray(data.length - 16))) throw new Error('invalid tag');
	const plain = chacha20(subkey, nonce, sealed, undefined, 1);
	sub.fill(0);
	return plain;
}

/**
 * An item → its envelope. Throws when the item was not sealed with this room's key, was altered,
 * or carries an envelope whose id does not match its tag (an item stored under another event's tag).
 */
export function decryptItem(keys: RelayKeys, item: SingleItem): { id: string; envelope: string } {
	const data = itemBytes(item, fromBase64url);
	if (data.length <= 40) throw new Error('This relay item is too short to be an encrypted envelope.');
	const plain = open(keys.encryptionKey, data, aad(keys, item.tag));
	const envelope = decoder.decode(plain);
	const id = (JSON.parse(envelope) as { id?: unknown }).id;
	if (typeof id !== 'string' || itemTag(keys, id) !== item.tag) throw new Error('This relay item’s envelope does not match its tag.');
	return { id, envelope };
}

// —— thumbnails ——

/**
 * A Work Diary thumbnail travels as a single item of its own kind, beside the envelopes: its
 * associated data names the kind (an envelope item cannot be opened as a thumbnail, nor the
 * reverse), its tag is an HMAC of its hash under a key of its own, and its plaintext starts with
 * a NUL and a marker, then the hash and the raw image bytes. An older client opens it with the
 * envelope's associated data, fails, and skips it as junk (were it ever opened, a NUL is not JSON).
 */
const THUMBNAIL_MARKER = '\0milestone thumbnail\n';

/** In the upload queue, a thumbnail waits under this prefix and its hash (event ids are base64url: no colon), its bytes base64url in `envelope`. */
export const THUMBNAIL_QUEUE_PREFIX = 'thumbnail:';

export interface ReceivedThumbnail {
	seq: number;
	/** The hash it claims (its tag is checked against it). */
	hash: string;
	/** The image, when it is a thumbnail hashing to `hash`. */
	bytes?: Uint8Array;
	/** Why it was not taken, otherwise. */
	refused?: string;
}

/** The dedup tag of a thumbnail: HMAC-SHA256(thumbnail tag key, hash). */
export function thumbnailTag(keys: RelayKeys, hash: string): string {
	return toBase64url(hmac(sha256, keys.thumbnailTagKey, utf8.encode(hash)));
}

function thumbnailAad(keys: RelayKeys, tag: string): Uint8Array {
	return utf8.encode(`${PROTOCOL} thumbnail\n${keys.room}\n${tag}`);
}

/**
 * A thumbnail → one item. Throws (nothing is uploaded) when the bytes are not a thumbnail named
 * `hash` (contract/thumbnail.ts) or the item would exceed the relay's item limit.
 */
export function encryptThumbnail(keys: RelayKeys, hash: string, bytes: Uint8Array): SingleItem {
	const bad = thumbnailContentRefusal(hash, bytes);
	if (bad) throw new Error(`This screenshot is not uploaded to the relay: ${bad}.`);
	const head = utf8.encode(`${THUMBNAIL_MARKER}${hash}\n`);
	const plain = new Uint8Array(head.length + bytes.length);
	plain.set(head);
	plain.set(bytes, head.length);
	const tag = thumbnailTag(keys, hash);
	const nonce = crypto.getRandomValues(new Uint8Array(24));
	const sealed = xchacha20poly1305(keys.encryptionKey, nonce, thumbnailAad(keys, tag)).encrypt(plain);
	const data = new Uint8Array(24 + sealed.length);
	if (data.length > MAX_ITEM_BYTES) throw new Error(`This screenshot is not uploaded to the relay: its item would be ${data.length} bytes, more than the ${MAX_ITEM_BYTES} an item may be.`);
	data.set(nonce);
	data.set(sealed, 24);
	return { tag, data: toBase64url(data) };
}

/**
 * An item → the thumbnail it carries. Throws when it is not a thumbnail item of this room (another
 * kind, another key, altered, no marker, or a hash its tag does not name); returns a refusal when
 * its bytes are not the thumbnail its hash names.
 */
export function decryptThumbnail(keys: RelayKeys, item: SingleItem): Omit<ReceivedThumbnail, 'seq'> {
	const data = itemBytes(item, fromBase64url);
	if (data.length <= 40) throw new Error('This relay item is too short to be an encrypted thumbnail.');
	const plain = open(keys.encryptionKey, data, thumbnailAad(keys, item.tag));
	const marker = utf8.encode(THUMBNAIL_MARKER);
	const end = marker.length + 44;
	if (plain.length < end || !equalBytes(plain.subarray(0, marker.length), marker) || plain[end - 1] !== 10) throw new Error('This relay item is not a thumbnail.');
	const hash = String.fromCharCode(...plain.subarray(marker.length, end - 1));
	if (thumbnailTag(keys, hash) !== item.tag) throw new Error('This relay item’s thumbnail does not match its tag.');
	const bytes = plain.slice(end);
	const bad = thumbnailContentRefusal(hash, bytes);
	return bad ? { hash, refused: `The screenshot from the relay was refused: ${bad}.` } : { hash, bytes };
}

// —— bundles ——

/**
 * A bundle's associated data: room and a digest of the tags it claims, so neither can be changed
 * (the relay cannot move a bundle to another room, nor swap its tag list).
 */
function bundleAad(keys: RelayKeys, tags: readonly string[]): Uint8Array {
	// The installed (WebAssembly) SHA-256 when there is one: a catch-up hashes every tag it reads here.
	return utf8.encode(`${PROTOCOL} bundle\n${keys.room}\n${toBase64url(sha256Bytes(utf8.encode(tags.join(','))))}`);
}

const ASCII = /^[\x00-\x7f]*$/;
const utf8Length = (text: string) => (ASCII.test(text) ? text.length : utf8.encode(text).length);

const cryptoKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();
function cryptoKey(raw: Uint8Array, algorithm: AlgorithmIdentifier | HmacImportParams, usages: KeyUsage[]): Promise<CryptoKey> {
	let key = cryptoKeys.get(raw);
	if (!key) cryptoKeys.set(raw, (key = crypto.subtle.importKey('raw', raw as BufferSource, algorithm, false, usages)));
	return key;
}
const aesKey = (keys: RelayKeys) => cryptoKey(keys.bundleKey, 'AES-GCM', ['encrypt', 'decrypt']);

/**
 * A bundle opens (decompressed) to at most this many bytes: a reader stops inflating junk there.
 * Writers fill one with at most BUNDLE_PLAIN_TARGET before compressing.
 */
export const MAX_BUNDLE_PLAIN = 4 * 1024 * 1024;
const BUNDLE_PLAIN_TARGET = 512 * 1024;

/** Bytes → deflate-raw (the browser's compressor). */
async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
	return new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer());
}

/** Compressed bytes handed to the decompressor at a time (see `inflateRecords`). */
const INFLATE_SLICE = 16 * 1024;

/** A record's `id TAB length TAB` is at most this long (an id is 43 characters): longer is not a writer's, and the bundle is refused. */
const MAX_RECORD_HEADER = 1024;
const NOT_RECORDS = 'This relay bundle is not a list of envelopes.';

/**
 * A bundle's compressed records → its events, in order (UTF-8, malformed bytes replaced: the fold
 * refuses what they spoil), failing past `max` bytes so junk cannot inflate without bound. Decoded
 * and split chunk by chunk as the browser's decompressor hands them over, not as one string: one
 * string of half a megabyte costs an engine several times more to make than the same text in the
 * decompressor's small chunks (Node, a 10,000-event catch-up: about 23 ms of decoding against 7), and each
 * event is a slice of its chunk. A record is parsed once all of it has arrived, so a long one is
 * joined once, not once per chunk.
 *
 * The compressed bytes are written straight into the decompressor, not read back through a Blob's
 * stream: Chromium reads a Blob through its blob registry, which made a 10,000-event catch-up's
 * bundles cost about three times as long to open (tests/bench/catch-up.ts, in Chromium: ~9.7 against
 * ~3.4 ms per 100 KB bundle). They go in INFLATE_SLICE at a time: the decompressor turns each write
 * into output before taking the next (as the reader takes it), so junk that inflates a thousandfold
 * makes at most ~16 MB before the reader refuses it, not the whole bundle's worth at once.
 */
async function inflateRecords(bytes: Uint8Array, max: number): Promise<Event[]> {
	const inflater = new DecompressionStream('deflate-raw');
	const writer = inflater.writable.getWriter();
	// Queued without waiting: a refused write or close shows as the reader's error.
	for (let i = 0; i < bytes.length; i += INFLATE_SLICE) writer.write(bytes.subarray(i, i + INFLATE_SLICE) as BufferSource).catch(() => {});
	writer.close().catch(() => {});
	const reader = inflater.readable.getReader();
	const decoder = new TextDecoder();
	const out: Event[] = [];
	let size = 0;
	/** Text not parsed yet: the start of a record. */
	let rest = '';
	/** `rest` cannot hold a whole record while shorter than this. */
	let need = 1;
	const parse = () => {
		let i = 0;
		for (;;) {
			const a = rest.indexOf('\t', i);
			const b = a < 0 ? -1 : rest.indexOf('\t', a + 1);
			// Junk with no tabs is refused at its first kilobyte, not searched again with every chunk.
			if ((b < 0 ? rest.length : b) - i > MAX_RECORD_HEADER) throw new Error(NOT_RECORDS);
			if (b < 0) {
				need = rest.length + 1;
				break;
			}
			const n = Number(rest.slice(a + 1, b));
			if (!Number.isSafeInteger(n) || n < 0) throw new Error(NOT_RECORDS);
			if (b + 1 + n > rest.length) {
				need = b + 1 + n;
				break;
			}
			out.push({ id: rest.slice(i, a), envelope: rest.slice(b + 1, b + 1 + n) });
			i = b + 1 + n;
		}
		rest = rest.slice(i);
		need -= i;
	};
	let done = false;
	try {
		for (;;) {
			const r = await reader.read();
			if (r.done) break;
			size += r.value.length;
			if (size > max) throw new Error(`This relay bundle opens to more than ${max} bytes.`);
			rest += decoder.decode(r.value, { stream: true });
			if (rest.length >= need) parse();
		}
		done = true;
	} finally {
		if (!done) void reader.cancel().catch(() => {});
	}
	rest += decoder.decode();
	if (rest.length) parse();
	if (rest.length) throw new Error(NOT_RECORDS);
	return out;
}

/**
 * Envelopes → one bundle: records `id TAB length TAB envelope` (length in UTF-16 units),
 * compressed (deflate-raw: signed envelopes repeat keys, ids and field names, about 4× smaller),
 * then sealed in one AES-256-GCM ciphertext (WebCrypto: native and off the page's thread, where a
 * catch-up's megabytes would cost a JavaScript cipher a noticeable while). Sealed
 * deterministically, SIV-style: the nonce is an HMAC of the associated data and the compressed
 * plaintext under a key of its own, so a retry uploads the very same bytes and the relay stores it
 * once; two bundles share a nonce only when they are the same bundle. Compressing before
 * encrypting lets a bundle's size say how repetitive its content is; only link holders can put
 * content in, and they can read it all anyway.
 */
export async function encryptBundle(
	keys: RelayKeys,
	events: readonly { id: string; envelope: string }[],
	/** The tags it claims: its events' own (anyone holding the link could claim others; see store.ts). */
	tags: string[] = events.map((e) => itemTag(keys, e.id))
): Promise<BundleItem> {
	let text = '';
	for (const e of events) text += `${e.id}\t${e.envelope.length}\t${e.envelope}`;
	const plain = await deflate(utf8.encode(text));
	const ad = bundleAad(keys, tags);
	const macInput = new Uint8Array(ad.length + 1 + plain.length);
	macInput.set(ad);
	macInput.set(plain, ad.length + 1);
	const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await cryptoKey(keys.bundleNonceKey, { name: 'HMAC', hash: 'SHA-256' }, ['sign']), macInput));
	const nonce = mac.subarray(0, 12);
	const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: ad as BufferSource }, await aesKey(keys), plain as BufferSource));
	const data = new Uint8Array(12 + sealed.length);
	data.set(nonce);
	data.set(sealed, 12);
	return { tags, data: toBase64url(data) };
}

type Event = { id: string; envelope: string };

/**
 * Split events into groups for bundles, in order: at most `maxPlainBytes` of records and
 * `maxTagsPerBundle` events each. An event too large for any bundle is left to travel as a single
 * item (`singles`).
 */
export function packBundles(events: readonly Event[], limits: { maxPlainBytes: number; maxTagsPerBundle: number }): { bundles: Event[][]; singles: Event[] } {
	const bundles: Event[][] = [];
	const singles: Event[] = [];
	let current: Event[] = [];
	let size = 0;
	for (const e of events) {
		// One record: id, a tab, the length, a tab, the envelope.
		const bytes = utf8Length(e.id) + 2 + String(e.envelope.length).length + utf8Length(e.envelope);
		if (bytes > limits.maxPlainBytes) {
			singles.push(e);
			continue;
		}
		if (current.length && (size + bytes > limits.maxPlainBytes || current.length >= limits.maxTagsPerBundle)) {
			bundles.push(current);
			current = [];
			size = 0;
		}
		current.push(e);
		size += bytes;
	}
	if (current.length) bundles.push(current);
	return { bundles, singles };
}

/**
 * Events → sealed bundles within the relay's limits (ciphertext bytes, tags per bundle), in order:
 * a group that compresses too poorly to fit is split in two and sealed again.
 */
export async function sealBundles(
	keys: RelayKeys,
	events: readonly Event[],
	limits: { maxBundleBytes: number; maxTagsPerBundle: number }
): Promise<{ bundles: { item: BundleItem; events: Event[] }[]; singles: Event[] }> {
	const { bundles: groups, singles } = packBundles(events, { maxPlainBytes: Math.min(BUNDLE_PLAIN_TARGET, MAX_BUNDLE_PLAIN), maxTagsPerBundle: limits.maxTagsPerBundle });
	const sealed = await Promise.all(groups.map((g) => encryptBundle(keys, g)));
	const bundles: { item: BundleItem; events: Event[] }[] = [];
	for (const [i, group] of groups.entries()) {
		const item = sealed[i]!;
		if (base64urlBytes(item.data) <= limits.maxBundleBytes) bundles.push({ item, events: group });
		else if (group.length === 1) singles.push(group[0]!);
		else {
			const half = Math.ceil(group.length / 2);
			for (const part of [group.slice(0, half), group.slice(half)]) {
				const more = await sealBundles(keys, part, limits);
				bundles.push(...more.bundles);
				singles.push(...more.singles);
			}
		}
	}
	return { bundles, singles };
}

const B64 = /* @__PURE__ */ (() => {
	const t = new Int16Array(256).fill(-1);
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
	for (let i = 0; i < 64; i++) t[alphabet.charCodeAt(i)] = i;
	return t;
})();

/** Base64url → bytes, four characters at a time (a bundle is a few hundred kilobytes of it). */
export function decodeBase64url(text: string): Uint8Array {
	const n = text.length;
	if (n % 4 === 1) throw new Error('invalid base64url length');
	const out = new Uint8Array(Math.floor((n * 3) / 4));
	const full = n - (n % 4);
	let o = 0;
	let i = 0;
	for (; i < full; i += 4) {
		const c0 = text.charCodeAt(i), c1 = text.charCodeAt(i + 1), c2 = text.charCodeAt(i + 2), c3 = text.charCodeAt(i + 3); // prettier-ignore
		const a = B64[c0 & 255]!, b = B64[c1 & 255]!, c = B64[c2 & 255]!, d = B64[c3 & 255]!; // prettier-ignore
		if ((a | b | c | d) < 0 || (c0 | c1 | c2 | c3) > 255) throw new Error('invalid base64url character');
		const v = (a << 18) | (b << 12) | (c << 6) | d;
		out[o++] = v >> 16;
		out[o++] = (v >> 8) & 255;
		out[o++] = v & 255;
	}
	if (i < n) {
		const rest = fromBase64url(text.slice(i));
		out.set(rest, o);
	}
	return out;
}

/**
 * A bundle → its events, in order. Throws when it was not sealed with this room's key or was
 * altered (tags included). What is inside is not trusted: each event goes through the same
 * verification and fold as any other, and a bundle's tag list is only a claim (see store.ts).
 */
export async function decryptBundle(keys: RelayKeys, item: BundleItem): Promise<{ id: string; envelope: string }[]> {
	const data = itemBytes(item, decodeBase64url);
	if (data.length <= BUNDLE_OVERHEAD) throw new Error('This relay bundle is too short to be encrypted envelopes.');
	let sealed: ArrayBuffer;
	try {
		const ad = bundleAad(keys, item.tags) as BufferSource;
		sealed = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: data.subarray(0, 12) as BufferSource, additionalData: ad }, await aesKey(keys), data.subarray(12) as BufferSource);
	} catch {
		throw new Error('This relay bundle was not sealed with this contract’s key, or was altered.');
	}
	return inflateRecords(new Uint8Array(sealed), MAX_BUNDLE_PLAIN);
}

// —— the connection ——

/** The parts of WebSocket this client uses: the browser's, or `ws` in Node. */
export interface SocketLike {
	readonly readyState: number;
	/** Set to 'arraybuffer' so binary frames arrive as bytes (a browser's default is Blob). */
	binaryType?: string;
	send(data: string): void;
	close(code?: number, reason?: string): void;
	onopen: ((ev: unknown) => void) | null;
	onmessage: ((ev: { data: unknown }) => void) | null;
	onclose: ((ev: { code: number; reason: string }) => void) | null;
	onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export interface RelayClientOptions {
	/** ws:// or wss:// base URL of the relay. */
	url: string;
	/** Default: the global WebSocket. */
	socket?: SocketFactory;
	/** Reconnect after a dropped connection (default true), with backoff up to 30 s. */
	reconnect?: boolean;
	requestTimeoutMs?: number;
	onError?: (error: Error, room?: string) => void;
	/** This device's push subscription endpoint (push.ts `ownPushEndpoint`): the relay does not wake it for its own uploads. */
	ownPushEndpoint?: () => string | undefined;
	/** Ask for pull pages as binary frames when the relay offers them (default true; false: JSON, as an old client). */
	frames?: boolean;
}

export interface ReceivedEnvelope {
	/** The item it came in (every event of a bundle has the bundle's). */
	seq: number;
	id: string;
	envelope: string;
	/** Its dedup tag, when it came as a single item (checked against its id) or in a compaction (computed from its id). */
	tag?: string;
}

export interface RoomOptions {
	/** Last sequence number this device has processed (0: nothing yet). */
	cursor?: number;
	/** Called with each batch of items, decrypted, in sequence order. */
	onEnvelopes?: (envelopes: ReceivedEnvelope[]) => void;
	/** Called with the thumbnail items among them (without this, they are skipped). */
	onThumbnails?: (thumbnails: ReceivedThumbnail[]) => void;
	/** Called whenever the cursor moves, to persist it. */
	onCursor?: (cursor: number) => void;
	/** The relay has fewer items than the cursor says (reset or expired room): everything should be uploaded again. */
	onReset?: () => void;
	/** Receive live items (default true). */
	live?: boolean;
	/**
	 * Does the owner hold the event with this dedup tag already (`itemTag`)? Such an item is passed
	 * over undecrypted: an event that came from a peer is not decrypted again when the relay has it too.
	 */
	holds?: (tags: readonly string[]) => boolean[] | undefined;
	/**
	 * Awaited before each page of a catch-up is decrypted: the owner may hold a catch-up back while a
	 * peer delivers the same events (what arrives meanwhile is then passed over, see `holds`).
	 */
	ready?: () => Promise<void> | void;
	/**
	 * Which of these events (handed over already) does the owner now hold authentically (hash and
	 * signature checked)? With it, the room reads compactions (see `compact`): a compaction's items
	 * count as read only once every event it claims is confirmed here, so a compaction carrying a
	 * forged copy of an event cannot stand in for the real one. Without it, no compactions are read.
	 */
	confirm?: (ids: readonly string[]) => Promise<boolean[]>;
}

/** A compaction opened and checked: the ids of the events it claims, and the items it stands in for. */
interface OpenedCompaction {
	ids: string[];
	seqs: number[];
}

type Hello = Extract<RelayMessage, { t: 'hello' }>;
type Pending = { resolve: (m: RelayMessage) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };

const CONFIRM_EVERY = 512 * 1024;
/**
 * A catch-up hands what it pulled to the room's owner in batches of at most this many items, and
 * in about HAND_OVER_STEPS batches when it is shorter, so progress still shows. Each hand-over costs
 * the owner a document write, a verification and a fold (with a copy of the state for late events):
 * per relay page (about 800 items) that was a dozen of each for 10,000 events.
 */
const HAND_OVER_ITEMS = 2500;
/**
 * Pages read and opened ahead of the one being handed over: opening a page (WebCrypto, the
 * decompressor) must not queue behind the signature checks of what was just handed over.
 */
const READ_AHEAD = 8;
const HAND_OVER_STEPS = 4;

/** One WebSocket to the relay: request/response by id, the challenge, read confirmations. */
class Channel {
	private socket?: SocketLike;
	private ready?: Promise<Hello>;
	private nextId = 1;
	private readonly pending = new Map<number, Pending>();
	private received = 0;
	private confirmed = 0;
	private confirmTimer?: ReturnType<typeof setTimeout>;
	hello?: Hello;
	closedByUser = false;

	constructor(
		private readonly url: string,
		private readonly factory: SocketFactory,
		private readonly timeoutMs: number,
		private readonly onLive: (m: Extract<RelayMessage, { t: 'item' }>) => void,
		private readonly onDown: (channel: Channel, reason: string) => void,
		private readonly onError: (e: Error, room?: string) => void
	) {}

	open(): Promise<Hello> {
		this.ready ??= new Promise<Hello>((resolve, reject) => {
			const ws = this.factory(this.url);
			this.socket = ws;
			try {
				ws.binaryType = 'arraybuffer';
			} catch {
				// a socket without binary support: it is never asked for frames that need it
			}
			let greeted = false;
			ws.onmessage = (ev) => {
				const bytes = ev.data instanceof ArrayBuffer ? new Uint8Array(ev.data) : ArrayBuffer.isView(ev.data) ? new Uint8Array(ev.data.buffer, ev.data.byteOffset, ev.data.byteLength) : undefined;
				const text = bytes ? '' : typeof ev.data === 'string' ? ev.data : String(ev.data);
				let m: RelayMessage;
				try {
					// A binary frame is a pull page (protocol.ts, "binary frames"); everything else is JSON.
					m = bytes ? decodeItemsFrame(bytes) : JSON.parse(text);
				} catch {
					return;
				}
				if (m.t === 'hello') {
					greeted = true;
					this.hello = m;
					resolve(m);
					return;
				}
				if (m.t === 'item' || m.t === 'items') this.count(bytes ? bytes.byteLength : text.length);
				if (m.t === 'item') return this.onLive(m);
				const id = 'id' in m ? m.id : undefined;
				const p = id !== undefined ? this.pending.get(id) : undefined;
				if (!p) {
					if (m.t === 'error') this.onError(new RelayError(m.code, m.message), m.room);
					return;
				}
				this.pending.delete(id!);
				clearTimeout(p.timer);
				if (m.t === 'error') p.reject(new RelayError(m.code, m.message));
				else p.resolve(m);
			};
			ws.onclose = (ev) => {
				const reason = ev.reason || `connection closed (${ev.code})`;
				if (!greeted) reject(new Error(`The relay could not be reached: ${reason}.`));
				this.fail(reason);
			};
			ws.onerror = () => {};
		});
		return this.ready;
	}

	private fail(reason: string): void {
		clearTimeout(this.confirmTimer);
		for (const p of this.pending.values()) {
			clearTimeout(p.timer);
			p.reject(new Error(`The relay connection closed: ${reason}.`));
		}
		this.pending.clear();
		this.ready = undefined;
		this.socket = undefined;
		// A new connection brings a new hello (and challenge): nothing may be sent on the old one's.
		this.hello = undefined;
		if (!this.closedByUser) this.onDown(this, reason);
	}

	/** Confirm reading item bytes now and then, so the relay keeps sending (flow control). */
	private count(chars: number): void {
		this.received += chars;
		// Well before the relay's cap on unconfirmed bytes, or soon after a burst ends.
		const every = Math.min(CONFIRM_EVERY, (this.hello?.limits.maxUnreadBytes ?? 4 * CONFIRM_EVERY) / 4);
		if (this.received - this.confirmed >= every) this.confirm();
		else this.confirmTimer ??= setTimeout(() => this.confirm(), 50);
	}

	private confirm(): void {
		clearTimeout(this.confirmTimer);
		this.confirmTimer = undefined;
		if (this.received === this.confirmed || this.socket?.readyState !== 1) return;
		this.confirmed = this.received;
		this.socket.send(JSON.stringify({ t: 'read', read: this.received }));
	}

	/** One request; a 'rate-limited' refusal is retried after a pause, a few times. */
	async request<T extends RelayMessage>(body: Record<string, unknown>): Promise<T> {
		for (let attempt = 0; ; attempt++) {
			try {
				return await this.requestOnce<T>(body);
			} catch (e) {
				if (!(e instanceof RelayError && e.code === 'rate-limited') || attempt >= 4) throw e;
				await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
			}
		}
	}

	private async requestOnce<T extends RelayMessage>(body: Record<string, unknown>): Promise<T> {
		// On an open socket the request leaves now, not after a turn: a catch-up asks for its next
		// page and then works on the one it has (RelayRoom.pull).
		if (!(this.hello && this.socket?.readyState === 1)) await this.open();
		const ws = this.socket;
		if (!ws || ws.readyState !== 1) throw new Error('The relay connection is not open.');
		const id = this.nextId++;
		return new Promise<T>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(id);
				reject(new Error('The relay did not answer in time.'));
			}, this.timeoutMs);
			this.pending.set(id, { resolve: resolve as (m: RelayMessage) => void, reject, timer });
			this.confirmed = this.received;
			// The id first: a relay that cannot parse a message still finds which request it answers.
			ws.send(JSON.stringify({ t: body.t, id, ...body, read: this.received }));
		});
	}

	close(): void {
		this.closedByUser = true;
		this.socket?.close(1000, 'done');
		this.fail('closed by this device');
	}
}

/** A relay connection for any number of rooms. */
export class RelayClient {
	private readonly factory: SocketFactory;
	private readonly rooms = new Map<string, RelayRoom>();
	private shared?: Channel;
	/** The first channel, while the relay's hello has not said whether it multiplexes. */
	private probe?: { room: RelayRoom; channel: Channel };
	/** Learned from the first hello: does this relay carry many rooms on one socket? */
	private mux?: boolean;
	private closed = false;

	constructor(private readonly opts: RelayClientOptions) {
		this.factory =
			opts.socket ??
			((url) => {
				const WS = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
				if (!WS) throw new Error('This runtime has no WebSocket.');
				return new WS(url);
			});
	}

	/** Join a room (by link secret or derived keys). Resolves once it is open on the relay. */
	async room(secretOrKeys: string | RelayKeys, options: RoomOptions = {}): Promise<RelayRoom> {
		const keys = typeof secretOrKeys === 'string' ? deriveRelayKeys(secretOrKeys) : secretOrKeys;
		const existing = this.rooms.get(keys.room);
		if (existing) return existing;
		const room = new RelayRoom(this, keys, options);
		this.rooms.set(keys.room, room);
		try {
			await room.open();
		} catch (e) {
			// Refused (limits, proof): forget it. Unreachable: keep it; reconnecting opens it later.
			if (e instanceof RelayError) {
				this.rooms.delete(keys.room);
				room.channel?.close();
			}
			throw e;
		}
		return room;
	}

	/** @internal the channel a room uses, if it is open already (no wait). */
	openChannelOf(room: RelayRoom): Channel | undefined {
		const channel = this.closed ? undefined : this.mux && this.shared ? this.shared : this.mux === false ? room.channel : undefined;
		return channel?.hello ? channel : undefined;
	}

	/** @internal the channel a room uses: the shared one on a mux relay, else its own. */
	async channelFor(room: RelayRoom): Promise<Channel> {
		if (this.closed) throw new Error('This relay client is closed.');
		if (this.mux && this.shared) return this.shared;
		if (this.mux === false) {
			const own = (room.channel ??= this.newChannel(room));
			await own.open();
			return own;
		}
		// Not known yet: the first socket names its room in the path (a per-room relay routes by it).
		if (!this.probe) this.probe = { room, channel: this.newChannel(room) };
		const probe = this.probe;
		const hello = await probe.channel.open();
		this.mux = hello.mux;
		if (this.mux) return (this.shared = probe.channel);
		this.probe = undefined;
		if (probe.room === room) return (room.channel ??= probe.channel);
		return (room.channel ??= this.newChannel(room));
	}

	private newChannel(room: RelayRoom): Channel {
		const base = this.opts.url.replace(/\/+$/, '');
		return new Channel(
			`${base}/room/${room.keys.room}`,
			this.factory,
			this.opts.requestTimeoutMs ?? 30_000,
			(m) => this.rooms.get(m.room)?.live(m),
			(channel, reason) => this.down(channel, reason),
			(e, r) => this.opts.onError?.(e, r)
		);
	}

	private attempts = 0;
	private down(channel: Channel, reason: string): void {
		const affected = [...this.rooms.values()].filter((r) => r.channel === channel || (channel === this.shared && !r.channel));
		if (channel === this.shared) this.shared = undefined;
		if (channel === this.probe?.channel) this.probe = undefined;
		for (const r of affected) r.channel = undefined;
		this.opts.onError?.(new Error(`The relay connection dropped: ${reason}.`));
		if (this.closed || this.opts.reconnect === false || affected.length === 0) return;
		const delay = Math.min(30_000, 500 * 2 ** this.attempts++);
		setTimeout(async () => {
			if (this.closed) return;
			try {
				await Promise.all(affected.map((r) => r.open()));
				this.attempts = 0;
			} catch (e) {
				this.opts.onError?.(e as Error);
			}
		}, delay);
	}

	/** Rooms currently joined. */
	joined(): RelayRoom[] {
		return [...this.rooms.values()];
	}

	/** @internal */
	forget(room: RelayRoom): void {
		this.rooms.delete(room.keys.room);
	}

	close(): void {
		this.closed = true;
		this.shared?.close();
		for (const r of this.rooms.values()) r.channel?.close();
		this.rooms.clear();
	}

	/** @internal may pulls be answered in binary frames? */
	get frames(): boolean {
		return this.opts.frames !== false;
	}

	/** @internal */
	ownPushEndpoint(): string | undefined {
		return this.opts.ownPushEndpoint?.();
	}

	/** @internal */
	reportError(e: Error, room: string): void {
		this.opts.onError?.(e, room);
	}
}

/** One contract's room on one relay: push, pull after the cursor, live items. */
/**
 * Send `items` in as few messages as the relay's limits allow (items per message, and the message
 * size with room for the envelope around them), one `send` at a time, in order.
 */
async function inMessages<T extends WireItem>(items: readonly T[], limits: { maxItemsPerPush: number; maxMessageBytes: number }, send: (batch: T[]) => Promise<void>): Promise<void> {
	const budget = limits.maxMessageBytes - 2048;
	let batch: T[] = [];
	let size = 0;
	for (const item of items) {
		const chars = (item.tags ? item.tags.length * 46 : 45) + item.data.length + 32;
		if (batch.length >= limits.maxItemsPerPush || (batch.length && size + chars > budget)) {
			await send(batch);
			batch = [];
			size = 0;
		}
		batch.push(item);
		size += chars;
	}
	if (batch.length) await send(batch);
}

export class RelayRoom {
	/** @internal own channel on a relay without mux */
	channel?: Channel;
	private cursorValue: number;
	/** Sequence numbers above the cursor this device already has (its own acknowledged pushes). */
	private readonly known = new Set<number>();
	/** Live items above the cursor, waiting for the gap before them to close. */
	private readonly waiting = new Map<number, StoredItem>();
	/** Own items pushed and not yet acknowledged: a gap may be theirs. */
	private inFlight = 0;
	private gapTimer?: ReturnType<typeof setTimeout>;
	private pulling?: Promise<number>;
	private pullAgain = false;
	/** The relay's head as last seen. */
	head = 0;
	/** Single items on the relay past its last compaction, as last seen (see `compact`). */
	loose = 0;
	/** Pulls that start below this read no compactions (one failed to account for its items). */
	private plainUntil = 0;

	constructor(
		private readonly client: RelayClient,
		readonly keys: RelayKeys,
		private readonly options: RoomOptions
	) {
		this.cursorValue = options.cursor ?? 0;
	}

	get cursor(): number {
		return this.cursorValue;
	}

	/** Open (or reopen after a reconnect) with proof of the room key, then catch up from the cursor. */
	async open(): Promise<void> {
		const channel = await this.client.channelFor(this);
		const challenge = channel.hello!.challenge;
		const sig = await sign(this.keys.roomKey, openProof(challenge, this.keys.room));
		const opened = await channel.request<Extract<RelayMessage, { t: 'opened' }>>({
			t: 'open',
			room: this.keys.room,
			key: this.keys.roomKey.publicKey,
			sig,
			live: this.options.live !== false
		});
		this.head = opened.head;
		this.loose = opened.loose ?? 0;
		if (opened.head < this.cursorValue) {
			// The relay lost or expired this room: read it all again, and let the owner upload again.
			this.known.clear();
			this.waiting.clear();
			this.setCursor(0);
			this.options.onReset?.();
		}
		if (this.options.live !== false && opened.head > this.cursorValue) void this.pull().catch((e) => this.client.reportError(e as Error, this.keys.room));
	}

	private setCursor(next: number): void {
		if (next === this.cursorValue) return;
		this.cursorValue = next;
		this.options.onCursor?.(next);
	}

	/**
	 * Move the cursor over everything contiguous: own acknowledged items (known) and live items
	 * waiting in order (held). A gap left behind is either own pushes not yet acknowledged (wait
	 * for their acks) or items this device missed (read them from the relay).
	 */
	private drain(): void {
		const ready: StoredItem[] = [];
		let c = this.cursorValue;
		for (;;) {
			if (this.known.delete(c + 1)) {
				c++;
				continue;
			}
			const next = this.waiting.get(c + 1);
			if (!next) break;
			this.waiting.delete(c + 1);
			ready.push(next);
			c++;
		}
		this.deliver(ready, c);
		for (const s of this.known) if (s <= c) this.known.delete(s);
		for (const s of this.waiting.keys()) if (s <= c) this.waiting.delete(s);
		if (this.waiting.size === 0 || this.pulling) return;
		if (this.inFlight === 0) return void this.pull().catch((e) => this.client.reportError(e as Error, this.keys.room));
		this.gapTimer ??= setTimeout(() => {
			this.gapTimer = undefined;
			if (this.waiting.size) void this.pull().catch((e) => this.client.reportError(e as Error, this.keys.room));
		}, 1000);
	}

	/** Decrypt and hand over items (in order, above the cursor); the cursor moves to `upTo`. */
	/** Live single items, in order (a live bundle is read by a pull instead: see `live`). */
	private deliver(items: readonly StoredItem[], upTo = 0): void {
		const out: ReceivedEnvelope[] = [];
		const c = this.decryptSingles(items, this.cursorValue, out, new Map());
		this.handOver(out, Math.max(c, upTo));
	}

	/** Decrypt a page's items above `after` into `out` (its bundles at once); returns the last sequence number passed. */
	private async decrypt(items: readonly StoredItem[], after: number, out: ReceivedEnvelope[]): Promise<number> {
		const held = this.held(items);
		const bundles = new Map<number, Promise<{ id: string; envelope: string }[] | Error>>();
		items.forEach((item, n) => {
			if (item.tags && item.seq > after && !held?.[n])
				bundles.set(
					item.seq,
					decryptBundle(this.keys, item).catch((e: Error) => e)
				);
		});
		const opened = new Map<number, { id: string; envelope: string }[] | Error>();
		for (const [seq, p] of bundles) opened.set(seq, await p);
		return this.decryptSingles(items, after, out, opened, held);
	}

	/**
	 * A page with compactions: its plain items as usual, and each compaction opened and checked
	 * against its claim: every tag it claims must be the tag of an event inside it. One that fails
	 * (not sealed with this room's key, altered, or claiming an event it does not carry) is set aside
	 * whole: its items are then not accounted for, and the pull reads them one by one.
	 */
	private async decryptCompacted(items: readonly FramedItem[], after: number, out: ReceivedEnvelope[]): Promise<{ passed: number; delivered: Set<number>; units: OpenedCompaction[] }> {
		const plain = items.filter((i) => !i.covers && i.seq > after);
		const opening = items.filter((i) => i.covers).map((u) => decryptBundle(this.keys, u as BundleItem).then((events) => ({ u, events }), (e: Error) => e));
		const passed = await this.decrypt(plain, after, out);
		const units: OpenedCompaction[] = [];
		for (const p of opening) {
			const r = await p;
			if (r instanceof Error) {
				this.client.reportError(r, this.keys.room);
				continue;
			}
			// The tag of every event inside (computed from its id), then each claimed tag looked up once.
			const tags = r.events.map((e) => itemTag(this.keys, e.id));
			const inside = new Map<string, string>();
			r.events.forEach((e, i) => inside.set(tags[i]!, e.id));
			const ids = new Set<string>();
			let whole = true;
			for (const t of r.u.tags ?? []) {
				const id = inside.get(t);
				if (id === undefined) {
					whole = false;
					break;
				}
				ids.add(id);
			}
			if (!whole) {
				this.client.reportError(new Error('A relay compaction does not carry every event it claims; its items are read one by one instead.'), this.keys.room);
				continue;
			}
			r.events.forEach((e, i) => out.push({ seq: r.u.seq, id: e.id, envelope: e.envelope, tag: tags[i] }));
			units.push({ ids: [...ids], seqs: r.u.covers!.filter((c) => c > after) });
		}
		return { passed, delivered: new Set(plain.map((i) => i.seq)), units };
	}

	/**
	 * The cursor a compacted page moves to: the last sequence number before which every item was
	 * delivered, or stood in for by a compaction whose every claimed event the owner now holds
	 * authentically (`confirm`).
	 */
	private async account(after: number, end: number, delivered: Set<number>, units: readonly OpenedCompaction[]): Promise<number> {
		const accounted = new Set(delivered);
		const ids = units.flatMap((u) => u.ids);
		const ok = ids.length ? await this.options.confirm!(ids) : [];
		const held = new Set(ids.filter((_, i) => ok[i]));
		for (const u of units) if (u.ids.every((id) => held.has(id))) for (const s of u.seqs) accounted.add(s);
		let c = after;
		while (c < end && accounted.has(c + 1)) c++;
		return c;
	}

	private decryptSingles(
		items: readonly StoredItem[],
		after: number,
		out: ReceivedEnvelope[],
		opened: Map<number, { id: string; envelope: string }[] | Error>,
		held = this.held(items)
	): number {
		let c = after;
		const thumbnails: ReceivedThumbnail[] = [];
		for (const [n, item] of items.entries()) {
			if (item.seq <= c) continue;
			if (held?.[n]) {
				c = item.seq;
				continue;
			}
			try {
				if (item.tags) {
					const events = opened.get(item.seq) ?? new Error('A relay bundle arrived where single items were expected.');
					if (events instanceof Error) throw events;
					for (const e of events) out.push({ seq: item.seq, id: e.id, envelope: e.envelope });
				} else out.push({ seq: item.seq, ...decryptItem(this.keys, item), tag: item.tag });
			} catch (e) {
				// Not an envelope: a thumbnail, or junk written by someone holding the link (skipped, never passed on).
				const thumbnail = item.tags || !this.options.onThumbnails ? undefined : this.thumbnailOf(item);
				if (thumbnail) thumbnails.push({ seq: item.seq, ...thumbnail });
				else this.client.reportError(e as Error, this.keys.room);
			}
			c = item.seq;
		}
		if (thumbnails.length) this.options.onThumbnails?.(thumbnails);
		return c;
	}

	private thumbnailOf(item: SingleItem): Omit<ReceivedThumbnail, 'seq'> | undefined {
		try {
			return decryptThumbnail(this.keys, item);
		} catch {
			return undefined;
		}
	}

	/** Which items carry only events the owner holds (a bundle: every event it claims). */
	private held(items: readonly StoredItem[]): boolean[] | undefined {
		if (!this.options.holds) return undefined;
		const tags: string[] = [];
		for (const i of items) {
			if (i.tags) for (const t of i.tags) tags.push(t);
			else tags.push(i.tag);
		}
		const flat = this.options.holds(tags);
		if (!flat) return undefined;
		let k = 0;
		return items.map((i) => {
			const n = i.tags ? i.tags.length : 1;
			let all = true;
			for (let j = 0; j < n; j++) all &&= flat[k + j] === true;
			k += n;
			return all;
		});
	}

	private handOver(out: ReceivedEnvelope[], upTo: number): void {
		if (out.length) this.options.onEnvelopes?.(out);
		this.setCursor(Math.max(this.cursorValue, upTo));
	}

	/** @internal a live item */
	live(m: Extract<RelayMessage, { t: 'item' }>): void {
		if (m.seq > this.head) this.head = m.seq;
		if (m.seq <= this.cursorValue || this.known.has(m.seq)) return;
		// A bundle is opened asynchronously: a pull reads it, in order with what is around it.
		if (m.tags) return void this.pull().catch((e) => this.client.reportError(e as Error, this.keys.room));
		this.waiting.set(m.seq, m);
		if (this.waiting.size > 10_000) this.waiting.clear(); // far behind: the pull reads them instead
		this.drain();
	}

	/** Ask for the page after `after`: sent at once when the channel is open. */
	private page(after: number): Promise<Extract<RelayMessage, { t: 'items' }>> {
		// Binary frames when the relay speaks them (its hello says so): no base64, no JSON of ciphertext.
		const body = (channel: Channel) => {
			const bin = this.client.frames && channel.hello?.frames?.includes(FRAME_VERSION);
			// Compactions only with a way to confirm what they carry, and not where one just failed.
			const compact = bin && channel.hello?.compaction === 1 && this.options.confirm && after >= this.plainUntil;
			return { t: 'pull', room: this.keys.room, after, ...(bin ? { bin: FRAME_VERSION } : {}), ...(compact ? { compact: true } : {}) };
		};
		const open = this.client.openChannelOf(this);
		if (open) return open.request<Extract<RelayMessage, { t: 'items' }>>(body(open));
		return this.client.channelFor(this).then((channel) => channel.request<Extract<RelayMessage, { t: 'items' }>>(body(channel)));
	}

	/**
	 * Read everything after the cursor (all pages); resolves with the new cursor. The next page is
	 * asked for before this one is decrypted and handed over, so the relay reads and sends it while
	 * this device works (two pages at most are unconfirmed: the relay's flow control allows that).
	 */
	pull(): Promise<number> {
		if (this.pulling) {
			this.pullAgain = true;
			return this.pulling;
		}
		this.pulling = (async () => {
			try {
				do {
					this.pullAgain = false;
					let next = this.page(this.cursorValue);
					let batch: ReceivedEnvelope[] = [];
					let upTo = this.cursorValue;
					let every = 0;
					let handing: Promise<void> = Promise.resolve();
					const behind: Promise<void>[] = [];
					/** A compaction of this round did not account for its items: later pages move no cursor. */
					let broken = false;
					/** Cursor moves, in page order: a compacted page's wait for its confirmation. */
					let counting: Promise<void> = Promise.resolve();
					for (;;) {
						const r = (await next) as Extract<RelayMessage, { t: 'items' }> & { end?: number };
						this.head = Math.max(this.head, r.head);
						const last = r.end ?? r.items[r.items.length - 1]?.seq;
						if (r.more && last !== undefined) {
							next = this.page(last);
							// Awaited on the next turn; a failure meanwhile must not go unhandled.
							next.catch(() => {});
						}
						// Pages are handed over in a few batches, not one by one: each hand-over is one write
						// into the document and one verification and fold there (see HAND_OVER_ITEMS). Counted
						// in events: a bundle item carries many (its tags say how many, before it is opened).
						if (!every && r.items.length) {
							const events = r.items.reduce((n, i) => n + (i.tags ? i.tags.length : 1), 0);
							const estimate = ((r.head - upTo) * events) / r.items.length;
							every = Math.max(1, Math.min(HAND_OVER_ITEMS, Math.ceil(estimate / HAND_OVER_STEPS)));
						}
						if (r.items.length) await this.options.ready?.();
						// This page's bundles are opened now (off this thread), while earlier pages are
						// handed over; hand-overs stay in order, at most READ_AHEAD pages behind the reading.
						const after = Math.max(upTo, this.cursorValue);
						const page: ReceivedEnvelope[] = [];
						const compacted = r.end !== undefined && r.items.some((i) => (i as FramedItem).covers);
						const opened = compacted ? this.decryptCompacted(r.items as FramedItem[], after, page) : this.decrypt(r.items, after, page).then((passed) => ({ passed, delivered: undefined, units: [] }));
						upTo = Math.max(after, last ?? after);
						const more = r.more;
						const end = r.end;
						const before = handing;
						handing = before.then(async () => {
							const { passed, delivered, units } = await opened;
							for (const e of page) batch.push(e);
							if (delivered) {
								// A page with compactions: hand everything over now; what it covers counts once
								// confirmed, in order, while later pages are handed over.
								const out = batch;
								batch = [];
								this.handOver(out, this.cursorValue);
								counting = counting.then(async () => {
									const c = await this.account(after, end!, delivered, units);
									if (broken) return;
									if (c < end!) {
										broken = true;
										this.plainUntil = Math.max(this.plainUntil, end!);
										this.pullAgain = true;
									}
									this.setCursor(Math.max(this.cursorValue, c));
								});
								counting.catch(() => {});
								return;
							}
							if (!more || batch.length >= every) {
								const out = batch;
								batch = [];
								this.handOver(out, this.cursorValue);
								// The cursor passes this page only after every compaction before it counted.
								counting = counting.then(() => {
									if (!broken) this.setCursor(Math.max(this.cursorValue, passed));
								});
								counting.catch(() => {});
							}
						});
						// Awaited later or after the loop; a failure meanwhile must not go unhandled.
						handing.catch(() => {});
						behind.push(handing);
						if (behind.length > READ_AHEAD) await behind.shift();
						if (!r.more) break;
						if (last === undefined) next = this.page(this.cursorValue);
					}
					await handing;
					await counting;
				} while (this.pullAgain);
				this.pulling = undefined;
				this.drain();
				return this.cursorValue;
			} finally {
				this.pulling = undefined;
			}
		})();
		return this.pulling;
	}

	/**
	 * Upload envelopes; resolves once the relay acknowledged every one (durable there) with the
	 * sequence number of the item that carries it. Split into pushes that fit the relay's limits.
	 * `bundle`: a contract's past (a first upload, a backlog) sealed many envelopes to an item, when
	 * the relay takes bundles; live events go one item each.
	 */
	async push(envelopes: readonly { id: string; envelope: string }[], options: { bundle?: boolean } = {}): Promise<number[]> {
		if (envelopes.some((e) => e.id.startsWith(THUMBNAIL_QUEUE_PREFIX))) return this.pushWithThumbnails(envelopes, options);
		const channel = await this.client.channelFor(this);
		const hello = channel.hello ?? (await channel.open());
		const { maxBundleBytes, maxTagsPerBundle } = hello.limits;
		if (options.bundle && maxBundleBytes && maxTagsPerBundle && envelopes.length > 1) {
			const { bundles, singles } = await sealBundles(this.keys, envelopes, { maxBundleBytes, maxTagsPerBundle });
			const seqOf = new Map<string, number>();
			const singleSeqs = await this.push(singles);
			singles.forEach((e, i) => seqOf.set(e.id, singleSeqs[i]!));
			await this.send(
				bundles.map((b) => b.item),
				(i, seq) => bundles[i]!.events.forEach((e) => seqOf.set(e.id, seq))
			);
			return envelopes.map((e) => seqOf.get(e.id)!);
		}
		return this.pushItems(envelopes.map((e) => encryptItem(this.keys, e.id, e.envelope)));
	}

	/**
	 * Queue entries that include thumbnails (THUMBNAIL_QUEUE_PREFIX): each goes up as a thumbnail
	 * item; one that is not a thumbnail is refused here, before upload (its sequence number: 0).
	 */
	private async pushWithThumbnails(entries: readonly { id: string; envelope: string }[], options: { bundle?: boolean }): Promise<number[]> {
		const seqs = new Array<number>(entries.length).fill(0);
		const events: number[] = [];
		const thumbs: { index: number; item: SingleItem }[] = [];
		entries.forEach((e, index) => {
			if (!e.id.startsWith(THUMBNAIL_QUEUE_PREFIX)) return void events.push(index);
			try {
				thumbs.push({ index, item: encryptThumbnail(this.keys, e.id.slice(THUMBNAIL_QUEUE_PREFIX.length), fromBase64url(e.envelope)) });
			} catch (error) {
				this.client.reportError(error as Error, this.keys.room);
			}
		});
		const eventSeqs = await this.push(
			events.map((i) => entries[i]!),
			options
		);
		events.forEach((index, k) => (seqs[index] = eventSeqs[k]!));
		const thumbSeqs = await this.pushItems(thumbs.map((t) => t.item));
		thumbs.forEach((t, k) => (seqs[t.index] = thumbSeqs[k]!));
		return seqs;
	}

	/** Push items already sealed; resolves with each one's sequence number. */
	async pushItems(items: readonly WireItem[]): Promise<number[]> {
		const seqs: number[] = [];
		await this.send(items, (_i, seq) => seqs.push(seq));
		return seqs;
	}

	/** Push items in as few pushes as the relay's limits allow; `onAck(i, seq)` for each, in order. */
	private async send(all: readonly WireItem[], onAck: (index: number, seq: number) => void): Promise<void> {
		const channel = await this.client.channelFor(this);
		const hello = channel.hello ?? (await channel.open());
		let index = 0;
		await inMessages(all, hello.limits, async (items) => {
			const ch = await this.client.channelFor(this);
			const sig = await sign(this.keys.roomKey, pushProof(ch.hello!.challenge, this.keys.room, items));
			this.inFlight += items.length;
			let acked: Extract<RelayMessage, { t: 'acked' }>;
			try {
				acked = await ch.request<Extract<RelayMessage, { t: 'acked' }>>({ t: 'push', room: this.keys.room, items, sig, own: this.client.ownPushEndpoint() });
			} finally {
				this.inFlight -= items.length;
			}
			this.head = Math.max(this.head, acked.head);
			for (const s of acked.seqs) if (s > this.cursorValue) this.known.add(s);
			for (const s of acked.seqs) onAck(index++, s);
			this.drain();
		});
	}

	/**
	 * Compaction: upload the contract's events (what this device holds, in order) sealed in bundles
	 * that the relay keeps beside the room's single items and serves in their place to a reader
	 * starting below them (store.ts `compact`). For a room whose events went up one by one; worth it
	 * when `loose` is large. Resolves with how many single items the relay now covers, and what is left.
	 */
	async compact(envelopes: readonly { id: string; envelope: string }[]): Promise<{ covered: number; loose: number }> {
		const channel = await this.client.channelFor(this);
		const hello = channel.hello ?? (await channel.open());
		const { maxBundleBytes, maxTagsPerBundle } = hello.limits;
		if (hello.compaction !== 1 || !maxBundleBytes || !maxTagsPerBundle || !envelopes.length) return { covered: 0, loose: this.loose };
		const { bundles } = await sealBundles(this.keys, envelopes, { maxBundleBytes, maxTagsPerBundle });
		let covered = 0;
		await inMessages(
			bundles.map((b) => b.item),
			hello.limits,
			async (items) => {
				const ch = await this.client.channelFor(this);
				const sig = await sign(this.keys.roomKey, compactProof(ch.hello!.challenge, this.keys.room, items));
				const r = await ch.request<Extract<RelayMessage, { t: 'compacted' }>>({ t: 'compact', room: this.keys.room, items, sig });
				for (const n of r.covered) covered += n;
				this.loose = r.loose;
			}
		);
		return { covered, loose: this.loose };
	}

	/** Upload what the queue holds for this room, removing each batch once acknowledged. Returns how many. */
	async upload(queue: UploadQueue, batchSize = 100): Promise<number> {
		let done = 0;
		for (;;) {
			const entries = await queue.list(this.keys.room, batchSize);
			if (!entries.length) return done;
			await this.push(entries);
			await queue.remove(
				this.keys.room,
				entries.map((e) => e.id)
			);
			done += entries.length;
		}
	}

	/** Leave the room on the relay (no more live items). */
	async leave(): Promise<void> {
		this.client.forget(this);
		const channel = await this.client.channelFor(this).catch(() => undefined);
		if (channel) await channel.request({ t: 'leave', room: this.keys.room }).catch(() => undefined);
		if (this.channel) this.channel.close();
	}
}

export type { ErrorCode };
