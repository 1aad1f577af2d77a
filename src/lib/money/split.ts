/**
 * Milestone amounts as a person writes them: an amount ("1,200.50") or a share of the contract
 * total ("25%"). When every milestone is a percentage and they add up to 100%, the total is split
 * by largest remainder, so the milestones add up to the total to the minor unit.
 */
import { allocateByWeights, FULL_BASIS_POINTS, percentToBasisPoints } from './allocate';
import { parseAmount } from './amount';
import type { CurrencyCode } from './currency';

export type SplitResult = { ok: true; amounts: number[] } | { ok: false; errors: Record<number, string> };

export function milestoneAmounts(entries: readonly string[], currency: CurrencyCode, totalText: string): SplitResult {
	const errors: Record<number, string> = {};
	const isShare = entries.map((e) => e.trim().endsWith('%'));
	let total: number | undefined;
	if (isShare.some(Boolean)) {
		const t = parseAmount(totalText, currency);
		if (!t.ok) {
			isShare.forEach((share, i) => share && (errors[i] = `A percentage needs the contract total: ${t.message}`));
			return { ok: false, errors };
		}
		total = t.minor;
	}
	const bps: (number | undefined)[] = entries.map((e, i) => {
		if (!isShare[i]) return undefined;
		const p = percentToBasisPoints(e);
		if (!p.ok) errors[i] = p.message;
		return p.ok ? p.bps : undefined;
	});
	const amounts = entries.map((e, i) => {
		if (isShare[i]) return 0;
		const a = parseAmount(e, currency);
		if (!a.ok) errors[i] = a.message;
		return a.ok ? a.minor : 0;
	});
	if (Object.keys(errors).length) return { ok: false, errors };
	const shares = bps.filter((b): b is number => b !== undefined);
	if (total !== undefined && shares.length === entries.length && shares.reduce((a, b) => a + b, 0) === FULL_BASIS_POINTS) {
		allocateByWeights(total, shares).forEach((a, i) => (amounts[i] = a));
	} else {
		bps.forEach((b, i) => {
			if (b !== undefined) amounts[i] = allocateByWeights(total!, [b, FULL_BASIS_POINTS - b])[0]!;
		});
	}
	amounts.forEach((a, i) => a <= 0 && (errors[i] = 'The amount must be above zero.'));
	return Object.keys(errors).length ? { ok: false, errors } : { ok: true, amounts };
}
