/**
 * Verifies an evidence file's events with the app's own code: `decodeEnvelope` (the SHA-256 of each
 * body against its id, the schema), the Ed25519 check every device runs (`verifyMany`), the per-author
 * hash chain through `prev`, and the log's fold (`ContractLog` + `authenticate`) for who holds which
 * role and what the contract's rules refused. The app checks only chain heads; a reader of the file
 * wants each event judged on its own, so here every signature is checked.
 *
 * Runs in the exported HTML file (bundled by `bundle-plugin.ts`) and in the unit tests: no DOM here.
 */
import { decodeEnvelope, signingBytes } from '../contract/envelope';
import { ContractLog } from '../contract/log';
import { REJECTION_CODES } from '../contract/rejections';
import { partyRole, type ContractState } from '../contract/state';
import { authenticate, type BatchVerifier } from '../identity/authenticate';
import { verifyMany } from '../identity/ed25519';
import { fingerprint } from '../identity/fingerprint';

/** What the file embeds: the signed envelopes, and the keys the exporting device had pinned. */
export interface EvidenceData {
	contract: string;
	exportedAt: number;
	/** The exporting device's view of the keys; the verifier checks them against the signed events. */
	keys: { client?: string; freelancer?: string; provider?: string };
	/** [id, envelope] pairs: the envelope is the exact `{id, body, sig}` string that was stored. */
	envelopes: [string, string][];
}

export type SignerRole = 'client' | 'freelancer' | 'provider' | 'mediator' | 'unknown';

export interface EventResult {
	id: string;
	type?: string;
	/** The key that signed it. */
	author?: string;
	/** Whose key it is: a party's identity key, a device a party certified, the provider's, a mediator's. */
	role: SignerRole;
	/** Set when the signing key is a device certified by a party's identity key. */
	device?: boolean;
	/** The author's claimed time of writing. */
	at?: number;
	ok: boolean;
	/** Why it failed; on a verified event, what a reader should still know (e.g. the rules refused it). */
	reason?: string;
	/** The signed body, exactly as hashed and signed (only for events whose body matches their id). */
	body?: string;
	/** The parsed payload of a verified event, for checking text shown elsewhere in the file. */
	payload?: unknown;
}

export interface KeyCheck {
	role: 'client' | 'freelancer' | 'provider';
	/** What the signed events establish. */
	key?: string;
	fingerprint?: string;
	/** The exporting device's pinned key disagrees with the signed events. */
	mismatch?: string;
}

export interface EvidenceReport {
	contract: string;
	events: EventResult[];
	failed: number;
	keys: KeyCheck[];
	/** One sentence for the top of the file. */
	summary: string;
	ok: boolean;
}

const REASONS: Partial<Record<string, string>> = {
	'hash-mismatch': 'Its content was changed after it was signed: the SHA-256 of the body no longer matches the event id the author signed.',
	'bad-signature': "The signature does not verify against the author's public key: the author did not sign this content.",
	'malformed-json': REJECTION_CODES['malformed-json'],
	'bad-envelope': REJECTION_CODES['bad-envelope']
};

