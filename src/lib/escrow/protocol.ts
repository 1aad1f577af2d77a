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
	/** POST with a fresh signature by the party key or a device it certified (OnboardingStatusBody): the status is nobody else's business. */
	onboardingStatus: '/onboarding/status',
	/** POST RecordBody: the provider's record of a contract, served to either bound party. */
	record: '/record',
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
export type EscrowRequestBody = z.input<typeof EscrowRequestBody>;

const QuoteAmount = z.number().int().positive().max(MAX_AMOUNT_MINOR);
export const FundingQuoteBody = z.object({ amount: QuoteAmount, currency: Currency, method: FundingMethod }).strict();
export const WithdrawalQuoteBody = z.object({ amount: QuoteAmount, currency: Currency, method: PayoutMethod }).strict();

/**
 * The onboarding message a freelancer's device signs: proves the caller holds the party key (or a
 * device key that party certified), and binds where Stripe's hosted onboarding sends the browser
 * back (so a relayed proof cannot send the freelancer's onboarding to someone else's page). Its
 * nonce makes it one-time: the function takes each nonce once. (An older, nonce-less form, first line
 * `milestone-escrow-onboarding`, was replayable within the proof window and is refused now; the
 * one-time form has its own first line so that no old proof can pass for it.)
 */
export function onboardingMessage(publicKey: string, at: number, returnUrl: string, refreshUrl: string, nonce: string): string {
	return `milestone-escrow-onboarding-once\n${nonce}\n${publicKey}\n${at}\n${returnUrl}\n${refreshUrl}`;
}

const ProofNonce = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'expected 16–64 base64url characters');
/** A device's `device.certified` envelope, signed by the identity key `publicKey` names. */
const ProofCertificate = z.string().max(4 * 1024);

export const OnboardingBody = z
	.object({
		publicKey: PublicKey,
		/** Device time of the proof; the function accepts it within a few minutes of its own clock. */
		at: z.number().int().nonnegative(),
		signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
		country: z.string().regex(/^[A-Z]{2}$/).optional(),
		returnUrl: z.url({ protocol: /^https?$/ }).max(2000),
		refreshUrl: z.url({ protocol: /^https?$/ }).max(2000),
		nonce: ProofNonce.optional(),
		/** With it, `signature` is by the certified device key and `publicKey` is still the identity (the account's key). */
		certificate: ProofCertificate.optional()
	})
	.strict();
export type OnboardingBody = z.input<typeof OnboardingBody>;

/** What a freelancer's device signs to read its own onboarding status (the nonce as in `onboardingMessage`). */
export function onboardingStatusMessage(publicKey: string, at: number, nonce: string): string {
	return `milestone-escrow-onboarding-status-once\n${nonce}\n${publicKey}\n${at}`;
}

export const OnboardingStatusBody = z
	.object({
		publicKey: PublicKey,
		at: z.number().int().nonnegative(),
		signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
		nonce: ProofNonce.optional(),
		certificate: ProofCertificate.optional()
	})
	.strict();
export type OnboardingStatusBody = z.input<typeof OnboardingStatusBody>;

/**
 * What a party signs to read the provider's record of a contract: the contract, a fresh time and a
 * one-time nonce, so a captured request can be neither replayed nor used for another contract.
 */
export function recordRequestMessage(contract: string, publicKey: string, at: number, nonce: string): string {
	return `milestone-escrow-record\n${contract}\n${publicKey}\n${at}\n${nonce}`;
}

export const RecordBody = z
	.object({
		contract: ContractId,
		publicKey: PublicKey,
		at: z.number().int().nonnegative(),
		nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'expected 16–64 base64url characters'),
		signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
		/** When `publicKey` is a device key: its `device.certified` envelope, signed by a party's identity key. */
		certificate: z.string().max(4 * 1024).optional()
	})
	.strict();
export type RecordBody = z.input<typeof RecordBody>;

/** The answer to POST /record: every envelope the provider recorded for the contract. */
export interface RecordAnswer {
	envelopes: string[];
}

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
	/** With 'processing': when the provider expects the payment to have cleared (provider time, ms). */
	expectedAt?: number;
}
