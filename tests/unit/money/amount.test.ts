import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { assertMinor, formatAmount, MAX_AMOUNT_MINOR, parseAmount, toDecimalString } from '../../../src/lib/money/amount';
import { CURRENCY_CODES, exponentOf, type CurrencyCode } from '../../../src/lib/money/currency';
import { MoneyError } from '../../../src/lib/money/errors';

/** ICU puts no-break spaces between code and number; compare with plain spaces. */
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('parseAmount: accepted input', () => {
	const cases: [string, CurrencyCode, number][] = [
		['1,234.50', 'USD', 123_450],
		['1234.5', 'USD', 123_450],
		[' 12 ', 'USD', 1_200],
		['12', 'USD', 1_200],
		['0', 'USD', 0],
		['0.05', 'USD', 5],
		['.5', 'USD', 50],
		['12.', 'USD', 1_200],
		['007', 'USD', 700],
		['12.500', 'USD', 1_250],
		['1,234,567.89', 'USD', 123_456_789],
		['1 234.50', 'USD', 123_450],
		['1\u00a0234.50', 'USD', 123_450],
		['1\u202f234', 'USD', 123_400],
		['1\u2009234', 'USD', 123_400],
		['$12', 'USD', 1_200],
		['$1,234.50', 'USD', 123_450],
		['12 USD', 'USD', 1_200],
		['usd 12', 'USD', 1_200],
		['€1,234.50', 'EUR', 123_450],
		['£0.99', 'GBP', 99],
		['CA$12.00', 'CAD', 1_200],
		['$12', 'CAD', 1_200],
		['CHF 12', 'CHF', 1_200],
		['1,234', 'JPY', 1_234],
		['¥1,234', 'JPY', 1_234],
		['1234.0', 'JPY', 1_234],
		['1.234', 'KWD', 1_234],
		['KWD 1,234.500', 'KWD', 1_234_500],
		['0.005', 'BHD', 5],
		['1.5', 'BHD', 1_500],
		['100,000,000.00', 'USD', MAX_AMOUNT_MINOR],
		['10,000,000,000', 'JPY', MAX_AMOUNT_MINOR],
		['10,000,000', 'KWD', MAX_AMOUNT_MINOR]
	];
	it.each(cases)('%j in %s → %i', (text, currency, minor) => {
		expect(parseAmount(text, currency)).toEqual({ ok: true, minor });
	});
});

describe('parseAmount: every error code', () => {
	const cases: [string, CurrencyCode, string][] = [
		['', 'USD', 'empty'],
		['   ', 'USD', 'empty'],
		['\t\n', 'USD', 'empty'],
		['abc', 'USD', 'not-a-number'],
		['12abc', 'USD', 'not-a-number'],
		['1.2.3', 'USD', 'not-a-number'],
		['1e5', 'USD', 'not-a-number'],
		['0x10', 'USD', 'not-a-number'],
		['Infinity', 'USD', 'not-a-number'],
		['NaN', 'USD', 'not-a-number'],
		['+5', 'USD', 'not-a-number'],
		['--5', 'USD', 'not-a-number'],
		['$', 'USD', 'not-a-number'],
		['.', 'USD', 'not-a-number'],
		['€12', 'USD', 'not-a-number'],
		['12,34', 'USD', 'not-a-number'],
		['1,23,456', 'USD', 'not-a-number'],
		['1,2345', 'USD', 'not-a-number'],
		['-abc', 'USD', 'not-a-number'],
		['-5', 'USD', 'negative'],
		['\u22125', 'USD', 'negative'],
		['-$5.00', 'USD', 'negative'],
		['$-5', 'USD', 'negative'],
		['-0', 'USD', 'negative'],
		['-12.555', 'USD', 'negative'],
		['1.234', 'USD', 'too-many-decimals'],
		['0.001', 'EUR', 'too-many-decimals'],
		['12.5', 'JPY', 'too-many-decimals'],
		['1.2345', 'KWD', 'too-many-decimals'],
		['100,000,000.01', 'USD', 'too-large'],
		['10,000,000,001', 'JPY', 'too-large'],
		['10,000,000.001', 'KWD', 'too-large'],
		['9'.repeat(40), 'USD', 'too-large']
	];
	it.each(cases)('%j in %s → %s', (text, currency, code) => {
		const r = parseAmount(text, currency);
		expect(r.ok).toBe(false);
		if (!r.ok) {
			expect(r.code).toBe(code);
			expect(r.message.length).toBeGreaterThan(10);
		}
	});

	it('explains each error in words a person can act on', () => {
		const msg = (text: string, c: CurrencyCode) => {
			const r = parseAmount(text, c);
			return r.ok ? '' : r.message;
		};
		expect(msg('', 'USD')).toBe('Enter an amount.');
		expect(msg('-5', 'USD')).toBe('Amount must not be negative.');
		expect(msg('1.234', 'USD')).toBe('USD allows at most 2 decimal places.');
		expect(msg('1.2345', 'KWD')).toBe('KWD allows at most 3 decimal places.');
		expect(msg('12.5', 'JPY')).toBe('JPY amounts have no decimal places.');
		expect(msg('abc', 'USD')).toBe('"abc" is not an amount. Use digits, like 1,234.50.');
		expect(msg('abc', 'JPY')).toBe('"abc" is not an amount. Use digits, like 1,234.');
		expect(msg('abc', 'KWD')).toBe('"abc" is not an amount. Use digits, like 1,234.500.');
		expect(msg('12,50', 'EUR')).toContain('Use "." for decimals');
		expect(msg('100,000,000.01', 'USD')).toBe('Amount must be at most $100,000,000.00.');
	});
});

