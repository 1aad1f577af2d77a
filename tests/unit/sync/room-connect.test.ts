import { describe, expect, it } from 'vitest';
import * as bc from 'lib0/broadcastchannel';
import * as buffer from 'lib0/buffer';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { createMutex } from 'lib0/mutex';
import { Room } from 'y-webrtc';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { connectAsking, disconnectNoting } from '../../../src/lib/sync/room-connect';

/** y-webrtc's crypto.js `decrypt`, to read what a room posted. */
async function decrypt(data: Uint8Array, key: CryptoKey): Promise<Uint8Array> {
	const d = decoding.createDecoder(data);
	expect(decoding.readVarString(d)).toBe('AES-GCM');
	const iv = decoding.readVarUint8Array(d);
	const cipher = decoding.readVarUint8Array(d);
	return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: iv as Uint8Array<ArrayBuffer> }, key, cipher as Uint8Array<ArrayBuffer>));
}

let rooms = 0;

/** A room as y-webrtc's provider makes one (the fields connecting reads), on a document of `events` values. */
async function room(events: number) {
	const doc = new Y.Doc();
	doc.transact(() => {
		const map = doc.getMap<string>('events');
		for (let i = 0; i < events; i++) map.set(`event-${i}`, `{"body":"${'x'.repeat(400)}","n":${i}}`);
	});
	const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
	const sent: object[] = [];
	const r = {
		doc,
		awareness: new awarenessProtocol.Awareness(doc),
		name: `room-connect-test-${++rooms}`,
		key,
		peerId: 'peer-1',
		bcconnected: false,
		webrtcConns: new Map(),
		bcConns: new Set(),
		mux: createMutex(),
		synced: false,
		provider: { maxConns: 20, filterBcConns: true, signalingConns: [{ connected: true, send: (m: object) => sent.push(m) }] },
		_docUpdateHandler: () => {},
		_awarenessUpdateHandler: () => {},
		_bcSubscriber: () => {}
	};
	// What the room posts to the other tabs (this process's own subscribers hear it at once).
	const posted: Uint8Array[] = [];
	const hear = (data: ArrayBuffer) => void posted.push(new Uint8Array(data));
	bc.subscribe(r.name, hear);
	return { r, doc, key, sent, posted, done: () => bc.unsubscribe(r.name, hear) };
}

