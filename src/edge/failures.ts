/**
 * Turning whatever went wrong into the `{ code, message }` a client can act on. Stripe's own error
 * messages are safe to pass on for card declines and invalid requests; authentication and
 * permission errors are reduced to "misconfigured" so nothing about the platform's keys leaks.
 */
import { EscrowError, type EscrowErrorCode } from '../lib/escrow/adapter';
import type { WireError } from '../lib/escrow/protocol';

/** The PaymentIntent needs the browser (3-D Secure, a payment method): Stripe.js finishes it. */
export class PaymentRequired extends Error {
	constructor(
		message: string,
		readonly clientSecret: string
	) {
		super(message);
		this.name = 'PaymentRequired';
	}
}

/** Too many requests of one kind (onboarding): answered with HTTP 429, code 'unavailable'. */
export class RateLimited extends EscrowError {
	constructor(message: string) {
		super('unavailable', message);
	}
}

/**
 * A deployment without a record (the Deno entry) never judges "nobody answered in time": the log a
 * party sends could leave out whatever stopped the clock.
 */
export function noRecordRefusal(): EscrowError {
	return new EscrowError(
		'not-authorised',
		'This escrow function keeps no record of contracts (the Deno / Supabase deployment), so it cannot judge that a deadline passed with nobody acting: auto-release and refunds of unanswered requests are refused here. The Cloudflare deployment keeps the record and can.'
	);
}

export const STATUS: Record<EscrowErrorCode | 'payment-required' | 'internal', number> = {
	declined: 402,
	'payment-required': 402,
	unavailable: 503,
	timeout: 504,
	'invalid-request': 400,
	'not-authorised': 403,
	unfunded: 409,
	'over-release': 409,
	'already-settled': 409,
	'too-early': 409,
	'insufficient-balance': 409,
	processing: 409,
	internal: 500
};

interface StripeLikeError {
	type?: string;
	code?: string;
	message?: string;
	detail?: { code?: string };
}

function isStripeError(e: unknown): e is StripeLikeError {
	return typeof e === 'object' && e !== null && typeof (e as StripeLikeError).type === 'string' && (e as StripeLikeError).type!.startsWith('Stripe');
}

/** Map a Stripe SDK error to the escrow error the app understands; anything else passes through. */
export function fromStripe(e: unknown): unknown {
	if (!isStripeError(e)) return e;
	switch (e.type) {
		case 'StripeCardError':
			return new EscrowError('declined', `The payment was declined: ${e.message ?? 'card declined'}.`);
		case 'StripeConnectionError':
			return e.detail?.code === 'ETIMEDOUT'
				? new EscrowError('timeout', 'Stripe did not answer in time; the payment may or may not have gone through. Asking again with the same intent is safe.')
				: new EscrowError('unavailable', 'Stripe could not be reached. Try again later.');
		case 'StripeAPIError':
		case 'StripeRateLimitError':
			return new EscrowError('unavailable', 'Stripe is unavailable right now. Try again later.');
		case 'StripeIdempotencyError':
			return new EscrowError('invalid-request', 'This intent was already sent to Stripe with different details.');
		case 'StripeAuthenticationError':
		case 'StripePermissionError':
			return new EscrowError('unavailable', 'The escrow function is misconfigured (Stripe refused its credentials).');
		case 'StripeInvalidRequestError':
			if (e.code === 'balance_insufficient') return new EscrowError('insufficient-balance', 'The Stripe balance is not enough for this yet.');
			return new EscrowError('invalid-request', `Stripe refused the request: ${e.message ?? e.code ?? 'invalid request'}`);
		default:
			return new EscrowError('unavailable', 'Stripe answered with an unexpected error. Try again later.');
	}
}

export function toWire(e: unknown): { status: number; body: WireError } {
	const mapped = fromStripe(e);
	if (mapped instanceof PaymentRequired)
		return { status: STATUS['payment-required'], body: { code: 'payment-required', message: mapped.message, clientSecret: mapped.clientSecret } };
	if (mapped instanceof RateLimited) return { status: 429, body: { code: mapped.code, message: mapped.message } };
	if (mapped instanceof EscrowError)
		return {
			status: STATUS[mapped.code],
			body: { code: mapped.code, message: mapped.message, ...(mapped.expectedAt !== undefined ? { expectedAt: mapped.expectedAt } : {}) }
		};
	// Unknown failures: a fixed message; the detail may hold anything, so it is not echoed.
	return { status: 500, body: { code: 'internal', message: 'The escrow function failed unexpectedly.' } };
}
