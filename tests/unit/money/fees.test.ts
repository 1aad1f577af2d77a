import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MAX_AMOUNT_MINOR } from '../../../src/lib/money/amount';
import { CURRENCY_CODES, type CurrencyCode } from '../../../src/lib/money/currency';
import { MoneyError } from '../../../src/lib/money/errors';
import {
	basisPointsOf,
	DAY_MS,
	FUNDING_FEES,
	FUNDING_METHODS,
	PAYOUT_FEES,
	PAYOUT_METHODS,
	quoteFunding,
	quoteWithdrawal,
	type FundingMethod,
	type PayoutMethod
} from '../../../src/lib/money/fees';

const NOW = 1_767_225_600_000; // 2026-01-01T00:00:00Z

const codeOf = (f: () => unknown): string | undefined => {
	try {
		f();
	} catch (e) {
		return e instanceof MoneyError ? e.code : `not a MoneyError: ${String(e)}`;
	}
	return undefined;
};

describe('fee tables', () => {
	it('cover every method and currency with sane integer data', () => {
		expect(DAY_MS).toBe(86_400_000);
		expect(Object.keys(FUNDING_FEES).sort()).toEqual([...FUNDING_METHODS].sort());
		expect(Object.keys(PAYOUT_FEES).sort()).toEqual([...PAYOUT_METHODS].sort());
		for (const rule of [...Object.values(FUNDING_FEES), ...Object.values(PAYOUT_FEES)]) {
			expect(Number.isSafeInteger(rule.bps) && rule.bps >= 0 && rule.bps < 10_000).toBe(true);
			expect(rule.processing.minMs).toBeGreaterThanOrEqual(0);
			expect(rule.processing.minMs).toBeLessThanOrEqual(rule.processing.typicalMs);
			for (const c of CURRENCY_CODES) {
				expect(Number.isSafeInteger(rule.fixed[c]) && rule.fixed[c] >= 0).toBe(true);
				if (rule.cap) expect(Number.isSafeInteger(rule.cap[c]) && rule.cap[c] > rule.fixed[c]).toBe(true);
			}
		}
	});
});

describe('basisPointsOf', () => {
	it('rounds half-up to the minor unit with integers only', () => {
		expect(basisPointsOf(10_000, 290)).toBe(290);
		expect(basisPointsOf(500, 290)).toBe(15); // 14.5 → 15
		expect(basisPointsOf(499, 290)).toBe(14); // 14.471 → 14
		expect(basisPointsOf(1, 5_000)).toBe(1); // 0.5 → 1
		expect(basisPointsOf(1, 4_999)).toBe(0);
		expect(basisPointsOf(0, 290)).toBe(0);
		expect(basisPointsOf(MAX_AMOUNT_MINOR, 10_000)).toBe(MAX_AMOUNT_MINOR);
		expect(basisPointsOf(Number.MAX_SAFE_INTEGER, 10_000)).toBe(Number.MAX_SAFE_INTEGER);
		expect(codeOf(() => basisPointsOf(1.5, 290))).toBe('invalid-amount');
		expect(codeOf(() => basisPointsOf(100, -1))).toBe('invalid-amount');
	});
});

