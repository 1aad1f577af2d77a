/**
 * Freelancer (and mediator) onboarding: one Stripe connected account per party key, found again through
 * the function's key → account index (store.ts), never by listing every account. Only the key's
 * owner can create or open the onboarding for it, or read its status: each request carries a fresh
 * signature by that key, and the onboarding signature also covers the return and refresh URLs, so a
 * captured proof cannot send the freelancer's onboarding anywhere else. Onboarding is rate-limited
 * per key and overall (counters in the store), so nobody can create accounts without bound.
 *
 * A second device of the person signs with its own key and sends its certificate: the account is
 * still the IDENTITY key's (one connected account whichever device asks), the certificate must be
 * signed by that identity, be for the signing key and not have expired on this function's clock, and
 * such a request carries a nonce it can use once. What this function cannot know is a revocation: it
 * is recorded per contract, and nothing here lists an identity's contracts, so a revoked device whose
 * certificate has no expiry can still open the onboarding and read the status.
 */
import type Stripe from 'stripe';
import { utf8 } from '../lib/contract/encoding';
import { EscrowError } from '../lib/escrow/adapter';
import { onboardingMessage, onboardingStatusMessage, type OnboardingBody, type OnboardingStatus, type OnboardingStatusBody } from '../lib/escrow/protocol';
import { CertificateError, readCertificate, type CertificateInfo } from '../lib/identity/certificate';
import { verify } from '../lib/identity/ed25519';
import { META } from './books';
import { RateLimited } from './failures';
import { MemoryAccountStore, type AccountStore } from './store';

/** How far a proof's time may be from the function's clock. */
export const PROOF_WINDOW_MS = 5 * 60_000;

const HOUR = 3_600_000;

export interface Limit {
	limit: number;
	windowMs: number;
}

export interface OnboardingLimits {
	/** Onboarding requests per party key. */
	perKey: Limit;
	/** Onboarding requests for all keys together (each may create a connected account). */
	overall: Limit;
	/** Status reads per party key. */
	statusPerKey: Limit;
}

export const ONBOARDING_LIMITS: OnboardingLimits = {
	perKey: { limit: 10, windowMs: HOUR },
	overall: { limit: 100, windowMs: HOUR },
	statusPerKey: { limit: 120, windowMs: HOUR }
};

export interface AccountDeps {
	stripe: Stripe;
	accounts: AccountStore;
	now: () => number;
	onboardingLimits?: OnboardingLimits;
}

/** The freelancer's connected account, through the index. */
export async function accountOf(d: { stripe: Stripe; accounts: AccountStore }, partyKey: string): Promise<Stripe.Account | undefined> {
	const id = await d.accounts.lookup(partyKey);
	return id ? d.stripe.accounts.retrieve(id) : undefined;
}

/** What every onboarding and status proof carries: the identity it acts for, and how it is signed. */
type Proof = Pick<OnboardingStatusBody, 'publicKey' | 'at' | 'signature' | 'nonce' | 'certificate'>;

/**
 * Is `message` signed for `p.publicKey` by that key, or by a device key it certified (the certificate
 * unexpired on the function's clock)? Its nonce is taken once.
 */
async function proven(d: AccountDeps, p: Proof, now: number, message: (nonce: string) => string, what: string): Promise<void> {
	if (Math.abs(now - p.at) > PROOF_WINDOW_MS) throw new EscrowError('not-authorised', `The ${what} proof is too old; sign a fresh one.`);
	// Only the nonce stops a captured proof from being replayed within the window: from a device (its
	// certificate is public, copied into every contract it acts in) and from the identity alike.
	const nonce = p.nonce;
	if (nonce === undefined) throw new EscrowError('not-authorised', `The ${what} proof needs a one-time nonce; update the app.`);
	let signer = p.publicKey;
	if (p.certificate !== undefined) {
		const c = certificateOf(p.certificate, what);
		if (c.identity !== p.publicKey) throw new EscrowError('not-authorised', `The ${what} proof's certificate is from another identity key than the one it asks for.`);
		if (c.expires !== undefined && now > c.expires)
			throw new EscrowError('not-authorised', `The certificate of the device “${c.name}” has expired: certify the device again to set up or check payouts from it.`);
		if (await d.accounts.lookup(revokedKey(c.identity, c.device)))
			throw new EscrowError('not-authorised', `The device “${c.name}” was revoked: set up or check payouts from another of your devices.`);
		signer = c.device;
	}
	if (!(await verify(signer, utf8.encode(message(nonce)), p.signature)))
		throw new EscrowError('not-authorised', p.certificate === undefined ? `The ${what} proof is not signed by this key.` : `The ${what} proof is not signed by the device key its certificate names.`);
	// Kept twice the proof window: a request's time is accepted up to PROOF_WINDOW_MS either side of now.
	if (!(await d.accounts.take(`once:${signer}:${nonce}`, 1, 2 * PROOF_WINDOW_MS, now)))
		throw new EscrowError('not-authorised', `This ${what} request was used already; sign a new one.`);
}

/**
 * A device revocation some contract's record holds, noted per identity: payouts are set up outside
 * any contract, so without this a stolen device revoked everywhere could still open the onboarding
 * link where Stripe's payout details are changed. Kept in the account index under a key no party key
 * can take (it has a colon).
 */
