/**
 * The freelancer's side of the money after release: released payments wait out the provider's
 * security period as "pending", then become "available", then leave by withdrawal. The period is
 * measured on the provider's clock: a lot matures when a receipt signed at or after its deadline
 * is folded, so every peer matures the same lots at the same point of the fold.
 */
import { formatAmount } from '../money/amount';
import { subMinor } from '../money/minor';
import type { Transfer } from './ledger';
import { reject } from './rejections';
import type { RuleSet } from './rule';
import { isRejection, settleable } from './settlement';
import type { ContractState } from './state';

/** Advance the provider clock to `at` and move matured releases from pending to available. */
export function advanceProviderClock(s: ContractState, at: number, receipt: string): void {
	if (at <= s.providerNow) return;
	s.providerNow = at;
	matureDue(s, receipt);
}

/**
 * Move every release whose security period has passed on the provider clock from pending to
 * available. Also run when a release is folded: a receipt signed later may have been folded before
 * it (fold order is not time order), and the provider clock has then already passed its deadline.
 */
export function matureDue(s: ContractState, receipt: string): void {
	const batch: Transfer[] = [];
	for (const lot of s.releases) {
		if (lot.matured || lot.maturesAt > s.providerNow) continue;
		lot.matured = true;
		batch.push({ receipt, kind: 'mature', from: 'freelancer:pending', to: 'freelancer:available', amount: lot.amount, milestone: lot.milestone, at: s.providerNow });
	}
	if (batch.length) s.ledger.post(batch);
}

export const payoutRules: RuleSet = {
	'withdrawal.requested': {
		who: ['freelancer'],
		check(s, ev) {
			if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
			const owned = s.ledger.balance('freelancer:pending') + s.ledger.balance('freelancer:available');
			if (ev.payload.amount > owned) return reject('insufficient-balance', `The balance is ${formatAmount(owned, s.terms!.currency)}.`);
			return null;
		},
		apply() {}
	},
	'receipt.paidOut': {
		who: ['provider'],
		check(s, ev) {
			const r = settleable(s, ev, 'withdrawal.requested');
			if (isRejection(r)) return r;
			if (ev.payload.amount !== r.intent.amount) return reject('amount-mismatch', 'The receipt does not match its intent.');
			if (ev.payload.fee > ev.payload.amount) return reject('amount-mismatch', 'The fee exceeds the amount.');
			// The fold advanced the provider clock to this receipt before checking it.
			const available = s.ledger.balance('freelancer:available');
			if (ev.payload.amount > available) return reject('insufficient-balance', `Available is ${formatAmount(available, s.terms!.currency)}.`);
			return null;
		},
		apply(s, ev) {
			const { amount, fee, method, arrivesAt, intent } = ev.payload;
			const batch: Transfer[] = [];
			if (amount - fee > 0) batch.push({ receipt: ev.id, kind: 'payout', from: 'freelancer:available', to: 'freelancer:payouts', amount: subMinor(amount, fee), at: ev.at });
			if (fee > 0) batch.push({ receipt: ev.id, kind: 'payout-fee', from: 'freelancer:available', to: 'provider:fees', amount: fee, at: ev.at });
			s.ledger.post(batch);
			s.payouts.push({ receipt: ev.id, intent, amount, fee, method, at: ev.at, arrivesAt });
			s.intents.get(intent)!.settledBy = ev.id;
		}
	}
};
