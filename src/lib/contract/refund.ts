/**
 * Returning unreleased escrow to the client. Who may refund, and on what basis:
 * - the freelancer, any amount up to what escrow holds (giving money back needs nobody's consent);
 * - the client, for the amount of a refund request the freelancer approved;
 * - the client, for a request the freelancer neither approved nor declined within the answer window
 *   (checked on the provider's clock when the provider executes it);
 * - the client, for everything left in escrow once the contract ended by agreement.
 * A declined request leaves the escrow where it is: the client may then open a dispute in the
 * Resolution Center (dispute.ts), which is what "dispute" means from here on.
 */
import { openDispute } from './dispute';
import { activeFor } from './ending';
import { escrowAccount } from './ledger';
import { addMinor } from '../money/minor';
import { moneyText, reject, utcTime, type Rejection } from './rejections';
import type { RuleSet } from './rule';
import { isRejection, settleable } from './settlement';
import { DAY_MS, escrowOf, milestone, type ContractState, type EvOf } from './state';

/**
 * May the provider refund a request as unanswered at provider time `at`? Judged on its record only:
 * the request's recorded time starts the answer window; an answer it recorded by `at` stops it.
 */
export function unansweredRefundRefusal(s: ContractState, requestId: string, at: number): Rejection | null {
	const recorded = s.recorded.get(requestId);
	if (!recorded || recorded.kind !== 'refund-request')
		return reject('invalid-state', 'The provider has not recorded this refund request, so its answer window has not started.');
	const answer = s.refundRequests.get(requestId)?.answer;
	const answered = answer === undefined ? undefined : s.recorded.get(answer);
	if (answered && answered.at <= at) return reject('invalid-state', 'The freelancer answered the request, as the provider recorded.');
	// A dispute opened on the milestone stops its money clocks: the Resolution Center decides its escrow.
	for (const r of s.recorded.values())
		if (r.kind === 'milestone-dispute' && r.milestone === recorded.milestone && r.at >= recorded.at && r.at <= at)
			return reject('invalid-state', 'A dispute on this milestone was opened, as the provider recorded: the Resolution Center decides its escrow.');
	const deadline = recorded.at + s.terms!.refundAnswerDays * DAY_MS;
	if (at < deadline) return reject('too-early', `The answer window ends ${utcTime(deadline)}.`);
	return null;
}

function checkRefundIntent(s: ContractState, ev: EvOf<'milestone.refund'>): Rejection | null {
	const { basis, request: requestId, amount } = ev.payload;
	const m = milestone(s, ev.payload.milestone);
	if (!m) return reject('unknown-milestone');
	if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
	if (escrowOf(m) === 0) return reject('unfunded', 'There is no money in escrow for this milestone.');
	if (amount > escrowOf(m)) return reject('exceeds-escrow', `Escrow holds ${moneyText(escrowOf(m), s.terms!.currency)}.`);
	const isFreelancer = s.parties.freelancer === ev.author;
	if (basis === 'freelancer') return isFreelancer ? null : reject('wrong-role', 'Only the freelancer refunds on their own.');
	if (isFreelancer) return reject('wrong-role', `The basis "${basis}" is the client's.`);
	// Named for the usual case; an end alone leaves escrow only from a funding the ending party had not seen (ending.ts).
	if (basis === 'ended-by-agreement') return s.status === 'ended' ? null : reject('invalid-state', 'The contract has not ended.');
	const r = requestId ? s.refundRequests.get(requestId) : undefined;
	if (!r || r.milestone !== m.id) return reject('invalid-state', 'It refers to no refund request for this milestone.');
	if (amount !== r.amount) return reject('amount-mismatch', `The request was for ${moneyText(r.amount, s.terms!.currency)}.`);
	if (basis === 'approved-request') return r.status === 'approved' ? null : reject('invalid-state', 'The freelancer has not approved the request.');
	if (r.status !== 'open') return reject('invalid-state', 'The request has been answered.');
	if (r.attestedAt === undefined) return reject('invalid-state', 'The provider has not timestamped the request yet.');
	return null;
}

