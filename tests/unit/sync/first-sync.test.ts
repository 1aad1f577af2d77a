/**
 * A new device's first sync answered from a copy made ahead (first-sync.ts; chunking.test.ts tests
 * the hook that sends it): the answer is byte for byte what y-webrtc would send, only to a peer that
 * holds nothing of the document, never after the document changed.
 */
import { describe, expect, it, vi } from 'vitest';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { inflate } from '../../../src/lib/sync/chunking';
import { FirstSyncAnswer } from '../../../src/lib/sync/first-sync';

/** A document of `n` events (one Yjs item each), as a contract's. */
function contractDoc(n: number, clientID = 7): Y.Doc {
	const doc = new Y.Doc();
	doc.clientID = clientID;
	doc.transact(() => {
		const m = doc.getMap<string>('events');
		for (let i = 0; i < n; i++) m.set(`ev${i}`, `{"id":"ev${i}","body":"{\\"at\\":${i}}","sig":"s${i}"}`);
	});
	return doc;
}

/** The sync step 1 y-webrtc sends from `doc` as a channel opens. */
function stepOne(doc: Y.Doc): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, 0);
	syncProtocol.writeSyncStep1(e, doc);
	return encoding.toUint8Array(e);
}

/** What y-webrtc itself answers to `message` (its readMessage for a sync message). */
function yWebrtcAnswer(doc: Y.Doc, message: Uint8Array): Uint8Array {
	const d = decoding.createDecoder(message);
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, decoding.readVarUint(d));
	syncProtocol.readSyncMessage(d, e, doc, null);
	return encoding.toUint8Array(e);
}

describe('a first sync answered ahead', () => {
	it('answers a device that holds nothing with exactly what y-webrtc would send, inflated', async () => {
		const doc = contractDoc(2500);
		const ahead = new FirstSyncAnswer(doc);
		await ahead.prepare();
		const fresh = stepOne(new Y.Doc());
		const answer = ahead.answer(fresh);
		expect(answer).toBeDefined();
		expect(await inflate(answer!)).toEqual(yWebrtcAnswer(doc, fresh));
		// A device holding only items of clients this document has none of holds nothing of it either.
		const stranger = contractDoc(3, 99);
		expect(await inflate(ahead.answer(stepOne(stranger))!)).toEqual(yWebrtcAnswer(doc, stepOne(stranger)));
		// Applied there, it is the whole document.
		const joined = new Y.Doc();
		syncProtocol.readSyncMessage(decoding.createDecoder((await inflate(answer!)).subarray(1)), encoding.createEncoder(), joined, null);
		expect(joined.getMap('events').size).toBe(2500);
		ahead.destroy();
	});

	it('leaves y-webrtc to answer a device that holds part of the document, a small document, junk and other messages', async () => {
		const doc = contractDoc(2500);
		const ahead = new FirstSyncAnswer(doc);
		await ahead.prepare();
		const partial = new Y.Doc();
		Y.applyUpdate(partial, Y.encodeStateAsUpdate(contractDoc(10)));
		expect(ahead.answer(stepOne(partial))).toBeUndefined();
		for (const junk of [new Uint8Array([0, 0, 5, 1]), new Uint8Array([0, 0]), new Uint8Array([0, 0, 1, 0, 9]), new Uint8Array([0, 1, 1, 0]), new Uint8Array([1, 0, 1, 0]), new Uint8Array([])])
			expect(ahead.answer(junk)).toBeUndefined();

		const small = new FirstSyncAnswer(contractDoc(100));
		await small.prepare();
		expect(small.answer(stepOne(new Y.Doc()))).toBeUndefined();
		ahead.destroy();
		small.destroy();
	});

	it('never answers with a copy older than the document: a change drops it, also one made while it was being prepared', async () => {
		const doc = contractDoc(2500);
		const ahead = new FirstSyncAnswer(doc);
		await ahead.prepare();
		expect(ahead.answer(stepOne(new Y.Doc()))).toBeDefined();
		doc.getMap<string>('events').set('late', 'x');
		expect(ahead.answer(stepOne(new Y.Doc()))).toBeUndefined();
		// A deletion alone (no new item) changes the answer too.
		await ahead.prepare();
		expect(ahead.answer(stepOne(new Y.Doc()))).toBeDefined();
		doc.getMap<string>('events').delete('ev1');
		expect(ahead.answer(stepOne(new Y.Doc()))).toBeUndefined();
		// Changed while the copy was being deflated: it is not kept.
		const preparing = ahead.prepare();
		doc.getMap<string>('events').set('later', 'y');
		await preparing;
		expect(ahead.answer(stepOne(new Y.Doc()))).toBeUndefined();
		await ahead.prepare();
		expect(await inflate(ahead.answer(stepOne(new Y.Doc()))!)).toEqual(yWebrtcAnswer(doc, stepOne(new Y.Doc())));
		ahead.destroy();
		expect(ahead.answer(stepOne(new Y.Doc()))).toBeUndefined();
	});

	it('lets the copy go after a while unasked', async () => {
		vi.useFakeTimers();
		try {
			const ahead = new FirstSyncAnswer(contractDoc(2500));
			await ahead.prepare();
			expect(ahead.answer(stepOne(new Y.Doc()))).toBeDefined();
			vi.advanceTimersByTime(31_000);
			expect(ahead.answer(stepOne(new Y.Doc()))).toBeUndefined();
		} finally {
			vi.useRealTimers();
		}
	});
});
