/**
 * What an event's author knew of a milestone's money: the receipts in its causal past, folding with
 * `ctx` (rule.ts). Rules judge on it where a release or a funding the author had not seen must not
 * decide by sorting first (amendments.ts, ending.ts). Without a log to ask, the state decides.
 */
import { escrowAccount } from './ledger';
import type { RuleContext } from './rule';
import { escrowOf, type ContractState, type MilestoneState } from './state';

/** Funded, paid in and not refunded, and held in escrow on `m`, as `event`'s author knew it. */
export function moneyKnownBy(s: ContractState, m: MilestoneState, event: string, ctx?: RuleContext): { funded: number; committed: number; held: number } {
	if (!ctx?.reaches) return { funded: m.funded, committed: m.funded - m.refunded, held: escrowOf(m) };
	const escrow = escrowAccount(m.id);
	const known = { funded: 0, committed: 0, held: 0 };
	for (const t of s.ledger.transfers) {
		if ((t.to !== escrow && t.from !== escrow) || !ctx.reaches(event, t.receipt)) continue;
		known.held += t.to === escrow ? t.amount : -t.amount;
		if (t.kind === 'fund') (known.funded += t.amount), (known.committed += t.amount);
		else if (t.kind === 'refund') known.committed -= t.amount;
	}
	return known;
}
