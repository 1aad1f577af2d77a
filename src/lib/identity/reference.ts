/**
 * References: once a contract has ended, each party signs a statement about the other — the outcome,
 * the rating and feedback it left in the contract, the dates — bound to both identity keys and to the
 * hash of the contract id. Carried with the escrow provider's completion attestation of the same
 * contract (escrow/attestation.ts), it shows that money moved, in a band, without the amounts.
 *
 * Verifying one says exactly what failed: the signature (by the issuer's identity key), the keys
 * (written by the other party of the contract, about the person whose profile holds it), the
 * attestation (signed, for this very contract and these two keys in these roles, by a provider this
 * viewer set up; TEST MODE labelled), and whether this device verified the issuer. Pure.
 */
import { z } from 'zod';
import { completionFacts, completionRefusal, contractHash, OUTCOME_TEXT, type Outcome } from '../contract/completion';
import { PublicKey } from '../contract/schema';
import type { ContractState, Role } from '../contract/state';
import { readAttestation, type AttestationBody } from '../escrow/attestation';
import { judgeAttestationProvider, type TrustedProvider } from '../escrow/attestation-trust';
import { isVerified, type AddressBook } from './address-book';
import { readCertificate } from './certificate';
import type { DeviceKey } from './ed25519';
import { openStatement, signStatement, type SignedStatement } from './statement';

export const REFERENCE_DOMAIN = 'milestone-reference/1';

export const ReferenceBody = z
	.object({
		v: z.literal(1),
		type: z.literal('reference'),
		contract: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
		issuer: PublicKey,
		subject: PublicKey,
		issuerRole: z.enum(['client', 'freelancer']),
		outcome: z.enum(['paid-in-full', 'paid-in-part', 'not-paid']),
		rating: z.number().int().min(1).max(5),
		feedback: z.string().max(5000),
		startedAt: z.number().int().nonnegative(),
		endedAt: z.number().int().nonnegative(),
		/** When the issuer signed it (the issuer's clock). */
		at: z.number().int().nonnegative()
	})
	.strict();
export type ReferenceBody = z.input<typeof ReferenceBody> & { outcome: Outcome };

/** A reference as a profile carries it: with the provider's attestation of the same contract, when asked for. */
export interface ReferenceEntry {
	reference: SignedStatement;
	attestation?: SignedStatement;
}

/** Why `identity` cannot issue a reference on this contract now, or undefined. */
export function referenceRefusal(s: ContractState, identity: string | undefined): string | undefined {
	const not = completionRefusal(s);
	if (not) return not;
	const role = roleIn(s, identity);
	if (!role) return 'Only a party of the contract can write a reference about the other.';
	if (!s.feedback[role]) return 'Leave feedback first: the reference carries the rating and feedback you left.';
	return undefined;
}

function roleIn(s: ContractState, identity: string | undefined): Role | undefined {
	if (!identity) return undefined;
	return s.parties.client === identity ? 'client' : s.parties.freelancer === identity ? 'freelancer' : undefined;
}

/**
 * Sign a reference about the other party of the ended contract `s`, with `key` (the identity key,
 * or a device key with its identity's `certificate` envelope).
 */
export function issueReference(s: ContractState, key: DeviceKey, at: number, certificate?: string): SignedStatement {
	const identity = certificate ? readCertificate(certificate, key.publicKey).identity : key.publicKey;
	const refusal = referenceRefusal(s, identity);
	if (refusal) throw new Error(refusal);
	const role = roleIn(s, identity)!;
	const f = completionFacts(s);
	const fb = s.feedback[role]!;
	const body: ReferenceBody = {
		v: 1,
		type: 'reference',
		contract: contractHash(s.contract),
		issuer: identity,
		subject: role === 'client' ? f.freelancer : f.client,
		issuerRole: role,
		outcome: f.outcome,
		rating: fb.rating,
		feedback: fb.text,
		startedAt: f.startedAt,
		endedAt: f.endedAt,
		at
	};
	return signStatement(key, REFERENCE_DOMAIN, body, certificate);
}

export type ReferenceStatus = 'verified' | 'test-mode' | 'unattested' | 'untrusted' | 'failed';

export interface Check {
	what: 'signature' | 'keys' | 'attestation' | 'provider' | 'counterparty';
	ok: boolean;
	text: string;
}

export interface ReferenceVerdict {
	status: ReferenceStatus;
	/** What failed, in words; empty unless `status` is 'failed'. */
	failures: string[];
	checks: Check[];
	reference?: ReferenceBody;
	attestation?: AttestationBody;
	/** The issuer is in this device's address book (verified by safety number or code). */
	issuerVerified: boolean;
	provider?: { name: string; testMode: boolean };
}

