/**
 * y-indexeddb persistence for one contract document. Its `whenSynced` never rejects when the
 * database cannot open, so it is raced against a timeout that says so. Storage is best-effort
 * until the browser grants persistence, so we ask for it (the browser may say no; we only ask).
 * The WebAssembly SHA-256 loads meanwhile, so it is in use before the document's events are hashed.
 *
 * Checkpoints (checkpoint.ts) are not attached here: measured in Chromium on a 10,000-event
 * contract (tests/bench, `inBrowserReopen…`, the checkpoint read back from IndexedDB), reopening
 * from one still cost as much as verifying and folding the events again, or more. The checkpoint is
 * down to 2 MB (was 8 MB: it no longer stores the envelopes or repeats message texts), and in Node
 * a reopen from it takes about half of a cold open; but in Chromium reading those 2 MB from
 * IndexedDB alone took about as long as applying the whole Yjs document (`inBrowserCheckpointReadMs`),
 * and checking and decoding them (UTF-8 encoding every envelope for the hash, JSON.parse) about as
 * long again. Attaching a store (`attachCheckpointStore` with y-indexeddb's `custom` store, and
 * `decodeCheckpoint` after `whenSynced`) turns them on; do so once the in-browser figure beats a
 * cold open.
 */
import { IndexeddbPersistence } from 'y-indexeddb';
import type * as Y from 'yjs';
import { StorageUnavailable } from './device-db';

export async function persist(name: string, doc: Y.Doc, timeoutMs = 5000): Promise<IndexeddbPersistence> {
	const persistence = new IndexeddbPersistence(name, doc);
	const hashing = import('./wasm-sha256').then((m) => m.loadWasmSha256()).catch(() => false);
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
	await hashing;
	return persistence;
}
