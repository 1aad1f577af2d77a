/**
 * release and auto-release → Transfer(s) to the freelancer's connected account with
 * source_transaction = the funding charge(s), idempotency key = the intent id (and :n per extra
 * part). Refused when Stripe's books hold less than asked, while a dispute is open, or (auto)
 * before the review window has passed on the function's clock.
 */
import type Stripe from 'stripe';
import { reviewDeadline } from '../../lib/contract/clocks';
import { milestone, type ContractState } from '../../lib/contract/state';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { executableIntent, signReceipt } from '../../lib/escrow/provider-core';
import { payableAccount } from '../accounts';
import { int, META, milestoneBooks, receiptMeta, storedReceipt, transferGroup } from '../books';
import { draw, knownIntent, lower, open, partKey, type EscrowDeps } from './context';

export async function release(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	const { s, prev } = await open(d, body);
	const types = ['milestone.release', 'milestone.autoRelease'] as const;
	const known = knownIntent(s, body.event, types);
	const books = known?.milestone ? await milestoneBooks(d.stripe, s.contract, known.milestone) : undefined;
	const done = books?.transfers.filter((t) => t.metadata[META.intent] === body.event) ?? [];
	const stored = done[0] && storedReceipt(done[0].metadata);
	if (stored && done.reduce((sum, t) => sum + t.amount, 0) === int(done[0]!.metadata[META.escrow])) return releasedReceipt(d, s, done, stored);

	const intent = executableIntent(s, body.event, types);
	const m = milestone(s, intent.milestone!)!;
	const b = books ?? (await milestoneBooks(d.stripe, s.contract, m.id));
	const already = done.reduce((sum, t) => sum + t.amount, 0);
	const held = b.funded - b.released - b.refunded + already;
	if (held <= 0) throw new EscrowError('unfunded', 'There is no money in escrow for this milestone.');
	const auto = intent.type === 'milestone.autoRelease';
	const total = stored ? int(done[0]!.metadata[META.escrow]) : auto ? held : intent.amount!;
	if (total > held) throw new EscrowError('over-release', `Escrow holds ${held}; the release asks for ${total}.`);
	if (auto) {
		const deadline = reviewDeadline(s, m);
		if (!m.reviewOpen || deadline === undefined) throw new EscrowError('not-authorised', 'The client acted on the submission.');
		if (d.now() < deadline) throw new EscrowError('too-early', `The review window ends ${new Date(deadline).toISOString()}.`);
		// Stripe's own record, not the log: a freelancer's device could leave the client's change request out.
		const since = m.submission!.attestedAt!;
		const changedLater = b.charges.some((c) => Object.entries(c.intent.metadata ?? {}).some(([k, v]) => k.startsWith('chg_') && Number(String(v).split(':')[0]) > since));
		if (changedLater) throw new EscrowError('not-authorised', 'The client requested changes after this submission.');
	}
	if (b.disputed) throw new EscrowError('not-authorised', 'A chargeback dispute is open on this milestone’s payment; nothing is released until it closes.');
	const account = await payableAccount(d.stripe, s.parties.freelancer!);
	// A retry after a partial failure keeps the first attempt's time and link, so its parameters match.
	const r = stored ?? { at: d.now(), prev };
	const transfers = [...done];
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
			{ idempotencyKey: partKey(intent.id, done.length + i) }
		);
		transfers.push(t);
	}
	return releasedReceipt(d, s, transfers, r);
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
