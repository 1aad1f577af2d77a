/**
 * A checkpoint of one contract's log on this device: the events it verified and folded, in fold
 * order, and the state they derived, so that reopening the contract verifies and folds only what
 * is new (see `ContractLog.checkpoint` and `restoreCheckpoint`).
 *
 * Kept in the contract's own database, next to the document's updates (persistence.ts reads it
 * while the updates load; checkpoint-records.ts lays it out), so removing the contract removes it
 * too. It never lets anything unverified in:
 *  - It holds only what the log had verified; whatever was waiting, unchecked or junk comes back
 *    from the document and is checked like anything new.
 *  - It vouches for the envelopes it verified without storing them (they are the document's values,
 *    and reading megabytes from IndexedDB costs more than verifying them again): it names the Yjs
 *    item that held each one, and is used only if the document's value under each id is still held
 *    by that very item. A Yjs item id (client, clock) names one content for good inside a document:
 *    an update carrying an id the document already holds is skipped, whatever it carries, and what
 *    y-indexeddb stores is what the document integrated. Peers write the document, so this is the
 *    check that matters against them: a value a peer wrote since (another signature, junk, a
 *    deletion) is another item, and then the checkpoint is ignored and the contract is verified and
 *    folded from its events as on a first open. (It was a BLAKE3 hash of every envelope until
 *    format 3: hashing 5.7 MB of envelopes cost a third of a reopen; comparing item ids costs a
 *    map lookup each.)
 *  - A checkpoint of another contract, format or build of the app (whose rules might fold
 *    differently) is ignored, and so is one whose text changed since it was written: a 64-bit
 *    checksum over everything else it says detects corruption. A checksum, not a signature: the
 *    checkpoint lives in this device's own storage, which the threat model trusts (whoever can
 *    rewrite this origin's storage can rewrite the app's keys and data generally).
 *
 * What makes it fast to read back (tests/bench/open.ts, `reopen…`): one JSON text, stored as a
 * string (structured clone reads it back as it was: no UTF-8 decoding, which cost as much as
 * parsing it), that does not repeat what the envelopes or the events already say (IndexedDB reads
 * cost about as much per megabyte in Chromium as applying the Yjs document). The events' ids, prevs,
 * deps, authors and contract are written as positions and table indices; the state refers to events
 * by fold position (a list of events as runs of positions), and a message in the state that is
 * exactly what its event says is written as the event's position and the sender's role. The
 * state's Maps, Sets, the Ledger, undefined values and objects it reaches twice are tagged; anything
 * else (another class, a non-finite number) makes the checkpoint refuse to be written, so a change
 * to the state's shape can only cost speed, never correctness.
 */
import type { Ev, ContractState } from '../contract/state';
import type { CheckpointEvent, LogCheckpoint } from '../contract/log';
import { Ledger } from '../contract/ledger';
import { toBase64url } from '../contract/encoding';
import type * as Y from 'yjs';

/** Bump when the encoding changes: older checkpoints are then ignored. */
export const CHECKPOINT_FORMAT = 3;

export interface StoredCheckpoint {
	format: number;
	contract: string;
	/** The build of the app that wrote it: another build may fold differently. */
	rules: string;
	/** JSON of the events and the state (`Body`): a string, which IndexedDB reads back without decoding. */
	body: string;
	/** A 64-bit checksum (base64url; `checksumOf`) over format, contract, rules and body. */
	checksum: string;
}

interface Body {
	/** The events' ids (43 characters each), one after another in fold order. */
	ids: string;
	/** Their kept envelopes' signatures, by position, where the envelope does not end with it (as every envelope `encodeEnvelope` writes does). */
	sigs: Record<number, string>;
	/** Per event: its envelope's length (UTF-16 code units, as JavaScript counts). */
	lengths: number[];
	/** Per event: the Yjs item that held its envelope, as an index into `clients` and the item's clock. */
	itemClients: number[];
	itemClocks: number[];
	clients: number[];
	levels: number[];
	/** Per event: 'v' own signature verified, 'c' vouched for; upper case if the kept envelope's signature verified. */
	flags: string;
	/** Authors and event types, by the index the events use. */
	authors: string[];
	types: string[];
	/** The decoded bodies in fold order (`compactEvent`), tagged only if `evTags`. */
	evs: unknown[];
	evTags: boolean;
	state: unknown;
}

