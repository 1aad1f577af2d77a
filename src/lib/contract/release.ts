/**
 * Releasing escrow to the freelancer. The rule for "who may release a milestone" is here:
 * the client, at any time the milestone holds escrow, for any amount up to what it holds
 * (the rest stays in escrow); or the provider on the freelancer's claim, once the review window
 * has passed on the provider's clock after a timestamped submission the client did not act on.
 */
import { escrowAccount } from './ledger';
import { matureDue } from './payouts';
import { reviewStopped } from './record';
import { reject, type Rejection } from './rejections';
import type { RuleSet } from './rule';
import { isRejection, settleable } from './settlement';
import { DAY_MS, escrowOf, milestone, type ContractState } from './state';

/**
 * May the provider auto-release `milestone` for `submission` at provider time `at`? Judged on the
 * provider's record only (record.ts): the submission's recorded time starts the review window, and
 * any recorded client action, newer submission, partial release or end of contract since then stops
 * it. The provider asks this before it pays; every replica asks it again of the receipt.
 */
export function autoReleaseRefusal(s: ContractState, milestoneId: string, submission: string, at: number): Rejection | null {
	const recorded = s.recorded.get(submission);
	if (!recorded || recorded.kind !== 'submission' || recorded.milestone !== milestoneId)
		return reject('invalid-state', 'The provider has not recorded this submission, so its review window has not started.');
	const deadline = recorded.at + s.terms!.reviewWindowDays * DAY_MS;
	if (reviewStopped(s, milestoneId, recorded.at, at, submission))
		return reject('invalid-state', 'The client acted on the submission, or the contract ended, as the provider recorded.');
	if (at < deadline) return reject('too-early', `The review window ends ${new Date(deadline).toISOString()}.`);
	return null;
}

export const releaseRules: RuleSet = {
	'milestone.release': {
		who: ['client'],
		check(s, ev) {
			if (s.status !== 'active' && s.status !== 'ended') return reject('invalid-state', 'Payments are released on an accepted contract.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
			if (escrowOf(m) === 0) return reject('unfunded', 'There is no money in escrow for this milestone.');
			if (ev.payload.amount > escrowOf(m)) return reject('exceeds-escrow', `Escrow holds ${escrowOf(m)}.`);
			return null;
		},
		apply(s, ev) {
			// Any client action on a submission stops its auto-release clock.
			milestone(s, ev.payload.milestone)!.reviewOpen = false;
		}
	},
	'milestone.autoRelease': {
		who: ['freelancer'],
		check(s, ev) {
			if (s.status !== 'active') return reject('invalid-state', 'Auto-release applies only while the contract is active.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (escrowOf(m) === 0) return reject('unfunded');
			if (!m.reviewOpen || m.submission?.id !== ev.payload.submission)
				return reject('invalid-state', 'Auto-release applies to the latest submission while it awaits review.');
			if (m.submission.attestedAt === undefined) return reject('invalid-state', 'The provider has not timestamped the submission yet.');
			return null;
		},
		apply() {}
	},
	'receipt.released': {
		who: ['provider'],
		check(s, ev) {
			const r = settleable(s, ev, ['milestone.release', 'milestone.autoRelease']);
			if (isRejection(r)) return r;
			const { intent } = r;
			if (ev.payload.milestone !== intent.milestone) return reject('amount-mismatch', 'The receipt is for another milestone.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (escrowOf(m) === 0) return reject('unfunded');
			if (ev.payload.amount > escrowOf(m)) return reject('exceeds-escrow', `Escrow holds ${escrowOf(m)}.`);
			if (intent.type === 'milestone.release') {
				if (ev.payload.auto || ev.payload.amount !== intent.amount) return reject('amount-mismatch', 'The receipt does not match its intent.');
				return null;
			}
			// Auto-release: judged on the provider's record and time, exactly as the provider judged it.
			if (!ev.payload.auto) return reject('amount-mismatch', 'An auto-release receipt must say so.');
			// The provider releases what it held when it executed; a refund it executed earlier may sort later
			// in the fold, so more can still show as held here: never more than what is held, though.
			return autoReleaseRefusal(s, m.id, intent.submission!, ev.at);
		},
		apply(s, ev) {
			const { milestone: id, amount } = ev.payload;
			s.ledger.post([{ receipt: ev.id, kind: 'release', from: escrowAccount(id), to: 'freelancer:pending', amount, milestone: id, at: ev.at }]);
			const m = milestone(s, id)!;
			m.released += amount;
			m.reviewOpen = false;
			if (escrowOf(m) === 0 && m.phase !== 'disputed') m.phase = 'in_progress';
			s.releases.push({
				receipt: ev.id,
				milestone: id,
				amount,
				releasedAt: ev.at,
				maturesAt: ev.at + s.terms!.securityPeriodDays * DAY_MS,
				matured: false
			});
			matureDue(s, ev.id);
			s.intents.get(ev.payload.intent)!.settledBy = ev.id;
		}
	}
};
