/**
 * The client library on its own (keys, item encryption, the upload queue) and against a Node
 * relay (queue upload, reconnect after the relay restarts).
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url, utf8 } from '../../src/lib/contract/encoding';
import { MAX_ENVELOPE_BYTES } from '../../src/lib/contract/schema';
import { decryptItem, deriveRelayKeys, encryptItem, itemTag, RelayClient, type ReceivedEnvelope } from '../../src/lib/sync/relay-client';
import { MemoryUploadQueue } from '../../src/lib/sync/relay-queue';
import { randomId } from '../../src/lib/sync/links';
import { ENVELOPE_LIMIT, MAX_ITEM_BYTES, PROTOCOL, base64urlBytes } from '../../src/relay/protocol';
import { envelope, newAddress, nodeTarget, socketFrom, TEST_LIMITS, type RelayTarget } from './harness';
import type { SocketFactory } from '../../src/lib/sync/relay-client';

describe('relay items', () => {
	const keys = deriveRelayKeys(randomId(24));
	const e = envelope('Invoice for the Harbour Bakery logo');

	it('the relay’s item limit is the contract’s envelope limit plus the encryption overhead', () => {
		expect(ENVELOPE_LIMIT).toBe(MAX_ENVELOPE_BYTES);
		const largest = envelope('x', MAX_ENVELOPE_BYTES - envelope('x').envelope.length);
		expect(base64urlBytes(encryptItem(keys, largest.id, largest.envelope).data)).toBe(MAX_ITEM_BYTES);
	});

	it('encrypts each envelope with a fresh nonce and decrypts it back', () => {
		const a = encryptItem(keys, e.id, e.envelope);
		const b = encryptItem(keys, e.id, e.envelope);
		expect(a.tag).toBe(b.tag);
		expect(a.data).not.toBe(b.data);
		expect(decryptItem(keys, a)).toEqual(e);
		expect(Buffer.from(fromBase64url(a.data)).includes(Buffer.from('Harbour'))).toBe(false);
	});

	it('refuses an altered item, an item under another tag, and another room’s item', () => {
		const item = encryptItem(keys, e.id, e.envelope);
		const bytes = fromBase64url(item.data);
		bytes[30]! ^= 1;
		expect(() => decryptItem(keys, { ...item, data: toBase64url(bytes) })).toThrow();
		const other = envelope('other');
		expect(() => decryptItem(keys, { ...item, tag: itemTag(keys, other.id) })).toThrow();
		expect(() => decryptItem(deriveRelayKeys(randomId(24)), item)).toThrow();
		// Sealed correctly but for another event's tag: the tag must match the envelope's id.
		expect(() => decryptItem(keys, encryptItem(keys, other.id, e.envelope))).toThrow('does not match its tag');
	});

	it('opens items of every length exactly as the reference XChaCha20-Poly1305 does, and refuses any changed byte', () => {
		for (let pad = 0; pad < 80; pad++) {
			const x = envelope('x', pad);
			const item = encryptItem(keys, x.id, x.envelope);
			const data = fromBase64url(item.data);
			const reference = xchacha20poly1305(keys.encryptionKey, data.subarray(0, 24), utf8.encode(`${PROTOCOL} item\n${keys.room}\n${item.tag}`)).decrypt(data.subarray(24));
			expect(decryptItem(keys, item)).toEqual(x);
			expect(new TextDecoder().decode(reference)).toBe(x.envelope);
			// A flipped bit in the nonce (both halves), the ciphertext or the tag.
			for (const at of [0, 20, 24 + (pad % (data.length - 40)), data.length - 1]) {
				const bad = data.slice();
				bad[at]! ^= 0x10;
				expect(() => decryptItem(keys, { ...item, data: toBase64url(bad) })).toThrow();
			}
		}
	});

	it('dedup tags are keyed: the same event id gives unrelated tags in two rooms', () => {
		expect(itemTag(keys, e.id)).not.toBe(itemTag(deriveRelayKeys(randomId(24)), e.id));
	});
});

describe('upload queue', () => {
	it('keeps one entry per event, oldest first, until removed', async () => {
		const q = new MemoryUploadQueue();
		await q.add([
			{ room: 'r', id: 'b', envelope: 'B', queuedAt: 2 },
			{ room: 'r', id: 'a', envelope: 'A', queuedAt: 1 },
			{ room: 's', id: 'c', envelope: 'C', queuedAt: 3 }
		]);
		await q.add([{ room: 'r', id: 'a', envelope: 'A', queuedAt: 9 }]);
		expect((await q.list('r')).map((x) => x.id)).toEqual(['a', 'b']);
		expect(await q.count()).toBe(3);
		await q.remove('r', ['a']);
		expect(await q.count('r')).toBe(1);
	});
});

describe('client against a relay', () => {
	let target: RelayTarget;
	beforeAll(async () => {
		target = nodeTarget();
		await target.start();
	});
	afterAll(() => target.stop());

	it('uploads a queue in pushes the relay accepts and empties it only as they are acknowledged', async () => {
		const secret = randomId(24);
		const client = new RelayClient({ url: target.url, socket: socketFrom(target, newAddress()), reconnect: false });
		const room = await client.room(secret);
		const q = new MemoryUploadQueue();
		const sent = Array.from({ length: 35 }, (_, i) => envelope(`queued ${i}`));
		await q.add(sent.map((s, i) => ({ room: room.keys.room, ...s, queuedAt: i })));
		expect(await room.upload(q, 15)).toBe(35);
		expect(await q.count()).toBe(0);
		expect(room.cursor).toBe(35);
		const got: ReceivedEnvelope[] = [];
		const other = new RelayClient({ url: target.url, socket: socketFrom(target, newAddress()), reconnect: false });
		await (await other.room(secret, { live: false, onEnvelopes: (x) => got.push(...x) })).pull();
		expect(got.map((g) => g.id)).toEqual(sent.map((s) => s.id));
		client.close();
		other.close();
	});

	it('reconnects after the relay restarts, reopens its rooms and receives what it missed', async () => {
		const secret = randomId(24);
		const got: ReceivedEnvelope[] = [];
		const cursors: number[] = [];
		const reader = new RelayClient({ url: target.url, socket: socketFrom(target, newAddress()) });
		await reader.room(secret, { onEnvelopes: (x) => got.push(...x), onCursor: (c) => cursors.push(c) });
		const writer = new RelayClient({ url: target.url, socket: socketFrom(target, newAddress()), reconnect: false });
		await (await writer.room(secret)).push([envelope('before')]);
		await target.restart();
		const writer2 = new RelayClient({ url: target.url, socket: socketFrom(target, newAddress()), reconnect: false });
		await (await writer2.room(secret)).push([envelope('while away'), envelope('after')]);
		const end = Date.now() + 8000;
		while (got.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
		expect(got.map((g) => g.seq)).toEqual([1, 2, 3]);
		expect(cursors.at(-1)).toBe(3);
		for (const c of [reader, writer, writer2]) c.close();
	}, 15_000);
});

describe('catching up', () => {
	let target: RelayTarget;
	beforeAll(async () => {
		target = nodeTarget({ ...TEST_LIMITS, maxPullItems: 2 });
		await target.start();
	});
	afterAll(() => target.stop());

	it('asks for the next page before handing over the one it has, and hands pages over in a few batches', async () => {
		const secret = randomId(24);
		const writer = new RelayClient({ url: target.url, socket: socketFrom(target, newAddress()), reconnect: false });
		const sent = Array.from({ length: 40 }, (_, i) => envelope(`missed ${i}`));
		await (await writer.room(secret)).push(sent);
		writer.close();

		let pulls = 0;
		const counting: SocketFactory = (url) => {
			const ws = socketFrom(target, newAddress())(url);
			const send = ws.send.bind(ws);
			ws.send = (data: string) => {
				if ((JSON.parse(data) as { t: string }).t === 'pull') pulls++;
				send(data);
			};
			return ws;
		};
		const handed: { items: number; pullsSent: number }[] = [];
		const got: ReceivedEnvelope[] = [];
		const reader = new RelayClient({ url: target.url, socket: counting, reconnect: false });
		const room = await reader.room(secret, {
			live: false,
			onEnvelopes: (x) => {
				handed.push({ items: x.length, pullsSent: pulls });
				got.push(...x);
			}
		});
		expect(await room.pull()).toBe(40);
		expect(got.map((g) => g.id)).toEqual(sent.map((s) => s.id));
		expect(got.map((g) => g.seq)).toEqual(sent.map((_, i) => i + 1));
		// 20 pages of 2, handed over in four batches of 10.
		expect(handed.map((h) => h.items)).toEqual([10, 10, 10, 10]);
		// When the first 5 pages are handed over, the 6th has been asked for already.
		expect(handed[0]!.pullsSent).toBe(6);
		expect(pulls).toBe(20);
		reader.close();
	});

	it('passes over, undecrypted, items whose event the owner holds already (from a peer)', async () => {
		const secret = randomId(24);
		const writer = new RelayClient({ url: target.url, socket: socketFrom(target, newAddress()), reconnect: false });
		const sent = Array.from({ length: 12 }, (_, i) => envelope(`both ways ${i}`));
		await (await writer.room(secret)).push(sent);
		writer.close();
		const keys = deriveRelayKeys(secret);
		const fromPeer = new Set(sent.filter((_, i) => i % 3 !== 0).map((e) => itemTag(keys, e.id)));
		const asked: string[] = [];
		const got: ReceivedEnvelope[] = [];
		const reader = new RelayClient({ url: target.url, socket: socketFrom(target, newAddress()), reconnect: false });
		const room = await reader.room(secret, {
			live: false,
			holds: (tags) => {
				asked.push(...tags);
				return tags.map((t) => fromPeer.has(t));
			},
			onEnvelopes: (x) => got.push(...x)
		});
		expect(await room.pull()).toBe(12);
		expect(asked).toEqual(sent.map((e) => itemTag(keys, e.id)));
		expect(got.map((g) => g.id)).toEqual(sent.filter((_, i) => i % 3 === 0).map((e) => e.id));
		expect(room.cursor).toBe(12);
		reader.close();
	});

	it('waits, page by page, while its owner says a peer is delivering, then passes over what the peer brought', async () => {
		const secret = randomId(24);
		const writer = new RelayClient({ url: target.url, socket: socketFrom(target, newAddress()), reconnect: false });
		const sent = Array.from({ length: 8 }, (_, i) => envelope(`peer or relay ${i}`));
		await (await writer.room(secret)).push(sent);
		writer.close();
		const keys = deriveRelayKeys(secret);
		const held = new Set<string>();
		let release!: () => void;
		const peerDone = new Promise<void>((r) => (release = r));
		const got: ReceivedEnvelope[] = [];
		const reader = new RelayClient({ url: target.url, socket: socketFrom(target, newAddress()), reconnect: false });
		const room = await reader.room(secret, {
			live: false,
			ready: () => peerDone,
			holds: (tags) => tags.map((t) => held.has(t)),
			onEnvelopes: (x) => got.push(...x)
		});
		const pulled = room.pull();
		await new Promise((r) => setTimeout(r, 200));
		expect(got).toEqual([]);
		expect(room.cursor).toBe(0);
		// The peer's sync brought the first six events meanwhile.
		for (const e of sent.slice(0, 6)) held.add(itemTag(keys, e.id));
		release();
		expect(await pulled).toBe(8);
		expect(got.map((g) => g.id)).toEqual(sent.slice(6).map((e) => e.id));
		reader.close();
	});
});
