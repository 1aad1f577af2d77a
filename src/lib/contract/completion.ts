/**
 * What an ended contract amounts to, for a work history (identity/reference.ts, escrow/attestation.ts):
 * who the two parties were, what reached the freelancer, whether anything went back to the client,
 * whether there was a dispute, and when it ran. One function, so a party's reference and the escrow
 * provider's attestation describe a contract the same way. Pure.
 */
import { sha256Utf8 } from './sha256';
import { toBase64url } from './encoding';
import type { CurrencyCode } from '../money/currency';
import type { ContractState } from './state';

/** How the money ended: everything paid out, part of it (the rest back to the client), or nothing. */
export type Outcome = 'paid-in-full' | 'paid-in-part' | 'not-paid';

export const OUTCOME_TEXT: Record<Outcome, string> = {
	'paid-in-full': 'completed and paid',
	'paid-in-part': 'partly paid, the rest refunded',
	'not-paid': 'ended without payment'
};

export interface CompletionFacts {
	contract: string;
	client: string;
	freelancer: string;
	currency: CurrencyCode;
	/** Minor units that reached the freelancer: releases, bonuses, a dispute's share. */
	paid: number;
	/** Minor units returned to the client. */
	refunded: number;
	outcome: Outcome;
	disputed: boolean;
	/** Provider times: when the binding was recorded, and when the end was. */
	startedAt: number;
	endedAt: number;
}

/**
 * The contract id as a work history names it: a hash, so a reference can be matched to its
 * attestation without the id (which opens the contract's share-link room for anyone holding the secret).
 */
export function contractHash(contract: string): string {
	return toBase64url(sha256Utf8(`milestone-contract-hash/1\n${contract}`));
}

/** Why these facts cannot be stated yet, or undefined when they can. */
export function completionRefusal(s: ContractState): string | undefined {
	if (s.status !== 'ended' || !s.endEvent) return 'The contract has not ended yet: a work history speaks only of ended contracts.';
	if (!s.recorded.has(s.endEvent)) return 'The escrow provider has not recorded the end of the contract yet.';
	if (!s.binding || !s.parties.client || !s.parties.freelancer || !s.terms) return 'The contract never had two bound parties.';
	return undefined;
}

/** The facts of an ended contract whose end the provider recorded; throws with `completionRefusal`'s words otherwise. */
export function completionFacts(s: ContractState): CompletionFacts {
	const refusal = completionRefusal(s);
	if (refusal) throw new Error(refusal);
	const paid = s.releases.reduce((sum, lot) => sum + lot.amount, 0);
	let refunded = s.milestones.reduce((sum, m) => sum + m.refunded, 0);
	for (const w of s.hourly?.weeks.values() ?? []) refunded += w.refunded;
	const outcome: Outcome = paid === 0 ? 'not-paid' : refunded > 0 ? 'paid-in-part' : 'paid-in-full';
	return {
		contract: s.contract,
		client: s.parties.client!,
		freelancer: s.parties.freelancer!,
		currency: s.terms!.currency,
		paid,
		refunded,
		outcome,
		disputed: s.disputes.size > 0 || (s.hourly?.disputes.size ?? 0) > 0,
		startedAt: s.binding!.at,
		endedAt: s.recorded.get(s.endEvent!)!.at
	};
}
