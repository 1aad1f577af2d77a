/**
 * A dispute's outcome (settlement, accepted midpoint, deadline outcome, mediator's ruling) →
 * one split of the milestone's escrow, all from the same funding charge(s): a Transfer of the
 * freelancer's share to its connected account, a Transfer of the mediator's fee to the mediator's
 * connected account (onboarded like a freelancer), and a Refund of the client's share. The outcome
 * is judged by provider-core on the fold of the function's record ∪ the sent log and on the
 * function's clock, never on a device's: a ruling counts only if signed by the mediator both
 * parties accepted on the record and picking an offer really made, a deadline outcome only once its
 * deadline passed here. Idempotent on the intent id: every Stripe object carries it (with the split
 * and the receipt's time and link), each part's idempotency key derives from it, and a retry after
 * a partial failure moves only what is still missing. Nothing moves while a chargeback is open on
 * the milestone's payment. Without a record (Deno) a dispute intent is refused.
 *
 * A dispute on an hourly week's segments (the freelancer declined the client's segment dispute) is
 * the same split out of the contract's hourly pool (hourly.ts): its transfers and refund drawn from
 * the pool's charges, each object naming the week (META.week) so `hourlyBooks` counts it as the
 * week's `settled`, bounded by what Stripe's books hold for the week beyond what the rest of the week
 * still owes. It runs in the contract-wide queue, with the week's release and reclaim.
 */
import type Stripe from 'stripe';
import { DISPUTE_INTENTS } from '../../lib/contract/dispute';
import type { ContractState, Intent } from '../../lib/contract/state';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import { disputeExecution, executableIntent, signReceipt, weekDisputeExecution } from '../../lib/escrow/provider-core';
import type { Payload } from '../../lib/contract/schema';
import type { CurrencyCode } from '../../lib/money/currency';
import { payableAccount } from '../accounts';
import { excessOf, hourlyBooks, hourlyGroup, int, META, milestoneBooks, receiptMeta, remainingOn, storedReceipt, transferGroup, type MilestoneBooks } from '../books';
import { noRecordRefusal } from '../failures';
import { assertRoom, bindIfNeeded, inFlight, lower, record, type EscrowDeps, type Opened } from './context';
import { carriesOf, notePool } from './hourly';

/** Metadata this operation writes besides books.ts's (keys up to 40 characters). */
const SPLIT = {
	/** Which part an object is: 'freelancer', 'mediator' or 'client'. */
	part: 'split_part',
	/** The whole split as `freelancer/client/fee`: a retry finishes the same split. */
	shares: 'split_shares',
	dispute: META.splitDispute,
	mediator: 'split_mediator'
} as const;

type Part = 'freelancer' | 'mediator' | 'client';

const LIVE_REFUNDS = new Set(['succeeded', 'pending', 'requires_action']);
const CANCELLABLE = new Set(['pending', 'requires_action']);

interface Moved {
	freelancer: number;
	mediator: number;
	client: number;
	transfers: Stripe.Transfer[];
	refunds: Stripe.Refund[];
	/** Metadata of the first object this intent created: its split and receipt time. */
	meta?: Stripe.Metadata;
}

/** What this intent already moved, read from Stripe's books. */
function movedBy(books: MilestoneBooks, intent: string): Moved {
	const m: Moved = { freelancer: 0, mediator: 0, client: 0, transfers: [], refunds: [] };
	for (const t of books.transfers) {
		const live = t.amount - t.amount_reversed;
		if (t.metadata[META.intent] !== intent || live <= 0) continue;
		m.transfers.push(t);
		m.meta ??= t.metadata;
		if (t.metadata[SPLIT.part] === 'mediator') m.mediator += live;
		else m.freelancer += live;
	}
	for (const c of books.charges)
		for (const r of c.refunds) {
			if (r.metadata?.[META.intent] !== intent || !LIVE_REFUNDS.has(r.status ?? '')) continue;
			m.refunds.push(r);
			m.meta ??= r.metadata ?? undefined;
			m.client += r.amount;
		}
	return m;
}

interface Stored {
	at: number;
	prev: string | null;
	payload: Payload<'receipt.split'>;
}

/** The split and receipt time a first attempt wrote on its Stripe objects. */
function storedSplit(meta: Stripe.Metadata | undefined, contract: string, intent: string, currency: CurrencyCode): Stored | undefined {
	const r = meta && storedReceipt(meta);
	const shares = meta?.[SPLIT.shares]?.split('/');
	const subject = meta?.[META.milestone] ? { milestone: meta[META.milestone] } : meta?.[META.week] ? { week: meta[META.week] } : undefined;
	if (!r || !meta || !subject || shares?.length !== 3 || !meta[SPLIT.dispute] || meta[META.contract] !== contract) return undefined;
	const [freelancer, client, fee] = shares.map((x) => int(x)) as [number, number, number];
	const mediator = meta[SPLIT.mediator];
	return {
		...r,
		payload: { intent, dispute: meta[SPLIT.dispute]!, ...subject, freelancer, client, fee, ...(mediator ? { mediator } : {}), currency }
	};
}

