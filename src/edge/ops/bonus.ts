/**
 * bonus.paid (either kind of contract) → a PaymentIntent for the bonus + fee (transfer group
 * `<contract>:_bonus`), then, once it succeeded, one Transfer of the bonus to the freelancer's
 * connected account from that charge. A bonus skips the review window: it waits only the security
 * period, counted from its receipt's time (stored on both objects, so withdraw matures it the same
 * way). The account is checked before the client is charged; the receipt is issued only after the
 * transfer, and a retry finds the PaymentIntent and the transfer in Stripe before creating either.
 */
import type Stripe from 'stripe';
import type { ContractState } from '../../lib/contract/state';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { executableIntent, quoted, signReceipt } from '../../lib/escrow/provider-core';
import { quoteFunding, type FundingMethod } from '../../lib/money/fees';
import { payableAccount } from '../accounts';
import { bonusGroup, fundingIntentIn, groupBooks, int, META, receiptMeta, storedReceipt } from '../books';
import { assertRoom, bindIfNeeded, inFlight, lower, record, recordedReceipt, type EscrowDeps, type Opened } from './context';
import { chargeEscrow, processing, unpaid } from './fund';

export async function payBonus(d: EscrowDeps, body: EscrowRequestBody, o: Opened): Promise<Receipt> {
	const { s } = o;
	const prior = await recordedReceipt(o, body.event);
	if (prior) return prior;
	const group = bonusGroup(s.contract);
	let pi = await fundingIntentIn(d.stripe, s.contract, group, body.event, await o.rec?.stripeObject(body.event));
	if (pi?.status === 'processing') throw processing(s, pi);
	if (pi?.status !== 'succeeded') {
		const intent = executableIntent(s, body.event, ['bonus.paid']);
		const currency = s.terms!.currency;
		const method = intent.method as FundingMethod;
		const q = quoted(() => quoteFunding(intent.amount!, method, currency, d.now()));
		// Nowhere to send it: refuse before the client is charged.
		await payableAccount(d, s.parties.freelancer!);
		await assertRoom(o, intent.id);
		await bindIfNeeded(o);
		pi = await chargeEscrow(d, o, body, pi, {
			row: { op: 'fund', intent: intent.id, at: d.now() },
			total: q.total,
			currency,
			method,
			group,
			description: 'Bonus',
			metadata: { [META.contract]: s.contract, [META.escrow]: String(intent.amount!), [META.fee]: String(q.fee) }
		});
		if (pi.status !== 'succeeded') throw unpaid(s, pi);
	}
	return paid(d, o, pi);
}

/** The charge succeeded: its transfer (once), then the receipt. */
async function paid(d: EscrowDeps, o: Opened, pi: Stripe.PaymentIntent): Promise<Receipt> {
	const { s } = o;
	const intent = pi.metadata[META.intent]!;
	let stored = storedReceipt(pi.metadata);
	if (!stored) {
		stored = { at: d.now(), prev: o.prev };
		await d.stripe.paymentIntents.update(pi.id, { metadata: receiptMeta(stored.at, stored.prev) });
	}
	const books = await groupBooks(d.stripe, s.contract, bonusGroup(s.contract));
	const amount = int(pi.metadata[META.escrow]);
	if (!books.transfers.some((t) => t.metadata[META.intent] === intent && t.amount - t.amount_reversed > 0)) {
		const charge = books.charges.find((c) => c.intent.id === pi.id);
		if (!charge) throw new EscrowError('unavailable', 'Stripe has not shown the bonus payment’s charge yet; ask again in a moment (it will not be charged twice).');
		if (books.disputed) throw new EscrowError('not-authorised', 'A chargeback dispute is open on this bonus payment; it is paid when the dispute closes.');
		const account = await payableAccount(d, s.parties.freelancer!);
		await inFlight(o, { op: 'release', intent, at: d.now() }, () =>
			d.stripe.transfers.create(
				{
					amount,
					currency: lower(s.terms!.currency),
					destination: account.id,
					transfer_group: bonusGroup(s.contract),
					source_transaction: charge.charge.id,
					metadata: { [META.contract]: s.contract, [META.intent]: intent, [META.escrow]: String(amount), ...receiptMeta(stored.at, stored.prev) }
				},
				{ idempotencyKey: `${intent}:transfer` }
			)
		);
	}
	await o.rec?.noteMoney(undefined, undefined, d.now());
	return record(d, o, intent, bonusReceipt(d, s, pi, stored));
}

function bonusReceipt(d: EscrowDeps, s: ContractState, pi: Stripe.PaymentIntent, r: { at: number; prev: string | null }): Receipt {
	const intent = pi.metadata[META.intent]!;
	return signReceipt(d.key, {
		contract: s.contract,
		prev: r.prev,
		dep: intent,
		at: r.at,
		type: 'receipt.bonusPaid',
		payload: { intent, amount: int(pi.metadata[META.escrow]), fee: int(pi.metadata[META.fee]), currency: s.terms!.currency, method: pi.metadata[META.method] as FundingMethod }
	});
}
