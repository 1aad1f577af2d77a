/**
 * The open figures of open.ts inside Chromium, against Yjs in that Chromium: pages.ts bundles this
 * file and runs it in a page of the app's origin (a secure context, for WebCrypto). The checkpoint
 * is read back from IndexedDB, as the app reads it (persistence.ts, checkpoint-records.ts).
 */
import { openFigures, type CheckpointStorage } from './open';
import { readCheckpoint, writeCheckpoint } from '../../src/lib/sync/checkpoint-records';

function request<T>(r: IDBRequest<T>): Promise<T> {
	return new Promise((resolve, reject) => {
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error);
	});
}

async function indexedDbStorage(): Promise<CheckpointStorage> {
	await request(indexedDB.deleteDatabase('bench-open-checkpoint'));
	const open = indexedDB.open('bench-open-checkpoint', 1);
	open.onupgradeneeded = () => open.result.createObjectStore('custom');
	const db = await request(open);
	return {
		name: 'indexeddb',
		write: (stored) => writeCheckpoint(db, 'custom', stored),
		read: () => readCheckpoint(db, 'custom')
	};
}

(globalThis as { benchOpen?: unknown }).benchOpen = async (contract: string, update: string, events: number, runs = 7) =>
	openFigures(
		contract,
		Uint8Array.from(atob(update), (c) => c.charCodeAt(0)),
		events,
		runs,
		() => {},
		await indexedDbStorage()
	);
