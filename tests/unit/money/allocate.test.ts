import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { allocateByWeights, FULL_BASIS_POINTS, percentToBasisPoints } from '../../../src/lib/money/allocate';
import { MoneyError } from '../../../src/lib/money/errors';

const codeOf = (f: () => unknown): string | undefined => {
	try {
		f();
	} catch (e) {
		return e instanceof MoneyError ? e.code : `not a MoneyError: ${String(e)}`;
	}
	return undefined;
};

describe('allocateByWeights', () => {
	it('splits by largest remainder, ties to the lower index', () => {
		expect(allocateByWeights(100, [1, 1, 1])).toEqual([34, 33, 33]);
		expect(allocateByWeights(100, [3333, 3333, 3334])).toEqual([33, 33, 34]);
		expect(allocateByWeights(10_000, [3333, 3333, 3334])).toEqual([3333, 3333, 3334]);
		expect(allocateByWeights(1, [1, 1])).toEqual([1, 0]);
		expect(allocateByWeights(2, [1, 1, 1])).toEqual([1, 1, 0]);
		expect(allocateByWeights(7, [1, 2, 4])).toEqual([1, 2, 4]);
		expect(allocateByWeights(10, [3, 3, 4])).toEqual([3, 3, 4]);
		// exact shares 3.5, 3.5, 3: one unit left, remainders tie at .5 → the lower index gets it
		expect(allocateByWeights(10, [35, 35, 30])).toEqual([4, 3, 3]);
		// exact shares 1.2, 1.6, 1.2: one unit left → the largest remainder (.6), not the lower index
		expect(allocateByWeights(4, [3, 4, 3])).toEqual([1, 2, 1]);
		// exact shares 1.67 each: two units left, all remainders tie → indices 0 and 1
		expect(allocateByWeights(5, [1, 1, 1])).toEqual([2, 2, 1]);
	});

	it('handles zero totals, zero weights and a single part', () => {
		expect(allocateByWeights(0, [1, 2])).toEqual([0, 0]);
		expect(allocateByWeights(10, [0, 1])).toEqual([0, 10]);
		expect(allocateByWeights(5, [7])).toEqual([5]);
		expect(allocateByWeights(3, [0, 1, 0, 1, 0])).toEqual([0, 2, 0, 1, 0]);
	});

	it('does not overflow on huge totals and weights', () => {
		const big = Number.MAX_SAFE_INTEGER;
		expect(allocateByWeights(big, [1, 1])).toEqual([4_503_599_627_370_496, 4_503_599_627_370_495]);
		expect(allocateByWeights(big, [big, big, big]).reduce((a, b) => a + b, 0)).toBe(big);
		expect(allocateByWeights(10, [big, 1])).toEqual([10, 0]);
	});

	it('throws clear errors for bad input', () => {
		expect(codeOf(() => allocateByWeights(100, []))).toBe('invalid-weights');
		expect(codeOf(() => allocateByWeights(100, [1, -1]))).toBe('invalid-weights');
		expect(codeOf(() => allocateByWeights(100, [0, 0]))).toBe('invalid-weights');
		expect(codeOf(() => allocateByWeights(100, [1.5]))).toBe('invalid-weights');
		expect(codeOf(() => allocateByWeights(100, [Number.NaN]))).toBe('invalid-weights');
		expect(codeOf(() => allocateByWeights(-1, [1]))).toBe('invalid-amount');
		expect(codeOf(() => allocateByWeights(1.5, [1]))).toBe('invalid-amount');
		expect(() => allocateByWeights(100, [])).toThrow('at least one weight');
		expect(() => allocateByWeights(100, [1, -1])).toThrow('Weight 2 must not be negative');
		expect(() => allocateByWeights(100, [0, 0])).toThrow('At least one weight must be above zero');
	});

	it('properties: sums to the total, each part within 1 of its exact share, non-negative, deterministic', () => {
		const weights = fc
			.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 20 })
			.filter((ws) => ws.some((w) => w > 0));
		fc.assert(
			fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), weights, (total, ws) => {
				const parts = allocateByWeights(total, ws);
				expect(parts).toHaveLength(ws.length);
				expect(allocateByWeights(total, ws)).toEqual(parts);
				const sumW = ws.reduce((a, w) => a + BigInt(w), 0n);
				expect(parts.reduce((a, p) => a + BigInt(p), 0n)).toBe(BigInt(total));
				parts.forEach((p, i) => {
					expect(Number.isSafeInteger(p) && p >= 0).toBe(true);
					const exact = BigInt(total) * BigInt(ws[i]!); // exact share × Σw
					const scaled = BigInt(p) * sumW;
					// p is floor(share) or floor(share)+1: |p − share| < 1
					expect(scaled - exact < sumW && exact - scaled < sumW).toBe(true);
					if (ws[i] === 0) expect(p).toBe(0);
				});
			}),
			{ numRuns: 1000 }
		);
	});
});

describe('percentToBasisPoints', () => {
	it.each([
		['33.33', 3333],
		['33.33%', 3333],
		[' 12 % ', 1200],
		['100', FULL_BASIS_POINTS],
		['100.00', FULL_BASIS_POINTS],
		['0', 0],
		['0.5', 50],
		['.5', 50],
		['0.01', 1],
		['12.500', 1250],
		['007', 700]
	] as const)('%j → %i', (text, bps) => {
		expect(percentToBasisPoints(text)).toEqual({ ok: true, bps });
	});

	it.each([
		['', 'empty'],
		['  %', 'empty'],
		['abc', 'not-a-number'],
		['1.2.3', 'not-a-number'],
		['1e2', 'not-a-number'],
		['.', 'not-a-number'],
		['-5', 'negative'],
		['33.333', 'too-many-decimals'],
		['0.001', 'too-many-decimals'],
		['100.01', 'too-large'],
		['1000', 'too-large']
	] as const)('%j → %s', (text, code) => {
		const r = percentToBasisPoints(text);
		expect(r.ok ? 'ok' : r.code).toBe(code);
		if (!r.ok) expect(r.message.length).toBeGreaterThan(10);
	});

	it('round trips every basis-point value written as a percentage', () => {
		fc.assert(
			fc.property(fc.integer({ min: 0, max: FULL_BASIS_POINTS }), (bps) => {
				const text = `${Math.floor(bps / 100)}.${String(bps % 100).padStart(2, '0')}`;
				expect(percentToBasisPoints(text)).toEqual({ ok: true, bps });
			})
		);
	});
});