const ID_LENGTH = 43;
const SIG_LENGTH = 86;

/** Classes the state may hold, by name. */
const CLASSES: Record<string, { prototype: object }> = { Ledger };
const TAG = '\u0000';

export class CheckpointUnsupported extends Error {}

/**
 * The stored form of `cp`, with its checksum. `events` is the document's map: each event's envelope
 * must be the value it holds now (the item holding it is what the checkpoint names); a log whose
 * kept envelope the map does not hold (a peer overwrote it, and it is not written back yet) cannot
 * be checkpointed now.
 */
export async function encodeCheckpoint(cp: LogCheckpoint, rules: string, events: Y.Map<string>): Promise<StoredCheckpoint> {
	// Everything is read synchronously first: the state and the document are live.
	const folded = cp.events;
	const index = new Map<object, number>();
	const position = new Map<string, number>();
	const clients = new Map<number, number>();
	const itemClients: number[] = new Array(folded.length);
	const itemClocks: number[] = new Array(folded.length);
	folded.forEach((e, i) => {
		if (e.id.length !== ID_LENGTH || e.sig.length !== SIG_LENGTH) throw new CheckpointUnsupported('an id or signature of another length');
		const held = heldBy(events, e.id);
		if (!held || held.value !== e.raw) throw new CheckpointUnsupported('an envelope the document does not hold now');
		itemClients[i] = indexIn(clients, held.client);
		itemClocks[i] = held.clock;
		index.set(e.ev, i);
		position.set(e.id, i);
	});
	const enc = new Encoder(index, folded);
	const tables: Tables = { authors: new Map(), types: new Map() };
	const evs = folded.map((e) => compactEvent(enc.plain(e.ev) as Record<string, unknown>, cp.contract, position, tables));
	const evTags = enc.tagged;
	const body: Body = {
		ids: folded.map((e) => e.id).join(''),
		sigs: Object.fromEntries(folded.flatMap((e, i) => (e.raw.endsWith(`"sig":"${e.sig}"}`) ? [] : [[i, e.sig]]))),
		lengths: folded.map((e) => e.raw.length),
		itemClients,
		itemClocks,
		clients: [...clients.keys()],
		levels: folded.map((e) => e.level),
		flags: folded.map(flag).join(''),
		authors: [...tables.authors.keys()],
		types: [...tables.types.keys()],
		evs,
		evTags,
		state: enc.state(cp.state)
	};
	const json = JSON.stringify(body);
	return { format: CHECKPOINT_FORMAT, contract: cp.contract, rules, body: json, checksum: checksumOf(CHECKPOINT_FORMAT, cp.contract, rules, json) };
}

/**
 * A checkpoint read back and decoded, not yet checked against the document (`checkAgainst`). Decoding
 * needs no document, so the app does it while the document's updates are still loading.
 */
export interface ParsedCheckpoint {
	contract: string;
	/** The events, their `raw` (and `sig` where it is the envelope's own) filled in by `checkAgainst`. */
	events: CheckpointEvent[];
	state: ContractState;
	lengths: number[];
	itemClients: number[];
	itemClocks: number[];
	clients: number[];
}

