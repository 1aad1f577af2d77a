/**
 * What a party should do next on a contract, as a short sentence for lists and notifications.
 * It asks the same state the rules read; it allows nothing by itself (the rules still decide).
 * `now` should be provider time; deadlines are judged on it.
 */
import { disputeAttention } from './dispute-affordances';
import { fundingOffer } from './funding';
import { endProposalFor } from './ending';
import { autoReleaseDecision, reviewWindow } from './release';
import { DAY_MS, escrowOf, type ContractState, type Role } from './state';

const inDays = (ms: number) => {
	const days = Math.max(0, Math.ceil(ms / DAY_MS));
	return `${days} day${days === 1 ? '' : 's'}`;
};

export function nextAction(s: ContractState, role: Role | undefined, now: number): string | undefined {
	if (!role) return undefined;
	if (s.status === 'proposed') {
		if (s.proposal?.role !== role) return 'Review and accept the proposal';
		if (s.countersigns.size) return 'Waiting for the escrow provider to record your confirmation';
		return s.acceptances.size ? 'Confirm who accepted' : 'Waiting for the other party to accept';
	}
	if (s.status === 'ended') {
		if (role === 'client' && s.milestones.some((m) => !m.removed && escrowOf(m) > 0)) return 'Take back what is left in escrow';
		return s.feedback[role] ? undefined : 'Leave feedback';
	}
	if (s.status !== 'active') return undefined;
	// A dispute step waits on a deadline where silence decides: it comes first (dispute-affordances.ts).
	const dispute = disputeAttention(s, role, now);
	if (dispute) return dispute;
	if (endProposalFor(s, s.parties[role])?.theirs) return 'Answer the proposal to end the contract';
	const open = [...s.refundRequests.values()].find((r) => r.status === 'open');
	if (open && role === 'freelancer') return 'Answer the refund request';
	for (const [i, m] of s.milestones.entries()) {
		if (m.removed) continue;
		const n = `milestone ${i + 1}`;
		const held = escrowOf(m);
		const w = reviewWindow(s, m);
		const reviewing = m.phase === 'submitted' && m.reviewOpen && held > 0 && !w?.stopped;
		if (role === 'client') {
			if (reviewing) {
				if (w?.endsAt === undefined) return `Review submission of ${n}`;
				if (now >= w.endsAt) return `Review submission of ${n} — the review window ended; the freelancer can claim the payment`;
				return `Review submission of ${n} — the freelancer can claim the payment in ${inDays(w.endsAt - now)}`;
			}
			if (fundingOffer(m).amount > 0 && m.released === 0) return `Fund ${n}`;
		} else {
			if (autoReleaseDecision(s, m.id, now).due) return `Claim the payment for ${n}: the review window ended`;
			if (held > 0 && m.phase === 'changes_requested') return `Make the requested changes to ${n}`;
			if (held > 0 && m.phase === 'in_progress') return `Work on ${n}, then Request Payment`;
			if (reviewing) return `Waiting for the client to review ${n}`;
		}
	}
	if (role === 'freelancer' && s.ledger.balance('freelancer:available') > 0) return 'Withdraw your available balance';
	return undefined;
}
