/**
 * y-indexeddb persistence for one contract document. Its `whenSynced` never rejects when the
 * database cannot open, so it is raced against a timeout that says so. Storage is best-effort
 * until the browser grants persistence, so we ask for it (the browser may say no; we only ask).
 * The WebAssembly SHA-256 loads meanwhile, so it is in use before the document's events are hashed.
 *
 * Checkpoints (checkpoint.ts) are not attached here: measured in Chromium on a 10,000-event
 * contract (tests/bench, `inBrowserReopen…`), reading and checking one cost more than verifying and
 * folding the events again, and writing one blocked the page for about half a second. A profile
 * says why: the checkpoint is 8 MB of JSON (the decoded events, and the state, whose message list
 * repeats every message), and turning those bytes back into text and objects (TextDecoder, then
 * JSON.parse) alone took longer than hashing, checking and folding the 10,000 events. Attaching a
 * store (`attachCheckpointStore` with y-indexeddb's `custom` store) turns them on.
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