describe('toDecimalString', () => {
	it('writes exactly the currency decimals, on digits', () => {
		expect(toDecimalString(123_456, 'USD')).toBe('1234.56');
		expect(toDecimalString(5, 'USD')).toBe('0.05');
		expect(toDecimalString(0, 'USD')).toBe('0.00');
		expect(toDecimalString(-5, 'USD')).toBe('-0.05');
		expect(toDecimalString(1_234, 'JPY')).toBe('1234');
		expect(toDecimalString(0, 'JPY')).toBe('0');
		expect(toDecimalString(5, 'KWD')).toBe('0.005');
		expect(toDecimalString(1_234_567, 'BHD')).toBe('1234.567');
		expect(toDecimalString(Number.MAX_SAFE_INTEGER, 'USD')).toBe('90071992547409.91');
		expect(() => toDecimalString(1.5, 'USD')).toThrow(MoneyError);
		expect(() => toDecimalString(Number.MAX_SAFE_INTEGER + 1, 'USD')).toThrow(MoneyError);
	});
});

describe('formatAmount', () => {
	it('formats 2-, 0- and 3-decimal currencies', () => {
		expect(formatAmount(123_450, 'USD')).toBe('$1,234.50');
		expect(formatAmount(0, 'USD')).toBe('$0.00');
		expect(formatAmount(5, 'USD')).toBe('$0.05');
		expect(formatAmount(1_234, 'JPY')).toBe('¥1,234');
		expect(formatAmount(0, 'JPY')).toBe('¥0');
		expect(plain(formatAmount(1_234_567, 'KWD'))).toBe('KWD 1,234.567');
		expect(plain(formatAmount(5, 'BHD'))).toBe('BHD 0.005');
		expect(formatAmount(99, 'GBP')).toBe('£0.99');
		expect(formatAmount(1_200, 'CAD')).toBe('CA$12.00');
		expect(plain(formatAmount(1_200, 'CHF'))).toBe('CHF 12.00');
	});

	it('honours the locale', () => {
		expect(plain(formatAmount(123_450, 'EUR', 'de-DE'))).toBe('1.234,50 €');
		expect(plain(formatAmount(1_234, 'JPY', 'ja-JP'))).toMatch(/1,234/);
	});

	it('is exact for huge values a float would garble', () => {
		expect(formatAmount(MAX_AMOUNT_MINOR, 'USD')).toBe('$100,000,000.00');
		expect(formatAmount(Number.MAX_SAFE_INTEGER, 'USD')).toBe('$90,071,992,547,409.91');
		expect(formatAmount(Number.MAX_SAFE_INTEGER, 'JPY')).toBe('¥9,007,199,254,740,991');
		expect(plain(formatAmount(Number.MAX_SAFE_INTEGER, 'KWD'))).toBe('KWD 9,007,199,254,740.991');
	});

	it('shows negative adjustments and refuses fractional minor units', () => {
		expect(formatAmount(-500, 'USD')).toBe('-$5.00');
		expect(() => formatAmount(12.5, 'USD')).toThrow(MoneyError);
		expect(() => formatAmount(Number.NaN, 'USD')).toThrow(MoneyError);
	});
});

describe('assertMinor', () => {
	it('accepts safe non-negative integers only', () => {
		expect(() => assertMinor(0)).not.toThrow();
		expect(() => assertMinor(MAX_AMOUNT_MINOR)).not.toThrow();
		expect(() => assertMinor(Number.MAX_SAFE_INTEGER)).not.toThrow();
		for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1, '5', null, undefined, 5n]) {
			expect(() => assertMinor(bad), String(bad)).toThrow(MoneyError);
		}
		expect(() => assertMinor(-1, 'Fee')).toThrow(/^Fee must be/);
	});
});

describe('round trips (property)', () => {
	const currency = fc.constantFrom(...CURRENCY_CODES);
	const minor = fc.integer({ min: 0, max: MAX_AMOUNT_MINOR });

	it('parse(toDecimalString(m)) = m', () => {
		fc.assert(
			fc.property(currency, minor, (c, m) => {
				expect(parseAmount(toDecimalString(m, c), c)).toEqual({ ok: true, minor: m });
			}),
			{ numRuns: 2000 }
		);
	});

	it('parse(formatAmount(m, en-US)) = m, symbols and grouping included', () => {
		fc.assert(
			fc.property(currency, minor, (c, m) => {
				expect(parseAmount(formatAmount(m, c), c)).toEqual({ ok: true, minor: m });
			}),
			{ numRuns: 2000 }
		);
	});

	it('one digit beyond the currency decimals is refused, never rounded', () => {
		fc.assert(
			fc.property(currency, fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 9 }), (c, m, extra) => {
				const exp = exponentOf(c);
				const text = exp === 0 ? `${m}.${extra}` : `${toDecimalString(m, c)}${extra}`;
				const r = parseAmount(text, c);
				expect(r.ok ? 'ok' : r.code).toBe('too-many-decimals');
			})
		);
	});

	it('anything above the maximum is too large', () => {
		fc.assert(
			fc.property(currency, fc.integer({ min: MAX_AMOUNT_MINOR + 1, max: Number.MAX_SAFE_INTEGER }), (c, m) => {
				const r = parseAmount(toDecimalString(m, c), c);
				expect(r.ok ? 'ok' : r.code).toBe('too-large');
			})
		);
	});
});