export interface VerifyContext {
	/** The identity whose profile holds the reference: it must be the reference's subject. */
	owner?: string;
	trusted: readonly TrustedProvider[];
	book: AddressBook;
}

export const STATUS_TEXT: Record<ReferenceStatus, string> = {
	verified: 'Verified',
	'test-mode': 'Verified in TEST MODE (no real money: anyone can sign TEST MODE attestations)',
	unattested: 'Signed, but no escrow attestation: nothing shows that money moved',
	untrusted: 'Signed, but attested by an escrow provider you have not set up',
	failed: 'Failed'
};

export function verifyReference(entry: unknown, ctx: VerifyContext): ReferenceVerdict {
	const checks: Check[] = [];
	const fail = (what: Check['what'], text: string) => checks.push({ what, ok: false, text });
	const pass = (what: Check['what'], text: string) => checks.push({ what, ok: true, text });
	const e = (entry && typeof entry === 'object' ? entry : {}) as Partial<ReferenceEntry>;

	const opened = openStatement(e.reference, REFERENCE_DOMAIN);
	let ref: ReferenceBody | undefined;
	if (!opened.ok) fail('signature', `Reference: ${opened.reason}`);
	else {
		const parsed = ReferenceBody.safeParse(opened.body);
		if (!parsed.success) fail('signature', `Reference: not a reference (${parsed.error.issues[0]?.path.join('.') || 'body'}).`);
		else if (parsed.data.issuer !== opened.identity) fail('signature', 'Reference: it is not signed by the identity key of the person it names as its author.');
		else {
			ref = parsed.data as ReferenceBody;
			pass('signature', "Signed by the author's identity key.");
		}
	}

	if (ref) {
		if (ref.issuer === ref.subject) fail('keys', 'The reference is written by the person it is about: a reference must come from the other party of the contract.');
		else if (ctx.owner !== undefined && ref.subject !== ctx.owner) fail('keys', 'The reference is about someone else, not the owner of this profile.');
		else pass('keys', 'Written by the other party, about the owner of this profile.');
	}

	let att: AttestationBody | undefined;
	let provider: ReferenceVerdict['provider'];
	let untrusted = false;
	if (e.attestation !== undefined) {
		const read = readAttestation(e.attestation);
		if (!read.ok) fail('attestation', read.reason);
		else {
			att = read.body;
			const trust = judgeAttestationProvider(att.provider, ctx.trusted);
			if (!trust.trusted) {
				untrusted = true;
				checks.push({ what: 'provider', ok: false, text: trust.reason });
			} else {
				provider = { name: trust.name, testMode: trust.testMode };
				pass('provider', trust.testMode ? `Attested by ${trust.name}: TEST MODE, no real money moved.` : `Attested by ${trust.name}, an escrow provider you set up.`);
			}
			if (ref) {
				const roles = ref.issuerRole === 'client' ? { client: ref.issuer, freelancer: ref.subject } : { client: ref.subject, freelancer: ref.issuer };
				if (att.contract !== ref.contract) fail('attestation', 'The attestation is for another contract than the reference.');
				else if (att.client !== roles.client || att.freelancer !== roles.freelancer)
					fail('attestation', "The attestation names other keys (or other roles) than the reference's author and subject.");
				else if (att.outcome !== ref.outcome)
					fail('attestation', `The reference says “${OUTCOME_TEXT[ref.outcome]}”, the provider's record says “${OUTCOME_TEXT[att.outcome]}”.`);
				else if (att.endedAt !== ref.endedAt) fail('attestation', "The reference's end date is not the one the provider recorded.");
				else pass('attestation', 'The attestation is for this contract, these two keys in these roles, and the same outcome.');
			}
		}
	}

	const issuerVerified = ref ? isVerified(ctx.book, ref.issuer) : false;
	if (ref) checks.push({ what: 'counterparty', ok: issuerVerified, text: issuerVerified ? 'You verified the author (safety number or code).' : 'You have not verified the author: compare a safety number with them to know the key is theirs.' });

	const failures = checks.filter((c) => !c.ok && c.what !== 'counterparty' && c.what !== 'provider').map((c) => c.text);
	const status: ReferenceStatus = failures.length || !ref ? 'failed' : untrusted ? 'untrusted' : !att ? 'unattested' : provider?.testMode ? 'test-mode' : 'verified';
	if (status === 'failed' && !failures.length) failures.push('The reference could not be read.');
	return { status, failures, checks, ...(ref ? { reference: ref } : {}), ...(att ? { attestation: att } : {}), issuerVerified, ...(provider ? { provider } : {}) };
}