/** The checkpoint `stored` holds for `contract`, if it is intact and of this format and build; otherwise null. */
export function parseCheckpoint(stored: unknown, contract: string, rules: string): ParsedCheckpoint | null {
	try {
		const s = stored as StoredCheckpoint;
		if (!s || s.format !== CHECKPOINT_FORMAT || s.contract !== contract || s.rules !== rules) return null;
		if (typeof s.body !== 'string' || typeof s.checksum !== 'string') return null;
		if (checksumOf(s.format, s.contract, s.rules, s.body) !== s.checksum) return null;
		const body = JSON.parse(s.body) as Body;
		const { lengths, itemClients, itemClocks, clients, evs } = body;
		const n = evs.length;
		if (body.ids.length !== n * ID_LENGTH || typeof body.sigs !== 'object' || lengths.length !== n || itemClients.length !== n || itemClocks.length !== n || body.levels.length !== n || body.flags.length !== n)
			return null;
		// Each id cut once: the same string serves the item lookup, the event and every reference to it.
		const ids: string[] = new Array(n);
		for (let i = 0; i < n; i++) ids[i] = body.ids.slice(i * ID_LENGTH, (i + 1) * ID_LENGTH);
		const dec = new Decoder();
		if (body.evTags) dec.value(evs);
		const folded: CheckpointEvent[] = new Array(n);
		for (let i = 0; i < n; i++) {
			const ev = expandEvent(evs[i], ids, contract, body.authors, body.types, i);
			evs[i] = ev;
			const f = body.flags[i]!;
			folded[i] = { id: ev.id, raw: '', sig: body.sigs[i] ?? '', level: body.levels[i]!, authentic: f === 'v' || f === 'V' ? 'valid' : 'chained', rawVerified: f === 'V' || f === 'C', ev };
		}
		dec.events = evs as Ev[];
		const state = dec.value(body.state) as ContractState;
		return { contract, events: folded, state, lengths, itemClients, itemClocks, clients };
	} catch {
		return null;
	}
}

/**
 * The checkpoint `parsed` as the log restores it, if the document's map `events` holds each envelope
 * it verified in the very Yjs item it held it in then; otherwise null. Use it once: it fills `parsed`.
 */
export function checkAgainst(parsed: ParsedCheckpoint, events: Y.Map<string>): LogCheckpoint | null {
	const { lengths, itemClients, itemClocks, clients } = parsed;
	const items = itemsOf(events);
	const folded = parsed.events;
	for (let i = 0; i < folded.length; i++) {
		const e = folded[i]!;
		const item = items.get(e.id);
		if (!item || item.deleted || item.id.clock !== itemClocks[i] || item.id.client !== clients[itemClients[i]!]) return null;
		const raw: unknown = item.content.getContent()[item.length - 1];
		if (typeof raw !== 'string' || raw.length !== lengths[i]) return null;
		e.raw = raw;
		if (!e.sig) e.sig = raw.slice(-SIG_LENGTH - 2, -2);
	}
	return { contract: parsed.contract, events: folded, state: parsed.state };
}

/** `parseCheckpoint`, then `checkAgainst` the document's map `events`. */
export async function decodeCheckpoint(stored: unknown, contract: string, rules: string, events: Y.Map<string>): Promise<LogCheckpoint | null> {
	const parsed = parseCheckpoint(stored, contract, rules);
	return parsed && checkAgainst(parsed, events);
}

/**
 * The items of a Y.Map by key: Yjs keeps them in `_map` (internal, unchanged since Yjs 13.0; the
 * checkpoint tests fail if it changes). A key's value is the last element of its item's content,
 * as `Y.Map.get` reads it.
 */
function itemsOf(map: Y.Map<string>): Map<string, Y.Item> {
	const items = (map as unknown as { _map?: unknown })._map;
	if (!(items instanceof Map)) throw new Error('Yjs keeps a map\'s items elsewhere: checkpoints cannot name them.');
	return items as Map<string, Y.Item>;
}

/** The item holding the map's value under `key` now, with that value. */
function heldBy(map: Y.Map<string>, key: string): { client: number; clock: number; value: unknown } | undefined {
	const item = itemsOf(map).get(key);
	if (!item || item.deleted) return undefined;
	return { client: item.id.client, clock: item.id.clock, value: item.content.getContent()[item.length - 1] };
}

