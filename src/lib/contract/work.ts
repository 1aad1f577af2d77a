/** Submitting work (Request Payment) and the client's change requests; the provider records both (record.ts). */
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
	}
};
