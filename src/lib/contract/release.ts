/**
 * Releasing escrow to the freelancer. The rule for "who may release a milestone" is here:
 * the client, at any time the milestone holds escrow, for any amount up to what it holds
 * (the rest stays in escrow); or the provider on the freelancer's claim, once the review window
 * has passed on the provider's clock after a timestamped submission the client did not act on.
 */
import { reviewDeadline } from './clocks';
import { escrowAccount } from './ledger';
import { reject } from './rejections';
import type { RuleSet } from './rule';
import { isRejection, settleable } from './settlement';
import { DAY_MS, escrowOf, milestone } from './state';

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
			// Auto-release: the provider's own time must be past the deadline, and the client must not have acted since.
			if (!ev.payload.auto) return reject('amount-mismatch', 'An auto-release receipt must say so.');
			if (ev.payload.amount !== escrowOf(m)) return reject('amount-mismatch', 'Auto-release releases the whole escrow.');
			const deadline = reviewDeadline(s, m);
			if (!m.reviewOpen || deadline === undefined) return reject('invalid-state', 'The client acted on the submission.');
			if (ev.at < deadline) return reject('too-early', `The review window ends ${new Date(deadline).toISOString()}.`);
			return null;
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
			s.intents.get(ev.payload.intent)!.settledBy = ev.id;
		}
	}
};
