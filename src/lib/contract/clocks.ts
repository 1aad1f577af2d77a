/**
 * Every running clock, derived from the state: the review window after a submission, the window the
 * freelancer has to answer a refund request, and the security period on released money. Each has a
 * start, a deadline and what happens by default. Deadlines count from provider-signed times only.
 */
import { reviewWindow } from './release';
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

/** Nothing pays by itself: past the review window the freelancer's app claims the payment. */
export const OUTCOME: Record<ClockKind, string> = {
	review: 'The freelancer can then claim the payment; their app claims it when it opens.',
	'refund-answer': 'The client can then have the refund paid.',
	security: 'The released payment becomes available to withdraw.'
};

/** The same once the deadline has passed on the provider's clock. */
export const OUTCOME_PASSED: Record<ClockKind, string> = {
	review: 'The freelancer can now claim the payment; their app claims it when it opens.',
	'refund-answer': 'The client can now have the refund paid.',
	security: 'The released payment is available to withdraw.'
};

export function reviewDeadline(s: ContractState, m: MilestoneState): number | undefined {
	return reviewWindow(s, m)?.endsAt;
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
		const w = reviewWindow(s, m);
		if (w?.stopped) continue;
		out.push({ kind: 'review', milestone: m.id, subject: m.submission.id, startedAt: w?.startedAt, deadline: w?.endsAt, outcome: OUTCOME.review });
	}
	for (const r of s.refundRequests.values()) {
		if (r.status !== 'open') continue;
		out.push({ kind: 'refund-answer', milestone: r.milestone, subject: r.id, startedAt: r.attestedAt, deadline: refundAnswerDeadline(s, r), outcome: OUTCOME['refund-answer'] });
	}
	for (const lot of s.releases) {
		if (lot.matured) continue;
		out.push({ kind: 'security', milestone: lot.milestone, subject: lot.receipt, startedAt: lot.releasedAt, deadline: lot.maturesAt, outcome: OUTCOME.security });
	}
	return out.sort((a, b) => (a.deadline ?? Infinity) - (b.deadline ?? Infinity) || (a.subject < b.subject ? -1 : 1));
}

/** One window on a milestone's timeline, with where it stands at a provider time. */
export interface ClockSpan {
	kind: ClockKind;
	subject: string;
	start: number;
	end: number;
	/** running: the deadline is ahead; passed: it went by with nobody acting; stopped: someone acted first. */
	state: 'running' | 'passed' | 'stopped';
	stoppedAt?: number;
	/** What the window is about: the refund asked, the payment released. */
	amount?: number;
}

/**
 * A milestone's clocks that have started, for drawing: the latest submission's review window, each
 * refund request's answer window and each release's security period, with their state at `now`
 * (provider time).
 */
export function milestoneClocks(s: ContractState, m: MilestoneState, now: number): ClockSpan[] {
	if (!s.terms) return [];
	const out: ClockSpan[] = [];
	const w = reviewWindow(s, m);
	if (w?.startedAt !== undefined && w.endsAt !== undefined) {
		const stopped = w.stopped && (w.stoppedAt === undefined || w.stoppedAt < w.endsAt);
		out.push({
			kind: 'review',
			subject: w.submission,
			start: w.startedAt,
			end: w.endsAt,
			state: stopped ? 'stopped' : now >= w.endsAt ? 'passed' : 'running',
			...(stopped && w.stoppedAt !== undefined ? { stoppedAt: w.stoppedAt } : {})
		});
	}
	for (const r of s.refundRequests.values()) {
		const end = refundAnswerDeadline(s, r);
		if (r.milestone !== m.id || r.attestedAt === undefined || end === undefined) continue;
		const answeredAt = r.answer === undefined ? undefined : s.recorded.get(r.answer)?.at;
		const stopped = r.answer !== undefined && (answeredAt === undefined || answeredAt < end);
		out.push({
			kind: 'refund-answer',
			subject: r.id,
			start: r.attestedAt,
			end,
			amount: r.amount,
			state: stopped ? 'stopped' : now >= end ? 'passed' : 'running',
			...(stopped && answeredAt !== undefined ? { stoppedAt: answeredAt } : {})
		});
	}
	for (const lot of s.releases) {
		if (lot.milestone !== m.id) continue;
		out.push({ kind: 'security', subject: lot.receipt, start: lot.releasedAt, end: lot.maturesAt, amount: lot.amount, state: lot.matured || now >= lot.maturesAt ? 'passed' : 'running' });
	}
	return out;
}

export const CLOCK_NAME: Record<ClockKind, string> = { review: 'Review window', 'refund-answer': 'Refund answer window', security: 'Security period' };

/**
 * One span in words, for the timeline's text alternative: when it runs, where it stands at `now`
 * and what follows. Past deadlines are said to have passed, never "ends on"; nothing is promised
 * to happen by itself.
 */
export function describeSpan(span: ClockSpan, now: number, money: (minor: number) => string, date: (ms: number) => string): string {
	const range = `${date(span.start)} – ${date(span.end)}`;
	const left = Math.max(1, Math.ceil((span.end - now) / 86_400_000));
	const inDays = `${left} day${left === 1 ? '' : 's'}`;
	const amount = span.amount === undefined ? '' : ` ${money(span.amount)}`;
	switch (span.kind) {
		case 'review':
			if (span.state === 'stopped') return `Review window: started ${date(span.start)}, stopped${span.stoppedAt === undefined ? '' : ` ${date(span.stoppedAt)}`} because the client acted (or the contract ended).`;
			if (span.state === 'passed') return `Review window: ${range}. It ended with no answer from the client: the freelancer can claim the payment.`;
			return `Review window: ${range}, ${inDays} left. If the client does not act by then, the freelancer can claim the payment.`;
		case 'refund-answer':
			if (span.state === 'stopped') return `Refund answer window: started ${date(span.start)}, answered${span.stoppedAt === undefined ? '' : ` ${date(span.stoppedAt)}`}.`;
			if (span.state === 'passed') return `Refund answer window: ${range}. It ended unanswered: the client can have the refund of${amount} paid.`;
			return `Refund answer window: ${range}, ${inDays} left for the freelancer to approve or decline the refund of${amount}.`;
		case 'security':
			if (span.state === 'passed') return `Security period: ${range}. The released${amount} is available to withdraw.`;
			return `Security period: ${range}, ${inDays} left. The released${amount} becomes available to withdraw then.`;
	}
}
