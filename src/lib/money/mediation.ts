/**
 * What a dispute costs (contract/dispute.ts): the mediator's fee rule and the small-dispute limit,
 * per currency. Plain data, like the fee tables in fees.ts, so a page shows the very numbers the
 * provider applies.
 *
 * The issue names 25 (fee minimum) and 50 (small-dispute limit) in USD, EUR, GBP "and the like":
 * CHF is near enough to take the same numbers; the others are round local equivalents of USD 25 and
 * USD 50 chosen for the mock (CAD ≈ 0.73 USD, AUD ≈ 0.66 USD, 1 USD ≈ 150 JPY, 1 KWD ≈ 3.25 USD,
 * 1 BHD ≈ 2.65 USD, as read in 2026). Every table is a Record over all currencies, so adding a
 * currency does not compile until its numbers are filled in.
 */
import { basisPointsOf } from './fees';
import type { CurrencyCode } from './currency';
import { MoneyError } from './errors';
import type { Minor } from './minor';

/** The mediator's fee unless the terms or the acceptance name another: 5 % of the disputed amount. */
export const DEFAULT_MEDIATION_FEE_BPS = 500;
/** The highest fee rule a mediator may ask: 20 %. */
export const MAX_MEDIATION_FEE_BPS = 2_000;

/** The least a mediator's fee can be, in minor units (25 USD and the like). */
export const MEDIATION_FEE_MINIMUM: Readonly<Record<CurrencyCode, number>> = {
	USD: 2_500,
	EUR: 2_500,
	GBP: 2_500,
	CHF: 2_500,
	CAD: 3_500,
	AUD: 4_000,
	JPY: 4_000,
	KWD: 8_000,
	BHD: 9_500
};

/** Disputes below this (50 USD and the like) split at the midpoint on a rejection, with no mediator. */
export const SMALL_DISPUTE_LIMIT: Readonly<Record<CurrencyCode, number>> = {
	USD: 5_000,
	EUR: 5_000,
	GBP: 5_000,
	CHF: 5_000,
	CAD: 7_000,
	AUD: 7_500,
	JPY: 7_500,
	KWD: 15_000,
	BHD: 19_000
};

/**
 * The mediator's fee on a disputed amount: `bps` of it (rounded half-up), at least the currency's
 * minimum, and never more than the disputed amount itself (the fee is paid out of it).
 */
export function mediationFee(disputed: number, bps: number, currency: CurrencyCode): Minor {
	if (!Number.isSafeInteger(disputed) || disputed < 0) throw new MoneyError('invalid-amount', `Not a valid amount: ${String(disputed)}.`);
	const minimum = MEDIATION_FEE_MINIMUM[currency];
	if (minimum === undefined) throw new MoneyError('unknown-currency', `Unsupported currency: ${String(currency)}.`);
	return Math.min(disputed, Math.max(minimum, basisPointsOf(disputed, bps))) as Minor;
}

/**
 * Who pays how much of a fee out of their shares of the disputed escrow: half each (the client pays
 * the odd unit, as the freelancer gets the odd unit of a midpoint), and when one share is too small
 * for its half, the other share pays the rest. Throws if both shares together cannot pay it.
 */
export function feeShares(freelancerShare: number, clientShare: number, fee: number): { freelancer: Minor; client: Minor } {
	if (fee > freelancerShare + clientShare) throw new MoneyError('fee-exceeds-amount', 'The fee is larger than the disputed amount.');
	let freelancer = Math.min(freelancerShare, Math.floor(fee / 2));
	const client = Math.min(clientShare, fee - freelancer);
	freelancer = fee - client;
	return { freelancer: freelancer as Minor, client: client as Minor };
}

/** The midpoint of two offers, rounded to the minor unit: the odd unit goes to the freelancer. */
export function midpoint(a: number, b: number): Minor {
	return Math.ceil((a + b) / 2) as Minor;
}
