/** Proposing, accepting, declining and withdrawing the contract terms. */
import { reject } from './rejections';
import type { RuleSet } from './rule';
import type { ContractState, Role } from './state';

const other = (r: Role): Role => (r === 'client' ? 'freelancer' : 'client');

export const proposalRules: RuleSet = {
	'contract.proposed': {
		who: 'anyone',
		check: (s) => (s.status === 'empty' ? null : reject('invalid-state', 'The contract has already been proposed.')),
		apply(s, ev) {
			const { role, name, terms } = ev.payload;
			s.status = 'proposed';
			s.terms = terms;
			s.proposal = { id: ev.id, author: ev.author, role, at: ev.at };
			s.parties[role] = ev.author;
			s.names[ev.author] = name;
			s.milestones = terms.milestones.map((m) => ({
				...m,
				removed: false,
				funded: 0,
				released: 0,
				refunded: 0,
				phase: 'in_progress',
				reviewOpen: false,
				changeRequests: 0
			}));
		}
	},
	'contract.accepted': {
		who: 'anyone',
		check(s, ev) {
			if (s.status !== 'proposed') return reject('invalid-state', 'Only an open proposal can be accepted.');
			if (ev.author === s.proposal!.author) return reject('wrong-role', 'The proposer cannot accept their own proposal.');
			if (ev.payload.proposal !== s.proposal!.id) return reject('invalid-state', 'It accepts terms other than the ones proposed.');
			return null;
		},
		apply(s, ev) {
			s.parties[other(s.proposal!.role)] = ev.author;
			s.names[ev.author] = ev.payload.name;
			s.status = 'active';
		}
	},
	'contract.declined': {
		who: 'anyone',
		check(s, ev) {
			if (s.status !== 'proposed') return reject('invalid-state', 'Only an open proposal can be declined.');
			if (ev.author === s.proposal!.author) return reject('wrong-role', 'The proposer withdraws, not declines.');
			if (ev.payload.proposal !== s.proposal!.id) return reject('invalid-state', 'It declines terms other than the ones proposed.');
			return null;
		},
		apply(s) {
			s.status = 'declined';
		}
	},
	'contract.withdrawn': {
		who: 'anyone',
		check(s, ev) {
			if (s.status !== 'proposed') return reject('invalid-state', 'Only an open proposal can be withdrawn.');
			if (ev.author !== s.proposal!.author) return reject('wrong-role', 'Only the proposer can withdraw the proposal.');
			return null;
		},
		apply(s) {
			s.status = 'withdrawn';
		}
	}
};

export function isActive(s: ContractState): boolean {
	return s.status === 'active';
}
