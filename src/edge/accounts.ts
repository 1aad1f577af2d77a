/**
 * Freelancer onboarding: one Stripe connected account per freelancer party key, found again by the
 * key in its metadata (Stripe is the only database). Only the key's owner can create or open the
 * onboarding for it: the request carries a fresh signature by that key, so nobody can attach their
 * own bank account to a freelancer's releases.
 */
import type Stripe from 'stripe';
import { utf8 } from '../lib/contract/encoding';
import { EscrowError } from '../lib/escrow/adapter';
import { onboardingMessage, type OnboardingBody, type OnboardingStatus } from '../lib/escrow/protocol';
import { verify } from '../lib/identity/ed25519';
import { META } from './books';

/** How far the proof's time may be from the function's clock. */
export const PROOF_WINDOW_MS = 5 * 60_000;

/** The freelancer's connected account, oldest first if several carry the key. */
export async function accountOf(stripe: Stripe, partyKey: string): Promise<Stripe.Account | undefined> {
	let found: Stripe.Account | undefined;
	for await (const a of stripe.accounts.list({ limit: 100 })) {
		if (a.metadata?.[META.partyKey] !== partyKey) continue;
		if (!found || (a.created ?? 0) < (found.created ?? 0)) found = a;
	}
	return found;
}

export async function onboard(stripe: Stripe, body: OnboardingBody, now: number): Promise<{ account: string; url: string; expiresAt: number }> {
	if (Math.abs(now - body.at) > PROOF_WINDOW_MS) throw new EscrowError('not-authorised', 'The onboarding proof is too old; sign a fresh one.');
	const ok = await verify(body.publicKey, utf8.encode(onboardingMessage(body.publicKey, body.at)), body.signature);
	if (!ok) throw new EscrowError('not-authorised', 'The onboarding proof is not signed by this key.');
	let account = await accountOf(stripe, body.publicKey);
	if (!account) {
		account = await stripe.accounts.create(
			{
				// A recipient account: it receives transfers and pays out; the platform takes the charges.
				controller: { fees: { payer: 'application' }, losses: { payments: 'application' }, stripe_dashboard: { type: 'express' } },
				capabilities: { transfers: { requested: true } },
				tos_acceptance: { service_agreement: 'recipient' },
				...(body.country ? { country: body.country } : {}),
				metadata: { [META.partyKey]: body.publicKey }
			},
			{ idempotencyKey: `onboard:${body.publicKey}` }
		);
	}
	const link = await stripe.accountLinks.create({ account: account.id, type: 'account_onboarding', return_url: body.returnUrl, refresh_url: body.refreshUrl });
	return { account: account.id, url: link.url, expiresAt: link.expires_at * 1000 };
}

export async function onboardingStatus(stripe: Stripe, partyKey: string): Promise<OnboardingStatus> {
	const account = await accountOf(stripe, partyKey);
	if (!account) return { account: null, detailsSubmitted: false, payoutsEnabled: false, transfers: 'none' };
	const cap = account.capabilities?.transfers;
	const transfers: OnboardingStatus['transfers'] = cap === 'active' ? 'active' : cap === 'inactive' ? 'inactive' : cap === 'pending' ? 'pending' : 'none';
	return { account: account.id, detailsSubmitted: account.details_submitted ?? false, payoutsEnabled: account.payouts_enabled ?? false, transfers };
}

/** Where a release goes: refused until the freelancer has an account that can receive transfers. */
export async function payableAccount(stripe: Stripe, partyKey: string): Promise<Stripe.Account> {
	const account = await accountOf(stripe, partyKey);
	if (!account || account.capabilities?.transfers !== 'active')
		throw new EscrowError('invalid-request', 'The freelancer has not finished Stripe onboarding yet, so no payment can reach them.');
	return account;
}
