/**
 * Events waiting to reach the relay. Every event written on this device is queued (per relay
 * room) and removed only once the relay acknowledged it, which means it is durable there; the
 * IndexedDB queue survives a reload, so "written offline, uploaded when online" holds across
 * restarts. Queueing the same event twice keeps one entry. One queue serves one relay: a contract
 * that uses two relays has the same room id on both, and an event acknowledged by one still waits
 * for the other.
 */
import { inStore } from './idb-transaction';

export interface QueuedUpload {
	/** The relay room (derived from the contract's link secret). */
	room: string;
	/** The event id; or, for a Work Diary thumbnail, `thumbnail:` and its hash (relay-client.ts THUMBNAIL_QUEUE_PREFIX). */
	id: string;
	/** The signed envelope, exactly as stored in the contract; for a thumbnail, its bytes (base64url). */
	envelope: string;
	queuedAt: number;
}

export interface UploadQueue {
	/** Every write must be durable when the promise resolves. */
	add(entries: readonly QueuedUpload[]): Promise<void>;
	/** Oldest first; at most `limit`. */
	list(room: string, limit?: number): Promise<QueuedUpload[]>;
	remove(room: string, ids: readonly string[]): Promise<void>;
	count(room?: string): Promise<number>;
}

/** In memory: tests, and a device without storage (the queue then lasts as long as the page). */
export class MemoryUploadQueue implements UploadQueue {
	private readonly rooms = new Map<string, Map<string, QueuedUpload>>();

	async add(entries: readonly QueuedUpload[]): Promise<void> {
		for (const e of entries) {
			let room = this.rooms.get(e.room);
			if (!room) this.rooms.set(e.room, (room = new Map()));
			if (!room.has(e.id)) room.set(e.id, { ...e });
		}
	}

	async list(room: string, limit = Infinity): Promise<QueuedUpload[]> {
		const all = [...(this.rooms.get(room)?.values() ?? [])].sort((a, b) => a.queuedAt - b.queuedAt);
		return all.slice(0, limit).map((e) => ({ ...e }));
	}

	async remove(room: string, ids: readonly string[]): Promise<void> {
		const r = this.rooms.get(room);
		if (!r) return;
		for (const id of ids) r.delete(id);
		if (r.size === 0) this.rooms.delete(room);
	}

	async count(room?: string): Promise<number> {
		if (room !== undefined) return this.rooms.get(room)?.size ?? 0;
		let n = 0;
		for (const r of this.rooms.values()) n += r.size;
		return n;
	}
}

/** The object store that holds every relay's queue (device-db.ts creates it). */
export const QUEUE_STORE = 'relayQueue';

/**
 * One relay's queue in IndexedDB: records `{relay, room, id, envelope, queuedAt}` keyed by
 * [relay, room, id], listed oldest first through the [relay, room, queuedAt] index. Every write
 * resolves once its transaction has committed.
 */
export class IndexedDbUploadQueue implements UploadQueue {
	constructor(
		private readonly relay: string,
		private readonly db: () => Promise<IDBDatabase>
	) {}

	private async tx<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
		return inStore<T>(await this.db(), QUEUE_STORE, mode, op, (e) => e ?? new Error('The relay queue could not be written.'));
	}

	private range(room: string): IDBKeyRange {
		return IDBKeyRange.bound([this.relay, room, -Infinity], [this.relay, room, Infinity]);
	}

	async add(entries: readonly QueuedUpload[]): Promise<void> {
		if (!entries.length) return;
		await this.tx('readwrite', (s) => {
			for (const e of entries) {
				// add, not put: an event already waiting keeps its entry (and its place in the order).
				const req = s.add({ relay: this.relay, room: e.room, id: e.id, envelope: e.envelope, queuedAt: e.queuedAt });
				req.onerror = (ev) => {
					if (req.error?.name !== 'ConstraintError') return;
					ev.preventDefault();
					ev.stopPropagation();
				};
			}
		});
	}

	async list(room: string, limit?: number): Promise<QueuedUpload[]> {
		const rows = (await this.tx<(QueuedUpload & { relay: string })[]>('readonly', (s) => s.index('order').getAll(this.range(room), limit))) ?? [];
		return rows.map(({ room, id, envelope, queuedAt }) => ({ room, id, envelope, queuedAt }));
	}

	async remove(room: string, ids: readonly string[]): Promise<void> {
		if (!ids.length) return;
		await this.tx('readwrite', (s) => {
			for (const id of ids) s.delete([this.relay, room, id]);
		});
	}

	async count(room?: string): Promise<number> {
		return (
			(await this.tx<number>('readonly', (s) => (room === undefined ? s.index('relay').count(this.relay) : s.index('order').count(this.range(room))))) ?? 0
		);
	}
}
