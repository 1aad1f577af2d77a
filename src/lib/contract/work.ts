/** Submitting work (Request Payment), the provider's timestamp on it, and the client's change requests. */
import { reject } from './rejections';
import type { RuleSet } from './rule';
import { escrowOf, milestone } from './state';

export const workRules: RuleSet = {
	'milestone.submitted': {
		who: ['freelancer'],
		check(s, ev) {
			if (s.status !== 'active') return reject('invalid-state', 'Work is submitted on an active contract.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (escrowOf(m) === 0) return reject('unfunded', 'Payment can be requested once the milestone is funded.');
			// After the client acted (say, a partial release), the freelancer may request payment for the rest.
			if (m.phase === 'submitted' && m.reviewOpen) return reject('invalid-state', 'This milestone is already waiting for review.');
			if (m.phase === 'disputed') return reject('invalid-state', 'This milestone is in dispute.');
			return null;
		},
		apply(s, ev) {
			const m = milestone(s, ev.payload.milestone)!;
			m.phase = 'submitted';
			m.submission = { id: ev.id, at: ev.at, message: ev.payload.message, links: ev.payload.links };
			m.reviewOpen = true;
		}
	},
	'milestone.changesRequested': {
		who: ['client'],
		check(s, ev) {
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (m.phase !== 'submitted' || escrowOf(m) === 0) return reject('invalid-state', 'Changes are requested on submitted work.');
			if (m.revisionCap !== undefined && m.changeRequests >= m.revisionCap)
				return reject('revision-cap', `The terms allow ${m.revisionCap} revision${m.revisionCap === 1 ? '' : 's'}.`);
			return null;
		},
		apply(s, ev) {
			const m = milestone(s, ev.payload.milestone)!;
			m.phase = 'changes_requested';
			m.changeRequests++;
			m.reviewOpen = false;
			m.lastChangeRequest = { id: ev.id, at: ev.at };
		}
	},
	'receipt.attested': {
		who: ['provider'],
		check(s, ev) {
			const { event, kind } = ev.payload;
			if (kind === 'submission') {
				const m = s.milestones.find((x) => x.submission?.id === event);
				if (!m) return reject('unknown-intent', 'It attests a submission that is not in this contract.');
				if (m.submission!.attestedAt !== undefined) return reject('already-settled', 'The submission is already timestamped.');
				return null;
			}
			if (kind === 'change-request') {
				const m = s.milestones.find((x) => x.lastChangeRequest?.id === event);
				if (!m) return reject('unknown-intent', 'It attests a change request that is not in this contract.');
				if (m.lastChangeRequest!.attestedAt !== undefined) return reject('already-settled', 'The change request is already timestamped.');
				return null;
			}
			const r = s.refundRequests.get(event);
			if (!r) return reject('unknown-intent', 'It attests a refund request that is not in this contract.');
			if (r.attestedAt !== undefined) return reject('already-settled', 'The refund request is already timestamped.');
			return null;
		},
		apply(s, ev) {
			const { event, kind } = ev.payload;
			if (kind === 'submission') s.milestones.find((x) => x.submission?.id === event)!.submission!.attestedAt = ev.at;
			else if (kind === 'change-request') s.milestones.find((x) => x.lastChangeRequest?.id === event)!.lastChangeRequest!.attestedAt = ev.at;
			else s.refundRequests.get(event)!.attestedAt = ev.at;
		}
	}
};