export async function verifyEvidence(data: EvidenceData, verify: BatchVerifier = verifyMany): Promise<EvidenceReport> {
	const contract = String(data?.contract ?? '');
	const envelopes = Array.isArray(data?.envelopes) ? data.envelopes : [];
	const results: EventResult[] = [];
	const decoded = new Map<string, { author: string; index: number }>();
	const present = new Set<string>();
	const checks: { index: number; publicKey: string; message: Uint8Array; signature: string; id: string }[] = [];

	for (const pair of envelopes) {
		const [id, raw] = Array.isArray(pair) ? pair : ['', undefined];
		const key = String(id);
		present.add(key);
		const d = decodeEnvelope(key, raw, contract);
		if (!d.ok) {
			// What it claims to be, so a reader can find it; none of this is verified.
			const claimed = d.body ?? claims(raw);
			results.push({ id: key, type: claimed?.type, author: claimed?.author, at: claimed?.at, role: 'unknown', ok: false, reason: REASONS[d.rejection.code] ?? d.rejection.message });
			continue;
		}
		const index = results.length;
		results.push({ id: key, type: d.body.type, author: d.body.author, at: d.body.at, role: 'unknown', ok: true, body: bodyOf(raw as string), payload: d.body.payload });
		decoded.set(key, { author: d.body.author, index });
		checks.push({ index, id: key, publicKey: d.body.author, message: signingBytes(key), signature: d.sig });
	}

	const valid = await verify(checks);
	checks.forEach((c, i) => {
		if (valid[i] !== true) fail(results[c.index]!, REASONS['bad-signature']!);
	});

	// The hash chain: each event's `prev` must be an earlier event of the same author, and every
	// event it names must be here (the file is the whole causal past of what it holds).
	for (const r of results) {
		if (!r.ok || !r.body) continue;
		const body = JSON.parse(r.body) as { prev: string | null; deps: string[]; author: string };
		if (body.prev) {
			const p = decoded.get(body.prev);
			if (!present.has(body.prev)) fail(r, `Its hash chain is broken: the author's previous event (${short(body.prev)}) is not in this file.`);
			else if (p && p.author !== body.author) fail(r, `Its hash chain is broken: the previous event it names (${short(body.prev)}) was written by another key.`);
			else if (!p || !results[p.index]!.ok) note(r, `The author's previous event (${short(body.prev)}) fails verification (see there); this event's own signature holds.`);
		}
		const missing = body.deps.find((dep) => !present.has(dep));
		if (r.ok && missing) fail(r, `It names an earlier event (${short(missing)}) that is not in this file.`);
	}

	// The app's own fold, for roles and the rules' verdicts: the same code every device runs.
	const log = new ContractLog(contract);
	for (const pair of envelopes) if (Array.isArray(pair)) log.add(String(pair[0]), pair[1]);
	await authenticate(log, verify);
	const derived = log.derive();
	const s = derived.state;
	const refused = new Map(s.rejected.map((x) => [x.id, x.message]));
	const mediators = new Set<string>();
	for (const dsp of s.disputes.values()) for (const step of dsp.steps.values()) if (step.mediator) mediators.add(step.mediator.publicKey);
	for (const r of results) {
		if (!r.author) continue;
		const who = signer(s, r.author, mediators);
		r.role = who.role;
		if (who.device) r.device = true;
		const why = refused.get(r.id);
		if (r.ok && why) note(r, `Signed and intact, but the contract's rules did not apply it: ${why}`);
	}

	const keys: KeyCheck[] = (['client', 'freelancer', 'provider'] as const).map((role) => {
		const key = role === 'provider' ? s.terms?.provider.publicKey : s.parties[role];
		const pinned = data?.keys?.[role];
		const check: KeyCheck = { role, key, fingerprint: key ? printOf(key) : undefined };
		if (pinned && pinned !== key)
			check.mismatch = `The exporting device lists a different ${role} key (fingerprint ${printOf(pinned)}) than the signed events establish.`;
		return check;
	});

	const failed = results.filter((r) => !r.ok).length;
	const mismatches = keys.filter((k) => k.mismatch).length;
	const ok = failed === 0 && mismatches === 0 && results.length > 0;
	return { contract, events: results, failed, keys, ok, summary: summarise(results.length, failed, keys) };
}

function summarise(total: number, failed: number, keys: KeyCheck[]): string {
	const who = keys
		.filter((k) => k.key)
		.map((k) => `${k.role === 'provider' ? 'escrow provider' : k.role} key ${k.fingerprint}`)
		.join(', ');
	const events = `${total} event${total === 1 ? '' : 's'}`;
	if (total === 0) return 'This file holds no signed events: nothing could be verified.';
	if (failed === 0) return `${events}, all signatures and hash chains verified${who ? `: ${who}` : ''}.`;
	return `${events}: ${failed} FAILED verification (marked below with the reason); the rest verified${who ? `: ${who}` : ''}.`;
}

/** Who a key is in this contract, from the folded state: identity key, certified device, provider or mediator. */
function signer(s: ContractState, key: string, mediators: Set<string>): { role: SignerRole; device?: boolean } {
	const own = partyRole(s, key);
	if (own === 'client' || own === 'freelancer' || own === 'provider') return { role: own };
	let found: 'client' | 'freelancer' | undefined;
	for (const c of s.devices.certificates.values()) {
		if (c.device !== key) continue;
		const r = partyRole(s, c.identity);
		if (r !== 'client' && r !== 'freelancer') continue;
		if (found && found !== r) return { role: 'unknown' };
		found = r;
	}
	if (found) return { role: found, device: true };
	return { role: mediators.has(key) ? 'mediator' : 'unknown' };
}

/** Type, author and time as an unverifiable envelope states them, if it states them as text and numbers. */
function claims(raw: unknown): { type?: string; author?: string; at?: number } | undefined {
	try {
		const body = JSON.parse(JSON.parse(String(raw)).body) as Record<string, unknown>;
		const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 64) : undefined);
		return { type: text(body.type), author: text(body.author), at: typeof body.at === 'number' ? body.at : undefined };
	} catch {
		return undefined;
	}
}

function bodyOf(raw: string): string {
	return (JSON.parse(raw) as { body: string }).body;
}

function fail(r: EventResult, reason: string): void {
	if (!r.ok) return;
	r.ok = false;
	r.reason = reason;
}

function note(r: EventResult, text: string): void {
	r.reason = r.reason ? `${r.reason} ${text}` : text;
}

function short(id: string): string {
	return id.slice(0, 10);
}

function printOf(key: string): string {
	try {
		return fingerprint(key);
	} catch {
		return key;
	}
}
