/**
 * What each party's money looks like on one contract at a provider time: the client's (funded,
 * released, refunded, fees, still held) and the freelancer's (pending with the date each release
 * becomes available, available, withdrawn), the freelancer's balance over time for a chart, and the
 * check of a withdrawal form. All read from the ledger and the release lots (balances.ts,
 * payouts.ts): nothing here is stored, and no page adds money up on its own.
 */
import { formatAmount, parseAmount } from '../money/amount';
import type { CurrencyCode } from '../money/currency';
import { feeFor, PAYOUT_FEES, PAYOUT_LABELS, PAYOUT_METHODS, type PayoutMethod } from '../money/fees';
import { balances, withdrawable } from './balances';
import type { TransferKind } from './ledger';
import type { ContractState, Role } from './state';

export interface ClientStatement {
	role: 'client';
	/** Paid into escrow (funding fees not included). */
	funded: number;
	/** Funding fees paid to the provider. */
	fees: number;
	/** Released from escrow to the freelancer, by the client or automatically. */
	released: number;
	/** Returned from escrow to the client. */
	refunded: number;
	/** Still in escrow: funded = released + refunded + held. */
	held: number;
	/** What the client is out of pocket: funded + fees − refunded. */
	paid: number;
	/** Each release, oldest first: what left the client's escrow and when. */
	releases: { milestone: string; amount: number; at: number }[];
}

export interface PendingLot {
	milestone: string;
	amount: number;
	releasedAt: number;
	/** Provider time the security period ends: the money is available from then. */
	availableAt: number;
}

export interface FreelancerStatement {
	role: 'freelancer';
	/** Released to the freelancer in total: released = pending + available + withdrawn. */
	released: number;
	/** Released, still in its security period at the provider time asked about. */
	pending: number;
	/** Withdrawable at that provider time. */
	available: number;
	/** Withdrawn, fees included: withdrawn = received + payoutFees. */
	withdrawn: number;
	/** What reached the payout methods. */
	received: number;
	payoutFees: number;
	/** Escrow that may still be released to the freelancer: only while the contract is active. */
	inEscrow: number;
	/** Releases still pending, soonest available first. */
	lots: PendingLot[];
	/** Each withdrawal, oldest first, with when it arrives. */
	payouts: { amount: number; fee: number; method: string; at: number; arrivesAt: number }[];
}

export type Statement = ClientStatement | FreelancerStatement;

/** The later of the time asked about and the provider time the contract has already seen. */
const effectiveNow = (s: ContractState, providerNow: number) => Math.max(providerNow, s.providerNow);

function transferred(s: ContractState, kind: TransferKind): number {
	let sum = 0;
	for (const t of s.ledger.transfers) if (t.kind === kind) sum += t.amount;
	return sum;
}

export function clientStatement(s: ContractState): ClientStatement {
	const refunded = transferred(s, 'refund');
	const funded = transferred(s, 'fund');
	const fees = transferred(s, 'fee');
	return {
		role: 'client',
		funded,
		fees,
		released: transferred(s, 'release'),
		refunded,
		held: balances(s).escrow,
		paid: funded + fees - refunded,
		releases: s.releases.map((l) => ({ milestone: l.milestone, amount: l.amount, at: l.releasedAt }))
	};
}

export function freelancerStatement(s: ContractState, providerNow: number): FreelancerStatement {
	const now = effectiveNow(s, providerNow);
	const b = balances(s);
	const available = withdrawable(s, now);
	const lots = s.releases
		.filter((l) => !l.matured && l.maturesAt > now)
		.map((l) => ({ milestone: l.milestone, amount: l.amount, releasedAt: l.releasedAt, availableAt: l.maturesAt }))
		.sort((a, b) => a.availableAt - b.availableAt);
	const payoutFees = transferred(s, 'payout-fee');
	return {
		role: 'freelancer',
		released: transferred(s, 'release'),
		pending: lots.reduce((sum, l) => sum + l.amount, 0),
		available,
		withdrawn: b.paidOut + payoutFees,
		received: b.paidOut,
		payoutFees,
		inEscrow: s.status === 'active' ? b.escrow : 0,
		lots,
		payouts: s.payouts.map((p) => ({ amount: p.amount, fee: p.fee, method: p.method, at: p.at, arrivesAt: p.arrivesAt }))
	};
}

export function statement(s: ContractState, role: Role, providerNow: number): Statement {
	return role === 'client' ? clientStatement(s) : freelancerStatement(s, providerNow);
}

/** The freelancer's money at one moment: each figure as in FreelancerStatement. */
export interface BalancePoint {
	at: number;
	pending: number;
	available: number;
	withdrawn: number;
}

/**
 * The freelancer's balance over time up to `providerNow`, as a step function: one point per moment
 * something changed (a release, a security period ending, a withdrawal), and a last point at
 * `providerNow`. Money becomes available when its security period ends on the provider's clock,
 * which is when the provider honours a withdrawal of it, even before a receipt proves the time.
 */
