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
import { hourlyTermsOf, isHourly, lockAt, recordedTimesheet, reviewEndsAt, timesheetDeadline, weekFigures, disputeStatus, closesAt } from './timesheet';
import { DAY_MS, type ContractState, type Role } from './state';
import { SEGMENT_MINUTES, SEGMENT_MS, weekOf } from './weeks';

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

// —— hourly weeks: what each week billed, where it stands, and its invoice ————————————————————————

/**
 * Where a week's bill stands at a provider time:
 * - in-progress: not closed yet, or closed and waiting for its timesheet (nothing billed yet);
 * - in-review: its timesheet is recorded and the client's review window runs;
 * - disputed: some of its time is in a dispute still open or declined (it waits for the outcome);
 * - releasing: the review ended, the freelancer's claim has not been paid yet;
 * - paid: everything it owes is released (net of accepted disputes);
 * - refunded: all its billed time was disputed and given back to the client;
 * - not-billed: no timesheet was recorded in time, or it bills nothing.
 */
export type WeekBillStatus = 'in-progress' | 'in-review' | 'disputed' | 'releasing' | 'paid' | 'refunded' | 'not-billed';

export interface WeekLot {
	amount: number;
	releasedAt: number;
	/** The end of its security period: available to withdraw from then. */
	availableAt: number;
	available: boolean;
}

export interface WeekBill {
	week: string;
	status: WeekBillStatus;
	/** The provider recorded its timesheet: the week is billed, and has an invoice. */
	invoiced: boolean;
	/** Minutes the recorded timesheet bills (logged so far, before it is recorded). */
	minutes: number;
	/** What it bills: floor(minutes × rate / 60) of the recorded timesheet (of the draft before). */
	amount: number;
	/** Taken off by accepted or unanswered disputes. */
	refunded: number;
	/** Minutes in disputes still open or declined. */
	disputedMinutes: number;
	/** What the week comes to now: amount − refunded. */
	net: number;
	/** Released so far, and when the last release was. */
	released: number;
	paidAt?: number;
	/** When the client's review ends (recorded timesheets only): the week is paid from then. */
	reviewEndsAt?: number;
	/** Not paid yet: when its money would become available to the freelancer if paid as the review ends (review end + security period). */
	availableFrom?: number;
	/** When its edits lock: the timesheet is recorded from then. */
	lockAt: number;
	/** Each release of the week to the freelancer, oldest first, with when it becomes available. */
	lots: WeekLot[];
	/** Of the released money: still in its security period, and available. */
	pending: number;
	available: number;
}

/** Minutes and amount a week has logged but not yet billed: its live segments with a memo (what the diary drafts). */
function loggedSoFar(s: ContractState, week: string): number {
	let n = 0;
	for (const x of s.hourly!.segments.values()) if (x.status === 'live' && x.week === week && x.memo) n++;
	return n * SEGMENT_MINUTES;
}

/** One week's bill at provider time `providerNow` (see WeekBill). */
export function weekBill(s: ContractState, week: string, providerNow: number): WeekBill {
	const now = effectiveNow(s, providerNow);
	const rate = hourlyTermsOf(s).rate;
	const sheet = recordedTimesheet(s, week);
	const f = weekFigures(s, week, now);
	const lots = s.releases
		.filter((l) => l.week === week)
		.map((l) => ({ amount: l.amount, releasedAt: l.releasedAt, availableAt: l.maturesAt, available: l.matured || l.maturesAt <= now }))
		.sort((a, b) => a.releasedAt - b.releasedAt);
	const pending = lots.filter((l) => !l.available).reduce((sum, l) => sum + l.amount, 0);
	const released = lots.reduce((sum, l) => sum + l.amount, 0);
	const base = { week, invoiced: sheet !== undefined, lockAt: lockAt(s, week), lots, pending, available: released - pending, released, ...(lots.length ? { paidAt: lots.at(-1)!.releasedAt } : {}) };
	if (!sheet) {
		const minutes = loggedSoFar(s, week);
		const amount = Math.floor((minutes * rate) / 60);
		const over = now >= timesheetDeadline(s, week);
		return { ...base, status: over ? 'not-billed' : 'in-progress', minutes: over ? 0 : minutes, amount: over ? 0 : amount, refunded: 0, disputedMinutes: 0, net: over ? 0 : amount };
	}
	const net = f.owed;
	const ends = reviewEndsAt(s, week)!;
	const status: WeekBillStatus =
		f.disputedMinutes > 0 ? 'disputed' : net === 0 ? (f.billed === 0 ? 'not-billed' : 'refunded') : f.released >= net ? 'paid' : now < ends ? 'in-review' : 'releasing';
	const unpaid = status === 'in-review' || status === 'releasing';
	const availableFrom = unpaid ? Math.max(ends, now) + s.terms!.securityPeriodDays * DAY_MS : undefined;
	return { ...base, status, minutes: f.minutes, amount: f.billed, refunded: f.billed - net, disputedMinutes: f.disputedMinutes, net, reviewEndsAt: ends, ...(availableFrom !== undefined ? { availableFrom } : {}) };
}