export const refundRules: RuleSet = {
	'refund.requested': {
		who: ['client'],
		check(s, ev, ctx) {
			if (!activeFor(s, ev.id, ctx)) return reject('invalid-state', 'Refunds are requested on an active contract.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
			if (escrowOf(m) === 0) return reject('unfunded', 'There is no money in escrow for this milestone.');
			if (ev.payload.amount > escrowOf(m)) return reject('exceeds-escrow', `Escrow holds ${moneyText(escrowOf(m), s.terms!.currency)}.`);
			if (openDispute(s, m.id)) return reject('invalid-state', 'This milestone is in dispute: make an offer in the Resolution Center instead.');
			// Several requests may stand at once: refusing "one is already open" would let whichever
			// request sorts first decide (two devices of the client can each write one), and each refund
			// is bounded by what escrow holds anyway.
			return null;
		},
		apply(s, ev) {
			const { milestone: id, amount, reason } = ev.payload;
			s.refundRequests.set(ev.id, { id: ev.id, milestone: id, amount, reason, at: ev.at, status: 'open' });
			milestone(s, id)!.reviewOpen = false;
		}
	},
	'refund.approved': {
		who: ['freelancer'],
		check(s, ev) {
			const r = s.refundRequests.get(ev.payload.request);
			if (!r || r.status !== 'open') return reject('invalid-state', 'There is no open refund request with that id.');
			return null;
		},
		apply(s, ev) {
			const r = s.refundRequests.get(ev.payload.request)!;
			r.status = 'approved';
			r.answer = ev.id;
		}
	},
	'refund.declined': {
		who: ['freelancer'],
		check(s, ev) {
			const r = s.refundRequests.get(ev.payload.request);
			if (!r || r.status !== 'open') return reject('invalid-state', 'There is no open refund request with that id.');
			return null;
		},
		apply(s, ev) {
			// The escrow stays held and the milestone goes on; the client may open a dispute (dispute.ts).
			const r = s.refundRequests.get(ev.payload.request)!;
			r.status = 'declined';
			r.declineReason = ev.payload.reason;
			r.answer = ev.id;
		}
	},
	'milestone.refund': {
		who: ['client', 'freelancer'],
		check: checkRefundIntent,
		apply() {}
	},
	'receipt.refunded': {
		who: ['provider'],
		check(s, ev) {
			const r = settleable(s, ev, 'milestone.refund');
			if (isRejection(r)) return r;
			const intent = s.intents.get(ev.payload.intent)!;
			if (ev.payload.milestone !== intent.milestone) return reject('wrong-milestone');
			if (ev.payload.amount !== intent.amount) return reject('amount-mismatch', 'The receipt does not match its intent.');
			const m = milestone(s, ev.payload.milestone);
			if (!m) return reject('unknown-milestone');
			if (ev.payload.amount > escrowOf(m)) return reject('exceeds-escrow', `Escrow holds ${moneyText(escrowOf(m), s.terms!.currency)}.`);
			const basis = intent.refund;
			if (basis?.basis === 'unanswered-request') return unansweredRefundRefusal(s, basis.request!, ev.at);
			return null;
		},
		apply(s, ev) {
			const { milestone: id, amount } = ev.payload;
			s.ledger.post([{ receipt: ev.id, kind: 'refund', from: escrowAccount(id), to: 'client:source', amount, milestone: id, at: ev.at }]);
			const m = milestone(s, id)!;
			m.refunded = addMinor(m.refunded, amount);
			if (escrowOf(m) === 0) m.reviewOpen = false;
			const basis = s.intents.get(ev.payload.intent)!.refund;
			const req = basis?.request ? s.refundRequests.get(basis.request) : undefined;
			if (req) req.status = 'refunded';
			s.intents.get(ev.payload.intent)!.settledBy = ev.id;
		}
	}
};
