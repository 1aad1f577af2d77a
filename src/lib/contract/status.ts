/**
 * The milestone status chip a page shows, derived from work phase, money and the review clock. It
 * says what is true now: a stopped review is not "Submitted for review", a passed deadline says so.
 */
import { reviewWindow } from './release';
import { escrowOf, type ContractState, type MilestoneState, type Role } from './state';

export type MilestoneStatus =
	| 'draft'
	| 'awaiting_funding'
	| 'funded'
	| 'submitted'
	| 'review_passed'
	| 'changes_requested'
	| 'refund_requested'
	| 'disputed'
	| 'partly_released'
	| 'partly_refunded'
	| 'released'
	| 'refunded'
	| 'released_and_refunded'
	| 'ended_in_escrow'
	| 'not_funded';

/** `now` is provider time: whether a review window has passed is judged on it. */
export function milestoneStatus(s: ContractState, m: MilestoneState, now: number = s.providerNow): MilestoneStatus {
	if (s.status === 'empty' || s.status === 'proposed' || s.status === 'withdrawn') return 'draft';
	const held = escrowOf(m);
	if (held === 0) {
		if (m.released > 0 && m.refunded > 0) return 'released_and_refunded';
		if (m.released > 0) return 'released';
		if (m.refunded > 0) return 'refunded';
		return s.status === 'ended' ? 'not_funded' : 'awaiting_funding';
	}
	if (s.status === 'ended') return 'ended_in_escrow';
	if (m.phase === 'disputed') return 'disputed';
	if ([...s.refundRequests.values()].some((r) => r.milestone === m.id && r.status === 'open')) return 'refund_requested';
	if (m.phase === 'submitted' && m.reviewOpen) {
		const w = reviewWindow(s, m);
		return w?.endsAt !== undefined && !w.stopped && now >= w.endsAt ? 'review_passed' : 'submitted';
	}
	if (m.phase === 'changes_requested') return 'changes_requested';
	if (m.released > 0) return 'partly_released';
	if (m.refunded > 0) return 'partly_refunded';
	return 'funded';
}

export const STATUS_LABEL: Record<MilestoneStatus, string> = {
	draft: 'Draft',
	awaiting_funding: 'Awaiting funding',
	funded: 'Funded · in progress',
	submitted: 'Submitted for review',
	review_passed: 'Review window ended · payment can be claimed',
	changes_requested: 'Changes requested',
	refund_requested: 'Refund requested',
	disputed: 'Disputed',
	partly_released: 'Partly released · rest in escrow',
	partly_refunded: 'Partly refunded · rest in escrow',
	released: 'Released',
	refunded: 'Refunded',
	released_and_refunded: 'Released in part, rest refunded',
	ended_in_escrow: 'Contract ended · escrow goes back to the client',
	not_funded: 'Not funded'
};

/**
 * How a party should read the money escrow holds for a milestone. Once the contract ended by
 * agreement, what is left is the client's to take back: it is no longer held for the freelancer.
 */
export function escrowLine(s: ContractState, m: MilestoneState, role: Role | undefined): string | undefined {
	const held = escrowOf(m);
	if (held === 0) return undefined;
	if (s.status === 'ended') return role === 'client' ? 'in escrow, yours to take back' : 'in escrow, going back to the client';
	return role === 'freelancer' ? 'in escrow for you' : 'in escrow';
}

/** Escrow held across a contract, split by whom it is held for (the Payments page's "in escrow for me"). */
export function escrowByOwner(s: ContractState): { forFreelancer: number; backToClient: number } {
	let held = 0;
	for (const m of s.milestones) if (!m.removed) held += escrowOf(m);
	return s.status === 'ended' ? { forFreelancer: 0, backToClient: held } : { forFreelancer: held, backToClient: 0 };
}