const sameSplit = (a: Payload<'receipt.split'>, b: Payload<'receipt.split'>): boolean =>
	a.dispute === b.dispute && a.milestone === b.milestone && a.week === b.week && a.freelancer === b.freelancer && a.client === b.client && a.fee === b.fee && a.mediator === b.mediator;

const done = (m: Moved, p: Payload<'receipt.split'>): boolean => m.freelancer === p.freelancer && m.mediator === p.fee && m.client === p.client;

/** Where a split's money is: Stripe's books for it, the rule that judges it, how its objects are tagged. */
interface Subject {
	/** Stripe's books holding the escrow (the milestone's, or the hourly pool), what the subject holds in them, and any over-payment. */
	read(): Promise<{ books: MilestoneBooks; held: number; over: number }>;
	/** The provider-core decision: the split's payload at provider time `at`, or a refusal. */
	judge(intent: Intent, at: number, held: number): Payload<'receipt.split'>;
	meta: Record<string, string>;
	group: string;
	/** The in-flight row's milestone (none for the hourly pool: its queue is the contract's). */
	milestone?: string;
	chargeback: string;
	/** Retention: the record notes what is still held there. */
	note(books: MilestoneBooks): Promise<void>;
}

/** Execute the dispute intent `id` (the fold knows it as one) inside its milestone's queue, or for an hourly week the contract's. */
export async function split(d: EscrowDeps, o: Opened, id: string): Promise<Receipt> {
	const { s } = o;
	// Deadlines and the accepted mediator are judged on the record: a deployment without one refuses.
	if (!o.rec) throw noRecordRefusal();
	const rec = o.rec;
	const known = s.intents.get(id)!;
	const dispute = known.dispute ? s.disputes.get(known.dispute.id) : undefined;
	const week = dispute?.segments?.week;
	if (week !== undefined)
		return execute(d, o, id, {
			async read() {
				const b = await hourlyBooks(d.stripe, s.contract, carriesOf(s));
				return { books: b.pool, held: b.held(week), over: Math.max(excessOf(b.pool), -b.held(week)) };
			},
			judge: (intent, at, held) => weekDisputeExecution(s, intent, at, held).payload,
			meta: { [META.week]: week },
			group: hourlyGroup(s.contract),
			chargeback: 'A chargeback dispute is open on a payment of this contract’s weekly escrow; nothing is released or refunded until it closes.',
			note: () => notePool(d, o)
		});
	const milestone = known.milestone!;
	return execute(d, o, id, {
		async read() {
			const books = await milestoneBooks(d.stripe, s.contract, milestone);
			return { books, held: books.funded - books.released - books.refunded, over: excessOf(books) };
		},
		judge: (intent, at, held) => disputeExecution(s, intent, at, held).payload,
		meta: { [META.milestone]: milestone },
		group: transferGroup(s.contract, milestone),
		milestone,
		chargeback: 'A chargeback dispute is open on this milestone’s payment; nothing is released or refunded until it closes.',
		note: (after) => rec.noteMoney(milestone, after.funded - after.released - after.refunded, d.now())
	});
}

