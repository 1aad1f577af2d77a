/**
 * The fold mutates one state object in place (cheap incremental apply). Observers that notice
 * change by reference — Svelte's $derived, memoised selectors — need a new object at every level
 * a page reads. A snapshot copies the containers, not the events, so it costs O(collections).
 */
import type { Ledger } from './ledger';
import type { DerivedContract } from './log';
import type { ContractState } from './state';

export function snapshot(d: DerivedContract): DerivedContract {
	const s = d.state;
	const state: ContractState = {
		...s,
		parties: { ...s.parties },
		names: { ...s.names },
		milestones: s.milestones.map((m) => ({ ...m, submission: m.submission && { ...m.submission } })),
		changes: new Map([...s.changes].map(([k, v]) => [k, { ...v }])),
		intents: new Map([...s.intents].map(([k, v]) => [k, { ...v }])),
		refundRequests: new Map([...s.refundRequests].map(([k, v]) => [k, { ...v }])),
		releases: s.releases.map((r) => ({ ...r })),
		payouts: [...s.payouts],
		ledger: s.ledger.clone() as Ledger,
		messages: [...s.messages],
		feedback: { ...s.feedback },
		applied: [...s.applied],
		rejected: [...s.rejected]
	};
	return { ...d, state, rejected: [...d.rejected], waiting: [...d.waiting] };
}
