/**
 * The relay's storage rules over a minimal SQL interface, so the Node build (better-sqlite3) and
 * the Durable Object build (SQLite-backed storage) store, deduplicate, count and expire items the
 * same way. Every call is synchronous; `append` runs in the caller's transaction.
 *
 * Tables: `rooms` (one row per room: head sequence number, item and byte counts, last activity)
 * and `items` (room, seq, dedup tag, ciphertext). Items are never updated or deleted one by one:
 * a room is deleted whole, by the retention policy (no write and no open for `retentionMs`).
 */
import { fromBase64url, toBase64url } from '../lib/contract/encoding';
import { RelayError, type RelayLimits, type StoredItem, type WireItem } from './protocol';

export interface Sql {
	all<T>(query: string, ...params: unknown[]): T[];
	run(query: string, ...params: unknown[]): void;
	transaction<T>(fn: () => T): T;
}

export interface RoomRow {
	head: number;
	items: number;
	bytes: number;
	created: number;
	touched: number;
}

export interface AppendResult {
	/** The sequence number of each pushed item, in order (an item already stored keeps its first one). */
	seqs: number[];
	/** The items this push stored for the first time, to deliver live. */
	fresh: StoredItem[];
	head: number;
	/** This push created the room. */
	created: boolean;
}

export interface ReadResult {
	items: StoredItem[];
	head: number;
	more: boolean;
}

/** SQLite hands blobs back as Buffer (Node) or ArrayBuffer (workerd). */
const bytesOf = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer));

export class RelayStore {
	constructor(
		private readonly sql: Sql,
		private readonly limits: RelayLimits,
		/** Blob encoders: Node passes Buffer-based ones (faster); the defaults are plain JS. */
		private readonly codec: { decode(text: string): Uint8Array; encode(bytes: Uint8Array): string } = { decode: fromBase64url, encode: toBase64url }
	) {}

	init(): void {
		this.sql.run(
			'CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, head INTEGER NOT NULL, items INTEGER NOT NULL, bytes INTEGER NOT NULL, created INTEGER NOT NULL, touched INTEGER NOT NULL)'
		);
		this.sql.run('CREATE TABLE IF NOT EXISTS items (room TEXT NOT NULL, seq INTEGER NOT NULL, tag BLOB NOT NULL, data BLOB NOT NULL, PRIMARY KEY (room, seq))');
		this.sql.run('CREATE UNIQUE INDEX IF NOT EXISTS items_tag ON items (room, tag)');
		this.sql.run('CREATE INDEX IF NOT EXISTS rooms_touched ON rooms (touched)');
	}

	room(room: string): RoomRow | undefined {
		return this.sql.all<RoomRow>('SELECT head, items, bytes, created, touched FROM rooms WHERE room = ?', room)[0];
	}

	/**
	 * Store one push, all or nothing: items already in the room (same tag) keep their sequence
	 * number; the rest get the next ones. Refused whole when it would pass the room's quota.
	 * Call inside a transaction (the caller groups several pushes into one commit).
	 */
	append(room: string, items: readonly WireItem[], now: number): AppendResult {
		const row = this.room(room);
		const seqs: number[] = [];
		const fresh: (StoredItem & { bytes: Uint8Array; tagBytes: Uint8Array })[] = [];
		const inPush = new Map<string, number>();
		let head = row?.head ?? 0;
		let addBytes = 0;
		for (const item of items) {
			const again = inPush.get(item.tag);
			if (again !== undefined) {
				seqs.push(again);
				continue;
			}
			const tagBytes = this.codec.decode(item.tag);
			const old = row ? this.sql.all<{ seq: number }>('SELECT seq FROM items WHERE room = ? AND tag = ?', room, tagBytes)[0] : undefined;
			if (old) {
				seqs.push(old.seq);
				inPush.set(item.tag, old.seq);
				continue;
			}
			const bytes = this.codec.decode(item.data);
			addBytes += bytes.length;
			const seq = ++head;
			seqs.push(seq);
			inPush.set(item.tag, seq);
			fresh.push({ seq, tag: item.tag, data: item.data, bytes, tagBytes });
		}
		const count = (row?.items ?? 0) + fresh.length;
		const total = (row?.bytes ?? 0) + addBytes;
		if (count > this.limits.maxItemsPerRoom)
			throw new RelayError('room-full', `This room is full: it holds at most ${this.limits.maxItemsPerRoom} items (it has ${row?.items ?? 0}); nothing of this push was stored.`);
		if (total > this.limits.maxBytesPerRoom)
			throw new RelayError('room-full', `This room is full: it holds at most ${this.limits.maxBytesPerRoom} bytes (it has ${row?.bytes ?? 0}); nothing of this push was stored.`);
		for (const f of fresh) this.sql.run('INSERT INTO items (room, seq, tag, data) VALUES (?, ?, ?, ?)', room, f.seq, f.tagBytes, f.bytes);
		if (row) {
			if (fresh.length) this.sql.run('UPDATE rooms SET head = ?, items = ?, bytes = ?, touched = ? WHERE room = ?', head, count, total, now, room);
		} else this.sql.run('INSERT INTO rooms (room, head, items, bytes, created, touched) VALUES (?, ?, ?, ?, ?, ?)', room, head, count, total, now, now);
		return { seqs, head, created: !row, fresh: fresh.map(({ seq, tag, data }) => ({ seq, tag, data })) };
	}

	/** Items after `after`, oldest first, at most maxPullItems / maxPullBytes (always at least one). */
	read(room: string, after: number): ReadResult {
		const head = this.room(room)?.head ?? 0;
		if (after >= head) return { items: [], head, more: false };
		const rows = this.sql.all<{ seq: number; tag: unknown; data: unknown }>(
			'SELECT seq, tag, data FROM items WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?',
			room,
			after,
			this.limits.maxPullItems
		);
		const items: StoredItem[] = [];
		let bytes = 0;
		for (const r of rows) {
			const data = bytesOf(r.data);
			if (items.length > 0 && bytes + data.length > this.limits.maxPullBytes) break;
			bytes += data.length;
			items.push({ seq: r.seq, tag: this.codec.encode(bytesOf(r.tag)), data: this.codec.encode(data) });
		}
		const last = items.at(-1)?.seq ?? after;
		return { items, head, more: last < head };
	}

	/** Every room stored (a Durable Object holds one). */
	roomNames(): string[] {
		return this.sql.all<{ room: string }>('SELECT room FROM rooms').map((r) => r.room);
	}

	/** Mark a room as in use (opened), at most once per hour of activity, so reads keep it alive too. */
	touch(room: string, now: number): void {
		this.sql.run('UPDATE rooms SET touched = ? WHERE room = ? AND touched < ?', now, room, now - 3_600_000);
	}

	/** Retention: delete every room untouched for `retentionMs`, whole. Returns the rooms deleted. */
	expire(now: number): string[] {
		const old = this.sql.all<{ room: string }>('SELECT room FROM rooms WHERE touched < ?', now - this.limits.retentionMs).map((r) => r.room);
		for (const room of old) {
			this.sql.run('DELETE FROM items WHERE room = ?', room);
			this.sql.run('DELETE FROM rooms WHERE room = ?', room);
		}
		return old;
	}
}
