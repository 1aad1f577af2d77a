/**
 * y-indexeddb persistence for one contract document. Its `whenSynced` never rejects when the
 * database cannot open, so it is raced against a timeout that says so. Storage is best-effort
 * until the browser grants persistence, so we ask for it (the browser may say no; we only ask).
 */
import { IndexeddbPersistence } from 'y-indexeddb';
import type * as Y from 'yjs';
import { StorageUnavailable } from './device-db';

export async function persist(name: string, doc: Y.Doc, timeoutMs = 5000): Promise<IndexeddbPersistence> {
	const persistence = new IndexeddbPersistence(name, doc);
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new StorageUnavailable('the contract database did not open in time')), timeoutMs);
	});
	try {
		await Promise.race([persistence.whenSynced, timeout]);
	} finally {
		clearTimeout(timer);
	}
	void navigator.storage?.persist?.().catch(() => false);
	return persistence;
}