const revokedKey = (identity: string, device: string) => `revoked:${identity}:${device}`;

export async function noteRevokedDevice(d: { accounts: AccountStore }, identity: string, device: string): Promise<void> {
	await d.accounts.remember(revokedKey(identity, device), 'revoked');
}

function certificateOf(envelope: string, what: string): CertificateInfo {
	try {
		return readCertificate(envelope);
	} catch (e) {
		if (e instanceof CertificateError) throw new EscrowError('not-authorised', `The ${what} proof's certificate is refused: ${e.message}`);
		throw e;
	}
}

async function take(d: AccountDeps, bucket: string, l: Limit, now: number): Promise<void> {
	if (!(await d.accounts.take(bucket, l.limit, l.windowMs, now))) throw new RateLimited(`Too many onboarding requests; try again within ${Math.ceil(l.windowMs / 60_000)} minutes.`);
}

export async function onboard(d: AccountDeps, body: OnboardingBody): Promise<{ account: string; url: string; expiresAt: number }> {
	const now = d.now();
	const limits = d.onboardingLimits ?? ONBOARDING_LIMITS;
	await proven(d, body, now, (nonce) => onboardingMessage(body.publicKey, body.at, body.returnUrl, body.refreshUrl, nonce), 'onboarding');
	await take(d, `onboard:${body.publicKey}`, limits.perKey, now);
	await take(d, 'onboard:*', limits.overall, now);
	let account = await accountOf(d, body.publicKey);
	if (!account) {
		account = await d.stripe.accounts.create(
			{
				// A recipient account: it receives transfers and pays out; the platform takes the charges.
				controller: { fees: { payer: 'application' }, losses: { payments: 'application' }, stripe_dashboard: { type: 'express' } },
				capabilities: { transfers: { requested: true } },
				tos_acceptance: { service_agreement: 'recipient' },
				// Payouts only when the freelancer withdraws through this function: Stripe's default automatic
				// schedule would pay out released money before its security period and out from under a
				// transfer reversal after a chargeback.
				settings: { payouts: { schedule: { interval: 'manual' } } },
				...(body.country ? { country: body.country } : {}),
				metadata: { [META.partyKey]: body.publicKey }
			},
			{ idempotencyKey: `onboard:${body.publicKey}` }
		);
		await d.accounts.remember(body.publicKey, account.id);
	}
	const link = await d.stripe.accountLinks.create({ account: account.id, type: 'account_onboarding', return_url: body.returnUrl, refresh_url: body.refreshUrl });
	return { account: account.id, url: link.url, expiresAt: link.expires_at * 1000 };
}

export async function onboardingStatus(d: AccountDeps, body: OnboardingStatusBody): Promise<OnboardingStatus> {
	const now = d.now();
	await proven(d, body, now, (nonce) => onboardingStatusMessage(body.publicKey, body.at, nonce), 'status');
	await take(d, `status:${body.publicKey}`, (d.onboardingLimits ?? ONBOARDING_LIMITS).statusPerKey, now);
	const account = await accountOf(d, body.publicKey);
	if (!account) return { account: null, detailsSubmitted: false, payoutsEnabled: false, transfers: 'none' };
	const cap = account.capabilities?.transfers;
	const transfers: OnboardingStatus['transfers'] = cap === 'active' ? 'active' : cap === 'inactive' ? 'inactive' : cap === 'pending' ? 'pending' : 'none';
	return { account: account.id, detailsSubmitted: account.details_submitted ?? false, payoutsEnabled: account.payouts_enabled ?? false, transfers };
}

/**
 * Where a release goes: refused until the freelancer has an account that can receive transfers. A
 * dispute's mediator is onboarded the same way (its own key, its own connected account) to be paid
 * its fee out of the split.
 */
export async function payableAccount(d: { stripe: Stripe; accounts: AccountStore }, partyKey: string, who: 'freelancer' | 'mediator' = 'freelancer'): Promise<Stripe.Account> {
	const account = await accountOf(d, partyKey);
	if (!account || account.capabilities?.transfers !== 'active')
		throw new EscrowError(
			'invalid-request',
			who === 'freelancer'
				? 'The freelancer has not finished Stripe onboarding yet, so no payment can reach them.'
				: 'The mediator has not finished Stripe onboarding yet, so its fee cannot be paid; nothing was moved. The ruling can be sent again once it has.'
		);
	return account;
}

/**
 * For a deployment without a store (Deno / Supabase): an index and rate limits that live only as
 * long as the isolate, and, on a miss, the old scan of connected accounts by their party-key
 * metadata. Use the Workers deployment (durable.ts) to get neither limitation.
 */
export class IsolateAccountStore extends MemoryAccountStore {
	constructor(private readonly stripe: Stripe) {
		super();
	}

	override async lookup(partyKey: string): Promise<string | undefined> {
		const hit = await super.lookup(partyKey);
		if (hit || partyKey.startsWith('revoked:')) return hit;
		let found: Stripe.Account | undefined;
		for await (const a of this.stripe.accounts.list({ limit: 100 })) {
			if (a.metadata?.[META.partyKey] !== partyKey) continue;
			if (!found || (a.created ?? 0) < (found.created ?? 0)) found = a;
		}
		if (found) await this.remember(partyKey, found.id);
		return found?.id;
	}
}
