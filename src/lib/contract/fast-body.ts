/**
 * The signed body zod's `Body` and `PAYLOADS` would return, checked by hand for the event types that
 * make up almost every large contract (messages, the provider's attestations, hourly segments).
 * Opening a contract validates every stored body, and zod was a fifth of that cost.
 *
 * Same result as zod, or none: for one of these types it accepts exactly what zod accepts and
 * returns the same value (trimmed text, keys in the schema's order); for
 * anything else, and for what it refuses, it returns undefined and zod decides, so zod's own words
 * stay the error message. tests/unit/contract/fast-body.test.ts compares the two on random and
 * hostile input. A change to these schemas in schema.ts must be made here too (the test fails until it is).
 *
 * When the parsed body already is that value — keys in the schema's order, text already trimmed, as
 * every body `encodeBody` writes is — it is returned itself, not copied: the caller's JSON.parse
 * result is its own, and a copy per event was garbage the open paid for in collections.
 */
import { ATTESTED_KINDS, type EventBody } from './schema';

const ID = /^[A-Za-z0-9_-]{43}$/;
const CONTRACT_ID = /^[A-Za-z0-9_-]{16,64}$/;
const MAX_TIMESTAMP = 8.64e15;
const ATTESTED = new Set<string>(ATTESTED_KINDS);

/** The validated payload: `payload` itself when it already is zod's value (see above), else a fresh one. */
type Check = (payload: Record<string, unknown>) => object | undefined;

const PAYLOAD_CHECKS: Record<string, Check> = {
	'message.posted': (p) => {
		if (countKeys(p) !== 1) return undefined;
		const text = trimmed(p.text, 1, 10_000);
		return text === undefined ? undefined : text === p.text ? p : { text };
	},
	'receipt.attested': (p) => {
		if (countKeys(p) !== 2 || !isId(p.event) || typeof p.kind !== 'string' || !ATTESTED.has(p.kind)) return undefined;
		return keysAre(p, ATTESTED_KEYS) ? p : { event: p.event, kind: p.kind };
	},
	'hourly.segment': (p) => {
		let n = 4;
		const { start, source, memo, activity, screenshot, replaces } = p;
		if (!isTimestamp(start) || (source !== 'tracked' && source !== 'manual')) return undefined;
		const m = trimmed(memo, 0, 500);
		if (m === undefined || !Number.isInteger(activity) || (activity as number) < 0 || (activity as number) > 10) return undefined;
		const out: Record<string, unknown> = { start, source, memo: m, activity };
		if (Object.hasOwn(p, 'screenshot')) {
			if (!isId(screenshot)) return undefined;
			out.screenshot = screenshot;
			n++;
		}
		if (Object.hasOwn(p, 'replaces')) {
			if (!isId(replaces)) return undefined;
			out.replaces = replaces;
			n++;
		}
		if (countKeys(p) !== n) return undefined;
		return m === memo && keysAre(p, Object.keys(out)) ? p : out;
	}
};

const ATTESTED_KEYS = ['event', 'kind'];
const BODY_KEYS = ['v', 'contract', 'author', 'prev', 'deps', 'at', 'type', 'payload'];

/** The validated body for `json` (a JSON.parse result), or undefined: then zod decides. */
export function fastBody(json: unknown): EventBody | undefined {
	if (!isPlain(json)) return undefined;
	const { v, contract, author, prev, deps, at, type, payload } = json;
	if (typeof type !== 'string' || !Object.hasOwn(PAYLOAD_CHECKS, type) || !Object.hasOwn(json, 'payload')) return undefined;
	// Eight keys; in the schema's order (then all eight are the schema's) if `ordered`.
	let n = 0;
	let ordered = true;
	for (const k in json) if (k !== BODY_KEYS[n++]) ordered = false;
	if (n !== 8) return undefined;
	if (v !== 1 || typeof contract !== 'string' || !CONTRACT_ID.test(contract) || !isId(author) || (prev !== null && !isId(prev))) return undefined;
	if (!Array.isArray(deps) || deps.length > 64 || !isTimestamp(at)) return undefined;
	for (let i = 0; i < deps.length; i++) if (!isId(deps[i])) return undefined;
	if (!isPlain(payload)) return undefined;
	const checked = PAYLOAD_CHECKS[type]!(payload);
	if (!checked) return undefined;
	if (ordered && checked === payload) return json as unknown as EventBody;
	return { v, contract, author, prev, deps: deps.slice(), at, type, payload: checked } as EventBody;
}

/** An object as JSON.parse makes one (so it has no inherited keys and no accessors). */
function isPlain(x: unknown): x is Record<string, unknown> {
	return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}

/** `o`'s own enumerable keys are exactly `keys`, in that order. */
function keysAre(o: object, keys: string[]): boolean {
	let i = 0;
	for (const k in o) if (k !== keys[i++]) return false;
	return i === keys.length;
}

function countKeys(o: object): number {
	let n = 0;
	for (const _ in o) n++;
	return n;
}

function isId(x: unknown): x is string {
	return typeof x === 'string' && ID.test(x);
}

function isTimestamp(x: unknown): x is number {
	return Number.isInteger(x) && (x as number) >= 0 && (x as number) <= MAX_TIMESTAMP;
}

/** zod's `z.string().trim().min(min).max(max)`: the trimmed text, or undefined. */
function trimmed(x: unknown, min: number, max: number): string | undefined {
	if (typeof x !== 'string') return undefined;
	const t = x.trim();
	return t.length >= min && t.length <= max ? t : undefined;
}