describe('quoteFunding', () => {
	const cases: [FundingMethod, CurrencyCode, number, number, number][] = [
		// method, currency, amount, fee, processing
		['card', 'USD', 10_000, 320, 0], // 2.9% of 100.00 = 2.90, + 0.30
		['card', 'USD', 100_000, 2_930, 0], // 29.00 + 0.30
		['card', 'USD', 500, 45, 0], // 14.5¢ → 15¢ (half-up), + 30¢
		['card', 'USD', 499, 44, 0], // 14.471¢ → 14¢, + 30¢
		['card', 'USD', 1, 30, 0], // 0.029¢ → 0, + 30¢
		['card', 'EUR', 10_000, 315, 0], // 2.90 + 0.25
		['card', 'GBP', 10_000, 310, 0], // 2.90 + 0.20
		['card', 'JPY', 10_000, 330, 0], // ¥290 + ¥40
		['card', 'KWD', 10_000, 380, 0], // 0.290 + 0.090 KWD
		['paypal', 'USD', 10_000, 398, 0], // 3.49 + 0.49
		['paypal', 'USD', 100_000, 3_539, 0], // 34.90 + 0.49
		['paypal', 'USD', 5_000, 224, 0], // 174.5¢ → 175¢, + 49¢
		['paypal', 'EUR', 10_000, 388, 0], // 3.49 + 0.39
		['paypal', 'JPY', 10_000, 398, 0], // ¥349 + ¥49
		['bank_transfer', 'USD', 10_000, 80, 4 * DAY_MS], // 0.8% of 100.00
		['bank_transfer', 'USD', 62_500, 500, 4 * DAY_MS], // exactly at the $5 cap
		['bank_transfer', 'USD', 62_563, 500, 4 * DAY_MS], // 5.005 → capped at 5.00
		['bank_transfer', 'USD', 100_000, 500, 4 * DAY_MS], // 8.00 → capped at 5.00
		['bank_transfer', 'USD', 62, 0, 4 * DAY_MS], // 0.496¢ → 0
		['bank_transfer', 'USD', 63, 1, 4 * DAY_MS], // 0.504¢ → 1¢
		['bank_transfer', 'JPY', 100_000, 750, 4 * DAY_MS], // ¥800 → cap ¥750
		['bank_transfer', 'KWD', 1_000, 8, 4 * DAY_MS] // 0.8% of 1.000 KWD
	];
	it.each(cases)('%s %s %i → fee %i', (method, currency, amount, fee, processingMs) => {
		expect(quoteFunding(amount, method, currency, NOW)).toEqual({
			amount,
			fee,
			total: amount + fee,
			net: amount,
			processingMs,
			availableAt: NOW + processingMs,
			method,
			currency
		});
	});

	it('refuses bad input with coded MoneyErrors', () => {
		expect(codeOf(() => quoteFunding(0, 'card', 'USD', NOW))).toBe('not-positive');
		expect(codeOf(() => quoteFunding(-100, 'card', 'USD', NOW))).toBe('not-positive');
		expect(codeOf(() => quoteFunding(10.5, 'card', 'USD', NOW))).toBe('invalid-amount');
		expect(codeOf(() => quoteFunding(Number.NaN, 'card', 'USD', NOW))).toBe('invalid-amount');
		expect(codeOf(() => quoteFunding(MAX_AMOUNT_MINOR + 1, 'card', 'USD', NOW))).toBe('too-large');
		expect(codeOf(() => quoteFunding(100, 'bitcoin' as FundingMethod, 'USD', NOW))).toBe('unknown-method');
		expect(codeOf(() => quoteFunding(100, 'toString' as FundingMethod, 'USD', NOW))).toBe('unknown-method');
		expect(codeOf(() => quoteFunding(100, 'card', 'XYZ' as CurrencyCode, NOW))).toBe('unknown-currency');
		expect(codeOf(() => quoteFunding(100, 'card', 'USD', Number.NaN))).toBe('invalid-time');
		expect(quoteFunding(MAX_AMOUNT_MINOR, 'card', 'USD', NOW).fee).toBe(290_000_030);
	});

	it('property: total = amount + fee, net = amount, fee = half-up percentage + fixed, capped', () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...FUNDING_METHODS),
				fc.constantFrom(...CURRENCY_CODES),
				fc.integer({ min: 1, max: MAX_AMOUNT_MINOR }),
				(method, currency, amount) => {
					const q = quoteFunding(amount, method, currency, NOW);
					const rule = FUNDING_FEES[method];
					// Independent half-up: floor((2·a·bps + 10 000) / 20 000).
					const pct = (2n * BigInt(amount) * BigInt(rule.bps) + 10_000n) / 20_000n;
					let fee = Number(pct) + rule.fixed[currency];
					if (rule.cap) fee = Math.min(fee, rule.cap[currency]);
					expect(q.fee).toBe(fee);
					expect(Number.isSafeInteger(q.fee) && q.fee >= 0).toBe(true);
					expect(q.total).toBe(amount + q.fee);
					expect(q.net).toBe(amount);
					expect(q.availableAt).toBe(NOW + q.processingMs);
				}
			),
			{ numRuns: 2000 }
		);
	});
});

