/**
 * Ending a contract. Either party may end it alone once no milestone holds escrow; while escrow is
 * held, ending needs both: one proposes, the other accepts, and what is left in escrow becomes
 * refundable to the client (see refund.ts, basis "ended-by-agreement"; after an end alone, so does
 * a funding the ending party had not seen).
 */
import { moneyText, reject } from './rejections';
import type { RuleContext, RuleSet } from './rule';
import { moneyKnownBy } from './known';
import { escrowOf, type ContractState, type EndProposal, type Ev } from './state';

/** Ending closes every open review: no auto-release can follow on an old submission. */
function end(s: ContractState, ev: Ev, byAgreement: boolean): void {
	s.status = 'ended';
	s.endedByAgreement = byAgreement;
	s.endedAt = ev.at;
	s.endEvent = ev.id;
	for (const m of s.milestones) m.reviewOpen = false;
}

/**
 * Is the contract active for `event`? An end counts against an event only if its author had seen it
 * (the end is in the event's causal past). A client that funded, or asked for a refund, while the
 * freelancer accepted ending without having seen it, acted on an active contract: whether money
 * moved on it is the provider's call (its receipt), never the fold's order, where the end may
 * merely sort first. Without a log to ask (a page asking "may I now?") the state decides.
 */
export function activeFor(s: ContractState, event: string, ctx?: RuleContext): boolean {
	if (s.status === 'active') return true;
	return s.status === 'ended' && s.endEvent !== undefined && ctx?.reaches !== undefined && !ctx.reaches(event, s.endEvent);
}

/**
 * The proposal to end that `me` would answer: the other party's open one if there is one, else
 * `me`'s own (shown as waiting). Two proposals exist only if both proposed without seeing the other's.
 */
export function endProposalFor(s: ContractState, me: string | undefined): { proposal: EndProposal; theirs: boolean } | undefined {
	let own: EndProposal | undefined;
	for (const p of s.endProposals.values()) {
		if (p.author !== me) return { proposal: p, theirs: true };
		own ??= p;
	}
	return own && { proposal: own, theirs: false };
}

export function escrowHeld(s: ContractState): number {
	return s.milestones.reduce((sum, m) => sum + (m.removed ? 0 : escrowOf(m)), 0);
}

/**
 * Escrow held as `event`'s author knew it (known.ts). A funding the ending party had not seen must
 * not refuse its end by sorting first: the end stands, and what was funded meanwhile is the
 * client's to take back (refund.ts).
 */
function escrowKnownBy(s: ContractState, event: string, ctx?: RuleContext): number {
	return s.milestones.reduce((sum, m) => sum + (m.removed ? 0 : moneyKnownBy(s, m, event, ctx).held), 0);
}

export const endingRules: RuleSet = {
	'contract.ended': {
		who: ['client', 'freelancer'],
		check(s, ev, ctx) {
			if (s.status !== 'active') return reject('invalid-state', 'Only an active contract can be ended.');
			const held = escrowKnownBy(s, ev.id, ctx);
			if (held > 0) return reject('invalid-state', `Escrow still holds ${moneyText(held, s.terms!.currency)}: end the contract by agreement.`);
			return null;
		},
		apply(s, ev) {
			end(s, ev, false);
		}
	},
	'contract.endProposed': {
		who: ['client', 'freelancer'],
		check(s, ev, ctx) {
			if (s.status !== 'active') return reject('invalid-state', 'Only an active contract can be ended.');
			// One the author had seen is to be answered, not doubled; one it had not seen stands beside it, so
			// that whichever sorts first, each party's yes to the other's proposal ends the contract.
			for (const p of s.endProposals.values())
				if (!ctx?.reaches || ctx.reaches(ev.id, p.id)) return reject('invalid-state', 'Ending has already been proposed.');
			return null;
		},
		apply(s, ev) {
			s.endProposals.set(ev.id, { id: ev.id, author: ev.author, at: ev.at });
		}
	},
	'contract.endAccepted': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			const p = s.endProposals.get(ev.payload.proposal);
			if (s.status !== 'active' || !p) return reject('invalid-state', 'There is no open proposal to end the contract with that id.');
			if (p.author === ev.author) return reject('wrong-role', 'The other party accepts the ending.');
			return null;
		},
		apply(s, ev) {
			end(s, ev, true);
		}
	}
};
