/**
 * How a contract's checkpoint (checkpoint.ts) lies in its IndexedDB database: a header under
 * `checkpoint` and the body cut into parts under `checkpoint/00000`, `checkpoint/00001`, …, written in
 * one transaction and read back in one.
 *
 * Why parts: measured in Chromium here (2.1 MB, medians of six reads), one value read back in about
 * 35 ms, parts of 200 to 500 thousand characters in about 25 ms, and parts of 30,000 in over 100 ms
 * (each record costs its own round trip). Reading it is still the largest part of a reopen in
 * Chromium (tests/bench/open.ts, `inBrowserCheckpointReadMs`).
 */
import type { StoredCheckpoint } from './checkpoint';
import { committed } from './idb-transaction';

const HEADER = 'checkpoint';
const PART_PREFIX = 'checkpoint/';
const PART_CHARS = 262_144;
/** Every part's key (a function: IDBKeyRange exists only where IndexedDB does). */
const parts = () => IDBKeyRange.bound(PART_PREFIX, `${PART_PREFIX}\uffff`);

interface Header {
	format: number;
	contract: string;
	rules: string;
	checksum: string;
	parts: number;
}

const partKey = (i: number) => `${PART_PREFIX}${String(i).padStart(5, '0')}`;

const done = (tx: IDBTransaction) => committed(tx, (e) => e ?? new Error('The checkpoint transaction was aborted.'));

/** Replace the checkpoint in `store` of `db` (the parts of an older, longer one go too). */
export async function writeCheckpoint(db: IDBDatabase, store: string, s: StoredCheckpoint): Promise<void> {
	const tx = db.transaction(store, 'readwrite');
	const os = tx.objectStore(store);
	os.delete(parts());
	const count = Math.ceil(s.body.length / PART_CHARS);
	for (let i = 0; i < count; i++) os.put(s.body.slice(i * PART_CHARS, (i + 1) * PART_CHARS), partKey(i));
	const header: Header = { format: s.format, contract: s.contract, rules: s.rules, checksum: s.checksum, parts: count };
	os.put(header, HEADER);
	await done(tx);
}

/** The checkpoint in `store` of `db`, or undefined if there is none or its parts are not all there (decodeCheckpoint checks the rest). */
export async function readCheckpoint(db: IDBDatabase, store: string): Promise<StoredCheckpoint | undefined> {
	const tx = db.transaction(store, 'readonly');
	const os = tx.objectStore(store);
	const header = os.get(HEADER);
	const all = os.getAll(parts());
	await done(tx);
	const h = header.result as Header | undefined;
	const body = all.result as unknown[];
	if (!h || typeof h !== 'object' || h.parts !== body.length || !body.every((p) => typeof p === 'string')) return undefined;
	return { format: h.format, contract: h.contract, rules: h.rules, checksum: h.checksum, body: (body as string[]).join('') };
}
