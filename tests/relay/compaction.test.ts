/**
 * Compaction against both relay builds: a room whose events went up one by one is re-uploaded as
 * bundles that a reader starting below them gets in place of the single items they cover, with
 * the cursor exact; and the attacks a link holder can make with a compaction (one that omits an
 * event it claims, one that claims items it does not carry, junk) cost the reader time, never an
 * event: each is set aside and its items read one by one.
 */
import { describe, expect, it } from 'vitest';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toBase64url, utf8 } from '../../src/lib/contract/encoding';
import { generateKey, signSync } from '../../src/lib/identity/ed25519';
import { deriveRelayKeys, encryptBundle, itemTag, type ReceivedEnvelope } from '../../src/lib/sync/relay-client';
import { randomId } from '../../src/lib/sync/links';
import { loadWasmSha256 } from '../../src/lib/sync/wasm-sha256';
import { compactProof, type BundleItem, type FramedItem, type RelayMessage } from '../../src/relay/protocol';
import { durableTarget, envelope, newAddress, nodeTarget, relayUnderTest } from './harness';

const events = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => envelope(`${prefix} ${i}`));
type Items = Extract<RelayMessage, { t: 'items' }>;

describe.each([
	['node', () => nodeTarget()],
	['durable-object', () => durableTarget()]
] as const)('relay compaction: %s', (_name, make) => {
	const { target, client, raw, openRaw } = relayUnderTest(make);
	/** A compaction as anyone holding the link can write one: any bundle, any claimed tags. */
	const compactRaw = async (secret: string, items: BundleItem[]) => {
		const { conn, keys, challenge } = await openRaw(secret);
		return (await conn.request({ t: 'compact', room: keys.room, items, sig: signSync(keys.roomKey, compactProof(challenge, keys.room, items)) })) as Extract<RelayMessage, { t: 'compacted' }>;
	};
	/** Everything a device with the cursor at `cursor` reads; `confirm` says every event it was handed is authentic. */
	const readFrom = async (secret: string, cursor = 0) => {
		const got: ReceivedEnvelope[] = [];
		const errors: Error[] = [];
		const c = client(newAddress(), { onError: (e) => errors.push(e) });
		const room = await c.room(secret, { cursor, live: false, onEnvelopes: (e) => got.push(...e), confirm: async (ids) => ids.map(() => true) });
		const end = await room.pull();
		return { got, errors, cursor: end, room };
	};
	/** What the relay serves a reader that takes compactions, by hand. */
	const pageFrom = async (secret: string, after: number) => {
		const { conn, keys } = await openRaw(secret);
		return (await conn.request({ t: 'pull', room: keys.room, after, bin: 1, compact: true })) as Items & { end?: number };
	};
	/** Room of 20 single items (`sent`), one event at a time as live writes go. */
	const singles = async (secret: string, n = 20) => {
		const sent = events(n, `single ${secret.slice(0, 4)}`);
		const room = await client().room(secret);
		for (const e of sent) await room.push([e]);
		return { sent, room };
	};
	const ids = (got: ReceivedEnvelope[]) => [...new Set(got.map((g) => g.id))];

	it('a room of single items, compacted: a reader below it gets the compaction and what came after, its cursor exact', async () => {
		const secret = randomId(24);
		const { sent, room } = await singles(secret);
		expect(room.loose).toBe(0);
		expect((await openRaw(secret)).opened.loose).toBe(20);
		// A device that holds the events compacts; the very same bundles again are a retry, not new.
		expect(await room.compact(sent)).toEqual({ covered: 20, loose: 0 });
		expect(await room.compact(sent)).toEqual({ covered: 0, loose: 0 });
		const later = events(3, 'after the compaction');
		for (const e of later) await room.push([e]);
		// By hand: the page from 3 carries compactions in place of items 4..20, accounted up to `end`.
		const page = await pageFrom(secret, 3);
		const units = (page.items as FramedItem[]).filter((i) => i.covers);
		expect(units.length).toBeGreaterThan(0);
		expect(units.flatMap((u) => u.covers!).filter((c) => c > 3).sort((a, b) => a - b)).toEqual(Array.from({ length: 17 }, (_, i) => i + 4));
		expect(page.end).toBe(20);
		// The library: everything, each event once at least, cursor at the head; no error.
		const r = await readFrom(secret, 3);
		expect(r.errors).toEqual([]);
		expect(ids(r.got).sort()).toEqual([...sent, ...later].map((e) => e.id).sort());
		expect(r.cursor).toBe(23);
		// A reader above the compaction reads single items as before; one without `confirm` never gets compactions.
		const above = await readFrom(secret, 20);
		expect(above.got.map((g) => g.seq)).toEqual([21, 22, 23]);
		const plain: ReceivedEnvelope[] = [];
		const old = await client().room(secret, { live: false, onEnvelopes: (e) => plain.push(...e) });
		expect(await old.pull()).toBe(23);
		expect(plain.map((g) => g.seq)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
	});

	it('attack: a compaction that omits an event it claims is set aside; that event still arrives', async () => {
		const secret = randomId(24);
		const { sent } = await singles(secret, 12);
		const keys = deriveRelayKeys(secret);
		// Mallory claims all twelve but leaves the seventh out.
		const lie = await encryptBundle(keys, sent.filter((_, i) => i !== 6), sent.map((e) => itemTag(keys, e.id)));
		expect((await compactRaw(secret, [lie])).covered).toEqual([12]);
		const r = await readFrom(secret, 0);
		expect(r.errors.map((e) => e.message)).toContain('A relay compaction does not carry every event it claims; its items are read one by one instead.');
		expect(ids(r.got)).toContain(sent[6]!.id);
		expect(ids(r.got).sort()).toEqual(sent.map((e) => e.id).sort());
		expect(r.cursor).toBe(12);
	});

	it('attack: a compaction claiming the tags of items it does not carry is set aside; they still arrive', async () => {
		const secret = randomId(24);
		const { sent } = await singles(secret, 12);
		const keys = deriveRelayKeys(secret);
		// It carries the first four and claims the tags of the next four (and of one the room does not hold).
		const claimed = [...sent.slice(4, 8).map((e) => itemTag(keys, e.id)), itemTag(keys, envelope('never uploaded').id)];
		const lie = await encryptBundle(keys, sent.slice(0, 4), claimed);
		expect((await compactRaw(secret, [lie])).covered).toEqual([4]);
		expect((await pageFrom(secret, 0)).items.some((i) => (i as FramedItem).covers)).toBe(true);
		const r = await readFrom(secret, 0);
		expect(r.errors.length).toBeGreaterThan(0);
		expect(ids(r.got).sort()).toEqual(sent.map((e) => e.id).sort());
		expect(r.cursor).toBe(12);
	});

	it('attack: a compaction carrying a forged copy of an event (same id, another signature) is not counted; the real one is read', async () => {
		const secret = randomId(24);
		const { sent } = await singles(secret, 10);
		const real = sent[9]!;
		const forged = { id: real.id, envelope: real.envelope.replace('unsigned-in-this-test', 'forged-by-mallory') };
		expect((await (await client().room(secret)).compact([...sent.slice(0, 9), forged])).covered).toBe(10);
		// The owner confirms what its verification holds as authentic: not the forged copy.
		const got: ReceivedEnvelope[] = [];
		const c = client();
		const room = await c.room(secret, {
			live: false,
			onEnvelopes: (e) => got.push(...e),
			confirm: async (list) => list.map((id) => got.some((g) => g.id === id && sent.some((s) => s.envelope === g.envelope)))
		});
		expect(await room.pull()).toBe(10);
		expect(got.map((g) => g.envelope)).toContain(forged.envelope);
		// The compaction was set aside: the single item with the real envelope was read after it.
		expect(got.filter((g) => g.id === real.id).map((g) => g.envelope)).toEqual([forged.envelope, real.envelope]);
	});

	it('attack: junk as a compaction (not sealed with the room key) is set aside; nothing is lost', async () => {
		const secret = randomId(24);
		const { sent } = await singles(secret, 8);
		const keys = deriveRelayKeys(secret);
		const other = deriveRelayKeys(randomId(24));
		const junk: BundleItem = { tags: sent.map((e) => itemTag(keys, e.id)), data: toBase64url(crypto.getRandomValues(new Uint8Array(300))) };
		const foreign = await encryptBundle(other, sent, sent.map((e) => itemTag(keys, e.id)));
		const r1 = await compactRaw(secret, [junk]);
		expect(r1.covered).toEqual([8]);
		// Its seqs are taken by the first: the second covers nothing new and is not kept.
		expect((await compactRaw(secret, [foreign])).covered).toEqual([0]);
		const r = await readFrom(secret, 2);
		expect(r.errors.length).toBeGreaterThan(0);
		expect(ids(r.got).sort()).toEqual(sent.slice(2).map((e) => e.id).sort());
		expect(r.cursor).toBe(8);
	});

	it('a compaction must be signed by the room key, made of bundles, from a room opened with proof', async () => {
		const secret = randomId(24);
		const { sent } = await singles(secret, 3);
		const keys = deriveRelayKeys(secret);
		const bundle = await encryptBundle(keys, sent);
		const { conn, challenge } = await openRaw(secret);
		const forged = await conn.request({ t: 'compact', room: keys.room, items: [bundle], sig: signSync(await generateKey(), compactProof(challenge, keys.room, [bundle])) });
		expect(forged).toMatchObject({ t: 'error', code: 'bad-signature' });
		const single = { tag: itemTag(keys, sent[0]!.id), data: bundle.data };
		expect(await conn.request({ t: 'compact', room: keys.room, items: [single], sig: 'x' })).toMatchObject({ t: 'error', code: 'bad-message' });
		// A push's signature does not pass for a compaction's (their proofs are labelled apart).
		const other = deriveRelayKeys(randomId(24));
		const stranger = raw(other.room);
		const hello = await stranger.hello;
		expect(await stranger.request({ t: 'compact', room: keys.room, items: [bundle], sig: signSync(keys.roomKey, compactProof(hello.challenge, keys.room, [bundle])) })).toMatchObject({
			t: 'error',
			code: 'not-open'
		});
		expect((await pageFrom(secret, 0)).items.some((i) => (i as FramedItem).covers)).toBe(false);
	});
});

describe('dedup tags', () => {
	it('are HMAC-SHA256 of the event id, with the installed SHA-256 as with the JavaScript one', async () => {
		const keys = deriveRelayKeys(randomId(24));
		const ids = Array.from({ length: 300 }, (_, i) => toBase64url(crypto.getRandomValues(new Uint8Array(i % 40))));
		const reference = ids.map((id) => toBase64url(hmac(sha256, keys.tagKey, utf8.encode(id))));
		expect(ids.map((id) => itemTag(keys, id))).toEqual(reference);
		expect(await loadWasmSha256()).toBe(true);
		expect(ids.map((id) => itemTag(keys, id))).toEqual(reference);
	});
});