export function balanceSeries(s: ContractState, providerNow: number): BalancePoint[] {
	const now = effectiveNow(s, providerNow);
	// At one instant: releases first, then maturities, then withdrawals (a payout draws on what matured by then).
	const steps: { at: number; order: number; pending: number; available: number; withdrawn: number }[] = [];
	for (const l of s.releases) {
		steps.push({ at: l.releasedAt, order: 0, pending: l.amount, available: 0, withdrawn: 0 });
		if (l.matured || l.maturesAt <= now) steps.push({ at: l.maturesAt, order: 1, pending: -l.amount, available: l.amount, withdrawn: 0 });
	}
	for (const p of s.payouts) steps.push({ at: p.at, order: 2, pending: 0, available: -p.amount, withdrawn: p.amount });
	steps.sort((a, b) => a.at - b.at || a.order - b.order);
	const points: BalancePoint[] = [];
	const cur = { pending: 0, available: 0, withdrawn: 0 };
	for (const st of steps) {
		cur.pending += st.pending;
		cur.available += st.available;
		cur.withdrawn += st.withdrawn;
		const last = points.at(-1);
		if (last && last.at === st.at) Object.assign(last, cur);
		else points.push({ at: st.at, ...cur });
	}
	if (points.length && points.at(-1)!.at < now) points.push({ at: now, ...cur });
	return points;
}

/** Several contracts' series (one currency) added up: at each moment, the sum of each one's latest point. */
export function sumSeries(all: BalancePoint[][]): BalancePoint[] {
	const times = [...new Set(all.flatMap((ps) => ps.map((p) => p.at)))].sort((a, b) => a - b);
	const idx = all.map(() => -1);
	return times.map((at) => {
		const sum: BalancePoint = { at, pending: 0, available: 0, withdrawn: 0 };
		all.forEach((ps, i) => {
			while (idx[i]! + 1 < ps.length && ps[idx[i]! + 1]!.at <= at) idx[i]!++;
			const p = ps[idx[i]!];
			if (!p) return;
			sum.pending += p.pending;
			sum.available += p.available;
			sum.withdrawn += p.withdrawn;
		});
		return sum;
	});
}

/**
 * The payout methods a contract's provider pays out by. The Stripe escrow function pays out only to
 * the bank account on the freelancer's Stripe account (src/edge/ops/withdraw.ts); the mock, all.
 */
export function payoutMethods(s: ContractState): readonly PayoutMethod[] {
	return s.terms?.provider.id === 'stripe' ? ['bank'] : PAYOUT_METHODS;
}

export type WithdrawalCheck = { ok: true; amount: number } | { ok: false; errors: Partial<Record<'amount' | 'method', string>> };

/**
 * A withdrawal form as the person typed it, checked against what is available at the provider time
 * the statement was made for: every problem at once, by field, in words, money formatted.
 */
export function checkWithdrawal(s: ContractState, f: FreelancerStatement, amountText: string, method: string): WithdrawalCheck {
	const currency = s.terms!.currency as CurrencyCode;
	const money = (n: number) => formatAmount(n, currency);
	const errors: Partial<Record<'amount' | 'method', string>> = {};
	const methods = payoutMethods(s);
	const known = (PAYOUT_METHODS as readonly string[]).includes(method);
	if (!known) errors.method = 'Choose how to receive the money.';
	else if (!methods.includes(method as PayoutMethod))
		errors.method = `This contract's escrow provider pays out only by ${methods.map((m) => PAYOUT_LABELS[m]).join(' or ')}.`;
	const p = parseAmount(amountText, currency);
	if (!p.ok) errors.amount = p.message;
	else if (p.minor === 0) errors.amount = 'Enter an amount more than zero.';
	else if (p.minor > f.available)
		errors.amount =
			f.available === 0
				? 'Nothing is available to withdraw from this contract yet.'
				: `You can withdraw at most ${money(f.available)} from this contract now.`;
	else if (known) {
		const fee = feeFor(PAYOUT_FEES[method as PayoutMethod], p.minor, currency);
		if (fee >= p.minor) errors.amount = `The ${PAYOUT_LABELS[method as PayoutMethod]} fee is ${money(fee)}: withdraw more than that.`;
	}
	if (Object.keys(errors).length || !p.ok) return { ok: false, errors };
	return { ok: true, amount: p.minor };
}

/**
 * Is an event part of this role's story? Withdrawals are the freelancer's own money after it left
 * escrow: the client's activity list leaves them out (as its Payments page does). Anything else is
 * both parties' business.
 */
export function seenBy(type: string, role: Role | undefined): boolean {
	return role === 'freelancer' || (type !== 'withdrawal.requested' && type !== 'receipt.paidOut');
}
