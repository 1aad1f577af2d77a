/**
 * This device's own records in IndexedDB: its key pair and display name, and the contracts it
 * holds with their link secrets. (Contract contents live in one y-indexeddb database per contract.)
 * IndexedDB can fail to open (private mode, quota, a blocked upgrade): every call then rejects
 * with StorageUnavailable after a timeout instead of waiting forever.
 */
import type { DeviceKey } from '../identity/ed25519';

export interface Device {
	key: DeviceKey;
	name: string;
	createdAt: number;
}

export interface ContractEntry {
	contract: string;
	secret: string;
	title: string;
	addedAt: number;
}

export class StorageUnavailable extends Error {
	constructor(detail: string) {
		super(`This browser's storage cannot be used (${detail}). Private windows and full disks prevent it; your contracts cannot be kept here.`);
		this.name = 'StorageUnavailable';
	}
}

const DB = 'milestone-device';
let opening: Promise<IDBDatabase> | undefined;

function open(timeoutMs = 4000): Promise<IDBDatabase> {
	opening ??= new Promise<IDBDatabase>((resolve, reject) => {
		const timer = setTimeout(() => reject(new StorageUnavailable('IndexedDB did not open in time')), timeoutMs);
		let req: IDBOpenDBRequest;
		try {
			req = indexedDB.open(DB, 1);
		} catch (e) {
			clearTimeout(timer);
			return reject(new StorageUnavailable(String(e)));
		}
		req.onupgradeneeded = () => {
			req.result.createObjectStore('device');
			req.result.createObjectStore('contracts', { keyPath: 'contract' });
		};
		req.onsuccess = () => {
			clearTimeout(timer);
			resolve(req.result);
		};
		req.onerror = () => {
			clearTimeout(timer);
			reject(new StorageUnavailable(req.error?.message ?? 'IndexedDB refused to open'));
		};
		req.onblocked = () => {
			clearTimeout(timer);
			reject(new StorageUnavailable('another tab holds an older version of the database open'));
		};
	}).catch((e) => {
		opening = undefined;
		throw e;
	});
	return opening;
}

function run<T>(store: string, mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
	return open().then(
		(db) =>
			new Promise<T>((resolve, reject) => {
				const tx = db.transaction(store, mode);
				const req = op(tx.objectStore(store));
				// Resolve on commit, not on the request: a page closed right after a write keeps it.
				tx.oncomplete = () => resolve(req.result);
				tx.onerror = tx.onabort = () => reject(new StorageUnavailable(tx.error?.message ?? req.error?.message ?? 'a write failed'));
			})
	);
}

export const loadDevice = () => run<Device | undefined>('device', 'readonly', (s) => s.get('self'));
export const saveDevice = (d: Device) => run('device', 'readwrite', (s) => s.put(d, 'self')).then(() => undefined);
export const listContracts = () => run<ContractEntry[]>('contracts', 'readonly', (s) => s.getAll());
export const getContract = (id: string) => run<ContractEntry | undefined>('contracts', 'readonly', (s) => s.get(id));
export const saveContract = (e: ContractEntry) => run('contracts', 'readwrite', (s) => s.put(e)).then(() => undefined);
