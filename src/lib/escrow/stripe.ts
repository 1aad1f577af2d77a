/**
 * The app's side of the Stripe Connect escrow: an EscrowAdapter that calls the edge function.
 * It checks only the shape of what comes back; whether a receipt is genuine is decided where every
 * receipt is judged — in the fold, against the provider key fixed in the accepted contract terms.
 * The card step: a PaymentMethod from Stripe.js (Payment Element) goes with the fund call; when the
 * function answers `payment-required` (3-D Secure), Stripe.js finishes it and the call is repeated.
 */
import { z } from 'zod';
import type { CurrencyCode } from '../money/currency';
import type { FundingMethod, PayoutMethod } from '../money/fees';
import {
	EscrowError,
	type EscrowAdapter,
	type EscrowErrorCode,
	type EscrowRequest,
	type FundingQuote,
	type ProviderInfo,
	type Receipt,
	type RecordRequest,
	type WithdrawalQuote
} from './adapter';
import { toBase64url, utf8 } from '../contract/encoding';
import { sign, type DeviceKey } from '../identity/ed25519';
import { onboardingMessage, onboardingStatusMessage, PATHS, RecordBody, type OnboardingBody, type OnboardingStatus, type OnboardingStatusBody } from './protocol';

export interface StripeAdapterOptions {
	/** The function's base URL, e.g. https://escrow.example.workers.dev */
	url: string;
	fetch?: typeof fetch;
	/** Collect a PaymentMethod id for a funding intent (Stripe.js createPaymentMethod with the Payment Element). */
	paymentMethod?: (req: EscrowRequest) => Promise<string | undefined>;
	/** Finish a payment that needs the browser (Stripe.js handleNextAction with the client secret). */
	completePayment?: (clientSecret: string) => Promise<void>;
}

const ESCROW_CODES: readonly EscrowErrorCode[] = [
	'declined',
	'unavailable',
	'timeout',
	'invalid-request',
	'not-authorised',
	'unfunded',
	'over-release',
	'already-settled',
	'too-early',
	'insufficient-balance',
	'processing'
];

const ReceiptShape = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{43}$/), envelope: z.string().min(1) });
const InfoShape = z.object({ id: z.string(), name: z.string(), publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/), testMode: z.boolean() });
const ErrorShape = z.object({ code: z.string(), message: z.string(), clientSecret: z.string().optional(), expectedAt: z.number().int().optional() });
const RecordShape = z.object({ envelopes: z.array(z.string()) });
const Int = z.number().int();
const FundingQuoteShape = z.object({ amount: Int, fee: Int, total: Int, currency: z.string(), method: z.string(), processingMs: Int, availableAt: Int });
const WithdrawalQuoteShape = z.object({ amount: Int, fee: Int, net: Int, currency: z.string(), method: z.string(), processingMs: Int, availableAt: Int });

