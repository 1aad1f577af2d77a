/**
 * y-indexeddb persistence for one contract document. Its `whenSynced` never rejects when the
 * database cannot open, so it is raced against a timeout that says so. Storage is best-effort
 * until the browser grants persistence, so we ask for it (the browser may say no; we only ask).
 * The WebAssembly SHA-256 loads meanwhile, so it is in use before the document's events are hashed.
 *
 * With `contract`, the document's checkpoint (checkpoint.ts) lives in the same database (y-indexeddb's
 * `custom` store, laid out by checkpoint-records.ts; removing the contract removes it too): it is read
 * and decoded while the document's updates load, checked against the loaded document, and handed
 * to the ContractDoc through `attachCheckpointStore`; the ContractDoc writes a new one when idle.
 * The build's version is the checkpoint's `rules`: a checkpoint another build wrote is ignored, as
 * that build may fold differently.
 */
import { version } from '$app/environment';
import { IndexeddbPersistence } from 'y-indexeddb';
import type * as Y from 'yjs';
import { attachCheckpointStore, checkAgainst, parseCheckpoint, type StoredCheckpoint } from './checkpoint';
import { readCheckpoint, writeCheckpoint } from './checkpoint-records';
import { StorageUnavailable } from './device-db';

/** y-indexeddb's store for what is not the document's updates. */
const CUSTOM = 'custom';

export async function persist(name: string, doc: Y.Doc, timeoutMs = 5000, contract?: string): Promise<IndexeddbPersistence> {
	const persistence = new IndexeddbPersistence(name, doc);
	// y-indexeddb ignores the update its own load applies, but while it listens Yjs encodes that update
	// for it anyway: 6 MB for a 10,000-event contract, about 90 ms in Chromium on every open. Nothing
	// else writes to the document before it is loaded, so it listens from then on.
	doc.off('update', persistence._storeUpdate);
	const hashing = import('./wasm-sha256').then((m) => m.loadWasmSha256()).catch(() => false);
	// Asked for now, so its read and decoding run while the updates load (decoding needs no
	// document; only the check against it waits); a failed read only costs a full open.
	const checkpoint = contract
		? persistence._db.then((db) => readCheckpoint(db, CUSTOM)).then((stored) => (stored ? parseCheckpoint(stored, contract, version) : null), () => null)
		: Promise.resolve(null);
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new StorageUnavailable('the contract database did not open in time')), timeoutMs);
	});
	try {
		await Promise.race([persistence.whenSynced, timeout]);
	} finally {
		clearTimeout(timer);
		doc.on('update', persistence._storeUpdate);
	}
	void navigator.storage?.persist?.().catch(() => false);
	if (contract) {
		const parsed = await checkpoint;
		const loaded = parsed && checkAgainst(parsed, doc.getMap<string>('events'));
		const save = async (s: StoredCheckpoint) => writeCheckpoint(await persistence._db, CUSTOM, s);
		attachCheckpointStore(doc, { loaded, rules: version, save });
	}
	await hashing;
	return persistence;
}
