import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { CURRENCIES, CURRENCY_CODES, currencyName, exponentOf, isCurrencyCode, type CurrencyCode } from '../../../src/lib/money/currency';
import { MoneyError } from '../../../src/lib/money/errors';

describe('currency table', () => {
	it('lists the supported currencies with ISO 4217 exponents', () => {
		expect([...CURRENCY_CODES]).toEqual(['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'JPY', 'KWD', 'BHD']);
		for (const c of ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF'] as const) expect(exponentOf(c)).toBe(2);
		expect(exponentOf('JPY')).toBe(0);
		expect(exponentOf('KWD')).toBe(3);
		expect(exponentOf('BHD')).toBe(3);
		expect(CURRENCIES.map((c) => c.code)).toEqual([...CURRENCY_CODES]);
		expect(currencyName('JPY')).toBe('Japanese yen');
	});

	it('agrees with the runtime ICU data on every exponent', () => {
		for (const code of CURRENCY_CODES) {
			const icu = new Intl.NumberFormat('en-US', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits;
			expect(exponentOf(code), code).toBe(icu);
		}
	});

	it('recognises only its own codes', () => {
		expect(isCurrencyCode('USD')).toBe(true);
		expect(isCurrencyCode('KWD')).toBe(true);
		for (const x of ['usd', 'XYZ', '', 'toString', '__proto__', 'constructor', 1, null, undefined, {}]) expect(isCurrencyCode(x)).toBe(false);
	});

	it('refuses to guess the exponent of an unknown currency', () => {
		const call = () => exponentOf('XYZ' as CurrencyCode);
		expect(call).toThrow(MoneyError);
		try {
			call();
		} catch (e) {
			expect((e as MoneyError).code).toBe('unknown-currency');
		}
		expect(() => exponentOf('toString' as CurrencyCode)).toThrow(MoneyError);
	});

	it('works as a zod enum', () => {
		const Currency = z.enum(CURRENCY_CODES);
		expect(Currency.parse('EUR')).toBe('EUR');
		expect(Currency.safeParse('XYZ').success).toBe(false);
	});
});
