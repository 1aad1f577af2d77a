/**
 * The relay's storage rules over a minimal SQL interface, so the Node build (better-sqlite3) and
 * the Durable Object build (SQLite-backed storage) store, deduplicate, count and expire items the
 * same way. Every call is synchronous; `append` runs in the caller's transaction.
 *
 * Tables: `rooms` (one row per room: head sequence number, item and byte counts, last activity)
 * and `items` (room, seq, dedup key, ciphertext, and for a bundle the tags it claims). Items are
 * never updated or deleted one by one: a room is deleted whole, by the retention policy (no write
 * and no open for `retentionMs`).
 *
 * Dedup. A single item's key is its tag (32 bytes): a second item with that tag is not stored. A
 * bundle's tags are a claim the relay cannot check, so they never stop anything else from being
 * stored: a bundle's key is 0x01 ‖ SHA-256 of its ciphertext (33 bytes, never equal to a tag), so
 * only the very same bundle again (a retry: clients seal bundles deterministically) is not stored,
 * and a bundle whose every tag is held by a single item already adds nothing and is not stored
 * either. A lying tag list can therefore neither hide nor replace an item, and a re-upload of
 * events already held does not grow the room. Quota: a bundle counts one item per tag, and its
 * ciphertext plus 32 bytes per tag.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64url, toBase64url } from '../lib/contract/encoding';
import { RelayError, TAG_BYTES, type RawItem, type RelayLimits, type StoredItem, type WireItem } from './protocol';

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

export interface RawReadResult {
	items: RawItem[];
	head: number;
	more: boolean;
	/** With compactions: the last sequence number the page accounts for. */
	end?: number;
}

export interface CompactResult {
	/** Per bundle: how many single items it now stands in for (0: none, so it was not kept). */
	covered: number[];
	loose: number;
}

/** Compactions one room keeps at most (a link holder writing junk ones stops further compaction, never reading). */
export const MAX_COMPACTIONS_PER_ROOM = 200;

const f64s = (xs: readonly number[]) => {
	const out = new Uint8Array(xs.length * 8);
	const v = new DataView(out.buffer);
	xs.forEach((x, i) => v.setFloat64(i * 8, x));
	return out;
};
const fromF64s = (b: Uint8Array) => {
	const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
	return Array.from({ length: b.length / 8 }, (_, i) => v.getFloat64(i * 8));
};

/** SQLite hands blobs back as Buffer (Node) or ArrayBuffer (workerd). */
const bytesOf = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer));

export class RelayStore {
	constructor(
		private readonly sql: Sql,
		private readonly limits: RelayLimits,
		/** Blob encoders: Node passes Buffer-based ones (faster); the defaults are plain JS. */
		private readonly codec: { decode(text: string): Uint8Array; encode(bytes: Uint8Array): string; sha256?(bytes: Uint8Array): Uint8Array } = {
			decode: fromBase64url,
			encode: toBase64url
		}
	) {}

	private bundleKey(data: Uint8Array): Uint8Array {
		const key = new Uint8Array(33);
		key[0] = 1;
		key.set((this.codec.sha256 ?? sha256)(data), 1);
		return key;
	}