function flag(e: CheckpointEvent): string {
	const f = e.authentic === 'valid' ? 'v' : 'c';
	return e.rawVerified ? f.toUpperCase() : f;
}

/**
 * A 64-bit checksum over the header and the body (the header has the body's length, so nothing is
 * ambiguous): two lanes of MurmurHash3's 32-bit mixing with different seeds, over the UTF-16 code
 * units two at a time. It detects corruption, nothing more (see the top of this file). Written here
 * rather than taken from hash-wasm: a wasm hash needs the string as bytes, and encoding 2 MB to UTF-8
 * cost Chromium about 40 ms per reopen, against a few for this loop.
 */
function checksumOf(format: number, contract: string, rules: string, body: string): string {
	const lanes = new Int32Array([0x9747b28c, 0x1b873593 ^ body.length]);
	// Header and body apart: hashing one concatenated string would walk a rope, several times slower.
	mix(JSON.stringify([format, contract, rules, body.length]), lanes);
	mix(body, lanes);
	const out = new Uint8Array(8);
	const view = new DataView(out.buffer);
	view.setUint32(0, finish(lanes[0]! ^ body.length));
	view.setUint32(4, finish(lanes[1]! ^ lanes[0]!));
	return toBase64url(out);
}

function mix(text: string, lanes: Int32Array): void {
	let a = lanes[0]!;
	let b = lanes[1]!;
	const n = text.length & ~1;
	for (let i = 0; i < n; i += 2) {
		let k = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
		k = Math.imul(k, 0xcc9e2d51);
		k = (k << 15) | (k >>> 17);
		k = Math.imul(k, 0x1b873593);
		a ^= k;
		a = (a << 13) | (a >>> 19);
		a = (Math.imul(a, 5) + 0xe6546b64) | 0;
		b ^= Math.imul(k, 0x85ebca6b);
		b = (b << 17) | (b >>> 15);
		b = (Math.imul(b, 9) + 0x7ff5cd3b) | 0;
	}
	if (text.length & 1) {
		a = Math.imul(a ^ text.charCodeAt(n), 0xcc9e2d51);
		b = Math.imul(b ^ text.charCodeAt(n), 0x85ebca6b);
	}
	lanes[0] = a;
	lanes[1] = b;
}

/** MurmurHash3's final avalanche. */
function finish(h: number): number {
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	return (h ^ (h >>> 16)) >>> 0;
}

/** An event's keys, in the order the log's decoded bodies have them (`[...]` form of `compactEvent`). */
const EVENT_KEYS = ['v', 'contract', 'author', 'prev', 'deps', 'at', 'type', 'payload', 'id'];

interface Tables {
	authors: Map<string, number>;
	types: Map<string, number>;
}

/**
 * An event body as written: [v, contract, author, prev, deps, at, type, payload] when it has exactly
 * the keys of `EVENT_KEYS` in that order (every body the log decodes does), else an object. The id is
 * left out (the checkpoint's ids give it), the contract is 0 when it is this one, author and type are
 * indices into tables, prev and deps are fold positions where they name folded events.
 */
function compactEvent(o: Record<string, unknown>, contract: string, position: Map<string, number>, tables: Tables): unknown {
	const keys = Object.keys(o);
	if (keys.length !== EVENT_KEYS.length || keys.some((k, i) => k !== EVENT_KEYS[i]) || typeof o.author !== 'string' || typeof o.type !== 'string') return o;
	const deps = Array.isArray(o.deps) ? o.deps.map((d: unknown) => (typeof d === 'string' ? (position.get(d) ?? d) : d)) : o.deps;
	const prev = typeof o.prev === 'string' ? (position.get(o.prev) ?? o.prev) : o.prev;
	return [o.v, o.contract === contract ? 0 : o.contract, indexIn(tables.authors, o.author), prev, deps, o.at, indexIn(tables.types, o.type), o.payload];
}

