/**
 * The escrow books, read from Stripe itself: Stripe stays the source of truth for money, so how
 * much a milestone holds, whether an intent was executed already and what a freelancer may
 * withdraw are recomputed from Stripe objects on each request (the function's own record, store.ts,
 * says what was recorded and which receipts were issued, never how much money there is). The
 * metadata written on those objects (see `META`) ties them to the contract, its milestone and the
 * intent.
 */
import type Stripe from 'stripe';

/** Stripe metadata keys the function writes. Values are strings; amounts are integer minor units. */
export const META = {
	contract: 'contract',
	milestone: 'milestone',
	intent: 'intent',
	/** Escrow part of a PaymentIntent (its amount is escrow + fee). */
	escrow: 'escrow_amount',
	fee: 'fee',
	method: 'method',
	/** Provider time and chain link of the receipt issued for the object: retries get the same receipt. */
	receiptAt: 'receipt_at',
	receiptPrev: 'receipt_prev',
	auto: 'auto',
	/** Set by webhooks from the live dispute: money under a chargeback is not released. */
	disputed: 'disputed',
	/** Payouts: the gross amount withdrawn from the contract's balance (payout amount is net of the fee). */
	gross: 'gross',
	/** Connected accounts: the Ed25519 party key of the freelancer who owns the account. */
	partyKey: 'party_key',
	/** Hourly contracts: the week (its Monday) a charge funds, a transfer pays or a refund gives back. */
	week: 'week',
	/** Week releases: unused escrow carried on to `carriedTo` (no money moves in Stripe for it). */
	carried: 'carried',
	carriedTo: 'carried_to',
	/** Dispute splits: the dispute an object pays out (on an hourly week, counted as the week's `settled`). */
	splitDispute: 'split_dispute'
} as const;

export const transferGroup = (contract: string, milestone: string): string => `${contract}:${milestone}`;

/**
 * An hourly contract's escrow is one pool per contract (`_` is never in a milestone id): unused escrow
 * carries over from week to week without moving in Stripe, so the pool's charges fund any week's
 * release and the per-week entries (`hourlyBooks`) say whose money it is.
 */
export const hourlyGroup = (contract: string): string => `${contract}:_hourly`;
/** Bonuses, on either kind of contract: a charge and its transfer, in their own group. */
export const bonusGroup = (contract: string): string => `${contract}:_bonus`;

/** A succeeded escrow charge, with the PaymentIntent it came from and its live refunds. */
export interface EscrowCharge {
	charge: Stripe.Charge;
	intent: Stripe.PaymentIntent;
	escrow: number;
	refunds: Stripe.Refund[];
	refunded: number;
}

export interface MilestoneBooks {
	charges: EscrowCharge[];
	transfers: Stripe.Transfer[];
	funded: number;
	released: number;
	refunded: number;
	disputed: boolean;
}

export function int(value: string | undefined): number {
	if (value === undefined || !/^\d{1,16}$/.test(value)) return 0;
	return Number(value);
}

const COUNTED_REFUNDS = new Set(['succeeded', 'pending', 'requires_action']);

/** Everything Stripe knows about one milestone's escrow: funded, released and refunded. */
export async function milestoneBooks(stripe: Stripe, contract: string, milestone: string): Promise<MilestoneBooks> {
	return groupBooks(stripe, contract, transferGroup(contract, milestone));
}

/** Everything Stripe knows about one transfer group of the contract (a milestone, the hourly pool, bonuses). */
export async function groupBooks(stripe: Stripe, contract: string, group: string): Promise<MilestoneBooks> {
	const charges: EscrowCharge[] = [];
	for await (const charge of stripe.charges.list({ transfer_group: group, limit: 100, expand: ['data.payment_intent', 'data.refunds'] })) {
		const intent = charge.payment_intent;
		if (charge.status !== 'succeeded' || !intent || typeof intent === 'string') continue;
		if (intent.metadata[META.contract] !== contract) continue;
		const refunds = charge.refunds?.data ?? [];
		const refunded = refunds.filter((r) => COUNTED_REFUNDS.has(r.status ?? '')).reduce((sum, r) => sum + r.amount, 0);
		charges.push({ charge, intent, escrow: int(intent.metadata[META.escrow]), refunds, refunded });
	}
	const transfers: Stripe.Transfer[] = [];
	for await (const t of stripe.transfers.list({ transfer_group: group, limit: 100 })) if (t.metadata[META.contract] === contract) transfers.push(t);
	return {
		charges,
		transfers,
		funded: charges.reduce((sum, c) => sum + c.escrow, 0),
		refunded: charges.reduce((sum, c) => sum + c.refunded, 0),
		released: transfers.reduce((sum, t) => sum + t.amount - t.amount_reversed, 0),
		// From the webhook-maintained flag: a charge's own `disputed` stays true after a dispute is won.
		disputed: charges.some((c) => c.intent.metadata[META.disputed] === '1')
	};
}

/** What a charge can still give: its escrow less what was transferred from it and refunded on it. */
export function remainingOn(books: MilestoneBooks, c: EscrowCharge): number {
	const transferred = books.transfers
		.filter((t) => (typeof t.source_transaction === 'string' ? t.source_transaction : t.source_transaction?.id) === c.charge.id)
		.reduce((sum, t) => sum + t.amount - t.amount_reversed, 0);
	return c.escrow - transferred - c.refunded;
}

/** Money out of a milestone beyond what came in: positive only when something over-paid. */
export function excessOf(books: MilestoneBooks): number {
	return books.released + books.refunded - books.funded;
}

