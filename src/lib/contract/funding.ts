/** Funding a milestone: the client's intent, then the provider's receipt puts the money in escrow. */
import { escrowAccount, type Transfer } from './ledger';
import { reject } from './rejections';
import type { RuleSet } from './rule';
import { isRejection, settleable } from './settlement';
import { isClosed, milestone, outstandingOf } from './state';

export const fundingRules: RuleSet = {
	'milestone.fund': {
		who: ['client'],
		check(s, ev) {
			if (s.status !== 'active') return reject('invalid-state', 'Milestones are funded on an active contract.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
			if (isClosed(m) || outstandingOf(m) === 0) return reject('invalid-state', 'The milestone is already funded.');
			for (const i of s.intents.values())
				if (i.type === 'milestone.fund' && i.milestone === m.id && !i.settledBy && !i.rejection)
					return reject('invalid-state', 'A funding payment for this milestone is already pending.');
			if (ev.payload.amount !== outstandingOf(m))
				return reject('amount-mismatch', `The milestone needs ${outstandingOf(m)}, the intent says ${ev.payload.amount}.`);
			return null;
		},
		apply() {}
	},
	'receipt.funded': {
		who: ['provider'],
		check(s, ev) {
			const r = settleable(s, ev, 'milestone.fund');
			if (isRejection(r)) return r;
			if (ev.payload.amount !== r.intent.amount || ev.payload.milestone !== r.intent.milestone)
				return reject('amount-mismatch', 'The receipt does not match its intent.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (ev.payload.amount > outstandingOf(m)) return reject('amount-mismatch', 'It would fund more than the milestone amount.');
			return null;
		},
		apply(s, ev) {
			const { milestone: id, amount, fee } = ev.payload;
			const batch: Transfer[] = [{ receipt: ev.id, kind: 'fund', from: 'client:source', to: escrowAccount(id), amount, milestone: id, at: ev.at }];
			if (fee > 0) batch.push({ receipt: ev.id, kind: 'fee', from: 'client:source', to: 'provider:fees', amount: fee, milestone: id, at: ev.at });
			s.ledger.post(batch);
			milestone(s, id)!.funded += amount;
			s.intents.get(ev.payload.intent)!.settledBy = ev.id;
		}
	}
};