/**
 * Every week of an hourly contract that has time logged, a recorded timesheet or money, newest
 * first, at provider time `providerNow`: what Payments lists for both parties. Empty for fixed-price.
 */
export function weekBills(s: ContractState, providerNow: number): WeekBill[] {
	if (!isHourly(s)) return [];
	const weeks = new Set<string>();
	for (const x of s.hourly!.segments.values()) if (x.status === 'live') weeks.add(x.week);
	for (const t of s.hourly!.timesheets.values()) weeks.add(t.week);
	for (const l of s.releases) if (l.week) weeks.add(l.week);
	const now = effectiveNow(s, providerNow);
	return [...weeks]
		.filter((w) => w <= weekOf(now) || recordedTimesheet(s, w))
		.sort()
		.reverse()
		.map((w) => weekBill(s, w, now));
}

export interface InvoiceLine {
	/** A run of consecutive 10-minute segments with the same memo and source. */
	from: number;
	to: number;
	minutes: number;
	memo: string;
	source: 'tracked' | 'manual';
	/** Taken off by an accepted or unanswered dispute, or still disputed. */
	dispute?: 'refunded' | 'disputed';
}

export interface WeekInvoice {
	contract: string;
	title: string;
	week: string;
	currency: string;
	/** Per hour, minor units. */
	rate: number;
	lines: InvoiceLine[];
	bill: WeekBill;
	/** When the provider recorded the timesheet, and when the week closed. */
	recordedAt: number;
	closedAt: number;
}

/**
 * The invoice of a week whose timesheet the provider recorded: the billed segments as runs of the same
 * memo (hours and memos), the rate, and the amounts of its bill. Undefined before the timesheet is
 * recorded: until then nothing is billed, so there is nothing to invoice.
 */
export function weekInvoice(s: ContractState, week: string, providerNow: number): WeekInvoice | undefined {
	if (!isHourly(s)) return undefined;
	const sheet = recordedTimesheet(s, week);
	if (!sheet) return undefined;
	const now = effectiveNow(s, providerNow);
	const mark = new Map<string, 'refunded' | 'disputed'>();
	for (const d of s.hourly!.disputes.values()) {
		if (d.week !== week) continue;
		const st = disputeStatus(s, d, now);
		if (st === 'unrecorded') continue;
		for (const id of d.segments) if (mark.get(id) !== 'refunded') mark.set(id, st === 'accepted' || st === 'lapsed' ? 'refunded' : 'disputed');
	}
	const segs = sheet.segments.map((id) => s.hourly!.segments.get(id)!).sort((a, b) => a.start - b.start);
	const lines: InvoiceLine[] = [];
	for (const x of segs) {
		const dispute = mark.get(x.id);
		const last = lines.at(-1);
		if (last && last.to === x.start && last.memo === x.memo && last.source === x.source && last.dispute === dispute) {
			last.to += SEGMENT_MS;
			last.minutes += SEGMENT_MINUTES;
		} else lines.push({ from: x.start, to: x.start + SEGMENT_MS, minutes: SEGMENT_MINUTES, memo: x.memo, source: x.source, ...(dispute ? { dispute } : {}) });
	}
	return {
		contract: s.contract,
		title: s.terms!.title,
		week,
		currency: s.terms!.currency,
		rate: hourlyTermsOf(s).rate,
		lines,
		bill: weekBill(s, week, now),
		recordedAt: s.hourly!.weeks.get(week)!.recordedAt!,
		closedAt: closesAt(s, week)
	};
}
