/**
 * Milestone amounts as a person writes them: an amount ("1,200.50") or a share of the contract
 * total ("25%"). Percentages are only an input aid: only the amounts they give are signed, and the
 * contract's total is the sum of those amounts. So shares must cover the whole total — every
 * milestone a percentage, adding up to exactly 100% — and the total is split by largest remainder,
 * so the milestones add up to it to the minor unit. (A 40% + 70% split once became 110% of the total.)
 */
import { allocateByWeights, FULL_BASIS_POINTS, percentToBasisPoints } from './allocate';
import { formatAmount, parseAmount } from './amount';
import type { CurrencyCode } from './currency';
import { ZERO_MINOR, sumMinor, type Minor } from './minor';

/** Errors by milestone index, and `total` for what is wrong with the contract total or the shares together. */
export type SplitErrors = { [milestone: number]: string; total?: string };

export type SplitResult = { ok: true; amounts: Minor[] } | { ok: false; errors: SplitErrors };

/** "33.33" for 3333 basis points, "110" for 11000. */
function percentText(bps: number): string {
	const whole = Math.floor(bps / 100);
	const frac = bps % 100;
	return frac ? `${whole}.${String(frac).padStart(2, '0').replace(/0$/, '')}` : String(whole);
}

export function milestoneAmounts(entries: readonly string[], currency: CurrencyCode, totalText: string): SplitResult {
	const errors: SplitErrors = {};
	const isShare = entries.map((e) => e.trim().endsWith('%'));
	const shares = isShare.filter(Boolean).length;
	const total = totalText.trim() === '' ? undefined : parseAmount(totalText, currency);
	if (total && !total.ok) errors.total = total.message;

	const bps = entries.map((e, i) => {
		if (!isShare[i]) return 0;
		const p = percentToBasisPoints(e);
		if (!p.ok) errors[i] = p.message;
		return p.ok ? p.bps : 0;
	});
	const amounts = entries.map((e, i) => {
		if (isShare[i]) return ZERO_MINOR;
		const a = parseAmount(e, currency);
		if (!a.ok) errors[i] = a.message;
		return a.ok ? a.minor : ZERO_MINOR;
	});

	if (shares > 0 && errors.total === undefined) {
		if (!total) errors.total = 'Enter the contract total: the percentages are shares of it.';
		else if (shares < entries.length) errors.total = 'Give every milestone as a percentage of the total, or every milestone as an amount, not a mix.';
		else if (bps.every((_, i) => errors[i] === undefined)) {
			const sum = bps.reduce((a, b) => a + b, 0);
			if (sum !== FULL_BASIS_POINTS) errors.total = `The percentages add up to ${percentText(sum)}%; they must add up to exactly 100%.`;
		}
	}
	if (Object.keys(errors).length) return { ok: false, errors };

	if (shares > 0) allocateByWeights(total!.ok ? total!.minor : ZERO_MINOR, bps).forEach((a, i) => (amounts[i] = a));
	amounts.forEach((a, i) => a <= 0 && (errors[i] = 'The amount must be above zero.'));
	if (Object.keys(errors).length) return { ok: false, errors };

	// A total typed next to plain amounts is a check the person made: say when the amounts disagree with it.
	if (shares === 0 && total?.ok) {
		const sum = sumMinor(amounts);
		if (sum !== total.minor)
			return {
				ok: false,
				errors: { total: `The milestones add up to ${formatAmount(sum, currency)}, not the ${formatAmount(total.minor, currency)} entered here. Change an amount, or clear the total.` }
			};
	}
	return { ok: true, amounts };
}
