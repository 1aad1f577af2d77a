/** Balances as each party sees them, read straight from the ledger (never stored separately). */
import type { ContractState } from './state';

export interface Balances {
	/** In escrow across all milestones and hourly weeks. */
	escrow: number;
	/** Released, waiting out the security period. */
	pending: number;
	/** Released and withdrawable. */
	available: number;
	/** Paid out to the freelancer's payout method (net of payout fees). */
	paidOut: number;
	/** Paid in by the client, fees included, less refunds. */
	clientPaid: number;
	fees: number;
}

export function balances(s: ContractState): Balances {
	const l = s.ledger;
	return {
		// Every escrow account: milestones (`escrow:<id>`) and hourly weeks (`escrow:week:<Monday>`).
		escrow: [...l.balances].reduce((sum, [account, v]) => (account.startsWith('escrow:') ? sum + v : sum), 0),
		pending: l.balance('freelancer:pending'),
		available: l.balance('freelancer:available'),
		paidOut: l.balance('freelancer:payouts'),
		clientPaid: -l.balance('client:source'),
		fees: l.balance('provider:fees')
	};
}

/**
 * What the freelancer can withdraw at provider time `providerNow`: the ledger's available balance
 * plus released lots whose security period has ended by then. The ledger itself moves them only
 * when a provider-signed receipt proves the time; the provider will honour a withdrawal already.
 */
export function withdrawable(s: ContractState, providerNow: number): number {
	let sum = s.ledger.balance('freelancer:available');
	for (const lot of s.releases) if (!lot.matured && lot.maturesAt <= providerNow) sum += lot.amount;
	return sum;
}
