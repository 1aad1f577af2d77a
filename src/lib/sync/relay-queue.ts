/**
 * Events waiting to reach the relay. Every event written on this device is queued (per relay
 * room) and removed only once the relay acknowledged it, which means it is durable there; a queue
 * that survives a reload (IndexedDB, later) makes "written offline, uploaded when online" hold
 * across restarts. Queueing the same event twice keeps one entry.
 */

export interface QueuedUpload {
	/** The relay room (derived from the contract's link secret). */
	room: string;
	/** The event id. */
	id: string;
	/** The signed envelope, exactly as stored in the contract. */
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
