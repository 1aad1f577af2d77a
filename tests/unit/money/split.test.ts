import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { milestoneAmounts } from '../../../src/lib/money/split';

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

	it('mixes amounts and shares, and says which field is wrong', () => {
		expect(milestoneAmounts(['25%', '500'], 'USD', '1,000')).toEqual({ ok: true, amounts: [25_000, 50_000] });
		const noTotal = milestoneAmounts(['25%', '500'], 'USD', '');
		expect(noTotal.ok).toBe(false);
		expect((noTotal as { errors: Record<number, string> }).errors[0]).toMatch(/contract total/);
		const bad = milestoneAmounts(['250%', 'abc'], 'USD', '100');
		expect(Object.keys((bad as { errors: Record<number, string> }).errors)).toEqual(['0', '1']);
	});
});
