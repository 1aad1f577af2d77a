/**
 * refund → Refund(s) of escrow still held on the platform, idempotency key = the intent id.
 * A refund of an unanswered request is judged on the fold of the provider's record ∪ the sent log
 * and the function's clock (without a record it is refused). The books are read again afterwards.
 * A week's unused escrow (hourly.reclaim) is hourly.ts's.
 */
import type Stripe from 'stripe';
import { milestone, type ContractState } from '../../lib/contract/state';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { executableIntent, overRelease, signReceipt } from '../../lib/escrow/provider-core';
import { int, META, milestoneBooks, receiptMeta, storedReceipt } from '../books';
import { assertRoom, bindIfNeeded, draw, inFlight, judgeClock, knownIntent, partKey, record, recordedReceipt, recoverInFlight, withContract, type EscrowDeps } from './context';
import { checkAfterWrite, repairInFlight } from './guard';
import { reclaimWeek } from './hourly';

const LIVE = new Set(['succeeded', 'pending', 'requires_action']);

export async function refund(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	return withContract(d, body, async (o) => {
		const { s } = o;
		if (s.intents.get(body.event)?.type === 'hourly.reclaim') return reclaimWeek(d, body, o);
		await recoverInFlight(d, o, (row) => repairInFlight(d, s.contract, row));
		const prior = await recordedReceipt(o, body.event);
		if (prior) return prior;
		const known = knownIntent(s, body.event, ['milestone.refund']);
		const books = known?.milestone ? await milestoneBooks(d.stripe, s.contract, known.milestone) : undefined;
		const mine = books?.charges.flatMap((c) => c.refunds.filter((r) => r.metadata?.[META.intent] === body.event)) ?? [];
		const done = mine.filter((r) => LIVE.has(r.status ?? ''));
		const already = done.reduce((sum, r) => sum + r.amount, 0);
		const stored = done[0] && storedReceipt(done[0].metadata ?? {});
		const total = done[0] ? int(done[0].metadata?.[META.escrow]) : 0;
		if (stored && already === total) return record(d, o, body.event, refundedReceipt(d, s, done[0]!, stored));

		const intent = executableIntent(s, body.event, ['milestone.refund']);
		judgeClock(d, o, intent);
		const m = milestone(s, intent.milestone!)!;
		const b = books ?? (await milestoneBooks(d.stripe, s.contract, m.id));
		const held = b.funded - b.released - b.refunded + already;
		if (held <= 0) throw new EscrowError('unfunded', 'There is no money in escrow for this milestone.');
		if (intent.amount! > held) throw overRelease(s, held, intent.amount!, 'refund');
		await assertRoom(o, intent.id);
		await bindIfNeeded(o);
		const r = stored ?? { at: d.now(), prev: o.prev };
		// Released money has left the platform; a refund draws only on what is still held here, so
		// no transfer reversal is needed while the rules refund held escrow only.
		let first: Stripe.Refund | undefined = done[0];
		await inFlight(o, { op: 'refund', intent: intent.id, milestone: m.id, at: d.now() }, async () => {
			for (const [i, part] of draw(b, intent.amount! - already).entries()) {
				const created = await d.stripe.refunds.create(
					{
						charge: part.charge.charge.id,
						amount: part.amount,
						metadata: {
							[META.contract]: s.contract,
							[META.milestone]: m.id,
							[META.intent]: intent.id,
							[META.escrow]: String(intent.amount!),
							...receiptMeta(r.at, r.prev)
						}
					},
					{ idempotencyKey: partKey(intent.id, mine.length + i) }
				);
				first ??= created;
			}
		});
		const after = await checkAfterWrite(d, s.contract, m.id, 'refund', intent.id);
		await o.rec?.noteMoney(m.id, after.funded - after.released - after.refunded, d.now());
		return record(d, o, intent.id, refundedReceipt(d, s, first!, r));
	});
}

function refundedReceipt(d: EscrowDeps, s: ContractState, first: Stripe.Refund, r: { at: number; prev: string | null }): Receipt {
	const meta = first.metadata ?? {};
	return signReceipt(d.key, {
		contract: s.contract,
		prev: r.prev,
		dep: meta[META.intent]!,
		at: r.at,
		type: 'receipt.refunded',
		payload: { intent: meta[META.intent]!, milestone: meta[META.milestone]!, amount: int(meta[META.escrow]), currency: s.terms!.currency }
	});
}
