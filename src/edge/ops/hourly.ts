/**
 * Hourly contracts on Stripe. The contract's weekly escrow is one pool (transfer group
 * `<contract>:_hourly`, books.ts); every Stripe object names its week in metadata, and carry-over —
 * which moves no money — is read from the function's own record, so the books show each week's
 * funded, carried in/out, released and refunded (`hourlyBooks`).
 *   hourly.fund    → a PaymentIntent for the week's due escrow + fee into the pool
 *   hourly.release → Transfer(s) of what the week owes now (its recorded timesheet, net of accepted
 *                    or lapsed disputes), from the pool's charges; unused escrow carries on
 *   hourly.reclaim → Refund(s) of the week's unused escrow once paused or ended (else a carry)
 *   dispute outcome on the week's segments → split.ts: transfers and a refund from the pool, the week's `settled`
 * The decision (how much, and whether the clock allows it) is the mock's, from provider-core, made
 * on the fold of the record ∪ the sent log and the function's clock; Stripe's books bound it. All
 * run in the contract-wide queue, so two devices' claims on a week are judged one after the other.
 */
import type Stripe from 'stripe';
import { recordedTimesheet, weekBook } from '../../lib/contract/timesheet';
import type { ContractState } from '../../lib/contract/state';
import { formatAmount } from '../../lib/money/amount';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { executableIntent, quoted, signReceipt, weekFundingCheck, weekOverRelease, weekReclaim, weekRelease } from '../../lib/escrow/provider-core';
import { quoteFunding, type FundingMethod } from '../../lib/money/fees';
import { payableAccount } from '../accounts';
import { excessOf, fundingIntentIn, hourlyBooks, hourlyGroup, int, META, receiptMeta, storedReceipt, type Carries, type HourlyBooks } from '../books';
import { noRecordRefusal } from '../failures';
import type { InFlight } from '../store';
import { assertRoom, bindIfNeeded, draw, inFlight, lower, partKey, record, recordedReceipt, recoverInFlight, type EscrowDeps, type Opened } from './context';
import { chargeEscrow, processing, unpaid } from './fund';
import { repairInFlight } from './guard';

/** The key under which the record notes what the hourly pool holds (retention): never a milestone id. */
export const POOL = '_hourly';
/** What the pool's books are, in a refusal. */
const HOURLY_POOL = 'this contract’s hourly escrow';

/** The week counters of the fold (record ∪ sent log): the carries the provider's receipts made. */
export const carriesOf = (s: ContractState): Carries => s.hourly?.weeks.values() ?? [];

const poolHeld = (b: HourlyBooks): number => b.pool.funded - b.pool.released - b.pool.refunded;

// —— funding ——————————————————————————————————————————————————————————————————————————————————

export async function fundWeek(d: EscrowDeps, body: EscrowRequestBody, o: Opened): Promise<Receipt> {
	const { s } = o;
	await recoverInFlight(d, o, (row) => repairHourly(d, s.contract, row));
	const prior = await recordedReceipt(o, body.event);
	if (prior) return prior;
	const group = hourlyGroup(s.contract);
	let pi = await fundingIntentIn(d.stripe, s.contract, group, body.event, await o.rec?.stripeObject(body.event));
	if (pi?.status === 'succeeded') return weekFunded(d, o, pi);
	if (pi?.status === 'processing') throw processing(s, pi);

	const intent = executableIntent(s, body.event, ['hourly.fund']);
	const week = intent.week!;
	const currency = s.terms!.currency;
	const method = intent.method as FundingMethod;
	const q = quoted(() => quoteFunding(intent.amount!, method, currency, d.now()));
	const books = await hourlyBooks(d.stripe, s.contract, carriesOf(s));
	// Stripe's books, not only the log: escrow charged for the week that no receipt in the record
	// counts yet (a bank debit processing, another device's funding) is not charged again.
	const e = books.weeks.get(week);
	weekFundingCheck(s, intent, d.now(), Math.max(0, (e?.funded ?? 0) - weekBook(s, week).funded) + (e?.processing ?? 0));
	await assertRoom(o, intent.id);
	await bindIfNeeded(o);
	pi = await chargeEscrow(d, o, body, pi, {
		row: { op: 'fund', intent: intent.id, at: d.now() },
		total: q.total,
		currency,
		method,
		group,
		description: `Escrow for the week of ${week}`,
		metadata: { [META.contract]: s.contract, [META.week]: week, [META.escrow]: String(intent.amount!), [META.fee]: String(q.fee) }
	});
	if (pi.status === 'succeeded') return weekFunded(d, o, pi);
	throw unpaid(s, pi);
}

