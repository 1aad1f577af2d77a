/** Submitting work (Request Payment) and the client's change requests; the provider records both (record.ts). */
import { reject } from './rejections';
import type { RuleSet } from './rule';
import { escrowOf, milestone, type ContractState, type MilestoneState } from './state';

/** The client's latest change request on a milestone, with its reason (read from the applied event). */
export function latestChangeRequest(s: ContractState, m: MilestoneState): { id: string; at: number; reason: string } | undefined {
	const last = m.lastChangeRequest;
	if (!last) return undefined;
	for (let i = s.applied.length - 1; i >= 0; i--) {
		const ev = s.applied[i]!;
		if (ev.id === last.id && ev.type === 'milestone.changesRequested') return { id: ev.id, at: last.attestedAt ?? ev.at, reason: ev.payload.reason };
	}
	return undefined;
}

/** "2 of 3 changes used", or how many were asked when the terms set no cap. */
export function revisionsText(m: MilestoneState): string | undefined {
	if (m.revisionCap !== undefined) return `${m.changeRequests} of ${m.revisionCap} change${m.revisionCap === 1 ? '' : 's'} used`;
	return m.changeRequests ? `${m.changeRequests} change${m.changeRequests === 1 ? '' : 's'} requested (no limit agreed)` : undefined;
}

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
			s.reviewEvents.set(ev.id, { kind: 'submission', milestone: m.id });
			m.reviewOpen = true;
		}
	},
	'milestone.changesRequested': {
		who: ['client'],
		check(s, ev) {
			if (s.status !== 'active') return reject('invalid-state', 'Changes are requested on an active contract.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (m.phase !== 'submitted' || escrowOf(m) === 0) return reject('invalid-state', 'Changes are requested on submitted work.');
			if (m.revisionCap !== undefined && m.changeRequests >= m.revisionCap)
				return reject('revision-cap', `The terms allow ${m.revisionCap} change request${m.revisionCap === 1 ? '' : 's'} for this milestone, and ${m.changeRequests === 1 ? 'it is' : 'all are'} used: raising the cap needs a milestone change both accept.`);
			return null;
		},
		apply(s, ev) {
			const m = milestone(s, ev.payload.milestone)!;
			m.phase = 'changes_requested';
			m.changeRequests++;
			m.reviewOpen = false;
			m.lastChangeRequest = { id: ev.id, at: ev.at };
			s.reviewEvents.set(ev.id, { kind: 'change-request', milestone: m.id });
		}
	}
};