	init(): void {
		this.sql.run(
			'CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, head INTEGER NOT NULL, items INTEGER NOT NULL, bytes INTEGER NOT NULL, created INTEGER NOT NULL, touched INTEGER NOT NULL)'
		);
		this.sql.run('CREATE TABLE IF NOT EXISTS items (room TEXT NOT NULL, seq INTEGER NOT NULL, tag BLOB NOT NULL, data BLOB NOT NULL, tags BLOB, PRIMARY KEY (room, seq))');
		// A database from before bundles: add their column (its items read as single items, as before).
		try {
			this.sql.all('SELECT tags FROM items LIMIT 0');
		} catch {
			this.sql.run('ALTER TABLE items ADD COLUMN tags BLOB');
		}
		this.sql.run('CREATE UNIQUE INDEX IF NOT EXISTS items_tag ON items (room, tag)');
		// Compactions (see `compact`): beside the item sequence, never in it.
		this.sql.run(
			'CREATE TABLE IF NOT EXISTS compactions (room TEXT NOT NULL, key BLOB NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL, tags BLOB NOT NULL, covers BLOB NOT NULL, data BLOB NOT NULL, PRIMARY KEY (room, key))'
		);
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
		const fresh: (StoredItem & { bytes: Uint8Array; tagBytes: Uint8Array; tagsBytes: Uint8Array | null })[] = [];
		/** Keys stored (or found) by this push: single tags as text, bundle keys as 'b' + base64url. */
		const inPush = new Map<string, number>();
		let head = row?.head ?? 0;
		let addBytes = 0;
		let addItems = 0;
		const stored = (key: string, keyBytes: Uint8Array): number | undefined =>
			inPush.get(key) ?? (row ? this.sql.all<{ seq: number }>('SELECT seq FROM items WHERE room = ? AND tag = ?', room, keyBytes)[0]?.seq : undefined);
		for (const item of items) {
			if (item.tags) {
				const bytes = this.codec.decode(item.data);
				const keyBytes = this.bundleKey(bytes);
				const key = 'b' + this.codec.encode(keyBytes);
				let seq = stored(key, keyBytes);
				if (seq === undefined) {
					// Every event it claims held by a single item: it adds nothing (its seq: the last of theirs).
					let last = 0;
					for (const t of item.tags) {
						const s = stored(t, this.codec.decode(t));
						if (s === undefined) {
							last = 0;
							break;
						}
						last = Math.max(last, s);
					}
					if (last) seq = last;
				}
				if (seq === undefined) {
					seq = ++head;
					const tagsBytes = new Uint8Array(item.tags.length * TAG_BYTES);
					item.tags.forEach((t, i) => tagsBytes.set(this.codec.decode(t), i * TAG_BYTES));
					addBytes += bytes.length + tagsBytes.length;
					addItems += item.tags.length;
					fresh.push({ seq, tags: item.tags, data: item.data, bytes, tagBytes: keyBytes, tagsBytes });
				}
				inPush.set(key, seq);
				seqs.push(seq);
				continue;
			}
			const tagBytes = this.codec.decode(item.tag);
			const old = stored(item.tag, tagBytes);
			if (old !== undefined) {
				seqs.push(old);
				inPush.set(item.tag, old);
				continue;
			}
			const bytes = this.codec.decode(item.data);
			addBytes += bytes.length;
			addItems++;
			const seq = ++head;
			seqs.push(seq);
			inPush.set(item.tag, seq);
			fresh.push({ seq, tag: item.tag, data: item.data, bytes, tagBytes, tagsBytes: null });
		}
		const count = (row?.items ?? 0) + addItems;
		const total = (row?.bytes ?? 0) + addBytes;
		if (count > this.limits.maxItemsPerRoom)
			throw new RelayError('room-full', `This room is full: it holds at most ${this.limits.maxItemsPerRoom} items (it has ${row?.items ?? 0}); nothing of this push was stored.`);
		if (total > this.limits.maxBytesPerRoom)
			throw new RelayError('room-full', `This room is full: it holds at most ${this.limits.maxBytesPerRoom} bytes (it has ${row?.bytes ?? 0}); nothing of this push was stored.`);
		for (const f of fresh) this.sql.run('INSERT INTO items (room, seq, tag, data, tags) VALUES (?, ?, ?, ?, ?)', room, f.seq, f.tagBytes, f.bytes, f.tagsBytes);
		if (row) {
			if (fresh.length) this.sql.run('UPDATE rooms SET head = ?, items = ?, bytes = ?, touched = ? WHERE room = ?', head, count, total, now, room);
		} else this.sql.run('INSERT INTO rooms (room, head, items, bytes, created, touched) VALUES (?, ?, ?, ?, ?, ?)', room, head, count, total, now, now);
		return { seqs, head, created: !row, fresh: fresh.map(({ seq, tag, tags, data }) => (tags ? { seq, tags, data } : { seq, tag: tag!, data })) };
	}

