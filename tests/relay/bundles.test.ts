/**
 * Bundles (many signed envelopes sealed in one item, for a contract's past) against both relay
 * builds: they round-trip and survive a restart; dedup stays per event without trusting a bundle's
 * claimed tags (a lying tag list can neither hide nor replace an item, a re-upload does not grow the
 * room); the bundle limits refuse with clear errors; a bundle written with another room's keys is
 * refused (by the relay when signed with another key, by the reader when sealed with another key).
 */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { toBase64url } from '../../src/lib/contract/encoding';
import { generateKey, signSync } from '../../src/lib/identity/ed25519';
import { decryptBundle, deriveRelayKeys, encryptBundle, itemTag, MAX_BUNDLE_PLAIN, RelayClient, type ReceivedEnvelope, type SocketFactory } from '../../src/lib/sync/relay-client';
import { startRelay } from '../../src/relay/node';
import { randomId } from '../../src/lib/sync/links';
import { pushProof, type WireItem } from '../../src/relay/protocol';
import { durableTarget, envelope, newAddress, nodeTarget, RawConnection, TEST_LIMITS, until, relayUnderTest } from './harness';

const events = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => envelope(`${prefix} ${i}`));

describe.each([
	['node', () => nodeTarget()],
	['durable-object', () => durableTarget()]
] as const)('relay bundles: %s', (_name, make) => {
	const { target, client, openRaw } = relayUnderTest(make);
	const pushRaw = (conn: RawConnection, keys: ReturnType<typeof deriveRelayKeys>, challenge: string, items: WireItem[]) =>
		conn.request({ t: 'push', room: keys.room, items, sig: signSync(keys.roomKey, pushProof(challenge, keys.room, items)) });
	/** Everything a fresh device reads from the room, in order. */
	const readAll = async (secret: string) => {
		const got: ReceivedEnvelope[] = [];
		const errors: Error[] = [];
		const c = client(newAddress(), { onError: (e) => errors.push(e) });
		const room = await c.room(secret, { live: false, onEnvelopes: (e) => got.push(...e) });
		await room.pull();
		return { got, errors, head: room.head };
	};

	it('a contract’s past goes up in a few bundles, comes down whole and in order, and outlives a restart', async () => {
		const secret = randomId(24);
		const sent = events(38, 'past');
		const room = await client().room(secret);
		const seqs = await room.push(sent, { bundle: true });
		// At most 30 events to a bundle (TEST_LIMITS): two items for 38 events, each event's seq its bundle's.
		expect(seqs).toEqual([...Array(30).fill(1), ...Array(8).fill(2)]);
		const { got, head } = await readAll(secret);
		expect(head).toBe(2);
		expect(got.map((g) => [g.id, g.envelope])).toEqual(sent.map((s) => [s.id, s.envelope]));
		await target().restart();
		expect((await readAll(secret)).got.map((g) => g.envelope)).toEqual(sent.map((s) => s.envelope));
		// Nothing readable at rest: no envelope text, no id.
		const stored = target().storedBytes();
		for (const needle of [sent[5]!.envelope.slice(0, 40), 'past 5', sent[5]!.id]) expect(stored.includes(Buffer.from(needle)), needle).toBe(false);
	}, 30_000);

	it('dedup stays per event: a retry stores nothing, nor do events the room holds one by one', async () => {
		const secret = randomId(24);
		const sent = events(20, 'again');
		const room = await client().room(secret);
		expect(await room.push(sent.slice(0, 5))).toEqual([1, 2, 3, 4, 5]);
		// The same bundle again (sealed deterministically: the same bytes) keeps its seq.
		const first = await room.push(sent.slice(5), { bundle: true });
		expect(await room.push(sent.slice(5), { bundle: true })).toEqual(first);
		// A bundle of events held as single items adds nothing: not stored, acknowledged with theirs.
		expect(await room.push(sent.slice(0, 5), { bundle: true })).toEqual([5, 5, 5, 5, 5]);
		const { got, head } = await readAll(secret);
		expect(head).toBe(6);
		expect(got.map((g) => g.id)).toEqual(sent.map((s) => s.id));
	});

	it('attack: a bundle whose tags lie cannot hide or replace a real event uploaded by the other party', async () => {
		const secret = randomId(24);
		const { conn, keys, challenge } = await openRaw(secret);
		const real = events(3, 'real from the other party');
		// A link holder learned the real events' ids (say, over WebRTC) before they were uploaded, and
		// uploads a bundle claiming them, with junk inside.
		const junk = envelope('Pay Mallory instead');
		const liar = await encryptBundle(keys, [junk], real.map((r) => itemTag(keys, r.id)));
		expect(await pushRaw(conn, keys, challenge, [liar])).toMatchObject({ t: 'acked', seqs: [1] });
		// The real events are still stored when their author uploads them, one by one or as a bundle.
		const author = await client().room(secret);
		expect(await author.push(real.slice(0, 1))).toEqual([2]);
		expect(await author.push(real.slice(1), { bundle: true })).toEqual([3, 3]);
		// And a lying bundle cannot take the place of a single item either: claiming a held tag stores it anew.
		const other = await encryptBundle(keys, [envelope('more junk')], [itemTag(keys, real[0]!.id), itemTag(keys, 'not-yet')]);
		expect(await pushRaw(conn, keys, challenge, [other])).toMatchObject({ t: 'acked', seqs: [4] });
		const { got } = await readAll(secret);
		// The reader gets the real events (and the junk, which the fold refuses: see relay-sync tests).
		for (const r of real) expect(got.some((g) => g.id === r.id && g.envelope === r.envelope)).toBe(true);
		expect(got.filter((g) => g.id === junk.id)).toHaveLength(1);
	});

	it('limits: an oversize bundle, one with too many events, or naming one twice is refused with a clear error; quota counts its bytes', async () => {
		const secret = randomId(24);
		const { conn, keys, challenge } = await openRaw(secret);
		const tags = [itemTag(keys, 'a'), itemTag(keys, 'b')];
		const max = TEST_LIMITS.maxBundleBytes;
		expect(await pushRaw(conn, keys, challenge, [{ tags, data: toBase64url(new Uint8Array(max + 1)) }])).toMatchObject({
			code: 'bundle-too-large',
			message: `A bundle is at most ${max} bytes of ciphertext; this one is ${max + 1}. Split it into smaller bundles.`
		});
		const many = Array.from({ length: TEST_LIMITS.maxTagsPerBundle + 1 }, (_, i) => itemTag(keys, `e${i}`));
		expect(await pushRaw(conn, keys, challenge, [{ tags: many, data: toBase64url(new Uint8Array(100)) }])).toMatchObject({
			code: 'bundle-too-large',
			message: `A bundle carries at most ${TEST_LIMITS.maxTagsPerBundle} events; this one claims ${many.length}. Send the rest in another bundle.`
		});
		expect(await pushRaw(conn, keys, challenge, [{ tags: [tags[0]!, tags[0]!], data: toBase64url(new Uint8Array(100)) }])).toMatchObject({
			code: 'bad-message',
			message: expect.stringContaining('names each event once')
		});
		// Bytes: bundles near the cap fill the 300,000-byte quota; the one past it is refused whole.
		const big = (i: number) => ({ tags: [itemTag(keys, `big${i}`)], data: toBase64url(crypto.getRandomValues(new Uint8Array(max - 1000))) });
		for (let i = 0; i < 12; i++) expect(await pushRaw(conn, keys, challenge, [big(i)])).toMatchObject({ t: 'acked' });
		const refused = await pushRaw(conn, keys, challenge, [big(12)]);
		expect(refused).toMatchObject({ code: 'room-full', message: expect.stringContaining(`at most ${TEST_LIMITS.maxBytesPerRoom} bytes`) });
		// Items: a bundle counts one item per event it claims (40 per room in TEST_LIMITS).
		const secret2 = randomId(24);
		const r2 = await openRaw(secret2);
		const claims = (from: number, n: number) => Array.from({ length: n }, (_, i) => itemTag(r2.keys, `c${from + i}`));
		const noise = () => toBase64url(crypto.getRandomValues(new Uint8Array(64)));
		expect(await pushRaw(r2.conn, r2.keys, r2.challenge, [{ tags: claims(0, 20), data: noise() }])).toMatchObject({ t: 'acked' });
		// The very same bytes again are the same bundle (a retry): acknowledged, nothing stored.
		const same = { tags: claims(20, 15), data: noise() };
		expect(await pushRaw(r2.conn, r2.keys, r2.challenge, [same])).toMatchObject({ t: 'acked', seqs: [2] });
		expect(await pushRaw(r2.conn, r2.keys, r2.challenge, [same])).toMatchObject({ t: 'acked', seqs: [2] });
		expect(await pushRaw(r2.conn, r2.keys, r2.challenge, [{ tags: claims(35, 6), data: noise() }])).toMatchObject({
			code: 'room-full',
			message: expect.stringContaining(`at most ${TEST_LIMITS.maxItemsPerRoom} items (it has 35)`)
		});
	});

	it('attack: a bundle written with another room’s keys is refused: signed with another key by the relay, sealed with another key by the reader', async () => {
		const secret = randomId(24);
		const { conn, keys, challenge } = await openRaw(secret);
		const mine = events(3, 'mine');
		const bundle = await encryptBundle(keys, mine);
		const stranger = await generateKey();
		expect(await conn.request({ t: 'push', room: keys.room, items: [bundle], sig: signSync(stranger, pushProof(challenge, keys.room, [bundle])) })).toMatchObject({
			code: 'bad-signature'
		});
		// Sealed with another contract's keys, pushed with this room's proof: stored (the relay cannot
		// tell), and refused by the reader, who still gets what follows.
		const otherKeys = deriveRelayKeys(randomId(24));
		const foreign = await encryptBundle(otherKeys, [envelope('from another contract')]);
		await expect(decryptBundle(keys, foreign)).rejects.toThrow('not sealed with this contract’s key');
		expect(await pushRaw(conn, keys, challenge, [foreign, bundle])).toMatchObject({ t: 'acked', seqs: [1, 2] });
		// Its tag list swapped by the relay: the seal covers it.
		const swapped = { ...bundle, tags: [...bundle.tags].reverse() };
		await expect(decryptBundle(keys, swapped)).rejects.toThrow('not sealed with this contract’s key');
		const { got, errors } = await readAll(secret);
		expect(got.map((g) => g.id)).toEqual(mine.map((m) => m.id));
		expect(errors.some((e) => e.message.includes('not sealed with this contract’s key'))).toBe(true);
	});

	it('live: a device with the room open gets a bundle another device uploads', async () => {
		const secret = randomId(24);
		const got: ReceivedEnvelope[] = [];
		await client().room(secret, { onEnvelopes: (e) => got.push(...e) });
		const sent = [envelope('single first'), ...events(12, 'backlog')];
		const writer = await client().room(secret);
		await writer.push(sent.slice(0, 1));
		await writer.push(sent.slice(1), { bundle: true });
		await until(() => got.length === sent.length);
		expect(got.map((g) => g.id)).toEqual(sent.map((s) => s.id));
	});
});

