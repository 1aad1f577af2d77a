/**
 * Equivocation: one identity saying two things where it may say one. Judged by content, so every
 * replica holding the same events shows the same list, whatever order they arrived in:
 * - a fork: two events of one author on the same `prev` (its hash chain split in two). That includes
 *   the escrow provider, whose receipts form one chain per contract (it links each to the one it
 *   signed before, whoever asked): two receipts on one prev mean it signed two histories;
 * - two countersigns by the proposer, naming different acceptances.
 * Showing it is all the fold does: where it matters for money, the provider's record decides (a
 * contract binds only under the countersign the provider recorded; the ledger refuses a second
 * settlement of the same escrow).
 */
import { countersignEquivocation } from './proposal';
import type { ContractState } from './state';

export interface Equivocation {
	author: string;
	kind: 'fork' | 'countersign';
	/** The conflicting events, sorted. */
	events: string[];
}

export function equivocations(s: ContractState): Equivocation[] {
	const out: Equivocation[] = [];
	const byPrev = new Map<string, { author: string; events: string[] }>();
	for (const ev of s.applied) {
		const key = `${ev.author}\u0000${ev.prev ?? ''}`;
		const slot = byPrev.get(key);
		if (slot) slot.events.push(ev.id);
		else byPrev.set(key, { author: ev.author, events: [ev.id] });
	}
	for (const { author, events } of byPrev.values()) if (events.length > 1) out.push({ author, kind: 'fork', events: events.sort() });
	const countersigns = countersignEquivocation(s);
	if (countersigns.length) out.push({ author: s.proposal!.author, kind: 'countersign', events: countersigns });
	return out.sort((a, b) => (a.author < b.author ? -1 : a.author > b.author ? 1 : a.events[0]! < b.events[0]! ? -1 : 1));
}