	/** Items after `after`, oldest first, at most maxPullItems / maxPullBytes (always at least one). */
	read(room: string, after: number): ReadResult {
		const r = this.readRaw(room, after);
		const items: StoredItem[] = r.items.map((i) => {
			if (!i.tags) return { seq: i.seq, tag: this.codec.encode(i.tag!), data: this.codec.encode(i.data) };
			const list: string[] = [];
			for (let k = 0; k < i.tags.length; k += TAG_BYTES) list.push(this.codec.encode(i.tags.subarray(k, k + TAG_BYTES)));
			return { seq: i.seq, tags: list, data: this.codec.encode(i.data) };
		});
		return { items, head: r.head, more: r.more };
	}

	/** `read`, with the stored bytes as they are (for binary frames: nothing to encode). */
	readRaw(room: string, after: number): RawReadResult {
		const head = this.room(room)?.head ?? 0;
		if (after >= head) return { items: [], head, more: false };
		// Sizes first (SQLite reads a blob's length without its content), then only the rows that fit:
		// a page of a few bundles must not load the rest of the room.
		const sizes = this.sql.all<{ seq: number; size: number }>(
			'SELECT seq, length(data) + coalesce(length(tags), 0) AS size FROM items WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?',
			room,
			after,
			this.limits.maxPullItems
		);
		let last = after;
		let total = 0;
		for (const r of sizes) {
			if (last > after && total + r.size > this.limits.maxPullBytes) break;
			total += r.size;
			last = r.seq;
		}
		const rows = this.sql.all<{ seq: number; tag: unknown; data: unknown; tags: unknown }>(
			'SELECT seq, tag, data, tags FROM items WHERE room = ? AND seq > ? AND seq <= ? ORDER BY seq',
			room,
			after,
			last
		);
		const items: RawItem[] = [];
		let bytes = 0;
		for (const r of rows) {
			const data = bytesOf(r.data);
			const tags = r.tags == null ? null : bytesOf(r.tags);
			const size = data.length + (tags?.length ?? 0);
			if (items.length > 0 && bytes + size > this.limits.maxPullBytes) break;
			bytes += size;
			items.push(tags ? { seq: r.seq, tags, data } : { seq: r.seq, tag: bytesOf(r.tag), data });
		}
		const end = items.at(-1)?.seq ?? after;
		return { items, head, more: end < head };
	}

	/**
	 * Compaction: bundles a device re-uploads for a room whose events went up one by one, each
	 * standing in, for a reader, for the single items that hold the tags it claims. The relay cannot
	 * check a claim; it records which single item holds each claimed tag (`covers`), and a reader
	 * checks the claim against what the bundle opens to before it counts those items as read
	 * (relay-client.ts), so a lying compaction costs a reader time, never an event. A seq already
	 * covered by an earlier compaction is not covered again; a bundle that covers nothing new is not
	 * kept; the very same bundle again is a retry. Counted against the room's byte quota (ciphertext
	 * and 40 bytes per tag); at most MAX_COMPACTIONS_PER_ROOM of them. Call inside a transaction.
	 */
	compact(room: string, items: readonly { tags: string[]; data: string }[]): CompactResult {
		const row = this.room(room);
		if (!row) return { covered: items.map(() => 0), loose: 0 };
		const units = this.sql.all<{ covers: unknown }>('SELECT covers FROM compactions WHERE room = ?', room);
		const taken = new Set<number>();
		for (const u of units) for (const c of fromF64s(bytesOf(u.covers))) if (c) taken.add(c);
		let count = units.length;
		let bytes = row.bytes;
		const covered: number[] = [];
		for (const item of items) {
			const data = this.codec.decode(item.data);
			const key = this.bundleKey(data);
			if (this.sql.all('SELECT 1 FROM compactions WHERE room = ? AND key = ?', room, key).length) {
				covered.push(0);
				continue;
			}
			const covers = item.tags.map((t) => {
				const seq = this.sql.all<{ seq: number }>('SELECT seq FROM items WHERE room = ? AND tag = ? AND tags IS NULL', room, this.codec.decode(t))[0]?.seq;
				if (seq === undefined || taken.has(seq)) return 0;
				taken.add(seq);
				return seq;
			});
			const real = covers.filter((c) => c > 0);
			covered.push(real.length);
			if (!real.length) continue;
			if (++count > MAX_COMPACTIONS_PER_ROOM)
				throw new RelayError('room-full', `This room keeps at most ${MAX_COMPACTIONS_PER_ROOM} compactions; nothing of this one was stored. Its items are still read one by one.`);
			bytes += data.length + item.tags.length * (TAG_BYTES + 8);
			if (bytes > this.limits.maxBytesPerRoom)
				throw new RelayError('room-full', `This room is full: it holds at most ${this.limits.maxBytesPerRoom} bytes (it has ${row.bytes}); nothing of this compaction was stored.`);
			const tagsBytes = new Uint8Array(item.tags.length * TAG_BYTES);
			item.tags.forEach((t, i) => tagsBytes.set(this.codec.decode(t), i * TAG_BYTES));
			this.sql.run(
				'INSERT INTO compactions (room, key, lo, hi, tags, covers, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
				room,
				key,
				Math.min(...real),
				Math.max(...real),
				tagsBytes,
				f64s(covers),
				data
			);
		}
		if (bytes !== row.bytes) this.sql.run('UPDATE rooms SET bytes = ? WHERE room = ?', bytes, room);
		return { covered, loose: this.loose(room) };
	}

