/**
 * The two kinds of contract and the parts each has. A fixed-price contract is paid per milestone
 * (funded, Request Payment, reviewed for its review window, released or refunded one by one); an
 * hourly contract bills weeks of logged time (hourly.ts) and has no milestones at all. Pages ask
 * here which parts to render rather than deciding it themselves.
 */
import type { ContractState } from './state';

export type ContractKind = 'fixed' | 'hourly';

export interface KindParts {
	kind: ContractKind;
	/** Milestones: their list, funding, Request Payment, Release Payment, milestone refunds and changes. */
	milestones: boolean;
	/** The review window in days after a payment request: a fixed-price term (hourly weeks have their own clocks). */
	reviewWindow: boolean;
	/** Weeks of logged time: the Work Diary, the time tracker, weekly escrow and billing. */
	weeks: boolean;
}

/** A proposal without a kind predates hourly contracts: it is fixed-price. */
export function contractKind(s: Pick<ContractState, 'terms'>): ContractKind {
	return s.terms?.kind === 'hourly' ? 'hourly' : 'fixed';
}

export function partsOf(s: Pick<ContractState, 'terms'>): KindParts {
	const kind = contractKind(s);
	return { kind, milestones: kind === 'fixed', reviewWindow: kind === 'fixed', weeks: kind === 'hourly' };
}