describe('bundle sealing', () => {
	it('is deterministic per content, and different content gets a different nonce', async () => {
		const keys = deriveRelayKeys(randomId(24));
		const a = events(4, 'a');
		expect((await encryptBundle(keys, a)).data).toBe((await encryptBundle(keys, a)).data);
		const b = await encryptBundle(keys, events(4, 'b'));
		expect(b.data.slice(0, 16)).not.toBe((await encryptBundle(keys, a)).data.slice(0, 16));
		expect((await decryptBundle(keys, b)).map((e) => e.envelope)).toEqual(events(4, 'b').map((e) => e.envelope));
	});

	it('a bundle altered in transit, or one that would inflate past its bound, is refused', async () => {
		const keys = deriveRelayKeys(randomId(24));
		const ok = await encryptBundle(keys, [envelope('x')]);
		const bytes = Buffer.from(ok.data, 'base64url');
		bytes[20]! ^= 1;
		await expect(decryptBundle(keys, { tags: ok.tags, data: bytes.toString('base64url') })).rejects.toThrow('not sealed');
		// A link holder's "zip bomb": a few kilobytes that open to more than MAX_BUNDLE_PLAIN.
		const bomb = await encryptBundle(keys, [{ id: 'bomb', envelope: 'a'.repeat(MAX_BUNDLE_PLAIN + 1) }]);
		expect(bomb.data.length).toBeLessThan(50_000);
		await expect(decryptBundle(keys, bomb)).rejects.toThrow(`opens to more than ${MAX_BUNDLE_PLAIN} bytes`);
	});
});