	/** Single items after the last one a compaction covers: what a new compaction would gain. */
	loose(room: string): number {
		const hi = this.sql.all<{ hi: number | null }>('SELECT max(hi) AS hi FROM compactions WHERE room = ?', room)[0]?.hi ?? 0;
		return Number(this.sql.all<{ n: number }>('SELECT count(*) AS n FROM items WHERE room = ? AND seq > ? AND tags IS NULL', room, hi)[0]?.n ?? 0);
	}

	/**
	 * A page for a reader that takes compactions: from `after` on, each single item a compaction
	 * covers is left out and the compaction sent once in its place (at its first covered item); the
	 * items no compaction covers come as they are. `end`: the last sequence number accounted for.
	 * Past the last covered item, pages are plain `readRaw` ones.
	 */
	readCompacted(room: string, after: number): RawReadResult {
		const units = this.sql.all<{ key: unknown; hi: number; tags: unknown; covers: unknown; size: number }>(
			'SELECT key, hi, tags, covers, length(data) + length(tags) + length(covers) AS size FROM compactions WHERE room = ? AND hi > ? ORDER BY lo, hi',
			room,
			after
		);
		if (!units.length) return this.readRaw(room, after);
		const head = this.room(room)?.head ?? 0;
		const unitOf = new Map<number, number>();
		const covers = units.map((u) => fromF64s(bytesOf(u.covers)));
		let last = 0;
		covers.forEach((cs, u) => {
			for (const c of cs) if (c > after && !unitOf.has(c)) (unitOf.set(c, u), (last = Math.max(last, c)));
		});
		const items: RawItem[] = [];
		const chosen = new Set<number>();
		let bytes = 0;
		let pos = after;
		while (pos < Math.min(head, last)) {
			const s = pos + 1;
			const u = unitOf.get(s);
			if (u !== undefined) {
				if (!chosen.has(u)) {
					if (items.length && bytes + units[u]!.size > this.limits.maxPullBytes) break;
					chosen.add(u);
					bytes += units[u]!.size;
					const data = bytesOf(this.sql.all<{ data: unknown }>('SELECT data FROM compactions WHERE room = ? AND key = ?', room, units[u]!.key)[0]!.data);
					items.push({ seq: units[u]!.hi, tags: bytesOf(units[u]!.tags), covers: covers[u], data });
				}
				pos = s;
				continue;
			}
			const r = this.sql.all<{ seq: number; tag: unknown; data: unknown; tags: unknown }>('SELECT seq, tag, data, tags FROM items WHERE room = ? AND seq = ?', room, s)[0];
			if (r) {
				const data = bytesOf(r.data);
				const tags = r.tags == null ? null : bytesOf(r.tags);
				const size = data.length + (tags?.length ?? 0);
				if (items.length && (bytes + size > this.limits.maxPullBytes || items.length >= this.limits.maxPullItems)) break;
				bytes += size;
				items.push(tags ? { seq: s, tags, data } : { seq: s, tag: bytesOf(r.tag), data });
			}
			pos = s;
		}
		return { items, head, more: pos < head, end: pos };
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
			this.sql.run('DELETE FROM compactions WHERE room = ?', room);
			this.sql.run('DELETE FROM rooms WHERE room = ?', room);
		}
		return old;
	}
}
