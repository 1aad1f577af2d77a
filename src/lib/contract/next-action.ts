/**
 * What a party should do next on a contract, as a short sentence for lists and notifications.
 * It asks the same state the rules read; it allows nothing by itself (the rules still decide).
 */
import { reviewDeadline } from './clocks';
import { DAY_MS, escrowOf, type ContractState, type Role } from './state';

export function nextAction(s: ContractState, role: Role | undefined, now: number): string | undefined {
	if (!role) return undefined;
	if (s.status === 'proposed') {
		if (s.proposal?.role !== role) return 'Review and accept the proposal';
		if (s.countersigns.size) return 'Waiting for the escrow provider to record your confirmation';
		return s.acceptances.size ? 'Confirm who accepted' : 'Waiting for the other party to accept';
	}
	if (s.status !== 'active') return undefined;
	const open = [...s.refundRequests.values()].find((r) => r.status === 'open');
	if (open && role === 'freelancer') return 'Answer the refund request';
	for (const [i, m] of s.milestones.entries()) {
		if (m.removed) continue;
		const n = `milestone ${i + 1}`;
		const held = escrowOf(m);
		if (role === 'client') {
			if (m.phase === 'submitted' && m.reviewOpen && held > 0) {
				const deadline = reviewDeadline(s, m);
				const days = deadline === undefined ? undefined : Math.max(0, Math.ceil((deadline - now) / DAY_MS));
				return `Review submission of ${n}${days === undefined ? '' : ` — auto-releases in ${days} day${days === 1 ? '' : 's'}`}`;
			}
			if (m.funded - m.refunded < m.amount && m.released + m.refunded === 0) return `Fund ${n}`;
		} else {
			if (held > 0 && (m.phase === 'in_progress' || m.phase === 'changes_requested')) return m.phase === 'changes_requested' ? `Make the requested changes to ${n}` : `Work on ${n}, then Request Payment`;
			if (m.phase === 'submitted' && m.reviewOpen) return `Waiting for the client to review ${n}`;
		}
	}
	if (role === 'freelancer' && s.ledger.balance('freelancer:available') > 0) return 'Withdraw your available balance';
	return undefined;
}