describe('quoteWithdrawal', () => {
	const cases: [PayoutMethod, CurrencyCode, number, number, number][] = [
		['bank', 'USD', 100_000, 99, 2 * DAY_MS],
		['paypal', 'USD', 100_000, 200, DAY_MS],
		['wire', 'USD', 100_000, 3_000, 5 * DAY_MS],
		['bank', 'EUR', 50_000, 99, 2 * DAY_MS],
		['wire', 'JPY', 1_000_000, 4_500, 5 * DAY_MS],
		['paypal', 'KWD', 10_000, 620, DAY_MS],
		['bank', 'USD', 100, 99, 2 * DAY_MS],
		['wire', 'USD', 3_001, 3_000, 5 * DAY_MS]
	];
	it.each(cases)('%s %s %i → fee %i', (method, currency, amount, fee, processingMs) => {
		const q = quoteWithdrawal(amount, method, currency, NOW);
		expect(q).toEqual({ amount, fee, net: amount - fee, processingMs, availableAt: NOW + processingMs, method, currency });
		expect(q.net + q.fee).toBe(amount);
	});

	it('refuses withdrawals the fee would swallow, and bad input', () => {
		expect(codeOf(() => quoteWithdrawal(3_000, 'wire', 'USD', NOW))).toBe('fee-exceeds-amount');
		expect(codeOf(() => quoteWithdrawal(2_999, 'wire', 'USD', NOW))).toBe('fee-exceeds-amount');
		expect(codeOf(() => quoteWithdrawal(99, 'bank', 'USD', NOW))).toBe('fee-exceeds-amount');
		expect(codeOf(() => quoteWithdrawal(1, 'paypal', 'USD', NOW))).toBe('fee-exceeds-amount');
		expect(() => quoteWithdrawal(2_999, 'wire', 'USD', NOW)).toThrow('The wire withdrawal fee ($30.00) is not less than the amount ($29.99)');
		expect(codeOf(() => quoteWithdrawal(0, 'bank', 'USD', NOW))).toBe('not-positive');
		expect(codeOf(() => quoteWithdrawal(-5, 'bank', 'USD', NOW))).toBe('not-positive');
		expect(codeOf(() => quoteWithdrawal(1.5, 'bank', 'USD', NOW))).toBe('invalid-amount');
		expect(codeOf(() => quoteWithdrawal(MAX_AMOUNT_MINOR + 1, 'bank', 'USD', NOW))).toBe('too-large');
		expect(codeOf(() => quoteWithdrawal(1_000, 'card' as PayoutMethod, 'USD', NOW))).toBe('unknown-method');
		expect(codeOf(() => quoteWithdrawal(1_000, 'bank', 'usd' as CurrencyCode, NOW))).toBe('unknown-currency');
		const e = (() => {
			try {
				quoteWithdrawal(1, 'bank', 'USD', NOW);
			} catch (err) {
				return err;
			}
		})();
		expect(e).toBeInstanceOf(Error);
		expect(e).toBeInstanceOf(MoneyError);
		expect((e as MoneyError).name).toBe('MoneyError');
	});

	it('property: net + fee = amount and net > 0, or a fee-exceeds-amount refusal', () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...PAYOUT_METHODS),
				fc.constantFrom(...CURRENCY_CODES),
				fc.oneof(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: MAX_AMOUNT_MINOR })),
				(method, currency, amount) => {
					const fee = PAYOUT_FEES[method].fixed[currency];
					if (amount <= fee) {
						expect(codeOf(() => quoteWithdrawal(amount, method, currency, NOW))).toBe('fee-exceeds-amount');
						return;
					}
					const q = quoteWithdrawal(amount, method, currency, NOW);
					expect(q.fee).toBe(fee);
					expect(q.net + q.fee).toBe(amount);
					expect(q.net).toBeGreaterThan(0);
					expect(q.availableAt).toBe(NOW + q.processingMs);
				}
			),
			{ numRuns: 2000 }
		);
	});
});
