/**
 * IndexedDB transactions as promises (idb-transaction.ts), and the stores built on them (the relay
 * upload queue, checkpoint records), against fake-indexeddb: a write counts once committed, a failed
 * transaction rejects with the caller's words and leaves nothing half-written.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { committed, inStore } from '../../../src/lib/sync/idb-transaction';
import { IndexedDbUploadQueue, QUEUE_STORE } from '../../../src/lib/sync/relay-queue';
import { readCheckpoint, writeCheckpoint } from '../../../src/lib/sync/checkpoint-records';

function openDb(upgrade: (db: IDBDatabase) => void): Promise<IDBDatabase> {
	return new Promise((resolve, reject) => {
		const req = new IDBFactory().open('test', 1);
		req.onupgradeneeded = () => upgrade(req.result);
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error);
	});
}

// The stores name key ranges through the global, as in a browser.
beforeEach(() => vi.stubGlobal('IDBKeyRange', IDBKeyRange));
afterEach(() => vi.unstubAllGlobals());

const fail = (e: DOMException | null) => new Error(`could not store: ${e?.name ?? 'aborted'}`);

describe('inStore and committed', () => {
	let db: IDBDatabase;
	beforeEach(async () => {
		db = await openDb((d) => d.createObjectStore('things'));
	});

	it('resolves with the request’s result once committed: the next transaction sees the write', async () => {
		const key = await inStore(db, 'things', 'readwrite', (s) => s.put('a', 1), fail);
		expect(key).toBe(1);
		expect(await inStore(db, 'things', 'readonly', (s) => s.get(1), fail)).toBe('a');
		// An op that issues requests but returns none resolves with undefined after committing them all.
		expect(await inStore(db, 'things', 'readwrite', (s) => void [s.put('b', 2), s.put('c', 3)], fail)).toBeUndefined();
		expect(await inStore(db, 'things', 'readonly', (s) => s.getAll(), fail)).toEqual(['a', 'b', 'c']);
	});

	it('a failed request rejects with the caller’s words naming the browser’s error, and the transaction’s other writes are rolled back', async () => {
		await inStore(db, 'things', 'readwrite', (s) => s.add('a', 1), fail);
		const writing = inStore(db, 'things', 'readwrite', (s) => (s.put('b', 2), s.add('again', 1)), fail);
		await expect(writing).rejects.toThrow('could not store: ConstraintError');
		expect(await inStore(db, 'things', 'readonly', (s) => s.getAll(), fail)).toEqual(['a']);
	});

	it('an aborted transaction rejects with the caller’s fallback when the browser gives no error', async () => {
		const tx = db.transaction('things', 'readwrite');
		tx.objectStore('things').put('x', 9);
		const done = committed(tx, fail);
		tx.abort();
		await expect(done).rejects.toThrow('could not store: aborted');
		expect(await inStore(db, 'things', 'readonly', (s) => s.get(9), fail)).toBeUndefined();
	});
});

describe('the relay upload queue in IndexedDB', () => {
	it('keeps one entry per event queued twice, lists oldest first, and removes what the relay acknowledged', async () => {
		const db = await openDb((d) => {
			const queue = d.createObjectStore(QUEUE_STORE, { keyPath: ['relay', 'room', 'id'] });
			queue.createIndex('order', ['relay', 'room', 'queuedAt']);
			queue.createIndex('relay', 'relay');
		});
		const queue = new IndexedDbUploadQueue('ws://relay', async () => db);
		await queue.add([
			{ room: 'r', id: 'e2', envelope: 'two', queuedAt: 2 },
			{ room: 'r', id: 'e1', envelope: 'one', queuedAt: 1 }
		]);
		// Queued again (a reload re-queues what it wrote): the constraint error is swallowed, the first entry and its place stay.
		await queue.add([{ room: 'r', id: 'e1', envelope: 'one', queuedAt: 5 }]);
		expect((await queue.list('r')).map((e) => [e.id, e.queuedAt])).toEqual([
			['e1', 1],
			['e2', 2]
		]);
		await queue.remove('r', ['e1']);
		expect(await queue.count('r')).toBe(1);
		expect(await queue.count()).toBe(1);
	});
});

describe('checkpoint records', () => {
	it('a checkpoint longer than one part reads back whole, and a shorter one written over it leaves no stale parts', async () => {
		const db = await openDb((d) => d.createObjectStore('custom'));
		const long = { format: 3, contract: 'c', rules: 'r', checksum: 'x', body: 'a'.repeat(262_144 * 2 + 10) };
		await writeCheckpoint(db, 'custom', long);
		expect(await readCheckpoint(db, 'custom')).toEqual(long);
		const short = { ...long, checksum: 'y', body: 'b'.repeat(100) };
		await writeCheckpoint(db, 'custom', short);
		expect(await readCheckpoint(db, 'custom')).toEqual(short);
		const keys = await inStore(db, 'custom', 'readonly', (s) => s.getAllKeys(), fail);
		expect(keys).toHaveLength(2);
	});
});
