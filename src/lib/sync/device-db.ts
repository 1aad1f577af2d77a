/**
 * This device's own records in IndexedDB: its key pair and display name, the contracts it holds with
 * their link secrets, its outbox — money intents signed and not yet written with their receipt
 * (outbox.ts) — and what it owes and has read from relays: the upload queue (relay-queue.ts) and a
 * cursor per contract and relay (relay-sync.ts). (Contract contents live in one y-indexeddb
 * database per contract.)
 * IndexedDB can fail to open (private mode, quota, a blocked upgrade): every call then rejects
 * with StorageUnavailable after a timeout instead of waiting forever.
 */
import type { DeviceKey } from '../identity/ed25519';
import type { LockedIdentity } from '../identity/identity';
import type { OutboxEntry, OutboxStorage } from './outbox';
import { IndexedDbUploadQueue, QUEUE_STORE } from './relay-queue';
import type { RelayCursor, RelayCursorStore } from './relay-sync';
import { inStore } from './idb-transaction';

export interface Device {
	key: DeviceKey;
	name: string;
	createdAt: number;
	/** This device acts for another identity key, which certified it (Settings → Devices, identity/pairing.ts). */
	acting?: { identity: string; certificate: string };
	/** The identity key, passphrase-encrypted: a device holding it can add and revoke devices. */
	identity?: LockedIdentity;
}

/** The identity this device acts for: the one that certified it, else its own key. */
export const identityKeyOf = (d: Device | undefined): string | undefined => d?.acting?.identity ?? d?.key.publicKey;

export interface ContractEntry {
	contract: string;
	secret: string;
	title: string;
	addedAt: number;
	/** Relays this contract uses (from its share link, and this device's); absent before relays. */
	relays?: string[];
}

export class StorageUnavailable extends Error {
	constructor(detail: string) {
		super(`This browser's storage cannot be used (${detail}). Private windows and full disks prevent it; your contracts cannot be kept here.`);
		this.name = 'StorageUnavailable';
	}
}

const DB = 'milestone-device';
const CURSOR_STORE = 'relayCursors';
let opening: Promise<IDBDatabase> | undefined;

function open(timeoutMs = 4000): Promise<IDBDatabase> {
	opening ??= new Promise<IDBDatabase>((resolve, reject) => {
		const timer = setTimeout(() => reject(new StorageUnavailable('IndexedDB did not open in time')), timeoutMs);
		let req: IDBOpenDBRequest;
		try {
			req = indexedDB.open(DB, 3);
		} catch (e) {
			clearTimeout(timer);
			return reject(new StorageUnavailable(String(e)));
		}
		req.onupgradeneeded = (e) => {
			const db = req.result;
			if (e.oldVersion < 1) {
				db.createObjectStore('device');
				db.createObjectStore('contracts', { keyPath: 'contract' });
			}
			// Version 2: the outbox, by intent id, with an index by contract.
			if (e.oldVersion < 2) db.createObjectStore('outbox', { keyPath: 'id' }).createIndex('contract', 'contract');
			// Version 3: the relay upload queue, by [relay, room, event id], listed oldest first per relay
			// and room; the relay cursors, by [contract, relay]. Created when missing, whatever the version.
			if (!db.objectStoreNames.contains(QUEUE_STORE)) {
				const queue = db.createObjectStore(QUEUE_STORE, { keyPath: ['relay', 'room', 'id'] });
				queue.createIndex('order', ['relay', 'room', 'queuedAt']);
				queue.createIndex('relay', 'relay');
			}
			if (!db.objectStoreNames.contains(CURSOR_STORE)) db.createObjectStore(CURSOR_STORE, { keyPath: ['contract', 'relay'] }).createIndex('contract', 'contract');
		};
		req.onsuccess = () => {
			clearTimeout(timer);
			const db = req.result;
			// A newer version opening in another tab: step aside, and reopen on the next call.
			db.onversionchange = () => {
				db.close();
				opening = undefined;
			};
			resolve(db);
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
	return open().then((db) => inStore(db, store, mode, op, (e) => new StorageUnavailable(e?.message ?? 'a write failed')));
}

export const loadDevice = () => run<Device | undefined>('device', 'readonly', (s) => s.get('self'));
export const saveDevice = (d: Device) => run('device', 'readwrite', (s) => s.put(d, 'self')).then(() => undefined);
/** Device certificates (envelopes) this device issued or holds for its identity, kept beside its record. */
export const loadCertificates = () => run<string[] | undefined>('device', 'readonly', (s) => s.get('certificates')).then((l) => l ?? []);
export const saveCertificates = (envelopes: string[]) => run('device', 'readwrite', (s) => s.put(envelopes, 'certificates')).then(() => undefined);
export const listContracts = () => run<ContractEntry[]>('contracts', 'readonly', (s) => s.getAll());
export const getContract = (id: string) => run<ContractEntry | undefined>('contracts', 'readonly', (s) => s.get(id));
export const saveContract = (e: ContractEntry) => run('contracts', 'readwrite', (s) => s.put(e)).then(() => undefined);
/** Forget a contract on this device (its document is a separate database: see contract-session). */
export const removeContract = (id: string) => run('contracts', 'readwrite', (s) => s.delete(id)).then(() => undefined);

/** The outbox in IndexedDB: each write resolves once its transaction has committed. */
export const outboxStorage: OutboxStorage = {
	get: (id) => run<OutboxEntry | undefined>('outbox', 'readonly', (s) => s.get(id)),
	put: (entry) => run('outbox', 'readwrite', (s) => s.put(entry)).then(() => undefined),
	delete: (id) => run('outbox', 'readwrite', (s) => s.delete(id)).then(() => undefined),
	list: (contract) => run<OutboxEntry[]>('outbox', 'readonly', (s) => (contract === undefined ? s.getAll() : s.index('contract').getAll(contract)))
};

/** One relay's upload queue, stored here (relay-queue.ts). */
export const relayQueue = (relay: string) => new IndexedDbUploadQueue(relay, () => open());

/** Relay cursors per contract and relay. */
export const relayCursorStorage: RelayCursorStore = {
	get: (contract, relay) => run<RelayCursor | undefined>(CURSOR_STORE, 'readonly', (s) => s.get([contract, relay])),
	put: (c) => run(CURSOR_STORE, 'readwrite', (s) => s.put(c)).then(() => undefined),
	remove: (contract) =>
		run(CURSOR_STORE, 'readwrite', (s) => {
			const req = s.index('contract').openCursor(IDBKeyRange.only(contract));
			req.onsuccess = () => {
				const c = req.result;
				if (!c) return;
				c.delete();
				c.continue();
			};
			return req;
		}).then(() => undefined)
};
