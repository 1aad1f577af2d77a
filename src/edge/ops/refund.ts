/**
 * refund → Refund(s) of escrow still held on the platform, idempotency key = the intent id.
 */
import type Stripe from 'stripe';
import { refundAnswerDeadline } from '../../lib/contract/clocks';
import { milestone, type ContractState } from '../../lib/contract/state';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { executableIntent, signReceipt } from '../../lib/escrow/provider-core';
import { int, META, milestoneBooks, receiptMeta, storedReceipt } from '../books';
import { draw, knownIntent, open, partKey, type EscrowDeps } from './context';

export async function refund(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	const { s, prev } = await open(d, body);
	const known = knownIntent(s, body.event, ['milestone.refund']);
	const books = known?.milestone ? await milestoneBooks(d.stripe, s.contract, known.milestone) : undefined;
	const done = books?.charges.flatMap((c) => c.refunds.filter((r) => r.metadata?.[META.intent] === body.event)) ?? [];
	const stored = done[0] && storedReceipt(done[0].metadata ?? {});
	const total = done[0] ? int(done[0].metadata?.[META.escrow]) : 0;
	if (stored && done.reduce((sum, r) => sum + r.amount, 0) === total) return refundedReceipt(d, s, done[0]!, stored);

	const intent = executableIntent(s, body.event, ['milestone.refund']);
	const m = milestone(s, intent.milestone!)!;
	const b = books ?? (await milestoneBooks(d.stripe, s.contract, m.id));
	const already = done.reduce((sum, r) => sum + r.amount, 0);
	const held = b.funded - b.released - b.refunded + already;
	if (held <= 0) throw new EscrowError('unfunded', 'There is no money in escrow for this milestone.');
	if (intent.amount! > held) throw new EscrowError('over-release', `Escrow holds ${held}; the refund asks for ${intent.amount}.`);
	if (intent.refund?.basis === 'unanswered-request') {
		const deadline = refundAnswerDeadline(s, s.refundRequests.get(intent.refund.request!)!)!;
		if (d.now() < deadline) throw new EscrowError('too-early', `The freelancer can answer until ${new Date(deadline).toISOString()}.`);
	}
	const r = stored ?? { at: d.now(), prev };
	// Released money has left the platform; a refund draws only on what is still held here, so
	// no transfer reversal is needed while the rules refund held escrow only.
	let first: Stripe.Refund | undefined = done[0];
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
			{ idempotencyKey: partKey(intent.id, done.length + i) }
		);
		first ??= created;
	}
	return refundedReceipt(d, s, first!, r);
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