describe('opening a bundle', () => {
	it('gives back every event exactly, whatever the decompressor’s chunks cut through', async () => {
		const keys = deriveRelayKeys(randomId(24));
		// Records of many lengths (so they straddle chunk boundaries everywhere), characters of two,
		// three and four UTF-8 bytes (cut in the middle too), and envelopes longer than many chunks.
		const sent = Array.from({ length: 300 }, (_, i) => envelope(`é€😀 ${i} ${'ß'.repeat(i % 37)}`, (i * 997) % 3000));
		sent.splice(100, 0, envelope('long 😀'.repeat(20_000)), envelope('long é', 150_000));
		const opened = await decryptBundle(keys, await encryptBundle(keys, sent));
		expect(opened).toEqual(sent);
	});

	it('an empty bundle opens to nothing', async () => {
		const keys = deriveRelayKeys(randomId(24));
		expect(await decryptBundle(keys, await encryptBundle(keys, []))).toEqual([]);
	});

	it('a link holder’s bundle with a record that is not id, length, envelope is refused whole', async () => {
		const keys = deriveRelayKeys(randomId(24));
		const good = events(3, 'good');
		const refused = async (inner: { id: string; envelope: string }) =>
			expect(decryptBundle(keys, await encryptBundle(keys, [good[0]!, inner, good[1]!], []))).rejects.toThrow('not a list of envelopes');
		// An "id" far longer than any id (43 characters): junk, even though the record parses.
		await refused({ id: 'i'.repeat(2000), envelope: good[2]!.envelope });
		// Megabytes with no tab in them: refused at the first kilobyte, not searched chunk after chunk.
		await refused({ id: 'j'.repeat(3_000_000), envelope: 'x' });
		// A length that is not a number, and one that runs past the end.
		await refused({ id: `x\ty`, envelope: 'z' });
		await refused({ id: `${good[2]!.id}\t999999\t`, envelope: '' });
	});
});

