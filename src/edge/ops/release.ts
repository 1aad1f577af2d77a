/**
 * release and auto-release → Transfer(s) to the freelancer's connected account with
 * source_transaction = the funding charge(s), idempotency key = the intent id (and :n per extra
 * part). Refused when Stripe's books hold less than asked, while a dispute is open, or (auto)
 * unless the review window passed on the function's clock with nothing recorded that stops it —
 * judged on the fold of the provider's record ∪ the sent log, never on the sent log alone (without
 * a record, auto-release is refused). The books are read again after the transfers. A dispute's
 * outcome (settlement, deadline outcome, ruling) comes here too and is executed as a split (split.ts).
 */
import type Stripe from 'stripe';
import { releaseAmount } from '../../lib/contract/release';
import type { Minor } from '../../lib/money/minor';
import { milestone, type ContractState } from '../../lib/contract/state';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { DISPUTE_INTENTS } from '../../lib/contract/dispute';
import { disputeHold, executableIntent, overRelease, signReceipt } from '../../lib/escrow/provider-core';
import { payableAccount } from '../accounts';
import { int, META, milestoneBooks, receiptMeta, storedReceipt, transferGroup } from '../books';
import { assertRoom, bindIfNeeded, draw, inFlight, judgeClock, knownIntent, lower, partKey, record, recordedReceipt, recoverInFlight, withContract, type EscrowDeps } from './context';
import { checkAfterWrite } from './guard';
import { split } from './split';
import { releaseWeek, repairHourly } from './hourly';

const TYPES = ['milestone.release', 'milestone.autoRelease'] as const;

export async function release(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	return withContract(d, body, async (o) => {
		const { s } = o;
		// A week's claim (hourly.ts) runs in the contract-wide queue.
		if (s.intents.get(body.event)?.type === 'hourly.release') return releaseWeek(d, body, o);
		// A split on an hourly week has no milestone: repairHourly re-reads the pool (and hands milestone rows on).
		await recoverInFlight(d, o, (row) => repairHourly(d, s.contract, row));
		const prior = await recordedReceipt(o, body.event);
		if (prior) return prior;
		// A dispute's settlement or ruling is a release of part with a refund of the rest: one split.
		if (knownIntent(s, body.event, DISPUTE_INTENTS)) return split(d, o, body.event);
		const known = knownIntent(s, body.event, TYPES);
		const books = known?.milestone ? await milestoneBooks(d.stripe, s.contract, known.milestone) : undefined;
		const mine = books?.transfers.filter((t) => t.metadata[META.intent] === body.event) ?? [];
		const done = mine.filter((t) => t.amount - t.amount_reversed > 0);
		const already = done.reduce((sum, t) => sum + t.amount - t.amount_reversed, 0);
		const stored = done[0] && storedReceipt(done[0].metadata);
		if (stored && already === int(done[0]!.metadata[META.escrow])) return record(d, o, body.event, releasedReceipt(d, s, done, stored));

		const intent = executableIntent(s, body.event, TYPES);
		judgeClock(d, o, intent);
		const m = milestone(s, intent.milestone!)!;
		const b = books ?? (await milestoneBooks(d.stripe, s.contract, m.id));
		const held = b.funded - b.released - b.refunded + already;
		if (held <= 0) throw new EscrowError('unfunded', 'There is no money in escrow for this milestone.');
		const auto = intent.type === 'milestone.autoRelease';
		const total = stored ? int(done[0]!.metadata[META.escrow]) : releaseAmount(intent, held as Minor);
		if (total > held) throw overRelease(s, held, total, 'release');
		// Escrow in an open dispute moves only by the dispute's split (judged on the record, as the mock does).
		disputeHold(s, m.id, auto ? Infinity : total);
		if (b.disputed) throw new EscrowError('not-authorised', 'A chargeback dispute is open on this milestone’s payment; nothing is released until it closes.');
		const account = await payableAccount(d, s.parties.freelancer!);
		await assertRoom(o, intent.id);
		await bindIfNeeded(o);
		// A retry after a partial failure keeps the first attempt's time and link, so its parameters match.
		const r = stored ?? { at: d.now(), prev: o.prev };
		const transfers = [...done];
		await inFlight(o, { op: 'release', intent: intent.id, milestone: m.id, at: d.now() }, async () => {
			for (const [i, part] of draw(b, total - already).entries()) {
				const t = await d.stripe.transfers.create(
					{
						amount: part.amount,
						currency: lower(s.terms!.currency),
						destination: account.id,
						transfer_group: transferGroup(s.contract, m.id),
						source_transaction: part.charge.charge.id,
						metadata: {
							[META.contract]: s.contract,
							[META.milestone]: m.id,
							[META.intent]: intent.id,
							[META.escrow]: String(total),
							[META.auto]: auto ? '1' : '0',
							...receiptMeta(r.at, r.prev)
						}
					},
					{ idempotencyKey: partKey(intent.id, mine.length + i) }
				);
				transfers.push(t);
			}
		});
		const after = await checkAfterWrite(d, s.contract, m.id, 'release', intent.id);
		await o.rec?.noteMoney(m.id, after.funded - after.released - after.refunded, d.now());
		return record(d, o, intent.id, releasedReceipt(d, s, transfers, r));
	});
}

function releasedReceipt(d: EscrowDeps, s: ContractState, transfers: Stripe.Transfer[], r: { at: number; prev: string | null }): Receipt {
	const first = transfers[0]!;
	return signReceipt(d.key, {
		contract: s.contract,
		prev: r.prev,
		dep: first.metadata[META.intent]!,
		at: r.at,
		type: 'receipt.released',
		payload: {
			intent: first.metadata[META.intent]!,
			milestone: first.metadata[META.milestone]!,
			amount: int(first.metadata[META.escrow]),
			currency: s.terms!.currency,
			auto: first.metadata[META.auto] === '1'
		}
	});
}
