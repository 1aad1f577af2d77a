/**
 * Completion attestations: the escrow provider's signed word, from ITS OWN RECORD, that a contract
 * between two identity keys ended, with the band of what it paid out, the outcome and whether there
 * was a dispute — never the exact amounts, never the contract id (only its hash, contract/completion.ts).
 * A reference (identity/reference.ts) carries one to prove that money moved.
 *
 * Every provider signs them the same way with this module: the in-browser mock (TEST MODE, its key is
 * public, so its attestations prove nothing) and the Stripe function (src/edge/ops/completion.ts).
 * Only a party of the contract may ask (a signed, fresh request), since the outcome is theirs.
 */
import { z } from 'zod';
import { completionFacts, completionRefusal, contractHash, type Outcome } from '../contract/completion';
import { utf8 } from '../contract/encoding';
import { ContractId, PublicKey } from '../contract/schema';
import { roleOf, type ContractState } from '../contract/state';
import { verifySync, type DeviceKey } from '../identity/ed25519';
import { openStatement, signStatement, type SignedStatement } from '../identity/statement';
import { BAND_IDS, bandOf } from '../money/bands';
import { CURRENCY_CODES } from '../money/currency';
import { EscrowError } from './adapter';

export const ATTESTATION_DOMAIN = 'milestone-completion-attestation/1';
/** The Stripe function's endpoint (one route line in src/edge/handler.ts). */
export const COMPLETION_PATH = '/completion';
/** How far a request's time may be from the provider's clock. */
export const COMPLETION_PROOF_WINDOW_MS = 5 * 60_000;

/** What a party signs to ask for an attestation: the contract, a fresh time and a one-time nonce. */
export function completionRequestMessage(contract: string, publicKey: string, at: number, nonce: string): string {
	return `milestone-escrow-completion\n${contract}\n${publicKey}\n${at}\n${nonce}`;
}

export const CompletionBody = z
	.object({
		contract: ContractId,
		publicKey: PublicKey,
		at: z.number().int().nonnegative(),
		nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'expected 16–64 base64url characters'),
		signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/)
	})
	.strict();
export type CompletionBody = z.input<typeof CompletionBody>;

/** The mock has no store of its own across reloads: it is also sent the requester's log. */
export type CompletionRequest = CompletionBody & { log?: string[] };

export const AttestationBody = z
	.object({
		v: z.literal(1),
		type: z.literal('completion'),
		provider: PublicKey,
		contract: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
		client: PublicKey,
		freelancer: PublicKey,
		currency: z.enum(CURRENCY_CODES),
		band: z.enum(BAND_IDS as [string, ...string[]]),
		outcome: z.enum(['paid-in-full', 'paid-in-part', 'not-paid']),
		disputed: z.boolean(),
		startedAt: z.number().int().nonnegative(),
		endedAt: z.number().int().nonnegative(),
		/** Provider time of signing. */
		at: z.number().int().nonnegative()
	})
	.strict();
export type AttestationBody = z.input<typeof AttestationBody> & { outcome: Outcome };

/** A party's request, signed by its key (an identity key or a device it certified) and fresh on the provider's clock. */
export function checkCompletionRequest(s: ContractState, req: CompletionBody, now: number): void {
	const role = roleOf(s, req.publicKey);
	if (role !== 'client' && role !== 'freelancer') throw new EscrowError('not-authorised', 'Only a party of the contract may ask for its completion attestation.');
	if (Math.abs(now - req.at) > COMPLETION_PROOF_WINDOW_MS) throw new EscrowError('not-authorised', 'The attestation request is too old; sign a fresh one.');
	if (!verifySync(req.publicKey, utf8.encode(completionRequestMessage(req.contract, req.publicKey, req.at, req.nonce)), req.signature))
		throw new EscrowError('not-authorised', 'The attestation request is not signed by that party.');
}

/**
 * Sign the attestation of `s`, the fold of the provider's record (the caller folds its own record,
 * never only what a requester sent). Refused before the end is recorded.
 */
export function attestCompletion(key: DeviceKey, s: ContractState, req: CompletionBody, now: number): SignedStatement {
	checkCompletionRequest(s, req, now);
	const refusal = completionRefusal(s);
	if (refusal) throw new EscrowError('too-early', refusal);
	const f = completionFacts(s);
	const body: AttestationBody = {
		v: 1,
		type: 'completion',
		provider: key.publicKey,
		contract: contractHash(f.contract),
		client: f.client,
		freelancer: f.freelancer,
		currency: f.currency,
		band: bandOf(f.paid, f.currency),
		outcome: f.outcome,
		disputed: f.disputed,
		startedAt: f.startedAt,
		endedAt: f.endedAt,
		at: now
	};
	return signStatement(key, ATTESTATION_DOMAIN, body);
}

export type ReadAttestation = { ok: true; body: AttestationBody } | { ok: false; reason: string };

/** Signature and shape: signed by the provider key it names, with no device certificate (a provider has none). */
export function readAttestation(x: unknown): ReadAttestation {
	const opened = openStatement(x, ATTESTATION_DOMAIN);
	if (!opened.ok) return { ok: false, reason: `Attestation: ${opened.reason}` };
	if (opened.device) return { ok: false, reason: 'Attestation: a provider signs with its own key, not a device certificate.' };
	const parsed = AttestationBody.safeParse(opened.body);
	if (!parsed.success) return { ok: false, reason: `Attestation: not a completion attestation (${parsed.error.issues[0]?.path.join('.') || 'body'}).` };
	if (parsed.data.provider !== opened.key) return { ok: false, reason: 'Attestation: it names another provider key than the one that signed it.' };
	return { ok: true, body: parsed.data as AttestationBody };
}
