/** Funding a milestone: the client's intent, then the provider's receipt puts the money in escrow. */
import { escrowAccount, type Transfer } from './ledger';
import { ZERO_MINOR, addMinor, type Minor } from '../money/minor';
import { moneyText, reject } from './rejections';
import type { RuleSet } from './rule';
import { agreedAmount } from './amendments';
import { activeFor } from './ending';
import { isRejection, settleable } from './settlement';
import { isClosed, milestone, outstandingOf, type MilestoneState } from './state';

/**
 * Whether the page offers funding: what is outstanding, and never again once part of the milestone
 * was refunded (a refund settled that part; offering it again reads as "pay it twice"). The rule
 * itself still accepts a top-up after a refund: logs that hold one must fold as they always did.
 */
export function fundingOffer(m: MilestoneState): { amount: Minor; refusal?: string } {
	if (m.refunded > 0) return { amount: ZERO_MINOR, refusal: 'Part of this milestone was refunded, so it is not offered for funding again.' };
	return { amount: outstandingOf(m) };
}

export const fundingRules: RuleSet = {
	'milestone.fund': {
		who: ['client'],
		check(s, ev, ctx) {
			if (!activeFor(s, ev.id, ctx)) return reject('invalid-state', 'Milestones are funded on an active contract.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
			// Judged on the amount the client knew (amendments.ts): a change accepted unseen does not refuse it.
			const agreed = agreedAmount(m, ev.id, ctx);
			const outstanding = agreed === undefined ? ev.payload.amount : outstandingOf(m, agreed);
			if (isClosed(m) || outstanding === 0) return reject('invalid-state', 'The milestone is already funded.');
			for (const i of s.intents.values())
				if (i.type === 'milestone.fund' && i.milestone === m.id && !i.settledBy && !i.rejection)
					return reject('invalid-state', 'A funding payment for this milestone is already pending.');
			if (ev.payload.amount !== outstanding)
				return reject('amount-mismatch', `The milestone needs ${moneyText(outstanding, s.terms!.currency)}, the intent says ${moneyText(ev.payload.amount, s.terms!.currency)}.`);
			return null;
		},
		apply() {}
	},
	'receipt.funded': {
		who: ['provider'],
		check(s, ev, ctx) {
			const r = settleable(s, ev, 'milestone.fund');
			if (isRejection(r)) return r;
			if (ev.payload.milestone !== r.intent.milestone) return reject('wrong-milestone');
			if (ev.payload.amount !== r.intent.amount) return reject('amount-mismatch', 'The receipt does not match its intent.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			const agreed = agreedAmount(m, ev.id, ctx);
			if (agreed !== undefined && ev.payload.amount > outstandingOf(m, agreed)) return reject('amount-mismatch', 'It would fund more than the milestone amount.');
			return null;
		},
		apply(s, ev) {
			const { milestone: id, amount, fee } = ev.payload;
			const batch: Transfer[] = [{ receipt: ev.id, kind: 'fund', from: 'client:source', to: escrowAccount(id), amount, milestone: id, at: ev.at }];
			if (fee > 0) batch.push({ receipt: ev.id, kind: 'fee', from: 'client:source', to: 'provider:fees', amount: fee, milestone: id, at: ev.at });
			s.ledger.post(batch);
			const m = milestone(s, id)!;
			m.funded = addMinor(m.funded, amount);
			s.intents.get(ev.payload.intent)!.settledBy = ev.id;
		}
	}
};