async function weekFunded(d: EscrowDeps, o: Opened, pi: Stripe.PaymentIntent): Promise<Receipt> {
	let stored = storedReceipt(pi.metadata);
	if (!stored) {
		// First time this success is seen: fix the receipt's time and link on the PaymentIntent.
		stored = { at: d.now(), prev: o.prev };
		await d.stripe.paymentIntents.update(pi.id, { metadata: receiptMeta(stored.at, stored.prev) });
	}
	const method = pi.metadata[META.method] as FundingMethod;
	const amount = int(pi.metadata[META.escrow]);
	const currency = o.s.terms!.currency;
	const intent = pi.metadata[META.intent]!;
	const receipt = signReceipt(d.key, {
		contract: o.s.contract,
		prev: stored.prev,
		dep: intent,
		at: stored.at,
		type: 'receipt.weekFunded',
		payload: {
			intent,
			week: pi.metadata[META.week]!,
			amount,
			fee: int(pi.metadata[META.fee]),
			currency,
			method,
			clearsAt: quoteFunding(amount, method, currency, stored.at).availableAt
		}
	});
	await notePool(d, o);
	return record(d, o, intent, receipt);
}

// —— the week's release ———————————————————————————————————————————————————————————————————————

export async function releaseWeek(d: EscrowDeps, body: EscrowRequestBody, o: Opened): Promise<Receipt> {
	const { s } = o;
	await recoverInFlight(d, o, (row) => repairHourly(d, s.contract, row));
	const prior = await recordedReceipt(o, body.event);
	if (prior) return prior;
	const books = await hourlyBooks(d.stripe, s.contract, carriesOf(s));
	const mine = books.pool.transfers.filter((t) => t.metadata[META.intent] === body.event);
	const done = mine.filter((t) => t.amount - t.amount_reversed > 0);
	const already = done.reduce((sum, t) => sum + t.amount - t.amount_reversed, 0);
	const stored = done[0] && storedReceipt(done[0].metadata);
	// Every transfer made, the receipt lost (the function stopped before recording it): sign it again.
	if (stored && already === int(done[0]!.metadata[META.escrow])) return record(d, o, body.event, weekReleasedReceipt(d, s, done[0]!.metadata, stored));

	const intent = executableIntent(s, body.event, ['hourly.release']);
	// Judged on the record's timesheet, disputes and answers and on this function's clock: without a record, never.
	if (!o.rec) throw noRecordRefusal();
	const week = intent.week!;
	const r = stored ?? { at: d.now(), prev: o.prev };
	const t = weekRelease(s, intent, r.at);
	// Stripe's books bound it: the week's entry (its charges, transfers and refunds, the record's carries) …
	const held = books.held(week) + already;
	if (t.amount + t.carried > held) throw weekOverRelease(s, held, t.amount + t.carried, 'release');
	// … and the timesheet the record holds: a week never pays more than it bills, whatever was sent.
	const billed = recordedTimesheet(s, week)!.amount;
	const paid = (books.weeks.get(week)?.released ?? 0) - already;
	if (paid + t.amount > billed)
		throw new EscrowError('over-release', `The week's timesheet bills ${money(s, billed)} and ${money(s, paid)} was paid already; the release asks for ${money(s, t.amount)}.`);
	if (t.amount > 0 && books.pool.disputed) throw new EscrowError('not-authorised', 'A chargeback dispute is open on a payment of this contract’s weekly escrow; nothing is released until it closes.');
	const account = t.amount > 0 ? await payableAccount(d, s.parties.freelancer!) : undefined;
	await assertRoom(o, intent.id);
	await bindIfNeeded(o);
	const meta = {
		[META.contract]: s.contract,
		[META.week]: week,
		[META.intent]: intent.id,
		[META.escrow]: String(t.amount),
		[META.carried]: String(t.carried),
		[META.carriedTo]: t.carriedTo ?? '',
		...receiptMeta(r.at, r.prev)
	};
	if (t.amount > already)
		await inFlight(o, { op: 'release', intent: intent.id, at: d.now() }, async () => {
			for (const [i, part] of draw(books.pool, t.amount - already, HOURLY_POOL).entries())
				await d.stripe.transfers.create(
					{
						amount: part.amount,
						currency: lower(s.terms!.currency),
						destination: account!.id,
						transfer_group: hourlyGroup(s.contract),
						source_transaction: part.charge.charge.id,
						metadata: meta
					},
					{ idempotencyKey: partKey(intent.id, mine.length + i) }
				);
		});
	await checkAfterWrite(d, s, week, 'release', intent.id);
	await notePool(d, o);
	return record(d, o, intent.id, weekReleasedReceipt(d, s, meta, r));
}

