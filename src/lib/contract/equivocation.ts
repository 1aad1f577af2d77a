/**
 * Equivocation: one identity saying two things where it may say one. Judged by content, so every
 * replica holding the same events shows the same list, whatever order they arrived in:
 * - a fork: two events of one author on the same `prev` (its hash chain split in two). That includes
 *   the escrow provider, whose receipts form one chain per contract (it links each to the one it
 *   signed before, whoever asked): two receipts on one prev mean it signed two histories;
 * - two countersigns by the proposer, naming different acceptances (from one device or two: the
 *   proposer is an identity, devices.ts);
 * - two devices of one identity taking money out of the same escrow, neither having seen the other
 *   (devices.ts): each device's chain is linear, so only the identity can say two things here.
 * Showing it is all the fold does: where it matters for money, the provider's record decides (a
 * contract binds only under the countersign the provider recorded; the ledger refuses a second
 * settlement of the same escrow).
 */
import { countersignEquivocation } from './proposal';
import type { ContractState } from './state';

export interface Equivocation {
	/** The identity (for a fork by a certified device, the identity it acts for). */
	author: string;
	kind: 'fork' | 'countersign' | 'escrow';
	/** A fork: the device key whose chain split, when it is not the identity key itself. */
	device?: string;
	/** The conflicting events, sorted. */
	events: string[];
}

export function equivocations(s: ContractState): Equivocation[] {
	const out: Equivocation[] = [];
	const byPrev = new Map<string, { author: string; device?: string; events: string[] }>();
	for (const ev of s.applied) {
		// Chains are per signing key: a certified device's events are its own chain.
		const key = `${ev.device ?? ev.author}\u0000${ev.prev ?? ''}`;
		const slot = byPrev.get(key);
		if (slot) slot.events.push(ev.id);
		else byPrev.set(key, { author: ev.author, ...(ev.device ? { device: ev.device } : {}), events: [ev.id] });
	}
	for (const { events, ...who } of byPrev.values()) if (events.length > 1) out.push({ ...who, kind: 'fork', events: events.sort() });
	const countersigns = countersignEquivocation(s);
	if (countersigns.length) out.push({ author: s.proposal!.author, kind: 'countersign', events: countersigns });
	for (const pair of s.devices.escrowConflicts) out.push({ author: s.intents.get(pair[0]!)!.author, kind: 'escrow', events: [...pair] });
	return out.sort((a, b) => order(a.author, b.author) || order(a.kind, b.kind) || order(a.events.join(), b.events.join()));
}

function order(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}
