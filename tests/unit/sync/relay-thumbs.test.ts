/**
 * Work Diary thumbnails over the relay (relay-client.ts thumbnail items, relay-sync.ts): two devices
 * that never meet over WebRTC get the freelancer's screenshot through a real Node relay, as an item
 * of its own kind. Attacks: a link holder uploads junk under a thumbnail's tag (refused, with the
 * reason, never shown); an envelope item opened as a thumbnail and a thumbnail item opened as an
 * envelope fail; a link holder seals an envelope under the thumbnail kind, or a thumbnail under the
 * envelope kind (refused); an oversize thumbnail is refused before upload; a thumbnail no segment
 * names arrives but is never shown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { toBase64url, utf8 } from '../../../src/lib/contract/encoding';
import { THUMBNAIL_MAX_BYTES, thumbnailHash } from '../../../src/lib/contract/thumbnail';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { ContractDoc } from '../../../src/lib/sync/contract-doc';
import * as hourly from '../../../src/lib/sync/hourly-actions';
import {
	decryptItem,
	decryptThumbnail,
	deriveRelayKeys,
	encryptItem,
	encryptThumbnail,
	itemTag,
	RelayClient,
	thumbnailTag,
	THUMBNAIL_QUEUE_PREFIX,
	type RelayKeys,
	type SocketFactory
} from '../../../src/lib/sync/relay-client';
import { MemoryUploadQueue } from '../../../src/lib/sync/relay-queue';
import { MemoryCursorStore, RelayPool, RelaySync } from '../../../src/lib/sync/relay-sync';
import { keepWrittenShots, ThumbnailStore, THUMBNAILS } from '../../../src/lib/sync/screenshots';
import type { DueSlot } from '../../../src/lib/sync/tracker';
import { base64urlBytes, DEFAULT_LIMITS, MAX_ITEM_BYTES, PROTOCOL } from '../../../src/relay/protocol';
import { startRelay, type RunningRelay } from '../../../src/relay/node';
import { envelope as junkEnvelope } from '../../relay/harness';
import { activePair } from '../../support/parties';
import { hourlyTerms } from '../../support/world';

const t = (hm: string) => Date.parse(`2026-11-02T${hm}:00Z`);

/** A JPEG's first bytes, then `n` bytes of picture. */
function jpeg(n: number, seed = 1): Uint8Array {
	const b = new Uint8Array(n + 4).map((_, i) => (i * 7 + seed) & 0xff);
	b.set([0xff, 0xd8, 0xff, 0xe0]);
	return b;
}

/**
 * What a link holder can seal (they hold every key): any plaintext, under either kind's associated
 * data (README "Relay protocol", Items). Written out here, not borrowed from the client.
 */
function sealAs(keys: RelayKeys, kind: 'item' | 'thumbnail', tag: string, plain: Uint8Array): { tag: string; data: string } {
	const nonce = crypto.getRandomValues(new Uint8Array(24));
	const sealed = xchacha20poly1305(keys.encryptionKey, nonce, utf8.encode(`${PROTOCOL} ${kind}\n${keys.room}\n${tag}`)).encrypt(plain);
	const data = new Uint8Array(24 + sealed.length);
	data.set(nonce);
	data.set(sealed, 24);
	return { tag, data: toBase64url(data) };
}
const thumbnailPlain = (hash: string, bytes: Uint8Array) => {
	const head = utf8.encode(`\0milestone thumbnail\n${hash}\n`);
	const out = new Uint8Array(head.length + bytes.length);
	out.set(head);
	out.set(bytes, head.length);
	return out;
};

