/**
 * `Minor`: an amount in integer minor units of the contract's currency, as a type of its own, so an
 * amount cannot be passed where a count, a percent, basis points or a timestamp is meant (nor the
 * other way round) without the compiler saying so. The brand is a type only: at run time a Minor is
 * the plain number it always was, so nothing stored, signed or synced changes.
 *
 * Values become Minor at the boundaries that already validate them: the event schemas
 * (contract/schema.ts), `parseAmount` for what a person types, and `minor()` here for anything else.
 */
import { MoneyError } from './errors';

declare const minorBrand: unique symbol;
/** A whole number of minor units. Non-negative, except the ledger's one signed balance (the client's outside-world account). */
export type Minor = number & { readonly [minorBrand]: 'Minor' };

/** Is `n` a whole, non-negative, safe number of minor units? */
export function isMinor(n: unknown): n is Minor {
	return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** `n` as Minor, or a MoneyError saying what is wrong with it ("Release amount must be …"). */
export function minor(n: unknown, what = 'Amount'): Minor {
	if (!isMinor(n)) throw new MoneyError('invalid-amount', `${what} must be a whole, non-negative number of minor units (got ${String(n)}).`);
	return n;
}

/*
 * Arithmetic on amounts that are already Minor. TypeScript types `a + b` as a plain number; these
 * keep the brand without a check, because the ledger (contract/ledger.ts) asserts its invariants
 * after every posting and the fold's own checks bound every operand.
 */
/** a + b */
export const addMinor = (a: Minor, b: Minor): Minor => (a + b) as Minor;
/** a − b (the caller has established b ≤ a, or is computing a signed balance) */
export const subMinor = (a: Minor, b: Minor): Minor => (a - b) as Minor;
/** The sum of amounts (0 for none). */
export const sumMinor = (amounts: Iterable<Minor>): Minor => {
	let sum = 0;
	for (const a of amounts) sum += a;
	return sum as Minor;
};
/** No amount. */
export const ZERO_MINOR = 0 as Minor;