function weekReleasedReceipt(d: EscrowDeps, s: ContractState, meta: Stripe.Metadata, r: { at: number; prev: string | null }): Receipt {
	const carried = int(meta[META.carried]);
	return signReceipt(d.key, {
		contract: s.contract,
		prev: r.prev,
		dep: meta[META.intent]!,
		at: r.at,
		type: 'receipt.weekReleased',
		payload: {
			intent: meta[META.intent]!,
			week: meta[META.week]!,
			amount: int(meta[META.escrow]),
			carried,
			...(carried > 0 ? { carriedTo: meta[META.carriedTo]! } : {}),
			currency: s.terms!.currency
		}
	});
}

// —— the client takes back unused escrow ——————————————————————————————————————————————————————

const LIVE = new Set(['succeeded', 'pending', 'requires_action']);

export async function reclaimWeek(d: EscrowDeps, body: EscrowRequestBody, o: Opened): Promise<Receipt> {
	const { s } = o;
	await recoverInFlight(d, o, (row) => repairHourly(d, s.contract, row));
	const prior = await recordedReceipt(o, body.event);
	if (prior) return prior;
	const books = await hourlyBooks(d.stripe, s.contract, carriesOf(s));
	const mine = books.pool.charges.flatMap((c) => c.refunds.filter((r) => r.metadata?.[META.intent] === body.event));
	const done = mine.filter((r) => LIVE.has(r.status ?? ''));
	const already = done.reduce((sum, r) => sum + r.amount, 0);
	const stored = done[0] && storedReceipt(done[0].metadata ?? {});
	if (stored && already === int(done[0]!.metadata?.[META.escrow])) return record(d, o, body.event, weekReclaimedReceipt(d, s, done[0]!.metadata ?? {}, stored));

	const intent = executableIntent(s, body.event, ['hourly.reclaim']);
	if (!o.rec) throw noRecordRefusal();
	const week = intent.week!;
	const r = stored ?? { at: d.now(), prev: o.prev };
	const t = weekReclaim(s, intent, r.at);
	const held = books.held(week) + already;
	if (t.amount > held) throw weekOverRelease(s, held, t.amount, 'reclaim');
	await assertRoom(o, intent.id);
	await bindIfNeeded(o);
	const meta = {
		[META.contract]: s.contract,
		[META.week]: week,
		[META.intent]: intent.id,
		[META.escrow]: String(t.amount),
		[META.carriedTo]: t.carriedTo ?? '',
		...receiptMeta(r.at, r.prev)
	};
	if (t.to === 'client') {
		// Refunded from the pool's charges that still hold money: never from what a transfer took.
		await inFlight(o, { op: 'refund', intent: intent.id, at: d.now() }, async () => {
			for (const [i, part] of draw(books.pool, t.amount - already, HOURLY_POOL).entries())
				await d.stripe.refunds.create({ charge: part.charge.charge.id, amount: part.amount, metadata: meta }, { idempotencyKey: partKey(intent.id, mine.length + i) });
		});
		await checkAfterWrite(d, s, week, 'refund', intent.id);
	}
	await notePool(d, o);
	return record(d, o, intent.id, weekReclaimedReceipt(d, s, { ...meta, to: t.to }, r));
}