describe('thumbnail items', () => {
	const keys = deriveRelayKeys('a link secret for thumbnails');
	const img = jpeg(3000);
	const hash = thumbnailHash(img);

	it('seal and open as a thumbnail; the largest thumbnail fits the relay’s item limit', () => {
		const item = encryptThumbnail(keys, hash, img);
		expect(item.tag).toBe(thumbnailTag(keys, hash));
		expect(decryptThumbnail(keys, item)).toEqual({ hash, bytes: img });
		// 24 KB of image, the marker and hash, the nonce and tag: under 32,808 bytes.
		const biggest = jpeg(THUMBNAIL_MAX_BYTES - 4);
		const big = encryptThumbnail(keys, thumbnailHash(biggest), biggest);
		expect(base64urlBytes(big.data)).toBe(THUMBNAIL_MAX_BYTES + 24 + 16 + 21 + 44);
		expect(base64urlBytes(big.data)).toBeLessThan(MAX_ITEM_BYTES);
	});

	it('a thumbnail’s tag never collides with an event’s: another key', () => {
		expect(thumbnailTag(keys, hash)).not.toBe(itemTag(keys, hash));
	});

	it('attack: an envelope item relabelled a thumbnail, and a thumbnail item relabelled an envelope, fail to open', () => {
		const e = junkEnvelope('hello');
		const envelopeItem = encryptItem(keys, e.id, e.envelope);
		expect(() => decryptThumbnail(keys, envelopeItem)).toThrow('invalid tag');
		// Even under the tag a thumbnail would have: the kind is in the associated data.
		expect(() => decryptThumbnail(keys, { ...envelopeItem, tag: thumbnailTag(keys, hash) })).toThrow('invalid tag');
		const thumbItem = encryptThumbnail(keys, hash, img);
		expect(() => decryptItem(keys, thumbItem)).toThrow('invalid tag');
		expect(() => decryptItem(keys, { ...thumbItem, tag: itemTag(keys, hash) })).toThrow('invalid tag');
	});

	it('attack: a link holder seals an envelope as a thumbnail, or a thumbnail as an envelope — refused as junk', () => {
		const e = junkEnvelope('hello');
		expect(() => decryptThumbnail(keys, sealAs(keys, 'thumbnail', thumbnailTag(keys, hash), utf8.encode(e.envelope)))).toThrow('not a thumbnail');
		expect(() => decryptItem(keys, sealAs(keys, 'item', itemTag(keys, hash), thumbnailPlain(hash, img)))).toThrow();
		// A real thumbnail under another thumbnail's tag.
		const other = thumbnailHash(jpeg(10));
		expect(() => decryptThumbnail(keys, sealAs(keys, 'thumbnail', thumbnailTag(keys, other), thumbnailPlain(hash, img)))).toThrow('does not match its tag');
	});

	it('attack: an oversize thumbnail is refused before upload', () => {
		const big = jpeg(THUMBNAIL_MAX_BYTES);
		expect(() => encryptThumbnail(keys, thumbnailHash(big), big)).toThrow('This screenshot is not uploaded to the relay: it is 25 KB, larger than the 24 KB a thumbnail may be.');
		expect(() => encryptThumbnail(keys, hash, jpeg(3000, 2))).toThrow('its image does not match');
	});
});

// —— through a real relay ——

let relay: RunningRelay;
const dir = mkdtempSync(join(tmpdir(), 'relay-thumbs-'));
beforeAll(async () => {
	relay = await startRelay({ port: 0, dataDir: dir, limits: DEFAULT_LIMITS, trustProxy: true });
});
afterAll(async () => {
	await relay.close();
	rmSync(dir, { recursive: true, force: true });
});

let addresses = 0;
function socketFrom(): SocketFactory {
	const address = `198.20.0.${++addresses}`;
	return (url) => new WebSocket(url, { headers: { 'x-forwarded-for': address } }) as unknown as ReturnType<SocketFactory>;
}