function indexIn<K>(table: Map<K, number>, key: K): number {
	let i = table.get(key);
	if (i === undefined) table.set(key, (i = table.size));
	return i;
}

/** Back from `compactEvent`. Every position must be earlier than the event's own. */
function expandEvent(x: unknown, ids: string[], contract: string, authors: string[], types: string[], self: number): Ev {
	const id = ids[self]!;
	if (!Array.isArray(x)) {
		const o = x as Record<string, unknown>;
		if (o.id !== id) throw new Error('checkpoint: an event under another id');
		return o as unknown as Ev;
	}
	if (x.length !== 8) throw new Error('checkpoint: an event of another length');
	const [v, c, a, p, deps, at, t, payload] = x as [unknown, unknown, number, unknown, unknown[], unknown, number, unknown];
	const author = authors[a];
	const type = types[t];
	if (author === undefined || type === undefined || !Array.isArray(deps)) throw new Error('checkpoint: unknown author or type');
	for (let i = 0; i < deps.length; i++) if (typeof deps[i] === 'number') deps[i] = earlier(deps[i] as number, self, ids);
	const prev = typeof p === 'number' ? earlier(p, self, ids) : p;
	return { v, contract: c === 0 ? contract : c, author, prev, deps, at, type, payload, id } as unknown as Ev;
}

function earlier(p: number, self: number, ids: string[]): string {
	if (!(p >= 0 && p < self)) throw new Error('checkpoint: a reference to a later event');
	return ids[p]!;
}

/**
 * To JSON-safe values. Objects reached twice are written once and referenced after (two passes:
 * the first finds them). Events are referenced by their fold position; a list of events as runs of
 * positions; a message that is exactly what its event says as its position and the sender's role.
 */
class Encoder {
	tagged = false;
	private shared = new Map<object, number>();
	private written = new Set<object>();

	constructor(
		private readonly events: Map<object, number>,
		private readonly folded: CheckpointEvent[]
	) {}

	/** Whether values are the state's (lists of events and messages are written short) or an event's own. */
	private inState = false;

	/** An event body (its own content, not a reference to it): JSON values as decoded, tags only where not (then `tagged`). */
	plain(ev: object): unknown {
		this.inState = false;
		return this.content(ev);
	}

	state(s: ContractState): unknown {
		this.tagged = false;
		const seen = new Set<object>();
		const twice = new Set<object>();
		// First pass: which objects the state reaches more than once (events are references, not walked).
		const stack: unknown[] = [s];
		while (stack.length) {
			const v = stack.pop();
			if (typeof v !== 'object' || v === null || this.events.has(v)) continue;
			if (seen.has(v)) {
				twice.add(v);
				continue;
			}
			seen.add(v);
			if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
			else if (v instanceof Set) for (const x of v) stack.push(x);
			else for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
		}
		let n = 0;
		for (const o of twice) this.shared.set(o, n++);
		this.inState = true;
		return this.value(s);
	}

	private value(v: unknown): unknown {
		switch (typeof v) {
			case 'string':
			case 'boolean':
				return v;
			case 'number':
				if (!Number.isFinite(v)) throw new CheckpointUnsupported('a non-finite number');
				return v;
			case 'undefined':
				this.tagged = true;
				return { [TAG]: ['u'] };
			case 'object':
				return v === null ? null : this.object(v);
			default:
				throw new CheckpointUnsupported(`a ${typeof v}`);
		}
	}

	private object(o: object): unknown {
		const event = this.events.get(o);
		if (event !== undefined) {
			this.tagged = true;
			return { [TAG]: ['e', event] };
		}
		const ref = this.shared.get(o);
		if (ref !== undefined) {
			this.tagged = true;
			if (this.written.has(o)) return { [TAG]: ['r', ref] };
			this.written.add(o);
			return { [TAG]: ['d', ref, this.content(o)] };
		}
		if (this.inState && Array.isArray(o)) {
			const runs = this.eventRuns(o);
			if (runs) return { [TAG]: ['E', runs] };
			const messages = this.messages(o);
			if (messages) return { [TAG]: messages };
		} else if (this.inState) {
			const message = this.message(o);
			if (message) return { [TAG]: message };
		}
		return this.content(o);
	}

