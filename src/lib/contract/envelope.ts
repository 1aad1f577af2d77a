/**
 * Signed envelopes: `{ id, body, sig }` where `body` is the exact JSON string that was signed,
 * `id = sha256(body)` and `sig = Ed25519(author, id bytes)`. Signing bytes rather than objects means
 * there is no canonicalisation to get wrong: what was hashed is what is stored.
 */
import { Body, MAX_ENVELOPE_BYTES, PAYLOADS, TYPE_ALIASES, type EventBody, type EventType } from './schema';
import { fromBase64url, toBase64url } from './encoding';
import { fastBody } from './fast-body';
import { sha256Utf8, sha256Utf8View } from './sha256';
import { reject, type Rejection } from './rejections';
import { isOversized } from './size';

export function hashBody(body: string): string {
	return toBase64url(sha256Utf8(body));
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ALPHABET_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

/** `hashBody(body) === id`, without building the id string: it runs once per stored event. */
export function bodyHashIs(body: string, id: string): boolean {
	if (id.length !== 43) return false;
	const d = sha256Utf8View(body);
	const A = ALPHABET_CODES;
	let c = 0;
	for (let i = 0; i < 30; i += 3) {
		const n = (d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!;
		if (id.charCodeAt(c) !== A[n >> 18] || id.charCodeAt(c + 1) !== A[(n >> 12) & 63] || id.charCodeAt(c + 2) !== A[(n >> 6) & 63] || id.charCodeAt(c + 3) !== A[n & 63]) return false;
		c += 4;
	}
	const n = (d[30]! << 16) | (d[31]! << 8);
	return id.charCodeAt(40) === A[n >> 18] && id.charCodeAt(41) === A[(n >> 12) & 63] && id.charCodeAt(42) === A[(n >> 6) & 63];
}

/** The bytes an author signs: the raw 32-byte digest behind the id. */
export function signingBytes(id: string): Uint8Array {
	return fromBase64url(id);
}

export type Decoded =
	| { ok: true; id: string; body: EventBody; sig: string; raw: string }
	| { ok: false; id: string; rejection: Rejection; raw: string; body?: Partial<EventBody> };

/**
 * Decode one stored envelope string. `key` is the id under which it was stored (the Yjs map key);
 * it must equal the recomputed hash, or someone altered the body. Never throws.
 */
export function decodeEnvelope(key: string, raw: unknown, contract: string): Decoded {
	const text = typeof raw === 'string' ? raw : '';
	if (typeof raw !== 'string') return { ok: false, id: key, raw: text, rejection: reject('bad-envelope', 'Not a string.') };
	if (isOversized(text))
		return { ok: false, id: key, raw: '', rejection: reject('oversized', `Limit ${MAX_ENVELOPE_BYTES} bytes.`) };
	const body = canonicalBody(key, text);
	if (body !== undefined) {
		if (!bodyHashIs(body, key)) return { ok: false, id: key, raw: text, rejection: reject('hash-mismatch') };
		return decodeBody(key, body, text.slice(text.length - 2 - SIG_LENGTH, text.length - 2), text, contract);
	}
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		return { ok: false, id: key, raw: text, rejection: reject('malformed-json') };
	}
	if (!isEnvelope(json)) return { ok: false, id: key, raw: text, rejection: reject('bad-envelope') };
	const { id, sig } = json;
	if (id !== key || !bodyHashIs(json.body, id)) return { ok: false, id: key, raw: text, rejection: reject('hash-mismatch') };
	return decodeBody(id, json.body, sig, text, contract);
}

const SIG_LENGTH = 86;
const HEAD = '{"id":"';
const BODY_AT = HEAD.length + 43;
const MIDDLE = '","body":';
const TAIL = ',"sig":"';

/**
 * The body of an envelope written exactly as `encodeEnvelope` writes it under `key` —
 * `{"id":"<key>","body":"…","sig":"<sig>"}` with a well-formed id and signature — or undefined (then
 * it is parsed as any JSON). Only the body's string literal is parsed, so the envelope object and
 * copies of the id and signature are never made. When this answers, `JSON.parse(text)` is an object
 * with exactly these three keys and values: the parts around the literal are fixed, the id and
 * signature need no escapes, and JSON.parse accepts the literal only if it is one JSON string.
 */
function canonicalBody(key: string, text: string): string | undefined {
	const end = text.length - 2 - SIG_LENGTH - TAIL.length;
	if (end <= BODY_AT + MIDDLE.length || !text.startsWith(HEAD) || !text.startsWith(key, HEAD.length) || !text.startsWith(MIDDLE, BODY_AT)) return undefined;
	if (!text.startsWith(TAIL, end) || !text.endsWith('"}') || key.length !== 43 || !base64urlAt(key, 0, 43) || !base64urlAt(text, end + TAIL.length, SIG_LENGTH)) return undefined;
	let body: unknown;
	try {
		body = JSON.parse(text.slice(BODY_AT + MIDDLE.length, end));
	} catch {
		return undefined;
	}
	return typeof body === 'string' ? body : undefined;
}

function decodeBody(id: string, body: string, sig: string, raw: string, contract: string): Decoded {
	let json: unknown;
	try {
		json = JSON.parse(body);
	} catch {
		return { ok: false, id, raw, rejection: reject('malformed-json', 'The signed body is not JSON.') };
	}
	const input = renamed(json);
	// The common event types are checked by hand (same result as zod: fast-body.ts); zod does the rest.
	let ev = fastBody(input);
	if (!ev) {
		const parsed = Body.safeParse(input);
		if (!parsed.success)
			return { ok: false, id, raw, rejection: reject('bad-schema', firstIssue(parsed.error)), body: partial(json) };
		const payload = PAYLOADS[parsed.data.type].safeParse(parsed.data.payload);
		if (!payload.success)
			return { ok: false, id, raw, rejection: reject('bad-schema', firstIssue(payload.error)), body: partial(json) };
		// zod returned fresh objects: attach the validated payload instead of copying again.
		ev = parsed.data as EventBody;
		(ev as { payload: unknown }).payload = payload.data;
	}
	// A device certificate is its identity's, for every contract: its `contract` is the identity key (devices.ts).
	if (ev.type === 'device.certified') {
		if ((ev.contract as string) !== ev.author || ev.prev !== null || ev.deps.length || ev.payload.device === ev.author)
			return { ok: false, id, raw, rejection: reject('invalid-state', 'A device certificate is signed by its identity key, for another key, and names nothing.'), body: ev };
	} else if (ev.contract !== contract) return { ok: false, id, raw, rejection: reject('wrong-contract'), body: ev };
	if (ev.type === 'contract.proposed') {
		if (!proposalCreates(body, contract))
			return { ok: false, id, raw, rejection: reject('wrong-contract', OLD_CONTRACT), body: ev };
		// Its one possible dep is its author's device certificate (devices.ts checks that).
		if (ev.prev !== null || ev.deps.length > 1) return { ok: false, id, raw, rejection: reject('invalid-state', 'A proposal is the first event of its contract.'), body: ev };
	}
	return { ok: true, id, body: ev, sig, raw };
}

/** A body written under an old type name (TYPE_ALIASES) is read under the new one; the signed bytes are unchanged. */
function renamed(json: unknown): unknown {
	const type = json && typeof json === 'object' ? (json as { type?: unknown }).type : undefined;
	return typeof type === 'string' && Object.hasOwn(TYPE_ALIASES, type) ? { ...(json as object), type: TYPE_ALIASES[type] } : json;
}

/** Whether `text` has `n` base64url characters from `at` (no slice, no regular expression: it runs twice per stored event). */
function base64urlAt(text: string, at: number, n: number): boolean {
	for (let i = at; i < at + n; i++) if (!BASE64URL[text.charCodeAt(i)]) return false;
	return true;
}

const BASE64URL = new Uint8Array(128);
for (const c of ALPHABET_CODES) BASE64URL[c] = 1;

/** `{ id, body, sig }` and nothing else: checked by hand because it runs once per stored event. */
function isEnvelope(x: unknown): x is { id: string; body: string; sig: string } {
	if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
	const o = x as Record<string, unknown>;
	let keys = 0;
	for (const _ in o) keys++;
	return keys === 3 && typeof o.id === 'string' && o.id.length === 43 && base64urlAt(o.id, 0, 43) && typeof o.body === 'string' && typeof o.sig === 'string' && o.sig.length === SIG_LENGTH && base64urlAt(o.sig, 0, SIG_LENGTH);
}

function firstIssue(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
	const issue = error.issues[0];
	if (!issue) return '';
	const path = issue.path.map(String).join('.');
	return path ? `${path}: ${issue.message}.` : `${issue.message}.`;
}

/** What can be shown of an event that failed its schema: author and type, if they are strings. */
function partial(json: unknown): Partial<EventBody> | undefined {
	if (!json || typeof json !== 'object') return undefined;
	const o = json as Record<string, unknown>;
	const out: Record<string, unknown> = {};
	if (typeof o.author === 'string') out.author = o.author.slice(0, 64);
	if (typeof o.type === 'string') out.type = o.type.slice(0, 64);
	if (typeof o.at === 'number') out.at = o.at;
	return out as Partial<EventBody>;
}

/** Unsigned event: everything the author decides; `encodeBody` fixes its bytes. */
export interface Draft<T extends EventType = EventType> {
	contract: string;
	author: string;
	prev: string | null;
	deps: string[];
	at: number;
	type: T;
	payload: unknown;
}

export function encodeBody(d: Draft): { id: string; body: string } {
	const body = JSON.stringify({
		v: 1,
		contract: d.contract,
		author: d.author,
		prev: d.prev,
		deps: [...d.deps].sort(),
		at: d.at,
		type: d.type,
		payload: d.payload
	});
	return { id: hashBody(body), body };
}

/*
 * A contract's id is derived from its one proposal: sha256 of the proposal body with `contract` set
 * to the empty string. Nobody can write a second proposal for an existing id (that needs a second
 * preimage), so the proposer and the terms are fixed by the id itself; the proposal's random nonce
 * gives equal terms different ids. The check works on the signed bytes: `encodeBody` writes
 * `{"v":1,"contract":"…",` first, so blanking the contract is a prefix swap, with nothing to
 * canonicalise.
 */
const OLD_CONTRACT =
	'The contract id is not derived from this proposal. Contracts created before this check (all in TEST MODE) can no longer be opened: propose the contract again.';
const contractPrefix = (contract: string): string => `{"v":1,"contract":${JSON.stringify(contract)},`;

/** Does this signed proposal body create the contract `contract`? */
export function proposalCreates(body: string, contract: string): boolean {
	const p = contractPrefix(contract);
	return body.startsWith(p) && hashBody(contractPrefix('') + body.slice(p.length)) === contract;
}

/** A proposal draft's contract id, then the draft with it filled in: what `encodeBody` signs. */
export function withDerivedContract<T extends Draft>(draft: T): T {
	const blank = encodeBody({ ...draft, contract: '' }).body;
	return { ...draft, contract: hashBody(blank) };
}

/** The id a stored envelope claims (unchecked: `decodeEnvelope` checks it), or undefined for junk. */
export function idOf(envelope: string): string | undefined {
	try {
		const id = (JSON.parse(envelope) as { id?: unknown }).id;
		return typeof id === 'string' ? id : undefined;
	} catch {
		return undefined;
	}
}

export function encodeEnvelope(id: string, body: string, sig: string): string {
	return JSON.stringify({ id, body, sig });
}