/** Each posted message decrypted: its y-webrtc type, and for a sync message its y-protocols type and size. */
async function kinds(posted: Uint8Array[], key: CryptoKey) {
	return Promise.all(
		posted.map(async (p) => {
			const m = await decrypt(p, key);
			const d = decoding.createDecoder(m);
			const type = decoding.readVarUint(d);
			return type === 0 ? { type, sync: decoding.readVarUint(d), bytes: m.length } : { type, bytes: m.length };
		})
	);
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('connecting a y-webrtc room', () => {
	it('y-webrtc pushes the whole document to the other tabs unasked on every connect; connectAsking asks with a state vector instead', async () => {
		// y-webrtc's own connect (what this module replaces): a sync step 2 of the whole document.
		const before = await room(2000);
		(Room.prototype.connect as (this: unknown) => void).call(before.r);
		await settle();
		const pushed = await kinds(before.posted, before.key);
		before.done();
		const step2 = pushed.find((k) => k.type === 0 && 'sync' in k && k.sync === 1);
		expect(step2?.bytes).toBeGreaterThan(800_000);

		const after = await room(2000);
		connectAsking.call(after.r as unknown as Room);
		await settle();
		const asked = await kinds(after.posted, after.key);
		after.done();
		// The peer id, sync step 1, the awareness query, this tab's awareness: no sync step 2, a few hundred bytes in all.
		expect(asked.map((k) => [k.type, 'sync' in k ? k.sync : undefined])).toEqual([
			[4, undefined],
			[0, 0],
			[3, undefined],
			[1, undefined]
		]);
		expect(asked.reduce((n, k) => n + k.bytes, 0)).toBeLessThan(1000);
		expect(after.r.bcconnected).toBe(true);
	});

	it('another tab answers its sync step 1 with exactly what it lacks, and the announcement reads as y-webrtc writes it', async () => {
		const tab = await room(5);
		const other = new Y.Doc();
		Y.applyUpdate(other, Y.encodeStateAsUpdate(tab.doc));
		other.getMap<string>('events').set('written-in-the-other-tab', 'hello');
		connectAsking.call(tab.r as unknown as Room);
		await settle();
		const messages = await Promise.all(tab.posted.map((p) => decrypt(p, tab.key)));
		tab.done();
		// The other tab reads the step 1 as y-webrtc does (readMessage → readSyncMessage) and replies.
		const step1 = messages.find((m) => m[0] === 0 && m[1] === 0)!;
		const d = decoding.createDecoder(step1);
		decoding.readVarUint(d);
		const reply = encoding.createEncoder();
		encoding.writeVarUint(reply, 0);
		syncProtocol.readSyncMessage(d, reply, other, 'other tab');
		const r = decoding.createDecoder(encoding.toUint8Array(reply));
		expect(decoding.readVarUint(r)).toBe(0);
		syncProtocol.readSyncMessage(r, encoding.createEncoder(), tab.doc, 'reply');
		expect(tab.doc.getMap<string>('events').get('written-in-the-other-tab')).toBe('hello');
		expect(Y.encodeStateVector(tab.doc)).toEqual(Y.encodeStateVector(other));

		// Signaling: subscribe to the room, then announce this peer, encrypted as y-webrtc's encryptJson.
		expect(tab.sent[0]).toEqual({ type: 'subscribe', topics: [tab.r.name] });
		const publish = tab.sent[1] as { type: string; topic: string; data: string };
		expect(publish).toMatchObject({ type: 'publish', topic: tab.r.name });
		const announce = decoding.readAny(decoding.createDecoder(await decrypt(buffer.fromBase64(publish.data), tab.key)));
		expect(announce).toEqual({ type: 'announce', from: 'peer-1' });
	});

	it('a tab back from a disconnect pushes what it wrote while away, and only that', async () => {
		const tab = await room(2000);
		const asRoom = tab.r as unknown as Room;
		connectAsking.call(asRoom);
		await settle();
		disconnectNoting.call(asRoom);
		expect(tab.r.bcconnected).toBe(false);
		// Another tab that heard everything until then.
		const other = new Y.Doc();
		Y.applyUpdate(other, Y.encodeStateAsUpdate(tab.doc));
		tab.doc.getMap<string>('events').set('written-while-paused', 'offline note');
		tab.posted.length = 0;
		connectAsking.call(asRoom);
		await settle();
		const back = await Promise.all(tab.posted.map((p) => decrypt(p, tab.key)));
		const step2 = back.filter((m) => m[0] === 0 && m[1] === 1);
		expect(step2).toHaveLength(1);
		expect(step2[0]!.length).toBeLessThan(200);
		// Read as y-webrtc's other tab reads it: the other tab then holds exactly what this one does.
		const d = decoding.createDecoder(step2[0]!);
		decoding.readVarUint(d);
		syncProtocol.readSyncMessage(d, encoding.createEncoder(), other, 'tab');
		expect(other.getMap<string>('events').get('written-while-paused')).toBe('offline note');
		expect(Y.encodeStateVector(other)).toEqual(Y.encodeStateVector(tab.doc));
		// Back again with nothing written meanwhile: no step 2 at all.
		disconnectNoting.call(asRoom);
		tab.posted.length = 0;
		connectAsking.call(asRoom);
		await settle();
		const again = await Promise.all(tab.posted.map((p) => decrypt(p, tab.key)));
		tab.done();
		expect(again.filter((m) => m[0] === 0 && m[1] === 1)).toHaveLength(0);
	});
});
