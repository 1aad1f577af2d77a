/**
 * Fee and processing-time tables for moving money in (funding escrow) and out (withdrawing
 * earnings), and the quotes built from them. Kept as plain data so the UI can show the same
 * numbers the provider charges, and so changing a price is a one-line, reviewable edit.
 *
 * SOURCES — these are the MOCK provider's defaults, modelled on public price lists as read when
 * this table was written (2026). They are not quotes, not legal terms, and not checked live:
 *  - card:          Stripe, stripe.com/pricing — US domestic cards 2.9% + 30¢. Where Stripe
 *                   publishes a local fixed fee it is used (EUR 0.25, GBP 0.20); other currencies
 *                   use a round local equivalent of 30¢ chosen for the mock.
 *  - paypal:        PayPal US merchant fees (paypal.com/us/business/paypal-business-fees) —
 *                   PayPal Checkout 3.49% + a fixed fee by received currency (USD 0.49, EUR 0.39,
 *                   GBP 0.39, CAD 0.59, AUD 0.59, CHF 0.49, JPY 49). KWD/BHD are not in that
 *                   table: round equivalents of USD 0.49.
 *  - bank_transfer: Stripe ACH Direct Debit, stripe.com/pricing — 0.8%, capped at $5.00; settles
 *                   in 4 business days (2 with faster settlement). Caps in other currencies are
 *                   round equivalents of $5.00. SEPA-like debits use the same rule in the mock.
 *  - payouts:       Upwork Help Center, withdrawal methods and fees — Direct to Local Bank $0.99
 *                   per withdrawal (its US ACH is free; the mock charges $0.99 for every bank
 *                   payout), arriving in 2–5 business days; PayPal $2.00 per withdrawal; U.S.
 *                   dollar wire transfer $30 (processed within one business day, up to seven to
 *                   arrive). Non-USD fixed fees are round local equivalents chosen for the mock.
 * Times are calendar days in the mock (no business-day calendar). Each fee is in the minor units
 * of the currency it is charged in; every table is a Record over all currencies, so adding a
 * currency does not compile until its fees are filled in.
 */
import { formatAmount, MAX_AMOUNT_MINOR } from './amount';
import { isCurrencyCode, type CurrencyCode } from './currency';
import { MoneyError } from './errors';
import { addMinor, subMinor, type Minor } from './minor';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Tuples (not string[]) so `z.enum(FUNDING_METHODS)` gives the exact union. */
export const FUNDING_METHODS = ['card', 'paypal', 'bank_transfer'] as const;
export type FundingMethod = (typeof FUNDING_METHODS)[number];

export const PAYOUT_METHODS = ['bank', 'paypal', 'wire'] as const;
export type PayoutMethod = (typeof PAYOUT_METHODS)[number];

export interface FeeRule {
	/** Percentage part in basis points (290 = 2.9%), charged on the amount, rounded half-up. */
	bps: number;
	/** Flat part per transaction, in minor units of each currency. */
	fixed: Readonly<Record<CurrencyCode, number>>;
	/** Most the whole fee (percentage + fixed) can be, in minor units of each currency. */
	cap?: Readonly<Record<CurrencyCode, number>>;
	/** How long until the money is usable: fastest seen, and what quotes promise. */
	processing: { minMs: number; typicalMs: number };
}

const NO_FIXED: Record<CurrencyCode, number> = { USD: 0, EUR: 0, GBP: 0, CAD: 0, AUD: 0, CHF: 0, JPY: 0, KWD: 0, BHD: 0 };

export const FUNDING_FEES: Readonly<Record<FundingMethod, FeeRule>> = {
	card: {
		bps: 290,
		fixed: { USD: 30, EUR: 25, GBP: 20, CAD: 30, AUD: 30, CHF: 30, JPY: 40, KWD: 90, BHD: 110 },
		processing: { minMs: 0, typicalMs: 0 }
	},
	paypal: {
		bps: 349,
		fixed: { USD: 49, EUR: 39, GBP: 39, CAD: 59, AUD: 59, CHF: 49, JPY: 49, KWD: 150, BHD: 185 },
		processing: { minMs: 0, typicalMs: 0 }
	},
	bank_transfer: {
		bps: 80,
		fixed: NO_FIXED,
		cap: { USD: 500, EUR: 500, GBP: 400, CAD: 700, AUD: 750, CHF: 450, JPY: 750, KWD: 1500, BHD: 1900 },
		processing: { minMs: 2 * DAY_MS, typicalMs: 4 * DAY_MS }
	}
};

export const PAYOUT_FEES: Readonly<Record<PayoutMethod, FeeRule>> = {
	bank: {
		bps: 0,
		fixed: { USD: 99, EUR: 99, GBP: 79, CAD: 139, AUD: 149, CHF: 89, JPY: 150, KWD: 300, BHD: 370 },
		processing: { minMs: 2 * DAY_MS, typicalMs: 2 * DAY_MS }
	},
	paypal: {
		bps: 0,
		fixed: { USD: 200, EUR: 190, GBP: 160, CAD: 275, AUD: 300, CHF: 180, JPY: 300, KWD: 620, BHD: 750 },
		processing: { minMs: 0, typicalMs: DAY_MS }
	},
	wire: {
		bps: 0,
		fixed: { USD: 3000, EUR: 2800, GBP: 2400, CAD: 4100, AUD: 4500, CHF: 2700, JPY: 4500, KWD: 9200, BHD: 11300 },
		processing: { minMs: DAY_MS, typicalMs: 5 * DAY_MS }
	}
};

