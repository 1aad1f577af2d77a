/**
 * Splitting an amount into parts by weight (e.g. a budget across milestones by percentage) without
 * losing or inventing a single minor unit. Largest-remainder method, integer-only: BigInt for
 * total × weight, so no intermediate can overflow or round.
 */
import { MoneyError } from './errors';
import type { Minor } from './minor';

/**
 * Each part is floor(total × w / Σw) or one more; the leftover units go to the largest remainders,
 * ties to the lower index, so the same input always gives the same split and the parts sum to
 * `total` exactly. A zero weight always gets 0.
 */
export function allocateByWeights(total: Minor, weights: readonly number[]): Minor[];
export function allocateByWeights(total: number, weights: readonly number[]): number[];
export function allocateByWeights(total: number, weights: readonly number[]): number[] {
	if (!Number.isSafeInteger(total) || total < 0)
		throw new MoneyError('invalid-amount', `Total must be a whole, non-negative number of minor units (got ${String(total)}).`);
	if (weights.length === 0) throw new MoneyError('invalid-weights', 'Give at least one weight to split by.');
	let sum = 0n;
	for (const [i, w] of weights.entries()) {
		if (!Number.isSafeInteger(w)) throw new MoneyError('invalid-weights', `Weight ${i + 1} must be a whole number (got ${String(w)}).`);
		if (w < 0) throw new MoneyError('invalid-weights', `Weight ${i + 1} must not be negative (got ${w}).`);
		sum += BigInt(w);
	}
	if (sum === 0n) throw new MoneyError('invalid-weights', 'At least one weight must be above zero.');

	const T = BigInt(total);
	const parts: bigint[] = [];
	const rems: { i: number; r: bigint }[] = [];
	let given = 0n;
	for (const [i, w] of weights.entries()) {
		const exact = T * BigInt(w);
		const q = exact / sum; // BigInt division truncates: floor for non-negatives
		parts.push(q);
		rems.push({ i, r: exact % sum });
		given += q;
	}
	// Σ remainders = leftover × Σw and each remainder < Σw, so only parts with a remainder get a unit.
	rems.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
	const leftover = Number(T - given);
	for (let k = 0; k < leftover; k++) {
		const idx = rems[k]!.i;
		parts[idx] = parts[idx]! + 1n;
	}
	return parts.map(Number);
}

/** 100% in basis points: 1 bp = 0.01%. */
export const FULL_BASIS_POINTS = 10_000;

export type PercentErrorCode = 'empty' | 'not-a-number' | 'negative' | 'too-many-decimals' | 'too-large';

export type PercentResult = { ok: true; bps: number } | { ok: false; code: PercentErrorCode; message: string };

const PERCENT = /^(\d*)(?:\.(\d*))?$/;

/**
 * "33.33" or "33.33%" → 3333 basis points, on digit strings (no floats). At most two decimals
 * (trailing zeros are fine), between 0 and 100.
 */
export function percentToBasisPoints(text: string): PercentResult {
	let s = text.trim();
	if (s.endsWith('%')) s = s.slice(0, -1).trim();
	if (s === '') return { ok: false, code: 'empty', message: 'Enter a percentage.' };
	let negative = false;
	if (/^[-\u2212]/.test(s)) {
		negative = true;
		s = s.slice(1).trim();
	}
	const m = PERCENT.exec(s);
	const intPart = m?.[1] ?? '';
	const fracPart = m?.[2] ?? '';
	if (!m || intPart + fracPart === '')
		return { ok: false, code: 'not-a-number', message: `"${text.trim()}" is not a percentage. Use digits, like 33.33.` };
	if (negative) return { ok: false, code: 'negative', message: 'Percentage must not be negative.' };
	if (/[1-9]/.test(fracPart.slice(2)))
		return { ok: false, code: 'too-many-decimals', message: 'Percentages allow at most 2 decimal places.' };
	const bps = BigInt((intPart || '0') + fracPart.slice(0, 2).padEnd(2, '0'));
	if (bps > BigInt(FULL_BASIS_POINTS)) return { ok: false, code: 'too-large', message: 'Percentage must be at most 100.' };
	return { ok: true, bps: Number(bps) };
}
