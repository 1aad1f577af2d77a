/** Balances as each party sees them, read straight from the ledger (never stored separately). */
import type { ContractState } from './state';
import { ZERO_MINOR, addMinor, type Minor } from '../money/minor';

export interface Balances {
	/** In escrow across all milestones and hourly weeks. */
	escrow: Minor;
	/** Released, waiting out the security period. */
	pending: Minor;
	/** Released and withdrawable. */
	available: Minor;
	/** Paid out to the freelancer's payout method (net of payout fees). */
	paidOut: Minor;
	/** Paid in by the client, fees included, less refunds. */
	clientPaid: Minor;
	fees: Minor;
}

export function balances(s: ContractState): Balances {
	const l = s.ledger;
	return {
		// Every escrow account: milestones (`escrow:<id>`) and hourly weeks (`escrow:week:<Monday>`).
		escrow: [...l.balances].reduce((sum, [account, v]) => (account.startsWith('escrow:') ? addMinor(sum, v) : sum), ZERO_MINOR),
		pending: l.balance('freelancer:pending'),
		available: l.balance('freelancer:available'),
		paidOut: l.balance('freelancer:payouts'),
		clientPaid: -l.balance('client:source') as Minor,
		fees: l.balance('provider:fees')
	};
}

/**
 * What the freelancer can withdraw at provider time `providerNow`: the ledger's available balance
 * plus released lots whose security period has ended by then. The ledger itself moves them only
 * when a provider-signed receipt proves the time; the provider will honour a withdrawal already.
 */
export function withdrawable(s: ContractState, providerNow: number): Minor {
	let sum = s.ledger.balance('freelancer:available');
	for (const lot of s.releases) if (!lot.matured && lot.maturesAt <= providerNow) sum = addMinor(sum, lot.amount);
	return sum;
}
