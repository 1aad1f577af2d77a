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
 *  - It is stored with a BLAKE3 hash over everything it says, including the exact envelopes it
 *    vouches for, which it does not store: those are the document's values under the same ids,
 *    hashed on load. (BLAKE3, WebAssembly: in Chromium, WebCrypto's SHA-256 and the WebAssembly one
 *    took about as long per megabyte as applying the Yjs document, BLAKE3 a fifth of that.) A corrupted or edited checkpoint, a document whose value under a checkpointed id
 *    differs from what was verified, a checkpoint of another contract, format or build of the app
 *    (whose rules might fold differently), all fail the check: the checkpoint is ignored, and the
 *    contract is verified and folded from its events as on a first open.
 * The digest detects corruption and edits, it is not a secret: someone who can rewrite this
 * origin's storage at will can also rewrite the app's data generally.
 *
 * Encoding: one JSON text, stored as UTF-8 bytes (JSON.parse is the fastest way to build many
 * objects; bytes are what storage reads back and the hash reads fastest) for the events
 * and the state. The state's Maps, Sets, the Ledger, undefined values, objects it reaches twice
 * and the events it references are tagged; anything else (another class, a non-finite number)
 * makes the checkpoint refuse to be written, so a change to the state's shape can only cost
 * speed, never correctness.
 */
import type { Ev, ContractState } from '../contract/state';
import type { CheckpointEvent, LogCheckpoint } from '../contract/log';
import { Ledger } from '../contract/ledger';
import { toBase64url } from '../contract/encoding';
import type * as Y from 'yjs';

/** Bump when the encoding changes: older checkpoints are then ignored. */
export const CHECKPOINT_FORMAT = 1;

export interface StoredCheckpoint {
	format: number;
	contract: string;
	/** The build of the app that wrote it: another build may fold differently. */
	rules: string;
	/** UTF-8 JSON of the events and the state (`Body`). */
	body: Uint8Array;
	/** BLAKE3 (base64url) over format, contract, rules, body and the vouched-for envelopes. */
	digest: string;
}

interface Body {
	ids: string[];
	/** Per event: its length in UTF-16 units (so the envelopes hash unambiguously). */
	lengths: number[];
	sigs: string[];
	levels: number[];
	/** Per event: 'v' own signature verified, 'c' vouched for; upper case if the kept envelope's signature verified. */
	flags: string;
	/** The decoded bodies (with ids) in fold order, tagged only if `evTags`. */
	evs: unknown[];
	evTags: boolean;
	state: unknown;
}

/** Classes the state may hold, by name. */
const CLASSES: Record<string, { prototype: object }> = { Ledger };
const TAG = '\u0000';
const utf8 = new TextEncoder();
const text = new TextDecoder();

export class CheckpointUnsupported extends Error {}

/** The stored form of `cp`, with its digest. `envelopes` are the raw envelopes `cp` vouches for. */
export async function encodeCheckpoint(cp: LogCheckpoint, rules: string): Promise<StoredCheckpoint> {
	// Everything is read synchronously first: the state is live.
	const events = cp.events;
	const index = new Map<object, number>();
	events.forEach((e, i) => index.set(e.ev, i));
	const enc = new Encoder(index);
	const evs = events.map((e) => enc.plain(e.ev));
	const evTags = enc.tagged;
	const body: Body = {
		ids: events.map((e) => e.id),
		lengths: events.map((e) => e.raw.length),
		sigs: events.map((e) => e.sig),
		levels: events.map((e) => e.level),
		flags: events.map(flag).join(''),
		evs,
		evTags,
		state: enc.state(cp.state)
	};
	const bytes = utf8.encode(JSON.stringify(body));
	const raws = events.map((e) => e.raw);
	return { format: CHECKPOINT_FORMAT, contract: cp.contract, rules, body: bytes, digest: await digestOf(CHECKPOINT_FORMAT, cp.contract, rules, bytes, raws) };
}

/**
 * The checkpoint `stored` holds for `contract`, if it is intact, of this format and build, and every
 * envelope it vouches for is the document's value under its id (`envelope`); otherwise null.
 */
export async function decodeCheckpoint(stored: unknown, contract: string, rules: string, envelope: (id: string) => unknown): Promise<LogCheckpoint | null> {
	try {
		const s = stored as StoredCheckpoint;
		if (!s || s.format !== CHECKPOINT_FORMAT || s.contract !== contract || s.rules !== rules || !(s.body instanceof Uint8Array) || typeof s.digest !== 'string') return null;
		const body = JSON.parse(text.decode(s.body)) as Body;
		const { ids, lengths } = body;
		const n = ids.length;
		if (lengths.length !== n || body.sigs.length !== n || body.levels.length !== n || body.flags.length !== n || body.evs.length !== n) return null;
		const raws: string[] = new Array(n);
		for (let i = 0; i < n; i++) {
			const raw = envelope(ids[i]!);
			if (typeof raw !== 'string' || raw.length !== lengths[i]) return null;
			raws[i] = raw;
		}
		if ((await digestOf(s.format, s.contract, s.rules, s.body, raws)) !== s.digest) return null;
		const dec = new Decoder();
		const evs = (body.evTags ? dec.value(body.evs) : body.evs) as Ev[];
		dec.events = evs;
		const state = dec.value(body.state) as ContractState;
		const events: CheckpointEvent[] = new Array(n);
		for (let i = 0; i < n; i++) {
			const f = body.flags[i]!;
			events[i] = { id: ids[i]!, raw: raws[i]!, sig: body.sigs[i]!, level: body.levels[i]!, authentic: f === 'v' || f === 'V' ? 'valid' : 'chained', rawVerified: f === 'V' || f === 'C', ev: evs[i]! };
		}
		return { contract, events, state };
	} catch {
		return null;
	}
}

function flag(e: CheckpointEvent): string {
	const f = e.authentic === 'valid' ? 'v' : 'c';
	return e.rawVerified ? f.toUpperCase() : f;
}

/**
 * BLAKE3 over the header, the body and the envelopes (UTF-8), one after another: the header has the
 * body's length and the body each envelope's, so the concatenation is unambiguous.
 */
async function digestOf(format: number, contract: string, rules: string, body: Uint8Array, raws: string[]): Promise<string> {
	const { createBLAKE3 } = await import('hash-wasm');
	const hasher = await createBLAKE3();
	hasher.init();
	hasher.update(utf8.encode(JSON.stringify([format, contract, rules, body.length])));
	hasher.update(body);
	let max = 0;
	for (const r of raws) max += r.length * 3;
	const all = new Uint8Array(max);
	let at = 0;
	for (const r of raws) at += utf8.encodeInto(r, all.subarray(at)).written;
	hasher.update(all.subarray(0, at));
	return toBase64url(hasher.digest('binary'));
}

/**
 * To JSON-safe values. Objects reached twice are written once and referenced after (two passes:
 * the first finds them). Events are referenced by their fold position.
 */
class Encoder {
	tagged = false;
	private shared = new Map<object, number>();
	private written = new Set<object>();

	constructor(private readonly events: Map<object, number>) {}

	/** An event body (its own content, not a reference to it): JSON values as decoded, tags only where not (then `tagged`). */
	plain(ev: object): unknown {
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
		return this.content(o);
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

	private tagged(tag: [string, ...unknown[]]): unknown {
		switch (tag[0]) {
			case 'u':
				return undefined;
			case 'e': {
				const ev = this.events[tag[1] as number];
				if (!ev) throw new Error('checkpoint: unknown event');
				return ev;
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
