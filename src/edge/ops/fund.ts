/**
 * fund → a PaymentIntent on the platform for escrow + fee, transfer_group = contract:milestone,
 * idempotency key = the intent id, confirmed with the browser's PaymentMethod. The receipt's time
 * and chain link are stored on the PaymentIntent when its success is first seen.
 */
import type Stripe from 'stripe';
import { milestone, type ContractState } from '../../lib/contract/state';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { executableIntent, quoted, signReceipt } from '../../lib/escrow/provider-core';
import type { CurrencyCode } from '../../lib/money/currency';
import { quoteFunding, type FundingMethod } from '../../lib/money/fees';
import { int, META, milestoneBooks, receiptMeta, storedReceipt, transferGroup } from '../books';
import { PaymentRequired } from '../failures';
import { knownIntent, lower, open, type EscrowDeps } from './context';

/** Stripe payment method types per funding method; bank debits exist only in some currencies. */
function paymentMethodTypes(method: FundingMethod, currency: CurrencyCode): string[] {
	if (method === 'card') return ['card'];
	if (method === 'paypal') return ['paypal'];
	const debit: Partial<Record<CurrencyCode, string>> = { USD: 'us_bank_account', EUR: 'sepa_debit', GBP: 'bacs_debit', CAD: 'acss_debit', AUD: 'au_becs_debit' };
	const type = debit[currency];
	if (!type) throw new EscrowError('invalid-request', `Bank debit is not available for ${currency} with Stripe; pay by card.`);
	return [type];
}


export async function fund(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	const { s, prev } = await open(d, body);
	const known = knownIntent(s, body.event, ['milestone.fund']);
	if (known?.milestone) {
		const books = await milestoneBooks(d.stripe, s.contract, known.milestone);
		const prior = books.charges.find((c) => c.intent.metadata[META.intent] === body.event);
		if (prior) return fundedReceipt(d, s, prior.intent, prev);
	}
	const intent = executableIntent(s, body.event, ['milestone.fund']);
	const m = milestone(s, intent.milestone!)!;
	const currency = s.terms!.currency;
	const method = intent.method as FundingMethod;
	const q = quoted(() => quoteFunding(intent.amount!, method, currency, d.now()));
	const books = await milestoneBooks(d.stripe, s.contract, m.id);
	// Stripe's books, not only the log: never hold more than the milestone is worth.
	if (books.funded - books.refunded + intent.amount! > m.amount) throw new EscrowError('already-settled', 'This milestone is already funded.');
	let pi = await d.stripe.paymentIntents.create(
		{
			amount: q.total,
			currency: lower(currency),
			allowed_payment_method_types: paymentMethodTypes(method, currency),
			transfer_group: transferGroup(s.contract, m.id),
			description: `Escrow for milestone "${m.title}"`,
			metadata: {
				[META.contract]: s.contract,
				[META.milestone]: m.id,
				[META.intent]: intent.id,
				[META.escrow]: String(intent.amount!),
				[META.fee]: String(q.fee),
				[META.method]: method
			}
		},
		{ idempotencyKey: intent.id }
	);
	// A declined attempt leaves the PaymentIntent waiting for another payment method: confirm again.
	if (body.paymentMethod && (pi.status === 'requires_payment_method' || pi.status === 'requires_confirmation'))
		pi = await d.stripe.paymentIntents.confirm(pi.id, { payment_method: body.paymentMethod });
	if (pi.status === 'succeeded') return fundedReceipt(d, s, pi, prev);
	if (pi.status === 'processing')
		throw new EscrowError('unavailable', 'The payment is processing (bank debits take a few days). Ask again once it has cleared.');
	if (pi.status === 'canceled') throw new EscrowError('declined', 'The payment was canceled.');
	throw new PaymentRequired('The payment needs the client to complete it in the browser.', pi.client_secret ?? '');
}

async function fundedReceipt(d: EscrowDeps, s: ContractState, pi: Stripe.PaymentIntent, prev: string | null): Promise<Receipt> {
	let stored = storedReceipt(pi.metadata);
	if (!stored) {
		// First time this success is seen: fix the receipt's time and link on the PaymentIntent.
		stored = { at: d.now(), prev };
		await d.stripe.paymentIntents.update(pi.id, { metadata: receiptMeta(stored.at, stored.prev) });
	}
	const method = pi.metadata[META.method] as FundingMethod;
	const amount = int(pi.metadata[META.escrow]);
	const currency = s.terms!.currency;
	const clearsAt = quoteFunding(amount, method, currency, stored.at).availableAt;
	return signReceipt(d.key, {
		contract: s.contract,
		prev: stored.prev,
		dep: pi.metadata[META.intent]!,
		at: stored.at,
		type: 'receipt.funded',
		payload: { intent: pi.metadata[META.intent]!, milestone: pi.metadata[META.milestone]!, amount, fee: int(pi.metadata[META.fee]), currency, method, clearsAt }
	});
}
