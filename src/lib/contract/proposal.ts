/**
 * Proposing, accepting, countersigning, declining and withdrawing the contract terms. The rule for
 * "who are the parties" is here, and it is fixed once:
 * - the proposer and the terms are fixed by the contract id (the hash of the one proposal, see envelope.ts);
 * - anyone holding the link may accept; each acceptance is only a candidate;
 * - the proposer countersigns the one acceptance it saw (after comparing the acceptor's fingerprint);
 * - the counterparty is bound when the escrow provider records that countersign (record.ts): the
 *   provider records one per contract, and its receipts are what money moves on. A second
 *   countersign is equivocation, shown on every replica, and never binds anyone.
 * No rule here depends on which of two concurrent events sorts first: the binding is decided by the
 * content of the countersign and the provider's record of it.
 */
import { identityOfKey } from './devices';
import { reject } from './rejections';
import { ZERO_MINOR } from '../money/minor';
import type { RuleSet } from './rule';
import type { Acceptance, ContractState, Decline, Role } from './state';

export const otherRole = (r: Role): Role => (r === 'client' ? 'freelancer' : 'client');

export const proposalRules: RuleSet = {
	'contract.proposed': {
		who: 'anyone',
		// The id check (envelope.ts) already makes this the only proposal the contract can have.
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
				funded: ZERO_MINOR,
				released: ZERO_MINOR,
				refunded: ZERO_MINOR,
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
			s.acceptances.set(ev.id, { id: ev.id, author: ev.author, name: ev.payload.name, at: ev.at });
		}
	},
	'contract.countersigned': {
		who: 'anyone',
		check(s, ev) {
			if (s.status !== 'proposed') return reject('invalid-state', 'Only an open proposal can be countersigned.');
			if (ev.author !== s.proposal!.author) return reject('wrong-role', 'Only the proposer countersigns an acceptance.');
			if (!s.acceptances.has(ev.payload.acceptance)) return reject('invalid-state', 'It countersigns an acceptance this contract does not have.');
			return null;
		},
		apply(s, ev) {
			s.countersigns.set(ev.id, { id: ev.id, acceptance: ev.payload.acceptance, at: ev.at });
		}
	},
	// Anyone holding the link can send a decline, so a decline speaks only for its author: the proposer
	// sees it, and the proposal stays open until the proposer withdraws it or binds someone.
	'contract.declined': {
		who: 'anyone',
		check(s, ev) {
			if (s.status !== 'proposed') return reject('invalid-state', 'Only an open proposal can be declined.');
			if (ev.author === s.proposal!.author) return reject('wrong-role', 'The proposer withdraws, not declines.');
			if (ev.payload.proposal !== s.proposal!.id) return reject('invalid-state', 'It declines terms other than the ones proposed.');
			return null;
		},
		apply(s, ev) {
			s.declines.set(ev.id, { id: ev.id, author: ev.author, at: ev.at, reason: ev.payload.reason });
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

/**
 * Bind the counterparty of a countersign the provider recorded: from here on the contract is active.
 * It applies even over a withdrawal the proposer sent concurrently: the provider's record decides.
 */
export function bindParties(s: ContractState, countersign: string, at: number): void {
	const c = s.countersigns.get(countersign)!;
	const acceptance = s.acceptances.get(c.acceptance)!;
	s.parties[otherRole(s.proposal!.role)] = acceptance.author;
	s.names[acceptance.author] = acceptance.name;
	s.binding = { countersign, acceptance: acceptance.id, at };
	s.status = 'active';
}

/** Countersigns by the proposer that name different acceptances: the proposer equivocated. */
export function countersignEquivocation(s: ContractState): string[] {
	return s.countersigns.size > 1 ? [...s.countersigns.keys()].sort() : [];
}

export interface BindingView {
	/** This key proposed the contract. */
	proposer: boolean;
	/** Acceptances the proposer may confirm: empty once it countersigned one. */
	acceptances: Acceptance[];
	/** The proposer's countersign, while the provider has not recorded it. */
	countersigned?: { id: string; name: string; author: string };
	/** This key's own acceptance, if it accepted. */
	myAcceptance?: Acceptance;
	declines: Decline[];
}

/** What a page shows and offers before the parties are bound, for the person holding `me`. */
export function bindingView(s: ContractState, key: string): BindingView {
	const me = identityOfKey(s, key);
	const proposer = s.proposal?.author === me;
	const all = [...s.acceptances.values()].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
	const mine = [...s.countersigns.values()][0];
	const accepted = mine && s.acceptances.get(mine.acceptance);
	return {
		proposer,
		acceptances: proposer && !mine ? all : [],
		countersigned: proposer && mine && accepted && !s.binding ? { id: mine.id, name: accepted.name, author: accepted.author } : undefined,
		myAcceptance: all.find((a) => a.author === me),
		declines: [...s.declines.values()]
	};
}

/** The name a key goes by in this contract: a party's name, or the one it accepted with (unbound). */
export function nameOf(s: ContractState, signer: string): string | undefined {
	const key = identityOfKey(s, signer);
	if (s.names[key]) return s.names[key];
	for (const a of s.acceptances.values()) if (a.author === key) return a.name;
	return undefined;
}
