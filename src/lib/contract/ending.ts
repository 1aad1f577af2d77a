/**
 * Ending a contract. Either party may end it alone once no milestone holds escrow; while escrow is
 * held, ending needs both: one proposes, the other accepts, and what is left in escrow becomes
 * refundable to the client (see refund.ts, basis "ended-by-agreement").
 */
import { reject } from './rejections';
import type { RuleSet } from './rule';
import { escrowOf, type ContractState } from './state';

export function escrowHeld(s: ContractState): number {
	return s.milestones.reduce((sum, m) => sum + (m.removed ? 0 : escrowOf(m)), 0);
}

export const endingRules: RuleSet = {
	'contract.ended': {
		who: ['client', 'freelancer'],
		check(s) {
			if (s.status !== 'active') return reject('invalid-state', 'Only an active contract can be ended.');
			if (escrowHeld(s) > 0) return reject('invalid-state', 'Escrow still holds money: end the contract by agreement.');
			return null;
		},
		apply(s, ev) {
			s.status = 'ended';
			s.endedAt = ev.at;
		}
	},
	'contract.endProposed': {
		who: ['client', 'freelancer'],
		check(s) {
			if (s.status !== 'active') return reject('invalid-state', 'Only an active contract can be ended.');
			if (s.endProposal) return reject('invalid-state', 'Ending has already been proposed.');
			return null;
		},
		apply(s, ev) {
			s.endProposal = { id: ev.id, author: ev.author, at: ev.at };
		}
	},
	'contract.endAccepted': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			if (s.status !== 'active' || s.endProposal?.id !== ev.payload.proposal)
				return reject('invalid-state', 'There is no open proposal to end the contract with that id.');
			if (s.endProposal.author === ev.author) return reject('wrong-role', 'The other party accepts the ending.');
			return null;
		},
		apply(s, ev) {
			s.status = 'ended';
			s.endedByAgreement = true;
			s.endedAt = ev.at;
		}
	}
};