/**
 * The PaymentIntent a funding intent created, whatever its state: from the function's outbox when
 * it has one, else from the milestone's charges (a processing bank debit has a pending charge).
 * Stripe forgets idempotency keys after about a day, so this lookup, not the key, is what keeps a
 * retry days later from charging the client twice.
 */
export async function fundingIntentOf(stripe: Stripe, contract: string, milestone: string, intent: string, known?: string): Promise<Stripe.PaymentIntent | undefined> {
	return fundingIntentIn(stripe, contract, transferGroup(contract, milestone), intent, known);
}

/** `fundingIntentOf` for any transfer group of the contract. */
export async function fundingIntentIn(stripe: Stripe, contract: string, group: string, intent: string, known?: string): Promise<Stripe.PaymentIntent | undefined> {
	if (known) return stripe.paymentIntents.retrieve(known);
	for await (const charge of stripe.charges.list({ transfer_group: group, limit: 100, expand: ['data.payment_intent'] })) {
		const pi = charge.payment_intent;
		if (pi && typeof pi !== 'string' && pi.metadata[META.contract] === contract && pi.metadata[META.intent] === intent) return pi;
	}
	return undefined;
}

/** Provider time and prev stored on a Stripe object when its receipt was first issued. */
export function storedReceipt(metadata: Stripe.Metadata): { at: number; prev: string | null } | undefined {
	const at = metadata[META.receiptAt];
	if (at === undefined || !/^\d{1,16}$/.test(at)) return undefined;
	const prev = metadata[META.receiptPrev];
	return { at: Number(at), prev: prev ? prev : null };
}

export function receiptMeta(at: number, prev: string | null): Record<string, string> {
	return { [META.receiptAt]: String(at), [META.receiptPrev]: prev ?? '' };
}

/** One week of an hourly contract in the function's books: money in and out, as `WeekCounters` in the mock. */
export interface WeekEntry {
	week: string;
	/** Escrow charged for the week (succeeded charges), from Stripe. */
	funded: number;
	/** Unused escrow carried in from, or out to, other weeks: no money moves in Stripe, so from the record's receipts. */
	carriedIn: number;
	carriedOut: number;
	/** Transferred to the freelancer for the week, and refunded to the client, from Stripe. */
	released: number;
	refunded: number;
	/** Paid out of the week by Resolution Center splits of its segments (to the freelancer, the client and the mediator), from Stripe. */
	settled: number;
	/** Escrow of the week's bank debits still processing (not held yet). */
	processing: number;
}

export interface HourlyBooks {
	/** The contract's hourly pool as Stripe holds it (its charges are drawn on for any week). */
	pool: MilestoneBooks;
	weeks: Map<string, WeekEntry>;
	/** funded + carried in − released − carried out − refunded − settled. */
	held(week: string): number;
}

/** Carries the record holds, by week: what the fold of its receipts says moved between weeks. */
export type Carries = Iterable<{ week: string; carriedIn: number; carriedOut: number }>;

/**
 * The hourly pool with per-week entries: every money movement from Stripe (each object carries its
 * week in metadata), every carry-over from the function's record. Summed over weeks, what is held
 * equals what the pool holds in Stripe, carries cancelling out — the check `poolMismatch` makes.
 */
export async function hourlyBooks(stripe: Stripe, contract: string, carries: Carries): Promise<HourlyBooks> {
	const group = hourlyGroup(contract);
	const pool = await groupBooks(stripe, contract, group);
	const weeks = new Map<string, WeekEntry>();
	const entry = (week: string): WeekEntry => {
		let e = weeks.get(week);
		if (!e) weeks.set(week, (e = { week, funded: 0, carriedIn: 0, carriedOut: 0, released: 0, refunded: 0, settled: 0, processing: 0 }));
		return e;
	};
	for (const c of pool.charges) {
		const week = c.intent.metadata[META.week];
		if (!week) continue;
		entry(week).funded += c.escrow;
		for (const r of c.refunds) {
			const week = r.metadata?.[META.week];
			if (!COUNTED_REFUNDS.has(r.status ?? '') || !week) continue;
			// A split's refund is the client's share of a dispute, not unused escrow given back.
			if (r.metadata?.[META.splitDispute]) entry(week).settled += r.amount;
			else entry(week).refunded += r.amount;
		}
	}
	for (const t of pool.transfers) {
		const week = t.metadata[META.week];
		if (!week) continue;
		if (t.metadata[META.splitDispute]) entry(week).settled += t.amount - t.amount_reversed;
		else entry(week).released += t.amount - t.amount_reversed;
	}
	for await (const charge of stripe.charges.list({ transfer_group: group, limit: 100, expand: ['data.payment_intent'] })) {
		const pi = charge.payment_intent;
		if (charge.status !== 'pending' || !pi || typeof pi === 'string' || pi.metadata[META.contract] !== contract || !pi.metadata[META.week]) continue;
		entry(pi.metadata[META.week]!).processing += int(pi.metadata[META.escrow]);
	}
	for (const c of carries) {
		if (c.carriedIn === 0 && c.carriedOut === 0) continue;
		const e = entry(c.week);
		e.carriedIn += c.carriedIn;
		e.carriedOut += c.carriedOut;
	}
	const held = (week: string): number => {
		const e = weeks.get(week);
		return e ? e.funded + e.carriedIn - e.released - e.carriedOut - e.refunded - e.settled : 0;
	};
	return { pool, weeks, held };
}

/** Pool held in Stripe vs the weeks' entries: non-zero only when the record's carries and Stripe disagree. */
export function poolMismatch(b: HourlyBooks): number {
	let weeks = 0;
	for (const w of b.weeks.keys()) weeks += b.held(w);
	return b.pool.funded - b.pool.released - b.pool.refunded - weeks;
}
