/**
 * The provider's record. A party asking for money sends its log, and could leave out whatever stops
 * a clock; so every event that starts or stops a money clock (and the countersign that binds the
 * parties) counts for money only once the provider has recorded it, with `receipt.attested`. The
 * provider keeps what it recorded and judges deadlines on that record and its own clock; every
 * replica judges the provider's receipts on the same recorded facts and provider times, so a
 * replica and the provider never disagree about a money clock, whatever else a log holds.
 */
import { present } from './assert';
import { applyDisputeRecord, disputeRecordRefusal, disputeRecordSubject, isDisputeKind } from './dispute';
import { recordRevocation } from './devices';
import { applyHourlyRecord, hourlyRecordRefusal, hourlyRecordSubject } from './hourly';
import { bindParties } from './proposal';
import { reject } from './rejections';
import type { RuleContext, RuleSet } from './rule';
import type { AttestedKind } from './schema';
import type { ContractState, RecordedEvent } from './state';

export interface RecordSubject {
	kind: AttestedKind;
	milestone?: string;
	/** Hourly contracts: the week a timesheet, dispute or answer belongs to. */
	week?: string;
}

/**
 * A submission or change request that a newer one of its milestone replaced, and that newer one is
 * what `recorder` had seen (folding with `ctx`; without it, any newer one). Recording it then could
 * stop the current review clock; recorded before the newer one was seen, it counts (record.ts).
 */
export function staleReviewEvent(s: ContractState, subject: RecordSubject, event: string, recorder?: string, ctx?: RuleContext): boolean {
	if (subject.kind !== 'submission' && subject.kind !== 'change-request') return false;
	const m = s.milestones.find((x) => x.id === subject.milestone);
	const current = subject.kind === 'submission' ? m?.submission?.id : m?.lastChangeRequest?.id;
	if (current === undefined || current === event) return false;
	return recorder === undefined || !ctx?.reaches || ctx.reaches(recorder, current);
}

/** What the provider may record for `event`, from the state: the one place that says which events count. */
export function recordSubject(s: ContractState, event: string): RecordSubject | undefined {
	if (s.countersigns.has(event)) return { kind: 'countersign' };
	const review = s.reviewEvents.get(event);
	if (review) return { kind: review.kind, milestone: review.milestone };
	const request = s.refundRequests.get(event);
	if (request) return { kind: 'refund-request', milestone: request.milestone };
	for (const r of s.refundRequests.values()) if (r.answer === event) return { kind: 'refund-answer', milestone: r.milestone };
	if (s.endEvent === event) return { kind: 'end' };
	if (s.devices.revocations.has(event)) return { kind: 'revocation' };
	return disputeRecordSubject(s, event) ?? hourlyRecordSubject(s, event);
}

/** Does this recorded event stop the review clock of `milestone`? (A dispute opened on it does: dispute.ts.) */
export function stopsReview(r: RecordedEvent, milestone: string): boolean {
	if (r.kind === 'end') return true;
	return r.milestone === milestone && (r.kind === 'change-request' || r.kind === 'refund-request' || r.kind === 'submission' || r.kind === 'milestone-dispute');
}

/**
 * Did the provider record, between provider times `from` and `to` (inclusive), anything that stops
 * the review clock of `milestone`: a change request, a refund request, a newer submission, a dispute,
 * a release of part of its escrow, or the end of the contract? `except` is the submission the clock runs for.
 */
export function reviewStopped(s: ContractState, milestone: string, from: number, to: number, except: string): boolean {
	for (const [id, r] of s.recorded) {
		if (id === except || r.at < from || r.at > to) continue;
		if (stopsReview(r, milestone)) return true;
	}
	return s.releases.some((lot) => lot.milestone === milestone && lot.releasedAt >= from && lot.releasedAt <= to);
}

export const recordRules: RuleSet = {
	'receipt.attested': {
		who: ['provider'],
		check(s, ev, ctx) {
			const { event, kind } = ev.payload;
			if (s.recorded.has(event)) return reject('already-settled', 'The provider has already recorded this event.');
			const subject = recordSubject(s, event);
			if (!subject || subject.kind !== kind) return reject('unknown-intent', `It records a ${kind} this contract does not have.`);
			if (kind === 'countersign' && s.binding) return reject('invalid-state', 'The provider has already recorded another countersign.');
			if (staleReviewEvent(s, subject, event, ev.id, ctx)) return reject('invalid-state', `A newer ${kind} was written: only the current one is recorded.`);
			// Hourly events and dispute steps: when the provider may record them, judged at this receipt's provider time (hourly.ts, dispute.ts).
			return hourlyRecordRefusal(s, subject, event, ev.at, ctx) ?? disputeRecordRefusal(s, subject, event, ev.at, ctx);
		},
		apply(s, ev) {
			const { event, kind } = ev.payload;
			const subject = present(recordSubject(s, event), `the recorded ${kind}`);
			s.recorded.set(event, { at: ev.at, kind, milestone: subject.milestone, ...(subject.week !== undefined ? { week: subject.week } : {}) });
			const m = () => present(s.milestones.find((x) => x.id === subject.milestone), `milestone ${subject.milestone}`);
			if (kind === 'countersign') bindParties(s, event, ev.at);
			// Recording an older one (a newer one sorts first) counts in the record alone: `recorded`, above.
			else if (kind === 'submission') {
				const sub = m().submission;
				if (sub?.id === event) sub.attestedAt = ev.at;
			} else if (kind === 'change-request') {
				const cr = m().lastChangeRequest;
				if (cr?.id === event) cr.attestedAt = ev.at;
			}
			else if (kind === 'refund-request') present(s.refundRequests.get(event), 'the recorded refund request').attestedAt = ev.at;
			else if (kind === 'revocation') recordRevocation(s, event, ev.at);
			else if (isDisputeKind(kind)) applyDisputeRecord(s, subject, event, ev.at);
			else applyHourlyRecord(s, subject, event, ev.at);
		}
	}
};

/** Is `event` one the provider still has to record before it counts? (What an app attests after writing it.) */
export function needsRecord(s: ContractState, event: string): boolean {
	if (s.recorded.has(event)) return false;
	const subject = recordSubject(s, event);
	return subject !== undefined && !staleReviewEvent(s, subject, event);
}

/** Events `author` wrote that the provider has not recorded yet, oldest first: what its app asks the provider to record. */
export function unrecordedOf(s: ContractState, author: string): string[] {
	const out: string[] = [];
	for (const ev of s.applied) if (ev.author === author && needsRecord(s, ev.id)) out.push(ev.id);
	return out;
}
