/**
 * A checkpoint of one contract's log on this device: the events it verified and folded, in fold
 * order, and the state they derived, so that reopening the contract verifies and folds only what
 * is new (see `ContractLog.checkpoint` and `restoreCheckpoint`).
 *
 * Meant for the contract's own database (y-indexeddb's `custom` store, next to the document's
 * updates, so that removing the contract removes it too); `persist` does not attach it for now: see
 * persistence.ts for the measurement. It never lets anything unverified in:
 *  - It holds only what the log had verified; whatever was waiting, unchecked or junk comes back
 *    from the document and is checked like anything new.
 *  - It vouches for the envelopes it verified without storing them (they are the document's values,
 *    and reading megabytes from IndexedDB costs more than verifying them again): it keeps a BLAKE3
 *    hash of them, and is used only if the document's values under those ids hash the same. Peers
 *    write the document, so this is the check that matters against them, and it is a cryptographic
 *    hash: a value that differs (another signature for the same body, junk) cannot hash the same.
 *    Then the checkpoint is ignored, and the contract is verified and folded from its events as on a
 *    first open.
 *  - A checkpoint of another contract, format or build of the app (whose rules might fold
 *    differently) is ignored, and so is one whose bytes changed since they were written: an XXH3-128
 *    checksum over everything else it says detects corruption. A checksum, not a signature: the
 *    checkpoint lives in this device's own storage, which the threat model trusts (whoever can
 *    rewrite this origin's storage can rewrite the app's keys and data generally).
 *
 * What makes it fast to read back (tests/bench/open.ts, `reopen…`): one JSON text, stored as UTF-8
 * bytes, that does not repeat what the envelopes or the events already say (IndexedDB reads cost
 * about as much per megabyte in Chromium as applying the Yjs document). The events' ids, prevs,
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
import type { IHasher } from 'hash-wasm';

/** Bump when the encoding changes: older checkpoints are then ignored. */
export const CHECKPOINT_FORMAT = 2;

export interface StoredCheckpoint {
	format: number;
	contract: string;
	/** The build of the app that wrote it: another build may fold differently. */
	rules: string;
	/** UTF-8 JSON of the events and the state (`Body`). */
	body: Uint8Array;
	/** BLAKE3 (base64url) of the UTF-8 bytes of the envelopes it vouches for, one after another in fold order. */
	envelopes: string;
	/** XXH3-128 (base64url) over format, contract, rules, body and `envelopes`. */
	checksum: string;
}

