/**
 * Releasing escrow to the freelancer. The rule for "who may release a milestone" is here:
 * the client, at any time the milestone holds escrow, for any amount up to what it holds
 * (the rest stays in escrow); or the provider on the freelancer's claim, once the review window
 * has passed on the provider's clock after a timestamped submission the client did not act on.
 *
 * The auto-release decision lives here once: the replicas judge receipts with it, the providers
 * (mock and Stripe function) judge claims with it, and pages ask it what to offer and promise.
 */
import { escrowAccount } from './ledger';
import { addMinor, type Minor } from '../money/minor';
import { matureDue } from './payouts';
import { reviewStopped, stopsReview } from './record';
import { unansweredRefundRefusal } from './refund';
import { moneyText, reject, utcTime, type Rejection } from './rejections';
import type { RuleSet } from './rule';
import { isRejection, settleable } from './settlement';
import { DAY_MS, escrowOf, milestone, type ContractState, type Intent, type MilestoneState } from './state';


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
	if (at < deadline) return reject('too-early', `The review window ends ${utcTime(deadline)}.`);
	return null;
}

/** The review window of a milestone's latest submission, as the provider recorded it. */
export interface ReviewWindow {
	submission: string;
	/** Provider time the window started; undefined until the provider recorded the submission. */
	startedAt?: number;
	endsAt?: number;
	/** The client acted on it (or the contract ended): it will not end in an auto-release. */
	stopped: boolean;
	/** Provider time of the first recorded event that stopped it, when the provider recorded one. */
	stoppedAt?: number;
}

export function reviewWindow(s: ContractState, m: MilestoneState): ReviewWindow | undefined {
	const sub = m.submission;
	if (!sub || !s.terms) return undefined;
	const recorded = s.recorded.get(sub.id);
	if (!recorded) return { submission: sub.id, stopped: !m.reviewOpen };
	const startedAt = recorded.at;
	let stoppedAt: number | undefined;
	for (const [id, r] of s.recorded) {
		if (id === sub.id || r.at < startedAt) continue;
		const stops = stopsReview(r, m.id);
		if (stops && (stoppedAt === undefined || r.at < stoppedAt)) stoppedAt = r.at;
	}
	for (const lot of s.releases)
		if (lot.milestone === m.id && lot.releasedAt >= startedAt && (stoppedAt === undefined || lot.releasedAt < stoppedAt)) stoppedAt = lot.releasedAt;
	// A client action the provider has not recorded yet already stops it on this replica's view.
	const stopped = stoppedAt !== undefined || !m.reviewOpen;
	return { submission: sub.id, startedAt, endsAt: startedAt + s.terms.reviewWindowDays * DAY_MS, stopped, ...(stoppedAt !== undefined ? { stoppedAt } : {}) };
}

export type AutoReleaseDecision =
	| { due: true; submission: string; deadline: number; amount: Minor }
	| { due: false; refusal: Rejection; submission?: string; deadline?: number };

/**
 * THE auto-release decision at provider time `at`: may the freelancer's claim on milestone `id` be
 * paid now, for how much and since when? The claim's own rule (contract active, escrow held, the
 * latest submission still awaiting review, recorded by the provider) and then the provider's record
 * and clock. What escrow holds is what an auto-release pays.
 */
export function autoReleaseDecision(s: ContractState, id: string, at: number): AutoReleaseDecision {
	const m = milestone(s, id);
	if (!m) return { due: false, refusal: reject('unknown-milestone') };
	const window = reviewWindow(s, m);
	const deadline = window?.endsAt;
	const base = { submission: window?.submission, deadline };
	if (s.status !== 'active') return { due: false, refusal: reject('invalid-state', 'Auto-release applies only while the contract is active.'), ...base };
	if (escrowOf(m) === 0) return { due: false, refusal: reject('unfunded', 'There is no money in escrow for this milestone.'), ...base };
	if (!m.reviewOpen || !m.submission)
		return { due: false, refusal: reject('invalid-state', 'No submission is waiting for review: auto-release applies to the latest one while it does.'), ...base };
	const refusal = autoReleaseRefusal(s, m.id, m.submission.id, at);
	if (refusal) return { due: false, refusal, ...base };
	return { due: true, submission: m.submission.id, deadline: deadline!, amount: escrowOf(m) };
}

/** What a release intent pays when the provider executes it: its amount, or for an auto-release all that escrow holds then. */
export function releaseAmount(intent: Pick<Intent, 'type' | 'amount'>, held: Minor): Minor {
	return intent.type === 'milestone.autoRelease' ? held : intent.amount!;
}

/** Is this intent judged on a deadline (and so on the provider's record and clock)? */
export function isDeadlineJudged(intent: Pick<Intent, 'type' | 'refund'>): boolean {
	return intent.type === 'milestone.autoRelease' || intent.refund?.basis === 'unanswered-request';
}

/** A deadline-judged intent at provider time `at`, with the same rule every replica applies to its receipt. */
export function deadlineRefusal(s: ContractState, intent: Intent, at: number): Rejection | null {
	if (intent.type === 'milestone.autoRelease') return autoReleaseRefusal(s, intent.milestone!, intent.submission!, at);
	if (intent.refund?.basis === 'unanswered-request') return unansweredRefundRefusal(s, intent.refund.request!, at);
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
			if (ev.payload.amount > escrowOf(m)) return reject('exceeds-escrow', `Escrow holds ${moneyText(escrowOf(m), s.terms!.currency)}.`);
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
			if (ev.payload.milestone !== intent.milestone) return reject('wrong-milestone');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (escrowOf(m) === 0) return reject('unfunded');
			if (ev.payload.amount > escrowOf(m)) return reject('exceeds-escrow', `Escrow holds ${moneyText(escrowOf(m), s.terms!.currency)}.`);
			if (intent.type === 'milestone.release') {
				if (ev.payload.auto) return reject('receipt-mismatch', 'The client released it: it is no auto-release.');
				if (ev.payload.amount !== intent.amount) return reject('amount-mismatch', 'The receipt does not match its intent.');
				return null;
			}
			// Auto-release: judged on the provider's record and time, exactly as the provider judged it.
			if (!ev.payload.auto) return reject('receipt-mismatch', 'An auto-release receipt must say so.');
			// The provider releases what it held when it executed; a refund it executed earlier may sort later
			// in the fold, so more can still show as held here: never more than what is held, though.
			return autoReleaseRefusal(s, m.id, intent.submission!, ev.at);
		},
		apply(s, ev) {
			const { milestone: id, amount } = ev.payload;
			s.ledger.post([{ receipt: ev.id, kind: 'release', from: escrowAccount(id), to: 'freelancer:pending', amount, milestone: id, at: ev.at }]);
			const m = milestone(s, id)!;
			m.released = addMinor(m.released, amount);
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
