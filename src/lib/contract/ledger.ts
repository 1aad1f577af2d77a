/**
 * Double-entry ledger. Only provider receipts post to it. Every transfer moves a positive integer
 * amount from one account to another, so the sum of all balances is zero by construction; the
 * invariants below are asserted after every posting anyway, TigerBeetle-style, because a broken
 * ledger must stop the fold loudly rather than show a wrong balance.
 */
import { InvariantError } from './assert';
import { addMinor, subMinor, type Minor } from '../money/minor';
import type { PublicKey } from './ids';

/**
 * Accounts. `client:source` is the outside world paying in (the client's card, PayPal or bank):
 * it is the only account whose balance may be negative — its negation is what the client paid.
 */
export type Account =
	| 'client:source'
	| 'provider:fees'
	| `escrow:${string}`
	| 'freelancer:pending'
	| 'freelancer:available'
	| 'freelancer:payouts'
	/** A dispute's mediator, by public key: what it was paid out of disputed escrow (dispute.ts). */
	| `mediator:${string}`;

export const EXTERNAL_ACCOUNT: Account = 'client:source';

/** `carry`: unused escrow of an hourly week moved on to a later week; `bonus`: a one-off payment straight to pending; `mediation-fee`: a mediator paid out of disputed escrow. */
export type TransferKind = 'fund' | 'fee' | 'release' | 'refund' | 'mature' | 'payout' | 'payout-fee' | 'carry' | 'bonus' | 'mediation-fee';

export interface Transfer {
	/** The receipt (or derived clock event) that caused it. */
	receipt: string;
	kind: TransferKind;
	from: Account;
	to: Account;
	amount: Minor;
	milestone?: string;
	/** Hourly contracts: the week whose escrow it moves (for a carry, the week it leaves). */
	week?: string;
	/** Provider time of the receipt. */
	at: number;
}

export class LedgerInvariantError extends InvariantError {
	constructor(message: string) {
		super(`ledger: ${message}`);
		this.name = 'LedgerInvariantError';
	}
}

export class Ledger {
	/** Minor units; `client:source` is the one negative balance. */
	readonly balances = new Map<Account, Minor>();
	readonly transfers: Transfer[] = [];

	balance(account: Account): Minor {
		return this.balances.get(account) ?? (0 as Minor);
	}

	/** Post transfers atomically: all or none. Throws if any would break an invariant. */
	post(batch: Transfer[]): void {
		const next = new Map<Account, Minor>();
		const get = (a: Account) => next.get(a) ?? this.balance(a);
		for (const t of batch) {
			if (!Number.isSafeInteger(t.amount) || t.amount <= 0) throw new LedgerInvariantError(`transfer amount ${t.amount}`);
			if (t.from === t.to) throw new LedgerInvariantError(`transfer from ${t.from} to itself`);
			next.set(t.from, subMinor(get(t.from), t.amount));
			next.set(t.to, addMinor(get(t.to), t.amount));
		}
		for (const [a, v] of next) {
			if (v < 0 && a !== EXTERNAL_ACCOUNT) throw new LedgerInvariantError(`${a} would be ${v}`);
		}
		for (const [a, v] of next) this.balances.set(a, v);
		for (const t of batch) this.transfers.push(t);
	}

	/** Would this batch post? Same checks as `post`, without changing anything. */
	canPost(batch: Transfer[]): boolean {
		const next = new Map<Account, Minor>();
		for (const t of batch) {
			next.set(t.from, subMinor(next.get(t.from) ?? this.balance(t.from), t.amount));
			next.set(t.to, addMinor(next.get(t.to) ?? this.balance(t.to), t.amount));
		}
		for (const [a, v] of next) if (v < 0 && a !== EXTERNAL_ACCOUNT) return false;
		return true;
	}

	/** Full check of the ledger's invariants, independent of how it was built. */
	assertInvariants(): void {
		let sum = 0;
		for (const [a, v] of this.balances) {
			if (!Number.isSafeInteger(v)) throw new LedgerInvariantError(`${a} is not an integer`);
			if (v < 0 && a !== EXTERNAL_ACCOUNT) throw new LedgerInvariantError(`${a} is negative (${v})`);
			sum += v;
		}
		if (sum !== 0) throw new LedgerInvariantError(`balances sum to ${sum}`);
	}

	clone(): Ledger {
		const l = new Ledger();
		for (const [a, v] of this.balances) l.balances.set(a, v);
		l.transfers.push(...this.transfers);
		return l;
	}
}

export const escrowAccount = (milestone: string): Account => `escrow:${milestone}`;
export const mediatorAccount = (publicKey: PublicKey): Account => `mediator:${publicKey}`;
/** An hourly week's escrow (weeks.ts names weeks by their Monday; a milestone id cannot contain ':'). */
export const weekEscrowAccount = (week: string): Account => `escrow:week:${week}`;
