/**
 * The currencies the app supports, with their ISO 4217 minor-unit exponents. Every amount in the
 * app is an integer count of minor units (cents, fils, yen), so the exponent is the only thing
 * needed to read or write one.
 */
import { MoneyError } from './errors';

/** A tuple (not a string[]) so `z.enum(CURRENCY_CODES)` and the `CurrencyCode` union stay exact. */
export const CURRENCY_CODES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'JPY', 'KWD', 'BHD'] as const;

export type CurrencyCode = (typeof CURRENCY_CODES)[number];

export interface Currency {
	code: CurrencyCode;
	/** Decimal places of the minor unit: 2 means 1 USD = 100 cents; 0 means JPY has no minor unit. */
	exponent: 0 | 2 | 3;
	name: string;
}

// A Record keyed by the union: adding a code to CURRENCY_CODES fails to compile until it is described here.
const TABLE: Record<CurrencyCode, Omit<Currency, 'code'>> = {
	USD: { exponent: 2, name: 'US dollar' },
	EUR: { exponent: 2, name: 'Euro' },
	GBP: { exponent: 2, name: 'Pound sterling' },
	CAD: { exponent: 2, name: 'Canadian dollar' },
	AUD: { exponent: 2, name: 'Australian dollar' },
	CHF: { exponent: 2, name: 'Swiss franc' },
	JPY: { exponent: 0, name: 'Japanese yen' },
	KWD: { exponent: 3, name: 'Kuwaiti dinar' },
	BHD: { exponent: 3, name: 'Bahraini dinar' }
};

export const CURRENCIES: readonly Currency[] = CURRENCY_CODES.map((code) => ({ code, ...TABLE[code] }));

/** Own-property check, so prototype keys like "toString" are not mistaken for currencies. */
export function isCurrencyCode(x: unknown): x is CurrencyCode {
	return typeof x === 'string' && Object.prototype.hasOwnProperty.call(TABLE, x);
}

/** Throws rather than guessing: a wrong exponent would misstate every amount by a factor of 10+. */
export function exponentOf(code: CurrencyCode): 0 | 2 | 3 {
	if (!isCurrencyCode(code)) throw new MoneyError('unknown-currency', `Unsupported currency: ${String(code)}.`);
	return TABLE[code].exponent;
}

export function currencyName(code: CurrencyCode): string {
	if (!isCurrencyCode(code)) throw new MoneyError('unknown-currency', `Unsupported currency: ${String(code)}.`);
	return TABLE[code].name;
}