interface Body {
	/** The events' ids (43 characters each), one after another in fold order. */
	ids: string;
	/** Their kept envelopes' signatures, by position, where the envelope does not end with it (as every envelope `encodeEnvelope` writes does). */
	sigs: Record<number, string>;
	/** Per event: its envelope's length in UTF-8 bytes. */
	lengths: number[];
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
const utf8 = new TextEncoder();
const text = new TextDecoder();

export class CheckpointUnsupported extends Error {}

/** The stored form of `cp`, with its checksum. */
export async function encodeCheckpoint(cp: LogCheckpoint, rules: string): Promise<StoredCheckpoint> {
	// Everything is read synchronously first: the state is live.
	const events = cp.events;
	const index = new Map<object, number>();
	const position = new Map<string, number>();
	events.forEach((e, i) => {
		if (e.id.length !== ID_LENGTH || e.sig.length !== SIG_LENGTH) throw new CheckpointUnsupported('an id or signature of another length');
		index.set(e.ev, i);
		position.set(e.id, i);
	});
	const enc = new Encoder(index, events);
	const tables: Tables = { authors: new Map(), types: new Map() };
	const evs = events.map((e) => compactEvent(enc.plain(e.ev) as Record<string, unknown>, cp.contract, position, tables));
	const evTags = enc.tagged;
	const raws = events.map((e) => e.raw);
	const lengths = raws.map((r) => utf8.encode(r).length);
	const body: Body = {
		ids: events.map((e) => e.id).join(''),
		sigs: Object.fromEntries(events.flatMap((e, i) => (e.raw.endsWith(`"sig":"${e.sig}"}`) ? [] : [[i, e.sig]]))),
		lengths,
		levels: events.map((e) => e.level),
		flags: events.map(flag).join(''),
		authors: [...tables.authors.keys()],
		types: [...tables.types.keys()],
		evs,
		evTags,
		state: enc.state(cp.state)
	};
	const bytes = utf8.encode(JSON.stringify(body));
	const envelopes = await envelopesHash(raws, lengths);
	if (!envelopes) throw new CheckpointUnsupported('an envelope of another length');
	return { format: CHECKPOINT_FORMAT, contract: cp.contract, rules, body: bytes, envelopes, checksum: await checksumOf(CHECKPOINT_FORMAT, cp.contract, rules, bytes, envelopes) };
}

/**
 * The checkpoint `stored` holds for `contract`, if it is intact, of this format and build, and the
 * document's values under the ids it vouches for (`envelope`) hash to the envelopes it verified;
 * otherwise null.
 */
export async function decodeCheckpoint(stored: unknown, contract: string, rules: string, envelope: (id: string) => unknown): Promise<LogCheckpoint | null> {
	try {
		const s = stored as StoredCheckpoint;
		if (!s || s.format !== CHECKPOINT_FORMAT || s.contract !== contract || s.rules !== rules) return null;
		if (!(s.body instanceof Uint8Array) || typeof s.envelopes !== 'string' || typeof s.checksum !== 'string') return null;
		if ((await checksumOf(s.format, s.contract, s.rules, s.body, s.envelopes)) !== s.checksum) return null;
		const body = JSON.parse(text.decode(s.body)) as Body;
		const { ids, lengths, evs } = body;
		const n = evs.length;
		if (ids.length !== n * ID_LENGTH || typeof body.sigs !== 'object' || lengths.length !== n || body.levels.length !== n || body.flags.length !== n) return null;
		const raws: string[] = new Array(n);
		for (let i = 0; i < n; i++) {
			const raw = envelope(ids.slice(i * ID_LENGTH, (i + 1) * ID_LENGTH));
			if (typeof raw !== 'string') return null;
			raws[i] = raw;
		}
		if ((await envelopesHash(raws, lengths)) !== s.envelopes) return null;
		const dec = new Decoder();
		if (body.evTags) dec.value(evs);
		const idAt = (i: number) => ids.slice(i * ID_LENGTH, (i + 1) * ID_LENGTH);
		const events: CheckpointEvent[] = new Array(n);
		for (let i = 0; i < n; i++) {
			const ev = expandEvent(evs[i], idAt(i), contract, body.authors, body.types, idAt, i);
			evs[i] = ev;
			const f = body.flags[i]!;
			events[i] = { id: ev.id, raw: raws[i]!, sig: body.sigs[i] ?? raws[i]!.slice(-SIG_LENGTH - 2, -2), level: body.levels[i]!, authentic: f === 'v' || f === 'V' ? 'valid' : 'chained', rawVerified: f === 'V' || f === 'C', ev };
		}
		dec.events = evs as Ev[];
		const state = dec.value(body.state) as ContractState;
		return { contract, events, state };
	} catch {
		return null;
	}
}

/**
 * BLAKE3 of `raws` as UTF-8, one after another, if each is `lengths[i]` bytes long (so the
 * concatenation is unambiguous); otherwise null.
 */
async function envelopesHash(raws: string[], lengths: number[]): Promise<string | null> {
	let max = 0;
	for (const n of lengths) max += n;
	const all = new Uint8Array(max);
	let at = 0;
	for (let i = 0; i < raws.length; i++) {
		const raw = raws[i]!;
		const n = lengths[i]!;
		if (raw.length > n) return null;
		const { read, written } = utf8.encodeInto(raw, all.subarray(at, at + n));
		if (read !== raw.length || written !== n) return null;
		at += n;
	}
	blake3 ??= import('hash-wasm').then((m) => m.createBLAKE3());
	const hasher = await blake3;
	hasher.init();
	hasher.update(all);
	return toBase64url(hasher.digest('binary'));
}

let blake3: Promise<IHasher> | undefined;

function flag(e: CheckpointEvent): string {
	const f = e.authentic === 'valid' ? 'v' : 'c';
	return e.rawVerified ? f.toUpperCase() : f;
}

let hashing: Promise<IHasher> | undefined;

/** XXH3-128 over the header and the body: the header has the body's length, so nothing is ambiguous. */
async function checksumOf(format: number, contract: string, rules: string, body: Uint8Array, envelopes: string): Promise<string> {
	hashing ??= import('hash-wasm').then((m) => m.createXXHash128());
	const hasher = await hashing;
	hasher.init();
	hasher.update(utf8.encode(JSON.stringify([format, contract, rules, envelopes, body.length])));
	hasher.update(body);
	return toBase64url(hasher.digest('binary'));
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

function indexIn(table: Map<string, number>, key: string): number {
	let i = table.get(key);
	if (i === undefined) table.set(key, (i = table.size));
	return i;
}

/** Back from `compactEvent`. Every position must be earlier than the event's own. */
function expandEvent(x: unknown, id: string, contract: string, authors: string[], types: string[], idAt: (i: number) => string, self: number): Ev {
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
	for (let i = 0; i < deps.length; i++) if (typeof deps[i] === 'number') deps[i] = earlier(deps[i] as number, self, idAt);
	const prev = typeof p === 'number' ? earlier(p, self, idAt) : p;
	return { v, contract: c === 0 ? contract : c, author, prev, deps, at, type, payload, id } as unknown as Ev;
}

function earlier(p: number, self: number, idAt: (i: number) => string): string {
	if (!(p >= 0 && p < self)) throw new Error('checkpoint: a reference to a later event');
	return idAt(p);
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