describe('a relay database from before bundles', () => {
	it('opens, its items read as before, and it takes bundles', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'relay-old-'));
		const secret = randomId(24);
		const socket = (url: string) => new WebSocket(url) as unknown as ReturnType<SocketFactory>;
		try {
			let relay = await startRelay({ port: 0, dataDir: dir, push: false });
			const before = events(2, 'before bundles');
			let c = new RelayClient({ url: relay.url, socket, reconnect: false });
			await (await c.room(secret)).push(before);
			c.close();
			await relay.close();
			// The schema of the relay before bundles: items without their column.
			const db = new Database(relay.file);
			db.exec('ALTER TABLE items DROP COLUMN tags');
			expect(db.prepare('SELECT COUNT(*) AS n FROM items').get()).toEqual({ n: 2 });
			db.close();
			relay = await startRelay({ port: 0, dataDir: dir, push: false });
			c = new RelayClient({ url: relay.url, socket, reconnect: false });
			const later = events(5, 'after bundles');
			await (await c.room(secret)).push(later, { bundle: true });
			const got: ReceivedEnvelope[] = [];
			const reader = new RelayClient({ url: relay.url, socket, reconnect: false });
			await (await reader.room(secret, { live: false, onEnvelopes: (e) => got.push(...e) })).pull();
			expect(got.map((g) => g.id)).toEqual([...before, ...later].map((e) => e.id));
			c.close();
			reader.close();
			await relay.close();
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	}, 30_000);
});
