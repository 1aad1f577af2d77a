/**
 * The wire protocol between the app's Stripe adapter and the escrow edge function: paths, request
 * bodies (zod, so the function validates every input with the same schemas the adapter sends) and
 * the error shape. One module so the two ends cannot disagree about a field.
 */
import { z } from 'zod';
import { ContractId, Currency, FundingMethod, Id, PayoutMethod, PublicKey } from '../contract/schema';
import { MAX_AMOUNT_MINOR } from '../money/amount';

export const PATHS = {
	key: '/.well-known/escrow-key',
	now: '/now',
	quoteFunding: '/quote/funding',
	quoteWithdrawal: '/quote/withdrawal',
	fund: '/fund',
	attest: '/attest',
	release: '/release',
	refund: '/refund',
	withdraw: '/withdraw',
	onboarding: '/onboarding',
	onboardingStatus: '/onboarding/status',
	webhook: '/webhooks/stripe'
} as const;

/** A contract log is bounded: at most this many envelopes per request (the body size is bounded too). */
export const MAX_LOG_ENVELOPES = 20_000;
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export const EscrowRequestBody = z
	.object({
		contract: ContractId,
		log: z.array(z.string().max(32 * 1024)).max(MAX_LOG_ENVELOPES),
		event: Id,
		/** Funding only: a PaymentMethod the browser created with Stripe.js (Payment Element). */
		paymentMethod: z.string().regex(/^pm_[A-Za-z0-9_]{1,200}$/).optional()
	})
	.strict();
export type EscrowRequestBody = z.infer<typeof EscrowRequestBody>;

const QuoteAmount = z.number().int().positive().max(MAX_AMOUNT_MINOR);
export const FundingQuoteBody = z.object({ amount: QuoteAmount, currency: Currency, method: FundingMethod }).strict();
export const WithdrawalQuoteBody = z.object({ amount: QuoteAmount, currency: Currency, method: PayoutMethod }).strict();

/** The onboarding message a freelancer's device signs: proves the caller holds the party key. */
export function onboardingMessage(publicKey: string, at: number): string {
	return `milestone-escrow-onboarding\n${publicKey}\n${at}`;
}

export const OnboardingBody = z
	.object({
		publicKey: PublicKey,
		/** Device time of the proof; the function accepts it within a few minutes of its own clock. */
		at: z.number().int().nonnegative(),
		signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
		country: z.string().regex(/^[A-Z]{2}$/).optional(),
		returnUrl: z.url({ protocol: /^https?$/ }).max(2000),
		refreshUrl: z.url({ protocol: /^https?$/ }).max(2000)
	})
	.strict();
export type OnboardingBody = z.infer<typeof OnboardingBody>;

export interface OnboardingStatus {
	account: string | null;
	detailsSubmitted: boolean;
	payoutsEnabled: boolean;
	/** The `transfers` capability: releases can reach the account only when it is 'active'. */
	transfers: 'active' | 'inactive' | 'pending' | 'none';
}

/** Every error the function answers is this shape; `code` is an EscrowErrorCode or one of the extra codes. */
export interface WireError {
	code: string;
	message: string;
	/** With 'payment-required': the PaymentIntent's client secret, for Stripe.js to finish (3-D Secure). */
	clientSecret?: string;
}
