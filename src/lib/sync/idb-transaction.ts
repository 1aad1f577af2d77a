/**
 * IndexedDB transactions as promises, for every store this app keeps (device-db, push, the relay
 * queue, checkpoints). They settle on the transaction, not on its requests: a write counts once
 * committed, so a page closed right after it keeps it.
 */

/** Why a transaction failed, as the caller words it (`error` is the browser's, when it gave one). */
export type Failure = (error: DOMException | null) => Error;

/** Resolves once `tx` has committed; rejects with `fail(tx.error)` if it errs or is aborted. */
export function committed(tx: IDBTransaction, fail: Failure): Promise<void> {
	return new Promise((resolve, reject) => {
		tx.oncomplete = () => resolve();
		tx.onerror = tx.onabort = () => reject(fail(tx.error));
	});
}

/** One transaction on one store of `db`: `op` issues its requests; resolves with the result of the one it returns, once committed. */
export async function inStore<T>(db: IDBDatabase, store: string, mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T> | void, fail: Failure): Promise<T> {
	const tx = db.transaction(store, mode);
	const req = op(tx.objectStore(store));
	await committed(tx, (e) => fail(e ?? (req ? req.error : null)));
	return req ? req.result : (undefined as T);
}