	/** A non-empty list of events only, as [first position, count, …]; otherwise undefined. */
	private eventRuns(list: unknown[]): number[] | undefined {
		if (!list.length) return undefined;
		const runs: number[] = [];
		for (const x of list) {
			const p = typeof x === 'object' && x !== null ? this.events.get(x) : undefined;
			if (p === undefined) return undefined;
			const last = runs.length - 2;
			if (last >= 0 && runs[last]! + runs[last + 1]! === p) runs[last + 1]!++;
			else runs.push(p, 1);
		}
		return runs;
	}

	/** A non-empty list of messages only (see `message`): ['L', positions, roles]. */
	private messages(list: unknown[]): [string, number[], string[]] | undefined {
		if (!list.length) return undefined;
		const positions: number[] = [];
		const roles: string[] = [];
		for (const x of list) {
			const m = typeof x === 'object' && x !== null && !this.shared.has(x) ? this.message(x) : undefined;
			if (!m) return undefined;
			positions.push(m[1]);
			roles.push(m[2]);
		}
		return ['L', positions, roles];
	}

	/** `{ id, author, role, at, text }` (in that order, nothing else) that its event's id, author, time and text give: ['M', position, role]. */
	private message(o: object): [string, number, string] | undefined {
		const m = o as Record<string, unknown>;
		if (typeof m.id !== 'string' || typeof m.role !== 'string' || Object.getPrototypeOf(o) !== Object.prototype) return undefined;
		const keys = Object.keys(o);
		if (keys.length !== 5 || keys[0] !== 'id' || keys[1] !== 'author' || keys[2] !== 'role' || keys[3] !== 'at' || keys[4] !== 'text') return undefined;
		const p = this.positionOf(m.id);
		if (p < 0) return undefined;
		const ev = this.folded[p]!.ev as Ev & { payload: { text?: unknown } };
		if (ev.type !== 'message.posted' || ev.author !== m.author || ev.at !== m.at || ev.payload.text !== m.text) return undefined;
		this.tagged = true;
		return ['M', p, m.role];
	}

	private ids?: Map<string, number>;
	private positionOf(id: string): number {
		if (!this.ids) {
			this.ids = new Map();
			this.folded.forEach((e, i) => this.ids!.set(e.id, i));
		}
		return this.ids.get(id) ?? -1;
	}

	private content(o: object): unknown {
		if (Array.isArray(o)) {
			const out = new Array(o.length);
			for (let i = 0; i < o.length; i++) out[i] = this.value(o[i]);
			return out;
		}
		const proto: unknown = Object.getPrototypeOf(o);
		if (proto === Object.prototype || proto === null) {
			if (proto === null) throw new CheckpointUnsupported('an object without prototype');
			const out: Record<string, unknown> = {};
			for (const k of Object.keys(o)) {
				if (k === TAG) throw new CheckpointUnsupported('a reserved key');
				out[k] = this.value((o as Record<string, unknown>)[k]);
			}
			return out;
		}
		this.tagged = true;
		if (o instanceof Map) return { [TAG]: ['m', [...o].map(([k, x]) => [this.value(k), this.value(x)])] };
		if (o instanceof Set) return { [TAG]: ['s', [...o].map((x) => this.value(x))] };
		for (const [name, cls] of Object.entries(CLASSES))
			if (proto === cls.prototype) {
				const fields: Record<string, unknown> = {};
				for (const k of Object.keys(o)) fields[k] = this.value((o as Record<string, unknown>)[k]);
				return { [TAG]: ['c', name, fields] };
			}
		throw new CheckpointUnsupported(`an instance of ${(proto as { constructor?: { name?: string } })?.constructor?.name ?? 'a class'}`);
	}
}

