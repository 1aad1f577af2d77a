/** The milestone status chip a page shows, derived from work phase and money. */
import { escrowOf, type ContractState, type MilestoneState } from './state';

export type MilestoneStatus =
	| 'draft'
	| 'awaiting_funding'
	| 'funded'
	| 'submitted'
	| 'changes_requested'
	| 'disputed'
	| 'released'
	| 'refunded';

export function milestoneStatus(s: ContractState, m: MilestoneState): MilestoneStatus {
	if (s.status === 'empty' || s.status === 'proposed' || s.status === 'withdrawn') return 'draft';
	const held = escrowOf(m);
	if (held === 0) {
		if (m.released > 0) return 'released';
		if (m.refunded > 0) return 'refunded';
		return 'awaiting_funding';
	}
	if (m.phase === 'disputed') return 'disputed';
	if (m.phase === 'submitted') return 'submitted';
	if (m.phase === 'changes_requested') return 'changes_requested';
	return 'funded';
}

export const STATUS_LABEL: Record<MilestoneStatus, string> = {
	draft: 'Draft',
	awaiting_funding: 'Awaiting funding',
	funded: 'Funded · in progress',
	submitted: 'Submitted for review',
	changes_requested: 'Changes requested',
	disputed: 'Disputed',
	released: 'Released',
	refunded: 'Refunded'
};
