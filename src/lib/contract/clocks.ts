/**
 * Every running clock, derived from the state: the review window after a submission, the window the
 * freelancer has to answer a refund request, and the security period on released money. Each has a
 * start, a deadline and what happens by default. Deadlines count from provider-signed times only.
 */
import { DAY_MS, escrowOf, type ContractState, type MilestoneState, type RefundRequest } from './state';

export type ClockKind = 'review' | 'refund-answer' | 'security';

export interface Clock {
	kind: ClockKind;
	milestone: string;
	/** The event the clock belongs to (submission, refund request, release receipt). */
	subject: string;
	/** Provider time it started; undefined while the provider has not timestamped it yet. */
	startedAt?: number;
	deadline?: number;
	/** What happens when the deadline passes with nobody acting. */
	outcome: string;
}

export function reviewDeadline(s: ContractState, m: MilestoneState): number | undefined {
	const at = m.submission?.attestedAt;
	return at === undefined ? undefined : at + s.terms!.reviewWindowDays * DAY_MS;
}

export function refundAnswerDeadline(s: ContractState, r: RefundRequest): number | undefined {
	return r.attestedAt === undefined ? undefined : r.attestedAt + s.terms!.refundAnswerDays * DAY_MS;
}

/** All clocks that are still running, soonest deadline first (unstarted ones last). */
export function clocks(s: ContractState): Clock[] {
	if (!s.terms) return [];
	const out: Clock[] = [];
	for (const m of s.milestones) {
		if (m.removed || !m.reviewOpen || !m.submission || escrowOf(m) === 0) continue;
		out.push({
			kind: 'review',
			milestone: m.id,
			subject: m.submission.id,
			startedAt: m.submission.attestedAt,
			deadline: reviewDeadline(s, m),
			outcome: 'The escrow is released to the freelancer automatically.'
		});
	}
	for (const r of s.refundRequests.values()) {
		if (r.status !== 'open') continue;
		out.push({
			kind: 'refund-answer',
			milestone: r.milestone,
			subject: r.id,
			startedAt: r.attestedAt,
			deadline: refundAnswerDeadline(s, r),
			outcome: 'The refund goes through to the client.'
		});
	}
	for (const lot of s.releases) {
		if (lot.matured) continue;
		out.push({
			kind: 'security',
			milestone: lot.milestone,
			subject: lot.receipt,
			startedAt: lot.releasedAt,
			deadline: lot.maturesAt,
			outcome: 'The released payment becomes available to withdraw.'
		});
	}
	return out.sort((a, b) => (a.deadline ?? Infinity) - (b.deadline ?? Infinity) || (a.subject < b.subject ? -1 : 1));
}