const OnboardShape = z.object({ account: z.string(), url: z.string().regex(/^https:\/\//), expiresAt: Int });
const OnboardingStatusShape = z.object({
	account: z.string().nullable(),
	detailsSubmitted: z.boolean(),
	payoutsEnabled: z.boolean(),
	transfers: z.enum(['active', 'inactive', 'pending', 'none'])
});

/** Who signs an onboarding or status request: this device's key, and its certificate when it acts for another identity key. */
export interface OnboardingSigner {
	key: DeviceKey;
	acting?: { identity: string; certificate: string };
}

/** A one-time proof's fields: the identity asked for, signed by this device, with its certificate when it is not that identity. */
async function proof(device: OnboardingSigner, message: (publicKey: string, at: number, nonce: string) => string, o: { at?: number; nonce?: string }) {
	const publicKey = device.acting?.identity ?? device.key.publicKey;
	const at = o.at ?? Date.now();
	const nonce = o.nonce ?? toBase64url(crypto.getRandomValues(new Uint8Array(18)));
	const signature = await sign(device.key, utf8.encode(message(publicKey, at, nonce)));
	return { publicKey, at, nonce, signature, ...(device.acting ? { certificate: device.acting.certificate } : {}) };
}

/** The body of POST /onboarding from `device`: the signature covers both URLs and a one-time nonce. */
export async function onboardingRequest(device: OnboardingSigner, o: { returnUrl: string; refreshUrl: string; at?: number; nonce?: string }): Promise<OnboardingBody> {
	const p = await proof(device, (k, at, nonce) => onboardingMessage(k, at, o.returnUrl, o.refreshUrl, nonce), o);
	return { ...p, returnUrl: o.returnUrl, refreshUrl: o.refreshUrl };
}

/** The body of POST /onboarding/status from `device`. */
export async function onboardingStatusRequest(device: OnboardingSigner, o: { at?: number; nonce?: string } = {}): Promise<OnboardingStatusBody> {
	return proof(device, onboardingStatusMessage, o);
}

export class StripeEscrowAdapter implements EscrowAdapter {
	private readonly base: string;
	private readonly fetcher: typeof fetch;

	constructor(private readonly o: StripeAdapterOptions) {
		this.base = o.url.replace(/\/+$/, '');
		this.fetcher = o.fetch ?? ((input, init) => fetch(input, init));
	}

	async info(): Promise<ProviderInfo> {
		return shaped(InfoShape, await this.call('GET', PATHS.key));
	}

	async now(): Promise<number> {
		return shaped(z.object({ now: Int }), await this.call('GET', PATHS.now)).now;
	}

	async quoteFunding(amount: number, currency: CurrencyCode, method: FundingMethod): Promise<FundingQuote> {
		return shaped(FundingQuoteShape, await this.call('POST', PATHS.quoteFunding, { amount, currency, method })) as FundingQuote;
	}

	async quoteWithdrawal(amount: number, currency: CurrencyCode, method: PayoutMethod): Promise<WithdrawalQuote> {
		return shaped(WithdrawalQuoteShape, await this.call('POST', PATHS.quoteWithdrawal, { amount, currency, method })) as WithdrawalQuote;
	}

	async fund(req: EscrowRequest): Promise<Receipt> {
		// A resumed intent may have no card form open: ask without a PaymentMethod, and the function
		// answers from its record (the receipt, 'processing') or says a payment method is needed.
		const paymentMethod = await this.o.paymentMethod?.(req).catch((e: unknown) => {
			if (req.resumed) return undefined;
			throw e;
		});
		const body = { contract: req.contract, log: req.log, event: req.event, ...(paymentMethod ? { paymentMethod } : {}) };
		try {
			return shaped(ReceiptShape, await this.call('POST', PATHS.fund, body));
		} catch (e) {
			// 3-D Secure and friends: the browser completes the payment, then the same intent is asked again.
			if (!(e instanceof PaymentRequiredError) || !this.o.completePayment) throw e instanceof PaymentRequiredError ? e.asEscrowError() : e;
			await this.o.completePayment(e.clientSecret);
			return this.receipt(PATHS.fund, { contract: req.contract, log: req.log, event: req.event });
		}
	}

	attest(req: EscrowRequest): Promise<Receipt> {
		return this.receipt(PATHS.attest, req);
	}

	release(req: EscrowRequest): Promise<Receipt> {
		return this.receipt(PATHS.release, req);
	}

	refund(req: EscrowRequest): Promise<Receipt> {
		return this.receipt(PATHS.refund, req);
	}

	withdraw(req: EscrowRequest): Promise<Receipt> {
		return this.receipt(PATHS.withdraw, req);
	}

	/**
	 * The provider's record of a contract (every envelope it recorded), for a party of it: the
	 * request is signed by that party's key (or a device's, with its certificate) over `recordRequestMessage(contract, publicKey, at, nonce)`.
	 */
	async record(req: RecordRequest): Promise<string[]> {
		const body = RecordBody.safeParse(req);
		if (!body.success) throw new EscrowError('invalid-request', `The record request is malformed: ${body.error.issues[0]?.message ?? 'invalid'}.`);
		return shaped(RecordShape, await this.call('POST', PATHS.record, body.data)).envelopes;
	}

	/**
	 * Open (or first create) the Stripe onboarding of the identity `device` acts for: the connected
	 * account is that identity's, whichever of its devices asks. Returns Stripe's hosted onboarding link.
	 */
	async onboard(device: OnboardingSigner, returnUrl: string, o: { refreshUrl?: string; at?: number } = {}): Promise<{ account: string; url: string; expiresAt: number }> {
		const body = await onboardingRequest(device, { returnUrl, refreshUrl: o.refreshUrl ?? returnUrl, ...(o.at !== undefined ? { at: o.at } : {}) });
		return shaped(OnboardShape, await this.call('POST', PATHS.onboarding, body));
	}

	/** The onboarding status of the identity `device` acts for (`at`: the device's clock, by default now). */
	async onboardingStatus(device: OnboardingSigner, at?: number): Promise<OnboardingStatus> {
		return shaped(OnboardingStatusShape, await this.call('POST', PATHS.onboardingStatus, await onboardingStatusRequest(device, at !== undefined ? { at } : {})));
	}

	private async receipt(path: string, req: EscrowRequest): Promise<Receipt> {
		try {
			return shaped(ReceiptShape, await this.call('POST', path, { contract: req.contract, log: req.log, event: req.event }));
		} catch (e) {
			throw e instanceof PaymentRequiredError ? e.asEscrowError() : e;
		}
	}

	private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
		let res: Response;
		try {
			res = await this.fetcher(this.base + path, {
				method,
				headers: body === undefined ? {} : { 'content-type': 'application/json' },
				body: body === undefined ? undefined : JSON.stringify(body)
			});
		} catch {
			throw new EscrowError('unavailable', 'The escrow function could not be reached. Try again: asking again with the same intent never moves money twice.');
		}
		let data: unknown;
		try {
			data = await res.json();
		} catch {
			throw new EscrowError('unavailable', `The escrow function answered ${res.status} without JSON.`);
		}
		if (res.ok) {
			if (data === null || typeof data !== 'object') throw new EscrowError('unavailable', 'The escrow function answered with an unexpected shape.');
			return data;
		}
		const err = ErrorShape.safeParse(data);
		if (!err.success) throw new EscrowError('unavailable', `The escrow function failed (${res.status}).`);
		if (err.data.code === 'payment-required' && err.data.clientSecret) throw new PaymentRequiredError(err.data.message, err.data.clientSecret);
		const code = (ESCROW_CODES as readonly string[]).includes(err.data.code) ? (err.data.code as EscrowErrorCode) : 'unavailable';
		throw new EscrowError(code, err.data.message, code === 'processing' && err.data.expectedAt !== undefined ? { expectedAt: err.data.expectedAt } : undefined);
	}
}

/** A well-formed answer or an 'unavailable' error: a broken function must not look like a refusal. */
function shaped<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
	const r = schema.safeParse(data);
	if (!r.success) throw new EscrowError('unavailable', 'The escrow function answered with an unexpected shape.');
	return r.data;
}

class PaymentRequiredError extends Error {
	constructor(
		message: string,
		readonly clientSecret: string
	) {
		super(message);
	}

	asEscrowError(): EscrowError {
		return new EscrowError('declined', `${this.message} (the payment was not completed).`);
	}
}