async function execute(d: EscrowDeps, o: Opened, id: string, where: Subject): Promise<Receipt> {
	const { s } = o;
	const { books, held: now } = await where.read();
	const moved = movedBy(books, id);
	const stored = storedSplit(moved.meta, s.contract, id, s.terms!.currency);
	// Executed before, its receipt lost with the answer: the same receipt, nothing moves again.
	if (stored && done(moved, stored.payload)) return record(d, o, id, splitReceipt(d, s, stored));

	const intent = executableIntent(s, id, DISPUTE_INTENTS);
	// A retry after a partial failure keeps the first attempt's time and link: judged at that time, as every replica judges the receipt.
	const r = stored ? { at: stored.at, prev: stored.prev } : { at: d.now(), prev: o.prev };
	const held = now + moved.freelancer + moved.mediator + moved.client;
	const p = where.judge(intent, r.at, held);
	if (stored && !sameSplit(stored.payload, p))
		throw new EscrowError('unavailable', 'A first attempt at this split moved other amounts than the record now gives; it is held for the operator to review. Nothing else was changed.');
	if (books.disputed) throw new EscrowError('not-authorised', where.chargeback);
	const want: Record<Part, number> = { freelancer: p.freelancer - moved.freelancer, mediator: p.fee - moved.mediator, client: p.client - moved.client };
	if (want.freelancer < 0 || want.mediator < 0 || want.client < 0)
		throw new EscrowError('unavailable', 'Stripe shows more moved for this split than it gives; it is held for the operator to review. Nothing else was changed.');
	// Every account checked before anything moves: a split is never left half done for want of one.
	const to: Partial<Record<Part, Stripe.Account>> = {};
	if (want.freelancer > 0) to.freelancer = await payableAccount(d, s.parties.freelancer!);
	if (want.mediator > 0) to.mediator = await payableAccount(d, p.mediator!, 'mediator');
	const plan = allocate(books, want);
	await assertRoom(o, id);
	await bindIfNeeded(o);
	const meta = {
		[META.contract]: s.contract,
		...where.meta,
		[META.intent]: id,
		[SPLIT.shares]: `${p.freelancer}/${p.client}/${p.fee}`,
		[SPLIT.dispute]: p.dispute,
		...(p.mediator ? { [SPLIT.mediator]: p.mediator } : {}),
		...receiptMeta(r.at, r.prev)
	};
	const count = (part: Part) => (part === 'client' ? moved.refunds.length : moved.transfers.filter((t) => (t.metadata[SPLIT.part] ?? 'freelancer') === part).length);
	await inFlight(o, { op: 'release', intent: id, ...(where.milestone ? { milestone: where.milestone } : {}), at: d.now() }, async () => {
		for (const part of ['freelancer', 'mediator', 'client'] as const)
			for (const [i, step] of plan[part].entries()) {
				const idempotencyKey = `split:${id}:${part}:${count(part) + i}`;
				if (part === 'client')
					await d.stripe.refunds.create({ charge: step.charge, amount: step.amount, metadata: { ...meta, [SPLIT.part]: part } }, { idempotencyKey });
				else
					await d.stripe.transfers.create(
						{
							amount: step.amount,
							currency: lower(s.terms!.currency),
							destination: to[part]!.id,
							transfer_group: where.group,
							source_transaction: step.charge,
							metadata: { ...meta, [SPLIT.part]: part }
						},
						{ idempotencyKey }
					);
			}
	});
	const after = await where.read();
	if (after.over > 0) await undo(d, after.books, id, after.over);
	await where.note(after.books);
	return record(d, o, id, splitReceipt(d, s, { ...r, payload: p }));
}

/** Each part drawn from the charges that still hold money, richest first, the parts one after another. */
function allocate(books: MilestoneBooks, want: Record<Part, number>): Record<Part, { charge: string; amount: number }[]> {
	const left = new Map(books.charges.map((c) => [c.charge.id, remainingOn(books, c)]));
	const out: Record<Part, { charge: string; amount: number }[]> = { freelancer: [], mediator: [], client: [] };
	for (const part of ['freelancer', 'mediator', 'client'] as const) {
		let need = want[part];
		for (const [charge, has] of [...left].sort((a, b) => b[1] - a[1])) {
			const take = Math.min(has, need);
			if (take <= 0) break;
			out[part].push({ charge, amount: take });
			left.set(charge, has - take);
			need -= take;
		}
		if (need > 0) throw new EscrowError('over-release', 'Stripe holds less for this escrow than the split pays out.');
	}
	return out;
}

/**
 * The backstop (guard.ts does the same for releases and refunds): more left the milestone (or the
 * hourly week, or its pool) than came in, so another operation took the same escrow at the same
 * time. This split's transfers are reversed and its refunds cancelled while Stripe allows; no
 * receipt is issued.
 */
async function undo(d: EscrowDeps, books: MilestoneBooks, intent: string, over: number): Promise<never> {
	d.log?.(`over-payment of ${over} found after a split: undoing it`);
	let stuck = false;
	const m = movedBy(books, intent);
	for (const t of m.transfers)
		await d.stripe.transfers.createReversal(t.id, { amount: t.amount - t.amount_reversed, metadata: { [META.intent]: intent, reason: 'over-payment' } }, { idempotencyKey: `reverse:${t.id}:${t.amount_reversed}` });
	for (const r of m.refunds) {
		if (CANCELLABLE.has(r.status ?? '')) await d.stripe.refunds.cancel(r.id);
		else stuck = true;
	}
	if (stuck)
		throw new EscrowError('unavailable', 'Another operation took the same escrow at the same time and this split’s refund had already gone through; it is held for the operator to review.');
	throw new EscrowError('over-release', 'Another operation took the same escrow at the same time; this split was undone and nothing was paid.');
}

function splitReceipt(d: EscrowDeps, s: ContractState, r: Stored): Receipt {
	return signReceipt(d.key, { contract: s.contract, prev: r.prev, dep: r.payload.intent, at: r.at, type: 'receipt.split', payload: r.payload });
}