async function until(what: string, ok: () => boolean, timeoutMs = 8000): Promise<void> {
	const end = Date.now() + timeoutMs;
	while (!ok()) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

let secrets = 0;
/** An active hourly contract; each party on its own device with its own document. The two meet only through the relay. */
async function apart() {
	const clock = { now: t('00:00') };
	const mock = new MockEscrowProvider({ now: () => clock.now });
	const info = await mock.info();
	const terms = { ...hourlyTerms({ rate: 6_000, weeklyLimitHours: 10 }), provider: { id: 'mock', publicKey: info.publicKey, testMode: true } };
	const pair = await activePair({ escrow: mock, clock: () => clock.now, terms });
	const fcdoc = new ContractDoc(pair.contract, new Y.Doc());
	const ccdoc = new ContractDoc(pair.contract, new Y.Doc());
	for (const [id, env] of pair.freelancer.log.envelopes()) fcdoc.events.set(id, env);
	for (const [id, env] of pair.client.log.envelopes()) ccdoc.events.set(id, env);
	await fcdoc.settled();
	await ccdoc.settled();
	const secret = `thumbs-secret-${++secrets}-${Math.random()}`;
	const syncs: RelaySync[] = [];
	const open = async (cdoc: ContractDoc, queue = new MemoryUploadQueue()) => {
		const sync = new RelaySync({
			cdoc,
			secret,
			relays: [relay.url],
			pool: new RelayPool({ socket: socketFrom(), requestTimeoutMs: 5000 }),
			queue: () => queue,
			cursors: new MemoryCursorStore(),
			events: new EventTarget(),
			offline: false,
			retryMaxMs: 500,
			pullEveryMs: 300
		});
		syncs.push(sync);
		await sync.start();
		return { sync, queue };
	};
	/** The freelancer logs a tracked slot with this screenshot (the event goes into their document). */
	const logShot = async (bytes: Uint8Array): Promise<DueSlot> => {
		clock.now = t('10:20');
		const slot: DueSlot = { start: t('10:00'), activity: 7, memo: 'Signup form', screenshot: { hash: thumbnailHash(bytes), data: toBase64url(bytes) } };
		expect(await hourly.logTrackedSlots({ party: pair.freelancer }, [slot])).toEqual({ refused: [] });
		for (const [id, env] of pair.freelancer.log.envelopes()) if (fcdoc.events.get(id) !== env) fcdoc.events.set(id, env);
		await fcdoc.settled();
		return slot;
	};
	const clientSees = (hash: string) => async () => {
		await ccdoc.settled();
		return ccdoc.log.derive().state.hourly?.segments && [...ccdoc.log.derive().state.hourly!.segments.values()].some((s) => s.screenshot === hash);
	};
	const stop = () => Promise.all(syncs.map((s) => s.stop()));
	return { secret, fcdoc, ccdoc, open, logShot, clientSees, stop };
}

describe('thumbnails through the relay', () => {
	it('converge: the freelancer’s screenshot reaches the client through the relay alone, and is shown there', async () => {
		const c = await apart();
		const f = await c.open(c.fcdoc);
		const client = await c.open(c.ccdoc);
		const img = jpeg(20_000);
		const slot = await c.logShot(img);
		keepWrittenShots({ cdoc: c.fcdoc }, [slot]);
		// Queued on the freelancer's device beside the segment's event.
		await until('the thumbnail queued', () => [...f.sync.state.relays].length > 0 && !f.sync.queueing);
		const store = new ThumbnailStore(c.ccdoc.doc, () => c.ccdoc.log.derive().state);
		const hash = thumbnailHash(img);
		await until('the client holds the screenshot', () => c.ccdoc.doc.getMap(THUMBNAILS).get(hash) instanceof Uint8Array);
		await c.ccdoc.settled();
		await until('the client shows it', () => 'url' in store.shown(hash));
		expect(store.shown(hash)).toEqual({ hash, url: expect.stringMatching(/^data:image\/jpeg;base64,/) });
		// Uploaded, so no longer waiting on the freelancer's device.
		await until('the queue is empty', () => f.sync.state.relays.every((r) => r.waiting === 0));
		expect(await f.queue.count()).toBe(0);
		// The client does not upload what came from the relay again (it was not written on its device).
		expect((await client.queue.list(client.sync.keys.room)).some((e) => e.id.startsWith(THUMBNAIL_QUEUE_PREFIX))).toBe(false);
		await c.stop();
	});

	it('a relay used for the first time is given the thumbnails already held', async () => {
		const c = await apart();
		const img = jpeg(5000, 3);
		const slot = await c.logShot(img);
		keepWrittenShots({ cdoc: c.fcdoc }, [slot]);
		// Only now does the freelancer's device use a relay.
		await c.open(c.fcdoc);
		await c.open(c.ccdoc);
		const hash = thumbnailHash(img);
		await until('the client holds the screenshot', () => c.ccdoc.doc.getMap(THUMBNAILS).get(hash) instanceof Uint8Array);
		await c.stop();
	});

	it('attack: a link holder uploads junk under a screenshot’s thumbnail tag — refused with the reason, never shown', async () => {
		const c = await apart();
		await c.open(c.fcdoc);
		const img = jpeg(4000, 5);
		const hash = thumbnailHash(img);
		// The segment is logged, but its thumbnail is not uploaded (kept on the freelancer's device only).
		await c.logShot(img);
		const client = await c.open(c.ccdoc);
		const store = new ThumbnailStore(c.ccdoc.doc, () => c.ccdoc.log.derive().state);
		await until('the client has the segment', () => [...(c.ccdoc.log.derive().state.hourly?.segments.values() ?? [])].some((s) => s.screenshot === hash));
		expect(store.shown(hash)).toEqual({ hash, missing: true });
		let told = 0;
		store.subscribe(() => told++);
		// Anyone holding the link: junk bytes claiming the segment's hash, and an envelope item under the thumbnail's tag.
		const keys = deriveRelayKeys(c.secret);
		const raw = new RelayClient({ url: relay.url, socket: socketFrom(), reconnect: false });
		const room = await raw.room(keys, { live: false });
		await room.pushItems([
			sealAs(keys, 'thumbnail', thumbnailTag(keys, hash), thumbnailPlain(hash, jpeg(4000, 6))),
			encryptItem(keys, junkEnvelope('not a picture').id, junkEnvelope('not a picture').envelope)
		]);
		raw.close();
		await client.sync.syncNow();
		await until('the refusal is said', () => 'refused' in store.shown(hash));
		expect(store.shown(hash)).toEqual({ hash, refused: 'The screenshot from the relay was refused: its image does not match the one its segment signed.' });
		expect(c.ccdoc.doc.getMap(THUMBNAILS).has(hash)).toBe(false);
		expect(told).toBeGreaterThan(0);
		await c.stop();
	});

	it('attack: a thumbnail no segment names arrives but is never shown', async () => {
		const c = await apart();
		await c.open(c.fcdoc);
		await c.open(c.ccdoc);
		const img = jpeg(3000, 9);
		const hash = thumbnailHash(img);
		// A valid thumbnail written into the freelancer's document, with no segment naming it.
		c.fcdoc.doc.getMap(THUMBNAILS).set(hash, img);
		const store = new ThumbnailStore(c.ccdoc.doc, () => c.ccdoc.log.derive().state);
		await until('it arrives', () => c.ccdoc.doc.getMap(THUMBNAILS).get(hash) instanceof Uint8Array);
		expect(store.shown(hash)).toEqual({ hash, refused: 'no verified segment on the diary names it' });
		await c.stop();
	});

	it('attack: an oversize thumbnail in the upload queue is refused before upload, and the rest still goes up', async () => {
		const keys = deriveRelayKeys(`oversize-${Math.random()}`);
		const errors: string[] = [];
		const raw = new RelayClient({ url: relay.url, socket: socketFrom(), reconnect: false, onError: (e) => errors.push(e.message) });
		const room = await raw.room(keys, { live: false });
		const big = jpeg(THUMBNAIL_MAX_BYTES);
		const ok = jpeg(500, 8);
		const e = junkEnvelope('beside it');
		const seqs = await room.push([
			{ id: THUMBNAIL_QUEUE_PREFIX + thumbnailHash(big), envelope: toBase64url(big) },
			e,
			{ id: THUMBNAIL_QUEUE_PREFIX + thumbnailHash(ok), envelope: toBase64url(ok) }
		]);
		expect(seqs[0]).toBe(0);
		expect(seqs.slice(1).every((s) => s > 0)).toBe(true);
		expect(errors).toEqual(['This screenshot is not uploaded to the relay: it is 25 KB, larger than the 24 KB a thumbnail may be.']);
		expect(room.head).toBe(2);
		raw.close();
	});

	it('attack: junk a peer writes into the map on this device is never uploaded', async () => {
		const c = await apart();
		const f = await c.open(c.fcdoc);
		const big = jpeg(THUMBNAIL_MAX_BYTES);
		c.fcdoc.doc.getMap(THUMBNAILS).set(thumbnailHash(big), big);
		c.fcdoc.doc.getMap(THUMBNAILS).set(thumbnailHash(jpeg(10)), jpeg(11));
		// A good one written in the same way is queued: the two above were refused, not missed.
		const good = jpeg(100, 4);
		c.fcdoc.doc.getMap(THUMBNAILS).set(thumbnailHash(good), good);
		await f.sync.settled();
		const queued = (await f.queue.list(f.sync.keys.room)).filter((e) => e.id.startsWith(THUMBNAIL_QUEUE_PREFIX));
		expect(queued.map((e) => e.id)).toEqual([THUMBNAIL_QUEUE_PREFIX + thumbnailHash(good)]);
		await c.stop();
	});
});
