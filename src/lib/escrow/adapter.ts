/**
 * The one interface every escrow provider implements. Parties never move money themselves: they
 * sign an intent, hand it to the provider with the contract's log (so the provider can check the
 * intent against the same rules every peer folds), and get back a receipt signed by the provider.
 * Only that receipt changes balances, on every peer.
 *
 * A failed call throws `EscrowError` and returns nothing. A definite refusal (declined, not-authorised,
 * over-release, …) means nothing moved: the caller writes nothing. A transient one (timeout,
 * unavailable, processing) means the answer is not known yet — the money may already have moved —
 * so the caller keeps the signed intent and asks again with the same intent id, which every
 * provider treats as its idempotency key: the same intent is executed at most once, and asking
 * again returns the same receipt. An adapter throws only EscrowError once a request may have
 * reached the provider; any other error means it was not sent.
 */
import type { FundingMethod, PayoutMethod } from '../money/fees';
import type { CurrencyCode } from '../money/currency';

export interface ProviderInfo {
	id: string;
	name: string;
	/** Receipts are verified against this key; it is fixed in the contract terms both parties accept. */
	publicKey: string;
	/** A test provider: no real money moves. Shown wherever the provider is. */
	testMode: boolean;
}

export interface FundingQuote {
	amount: number;
	fee: number;
	/** What the client pays: amount + fee. */
	total: number;
	currency: CurrencyCode;
	method: FundingMethod;
	processingMs: number;
	availableAt: number;
}

export interface WithdrawalQuote {
	amount: number;
	fee: number;
	/** What reaches the freelancer: amount − fee. */
	net: number;
	currency: CurrencyCode;
	method: PayoutMethod;
	processingMs: number;
	availableAt: number;
}

export interface EscrowRequest {
	contract: string;
	/** The intent (or attested event) and its authentic causal past: never junk from the shared map. */
	log: string[];
	/** Id of the intent (or, for `attest`, the event) the provider is asked to act on. */
	event: string;
	/** Asked again about an intent stored earlier (outbox): the provider may already have executed it. */
	resumed?: boolean;
}

export interface RecordRequest {
	contract: string;
	publicKey: string;
	/** The requester's time; the provider accepts it within a few minutes of its own clock. */
	at: number;
	nonce: string;
	signature: string;
	/** A certified device's certificate (the provider may not hold it yet): it reads for its identity. */
	certificate?: string;
}

export interface Receipt {
	id: string;
	envelope: string;
}

export type EscrowErrorCode =
	| 'declined'
	| 'unavailable'
	| 'timeout'
	| 'invalid-request'
	| 'not-authorised'
	| 'unfunded'
	| 'over-release'
	| 'already-settled'
	| 'too-early'
	| 'insufficient-balance'
	/** Accepted and under way (a bank debit): ask again with the same intent id after `expectedAt`. */
	| 'processing';

/** The answer is not known yet: keep the intent and ask again with the same id. */
export const TRANSIENT_CODES: readonly EscrowErrorCode[] = ['timeout', 'unavailable', 'processing'];

export function isTransient(code: EscrowErrorCode): boolean {
	return TRANSIENT_CODES.includes(code);
}

export class EscrowError extends Error {
	readonly code: EscrowErrorCode;
	/** With 'processing': when the provider expects the money to have cleared (provider time, ms). */
	readonly expectedAt?: number;
	/** `details` is `{ expectedAt }` (or the bare number) for a 'processing' answer. */
	constructor(code: EscrowErrorCode, message: string, details?: { expectedAt?: number } | number) {
		super(message);
		this.name = 'EscrowError';
		this.code = code;
		const expectedAt = typeof details === 'number' ? details : details?.expectedAt;
		if (expectedAt !== undefined) this.expectedAt = expectedAt;
	}
}

export interface EscrowAdapter {
	info(): Promise<ProviderInfo>;
	/** Provider time now: the clock deadlines are judged on. */
	now(): Promise<number>;
	quoteFunding(amount: number, currency: CurrencyCode, method: FundingMethod): Promise<FundingQuote>;
	quoteWithdrawal(amount: number, currency: CurrencyCode, method: PayoutMethod): Promise<WithdrawalQuote>;
	/** Charge the client and hold the money in escrow: receipt.funded. */
	fund(req: EscrowRequest): Promise<Receipt>;
	/** Timestamp a submission or a refund request so its clock can start: receipt.attested. */
	attest(req: EscrowRequest): Promise<Receipt>;
	/** Client release, or a freelancer's auto-release claim after the review window: receipt.released. */
	release(req: EscrowRequest): Promise<Receipt>;
	/** Return escrow to the client: receipt.refunded. */
	refund(req: EscrowRequest): Promise<Receipt>;
	/** Pay the freelancer's available balance out: receipt.paidOut. */
	withdraw(req: EscrowRequest): Promise<Receipt>;
	/**
	 * The provider's record of a contract (every envelope it recorded or executed, with their causal
	 * past), served to a party on a request signed by its key over `recordRequestMessage`: how an
	 * event the other party withholds still reaches this side. Optional: a provider without a store
	 * (the Deno entry) keeps no record.
	 */
	record?(req: RecordRequest): Promise<string[]>;
}