/** amount × bps / 10 000, rounded half-up to the minor unit, in BigInt so nothing is ever fractional. */
export function basisPointsOf(amount: number, bps: number): Minor {
	if (!Number.isSafeInteger(amount) || amount < 0) throw new MoneyError('invalid-amount', `Not a valid amount: ${String(amount)}.`);
	if (!Number.isSafeInteger(bps) || bps < 0) throw new MoneyError('invalid-amount', `Not a valid basis-point rate: ${String(bps)}.`);
	return Number((BigInt(amount) * BigInt(bps) + 5_000n) / 10_000n) as Minor;
}

/** The fee one rule charges on `amount`: percentage + fixed, then the cap if there is one. */
export function feeFor(rule: FeeRule, amount: number, currency: CurrencyCode): Minor {
	const fee = basisPointsOf(amount, rule.bps) + rule.fixed[currency];
	return (rule.cap ? Math.min(fee, rule.cap[currency]) : fee) as Minor;
}

export interface FundingFeeQuote {
	amount: Minor;
	fee: Minor;
	/** What the client pays: amount + fee. */
	total: Minor;
	/** What reaches escrow: the whole amount (the client bears the fee). */
	net: Minor;
	processingMs: number;
	availableAt: number;
	method: FundingMethod;
	currency: CurrencyCode;
}

export interface WithdrawalFeeQuote {
	amount: Minor;
	fee: Minor;
	/** What reaches the freelancer: amount − fee (the freelancer bears the fee). */
	net: Minor;
	processingMs: number;
	availableAt: number;
	method: PayoutMethod;
	currency: CurrencyCode;
}

// Callers pass values read from logs and forms, so the types alone are not trusted at runtime.
function checkInputs(amount: number, currency: CurrencyCode, nowMs: number): void {
	if (!isCurrencyCode(currency)) throw new MoneyError('unknown-currency', `Unsupported currency: ${String(currency)}.`);
	if (!Number.isSafeInteger(amount)) throw new MoneyError('invalid-amount', `Amount must be a whole number of minor units (got ${String(amount)}).`);
	if (amount <= 0) throw new MoneyError('not-positive', 'Amount must be more than zero.');
	if (amount > MAX_AMOUNT_MINOR) throw new MoneyError('too-large', `Amount must be at most ${formatAmount(MAX_AMOUNT_MINOR, currency)}.`);
	if (!Number.isSafeInteger(nowMs)) throw new MoneyError('invalid-time', `Not a valid time: ${String(nowMs)}.`);
}

function ruleOf<M extends string>(table: Readonly<Record<M, FeeRule>>, method: M, kind: string): FeeRule {
	if (!Object.prototype.hasOwnProperty.call(table, method)) throw new MoneyError('unknown-method', `Unsupported ${kind} method: ${String(method)}.`);
	return table[method];
}

/** What funding `amount` of escrow by `method` costs the client, and when it clears. */
export function quoteFunding(amount: number, method: FundingMethod, currency: CurrencyCode, nowMs: number): FundingFeeQuote {
	checkInputs(amount, currency, nowMs);
	const rule = ruleOf(FUNDING_FEES, method, 'funding');
	const fee = feeFor(rule, amount, currency);
	const processingMs = rule.processing.typicalMs;
	// checkInputs established `amount` is a positive whole number of minor units.
	const a = amount as Minor;
	return { amount: a, fee, total: addMinor(a, fee), net: a, processingMs, availableAt: nowMs + processingMs, method, currency };
}

/** What withdrawing `amount` by `method` leaves the freelancer, and when it arrives. */
export function quoteWithdrawal(amount: number, method: PayoutMethod, currency: CurrencyCode, nowMs: number): WithdrawalFeeQuote {
	checkInputs(amount, currency, nowMs);
	const rule = ruleOf(PAYOUT_FEES, method, 'payout');
	const fee = feeFor(rule, amount, currency);
	// A withdrawal that delivers nothing is never what anyone means: refuse rather than send zero.
	if (fee >= amount)
		throw new MoneyError(
			'fee-exceeds-amount',
			`The ${method} withdrawal fee (${formatAmount(fee, currency)}) is not less than the amount (${formatAmount(amount, currency)}): withdraw more than the fee.`
		);
	const processingMs = rule.processing.typicalMs;
	const a = amount as Minor;
	return { amount: a, fee, net: subMinor(a, fee), processingMs, availableAt: nowMs + processingMs, method, currency };
}

/** What each method is called on buttons and receipts. */
export const FUNDING_LABELS: Readonly<Record<FundingMethod, string>> = { card: 'Card', paypal: 'PayPal', bank_transfer: 'Bank transfer (ACH)' };
export const PAYOUT_LABELS: Readonly<Record<PayoutMethod, string>> = { bank: 'Direct to local bank', paypal: 'PayPal', wire: 'Wire transfer' };
