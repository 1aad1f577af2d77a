/**
 * The client library on its own (keys, item encryption, the upload queue) and against a Node
 * relay (queue upload, reconnect after the relay restarts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../../src/lib/contract/encoding';
import { MAX_ENVELOPE_BYTES } from '../../src/lib/contract/schema';
import { decryptItem, deriveRelayKeys, encryptItem, itemTag, RelayClient, type ReceivedEnvelope } from '../../src/lib/sync/relay-client';
import { MemoryUploadQueue } from '../../src/lib/sync/relay-queue';
import { randomId } from '../../src/lib/sync/links';
import { ENVELOPE_LIMIT, MAX_ITEM_BYTES, base64urlBytes } from '../../src/relay/protocol';
import { envelope, newAddress, nodeTarget, socketFrom, type RelayTarget } from './harness';

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