function weekReclaimedReceipt(d: EscrowDeps, s: ContractState, meta: Stripe.Metadata, r: { at: number; prev: string | null }): Receipt {
	// A carry moves no money in Stripe, so only a refund is found there: its receipt says 'client'.
	const to = meta.to === 'carry' ? 'carry' : 'client';
	return signReceipt(d.key, {
		contract: s.contract,
		prev: r.prev,
		dep: meta[META.intent]!,
		at: r.at,
		type: 'receipt.weekReclaimed',
		payload: {
			intent: meta[META.intent]!,
			week: meta[META.week]!,
			amount: int(meta[META.escrow]),
			to,
			...(to === 'carry' ? { carriedTo: meta[META.carriedTo]! } : {}),
			currency: s.terms!.currency
		}
	});
}

// —— after every write ————————————————————————————————————————————————————————————————————————

/**
 * The books read again after a release or refund (the backstop to the contract-wide queue, as
 * guard.ts is for milestones): if the pool paid out more than it took in, the week more than it
 * held, or the week paid more than its recorded timesheet bills, this operation's own part is undone
 * and no receipt is issued.
 */
async function checkAfterWrite(d: EscrowDeps, s: ContractState, week: string, op: 'release' | 'refund', intent: string): Promise<void> {
	const b = await hourlyBooks(d.stripe, s.contract, carriesOf(s));
	const sheet = recordedTimesheet(s, week);
	// More out of the pool than in; more out of the week than it held; more paid than the week bills.
	const over = Math.max(excessOf(b.pool), -b.held(week), op === 'release' && sheet ? (b.weeks.get(week)?.released ?? 0) - sheet.amount : 0);
	if (over <= 0) return;
	d.log?.(`over-payment of ${over} found after an hourly ${op}: undoing it`);
	if (await undo(d, b, op, intent))
		throw new EscrowError('over-release', `Another operation took this week's escrow at the same time; this ${op} was undone and nothing was paid.`);
	throw new EscrowError('unavailable', `Stripe shows ${over} more paid out of this contract's weekly escrow than it holds, and this ${op} could not be undone; it is held for the operator to review.`);
}

const CANCELLABLE = new Set(['pending', 'requires_action']);

async function undo(d: EscrowDeps, b: HourlyBooks, op: 'release' | 'refund', intent: string): Promise<boolean> {
	let undone = false;
	let stuck = false;
	if (op === 'release')
		for (const t of b.pool.transfers) {
			const live = t.amount - t.amount_reversed;
			if (t.metadata[META.intent] !== intent || live <= 0) continue;
			await d.stripe.transfers.createReversal(t.id, { amount: live, metadata: { [META.intent]: intent, reason: 'over-payment' } }, { idempotencyKey: `reverse:${t.id}:${t.amount_reversed}` });
			undone = true;
		}
	else
		for (const c of b.pool.charges)
			for (const r of c.refunds) {
				if (r.metadata?.[META.intent] !== intent || r.status === 'canceled' || r.status === 'failed') continue;
				if (CANCELLABLE.has(r.status ?? '')) {
					await d.stripe.refunds.cancel(r.id);
					undone = true;
				} else stuck = true;
			}
	return undone && !stuck;
}

/** An hourly operation that never finished (it ran in the contract-wide queue, with no milestone): re-read the pool, undo an over-payment. */
export async function repairHourly(d: EscrowDeps, contract: string, row: InFlight): Promise<void> {
	if (row.milestone) return repairInFlight(d, contract, row);
	if (row.op !== 'release' && row.op !== 'refund') return;
	const b = await hourlyBooks(d.stripe, contract, []);
	if (excessOf(b.pool) > 0) await undo(d, b, row.op, row.intent);
}

/** Retention: the record is kept while the pool holds escrow. */
export async function notePool(d: EscrowDeps, o: Opened): Promise<void> {
	if (!o.rec) return;
	await o.rec.noteMoney(POOL, poolHeld(await hourlyBooks(d.stripe, o.s.contract, [])), d.now());
}

const money = (s: ContractState, minor: number): string => formatAmount(minor, s.terms!.currency);