/** Back from the JSON values `Encoder` wrote: in place where nothing is tagged. */
class Decoder {
	events: Ev[] = [];
	private refs: unknown[] = [];

	value(v: unknown): unknown {
		if (typeof v !== 'object' || v === null) return v;
		if (Array.isArray(v)) {
			for (let i = 0; i < v.length; i++) {
				const x: unknown = v[i];
				if (typeof x === 'object' && x !== null) v[i] = this.value(x);
			}
			return v;
		}
		const o = v as Record<string, unknown>;
		const tag = o[TAG] as [string, ...unknown[]] | undefined;
		if (tag !== undefined) return this.tagged(tag);
		for (const k in o) {
			const x = o[k];
			if (typeof x === 'object' && x !== null) o[k] = this.value(x);
		}
		return o;
	}

	private event(p: unknown): Ev {
		const ev = this.events[p as number];
		if (!ev) throw new Error('checkpoint: unknown event');
		return ev;
	}

	private message(p: unknown, role: unknown): object {
		const ev = this.event(p) as Ev & { payload: { text: string } };
		return { id: ev.id, author: ev.author, role, at: ev.at, text: ev.payload.text };
	}

	private tagged(tag: [string, ...unknown[]]): unknown {
		switch (tag[0]) {
			case 'u':
				return undefined;
			case 'e':
				return this.event(tag[1]);
			case 'E': {
				const runs = tag[1] as number[];
				const out: Ev[] = [];
				for (let r = 0; r < runs.length; r += 2) {
					const from = runs[r]!;
					const count = runs[r + 1]!;
					if (!(count > 0) || !this.events[from + count - 1]) throw new Error('checkpoint: unknown event');
					for (let p = from; p < from + count; p++) out.push(this.events[p]!);
				}
				return out;
			}
			case 'M':
				return this.message(tag[1], tag[2]);
			case 'L': {
				const positions = tag[1] as number[];
				const roles = tag[2] as unknown[];
				if (positions.length !== roles.length) throw new Error('checkpoint: a list of messages without their roles');
				const out = new Array(positions.length);
				for (let i = 0; i < positions.length; i++) out[i] = this.message(positions[i], roles[i]);
				return out;
			}
			case 'd':
				return (this.refs[tag[1] as number] = this.value(tag[2]));
			case 'r':
				if (!((tag[1] as number) in this.refs)) throw new Error('checkpoint: reference before definition');
				return this.refs[tag[1] as number];
			case 'm':
				return new Map((tag[1] as [unknown, unknown][]).map(([k, x]) => [this.value(k), this.value(x)]));
			case 's':
				return new Set((tag[1] as unknown[]).map((x) => this.value(x)));
			case 'c': {
				const cls = CLASSES[tag[1] as string];
				if (!cls) throw new Error('checkpoint: unknown class');
				const out = Object.create(cls.prototype) as Record<string, unknown>;
				const fields = tag[2] as Record<string, unknown>;
				for (const k of Object.keys(fields)) out[k] = this.value(fields[k]);
				return out;
			}
			default:
				throw new Error('checkpoint: unknown tag');
		}
	}
}

// ------------------------------------------------------------------ attaching to a document

/** Where a document's checkpoint is read from and written to (set up by `persist`). */
export interface CheckpointStore {
	/** The checkpoint decoded when the document was loaded, if there was a good one. */
	loaded: LogCheckpoint | null;
	rules: string;
	save(stored: StoredCheckpoint): Promise<void>;
}

const stores = new WeakMap<Y.Doc, CheckpointStore>();

export function attachCheckpointStore(doc: Y.Doc, store: CheckpointStore): void {
	stores.set(doc, store);
}

export function checkpointStoreOf(doc: Y.Doc): CheckpointStore | undefined {
	return stores.get(doc);
}
