/**
 * The Inbox, derived from the contracts this device holds (never stored, so it cannot go stale):
 * what still needs this person's attention — one line per contract, gone once they acted — and
 * the news in every stored log, so a reload keeps it.
 */
import { nextAction } from '../contract/next-action';
import { noticesFor, type Notice } from '../contract/notices';
import { roleOf, type ContractState } from '../contract/state';

/** One contract as the Inbox reads it. */
export interface InboxContract {
	state: ContractState;
	/** The link's contract was not found in time (contract-session): the person may remove it. */
	missing: boolean;
	/** Provider time for this contract now (deadlines in the next action are measured on it). */
	now: number;
}

export interface Attention {
	contract: string;
	kind: 'action' | 'not-found';
	text: string;
}

/** What this contract needs from `me` now, if anything (waiting for someone else is not). */
export function attentionOf(c: InboxContract, me: string): Attention | undefined {
	const s = c.state;
	if (s.status === 'empty')
		return c.missing ? { contract: s.contract, kind: 'not-found', text: 'The contract of this link was not found' } : undefined;
	const role = roleOf(s, me);
	if (role === 'client' || role === 'freelancer') {
		const next = nextAction(s, role, c.now);
		return next && !next.startsWith('Waiting') ? { contract: s.contract, kind: 'action', text: next } : undefined;
	}
	// Someone who opened a share link and has not answered the proposal yet.
	const answered = [...s.acceptances.values(), ...s.declines.values()].some((a) => a.author === me);
	if (s.status === 'proposed' && s.proposal?.author !== me && !answered) return { contract: s.contract, kind: 'action', text: 'Review and accept the proposal' };
	return undefined;
}

export function attention(contracts: Iterable<InboxContract>, me: string | undefined): Attention[] {
	if (!me) return [];
	const out: Attention[] = [];
	for (const c of contracts) {
		const a = attentionOf(c, me);
		if (a) out.push(a);
	}
	return out;
}

/** The other parties' news in every contract, newest first. */
export function recent(states: Iterable<ContractState>, me: string | undefined, limit = 50): Notice[] {
	if (!me) return [];
	const all: Notice[] = [];
	for (const s of states) all.push(...noticesFor(s, me, 0));
	return all.sort((a, b) => b.at - a.at || (a.id < b.id ? -1 : 1)).slice(0, limit);
}
