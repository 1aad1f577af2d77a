import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { milestoneAmounts } from '../../../src/lib/money/split';
import { allocateByWeights, FULL_BASIS_POINTS } from '../../../src/lib/money/allocate';
import { toDecimalString } from '../../../src/lib/money/amount';

describe('milestone amounts from amounts and percentages', () => {
	it('reads plain amounts', () => {
		expect(milestoneAmounts(['1,200.50', '300'], 'USD', '')).toEqual({ ok: true, amounts: [120_050, 30_000] });
	});

	it('splits a total by percentages that add up to 100% without losing a cent', () => {
		expect(milestoneAmounts(['33.33%', '33.33%', '33.34%'], 'USD', '100.00')).toEqual({ ok: true, amounts: [3_333, 3_333, 3_334] });
		expect(milestoneAmounts(['50%', '50%'], 'USD', '0.01')).toEqual({ ok: false, errors: { 1: 'The amount must be above zero.' } });
		fc.assert(
			fc.property(fc.integer({ min: 100, max: 10_000_000 }), fc.integer({ min: 1, max: 9_999 }), (total, a) => {
				const r = milestoneAmounts([`${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}%`, `${Math.floor((10_000 - a) / 100)}.${String((10_000 - a) % 100).padStart(2, '0')}%`], 'JPY', String(total));
				if (r.ok) expect(r.amounts[0]! + r.amounts[1]!).toBe(total);
			})
		);
	});

	it('refuses a mix of amounts and shares, and says which field is wrong', () => {
		expect(milestoneAmounts(['25%', '500'], 'USD', '1,000')).toEqual({
			ok: false,
			errors: { total: 'Give every milestone as a percentage of the total, or every milestone as an amount, not a mix.' }
		});
		const noTotal = milestoneAmounts(['25%', '75%'], 'USD', '');
		expect(noTotal).toEqual({ ok: false, errors: { total: 'Enter the contract total: the percentages are shares of it.' } });
		const bad = milestoneAmounts(['250%', 'abc'], 'USD', '100');
		expect(Object.keys((bad as { errors: Record<number, string> }).errors)).toEqual(['0', '1', 'total']);
	});

	it('refuses percentages that do not add up to exactly 100% (40% + 70% once became 110%)', () => {
		expect(milestoneAmounts(['40%', '70%'], 'USD', '1,000')).toEqual({
			ok: false,
			errors: { total: 'The percentages add up to 110%; they must add up to exactly 100%.' }
		});
		expect(milestoneAmounts(['33.33%', '33.33%', '33.33%'], 'USD', '1,000')).toEqual({
			ok: false,
			errors: { total: 'The percentages add up to 99.99%; they must add up to exactly 100%.' }
		});
		expect(milestoneAmounts(['40%', '60%'], 'USD', '1,000')).toEqual({ ok: true, amounts: [40_000, 60_000] });
	});

	it('gives the leftover minor units to the largest remainders, ties to the first milestone', () => {
		// 10 cents by 33.33/33.33/33.34 → 3.333, 3.333, 3.334: the one leftover cent goes to the largest remainder.
		expect(milestoneAmounts(['33.33%', '33.33%', '33.34%'], 'USD', '0.10')).toEqual({ ok: true, amounts: [3, 3, 4] });
		// 10 yen by 12.5% + 87.5% → 1.25 and 8.75: the larger remainder (.75) gets the leftover yen.
		expect(milestoneAmounts(['12.5%', '87.5%'], 'JPY', '10')).toEqual({ ok: true, amounts: [1, 9] });
		// 6 cents in four equal shares → 1.5 each: equal remainders, so the first two get the leftover cents.
		expect(milestoneAmounts(['25%', '25%', '25%', '25%'], 'USD', '0.06')).toEqual({ ok: true, amounts: [2, 2, 1, 1] });
		fc.assert(
			fc.property(
				fc.integer({ min: 1, max: 1_000_000_000 }),
				fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 12 }),
				(total, weights) => {
					// Any weights scaled to basis points that sum to exactly 10,000.
					const bps = allocateByWeights(FULL_BASIS_POINTS, weights);
					if (bps.some((b) => b === 0)) return;
					const shares = bps.map((b) => `${Math.floor(b / 100)}.${String(b % 100).padStart(2, '0')}%`);
					const r = milestoneAmounts(shares, 'USD', toDecimalString(total, 'USD'));
					if (!r.ok) {
						// Only a share too small to give a cent of this total is refused.
						expect(Object.values(r.errors)).toEqual(expect.arrayContaining(['The amount must be above zero.']));
						return;
					}
					expect(r.amounts.reduce((a, b) => a + b, 0)).toBe(total);
					// Each part is within one minor unit of its exact share.
					r.amounts.forEach((a, i) => expect(Math.abs(a * FULL_BASIS_POINTS - total * bps[i]!)).toBeLessThan(FULL_BASIS_POINTS));
				}
			)
		);
	});

	it('checks plain amounts against a total the person typed', () => {
		expect(milestoneAmounts(['400', '700'], 'USD', '1,000')).toEqual({
			ok: false,
			errors: { total: 'The milestones add up to $1,100.00, not the $1,000.00 entered here. Change an amount, or clear the total.' }
		});
		expect(milestoneAmounts(['400', '600'], 'USD', '1,000')).toEqual({ ok: true, amounts: [40_000, 60_000] });
		expect(milestoneAmounts(['400', '600'], 'USD', 'ten')).toMatchObject({ ok: false, errors: { total: expect.stringMatching(/not an amount/) } });
	});
});
