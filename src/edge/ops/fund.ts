/**
 * fund → a PaymentIntent on the platform for escrow + fee, transfer_group = contract:milestone,
 * idempotency key = the intent id, confirmed with the browser's PaymentMethod. A week's escrow
 * (hourly.ts) and a bonus (bonus.ts) are funded the same way, in their own transfer groups.
 *
 * Before anything is created the intent is looked up: in the record (its receipt is served again),
 * in the outbox (the PaymentIntent it created) and in the milestone's charges. Stripe forgets
 * idempotency keys after about a day, and a bank debit stays `processing` for days: a retry of a
 * processing debit answers 'processing' with the expected date (never "nothing was charged"), and a
 * retry once it succeeded gets the receipt — never a second PaymentIntent.
 */
import type Stripe from 'stripe';
import { milestone, type ContractState } from '../../lib/contract/state';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { executableIntent, quoted, signReceipt } from '../../lib/escrow/provider-core';
import type { CurrencyCode } from '../../lib/money/currency';
import { DAY_MS, quoteFunding, type FundingMethod } from '../../lib/money/fees';
import { fundingIntentOf, int, META, milestoneBooks, receiptMeta, storedReceipt, transferGroup } from '../books';
import { PaymentRequired } from '../failures';
import { payBonus } from './bonus';
import { repairInFlight } from './guard';
import { fundWeek } from './hourly';
import type { InFlight } from '../store';
import { assertRoom, bindIfNeeded, inFlight, knownIntent, lower, record, recordedReceipt, recoverInFlight, withContract, type EscrowDeps, type Opened } from './context';

/** Stripe payment method types per funding method; bank debits exist only in some currencies. */
export function paymentMethodTypes(method: FundingMethod, currency: CurrencyCode): string[] {
	if (method === 'card') return ['card'];
	if (method === 'paypal') return ['paypal'];
	const debit: Partial<Record<CurrencyCode, string>> = { USD: 'us_bank_account', EUR: 'sepa_debit', GBP: 'bacs_debit', CAD: 'acss_debit', AUD: 'au_becs_debit' };
	const type = debit[currency];
	if (!type) throw new EscrowError('invalid-request', `Bank debit is not available for ${currency} with Stripe; pay by card.`);
	return [type];
}

export async function fund(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	return withContract(d, body, async (o) => {
		const { s } = o;
		// A week's escrow and a bonus run in the contract-wide queue (their payloads name no milestone).
		const type = s.intents.get(body.event)?.type;
		if (type === 'hourly.fund') return fundWeek(d, body, o);
		if (type === 'bonus.paid') return payBonus(d, body, o);
		// A fund that never finished: the lookup below reads Stripe again before anything is created.
		await recoverInFlight(d, o, (row) => repairInFlight(d, s.contract, row));
		const prior = await recordedReceipt(o, body.event);
		if (prior) return prior;
		const known = knownIntent(s, body.event, ['milestone.fund']);
		let pi = known?.milestone ? await fundingIntentOf(d.stripe, s.contract, known.milestone, body.event, await o.rec?.stripeObject(body.event)) : undefined;
		if (pi?.status === 'succeeded') return funded(d, o, pi);
		if (pi?.status === 'processing') throw processing(s, pi);

		const intent = executableIntent(s, body.event, ['milestone.fund']);
		const m = milestone(s, intent.milestone!)!;
		const currency = s.terms!.currency;
		const method = intent.method as FundingMethod;
		const q = quoted(() => quoteFunding(intent.amount!, method, currency, d.now()));
		const books = await milestoneBooks(d.stripe, s.contract, m.id);
		// Stripe's books, not only the log: never hold more than the milestone is worth.
		if (books.funded - books.refunded + intent.amount! > m.amount) throw new EscrowError('already-settled', 'This milestone is already funded.');
		await assertRoom(o, intent.id);
		await bindIfNeeded(o);
		pi = await chargeEscrow(d, o, body, pi, {
			row: { op: 'fund', intent: intent.id, milestone: m.id, at: d.now() },
			total: q.total,
			currency,
			method,
			group: transferGroup(s.contract, m.id),
			description: `Escrow for milestone "${m.title}"`,
			metadata: { [META.contract]: s.contract, [META.milestone]: m.id, [META.escrow]: String(intent.amount!), [META.fee]: String(q.fee) }
		});
		if (pi.status === 'succeeded') return funded(d, o, pi);
		throw unpaid(s, pi);
	});
}

/** What a charge needs besides its intent: the in-flight row, amounts, where it goes and its metadata. */
export interface EscrowCharge {
	row: InFlight;
	total: number;
	currency: CurrencyCode;
	method: FundingMethod;
	group: string;
	description: string;
	metadata: Record<string, string>;
}

/**
 * The PaymentIntent for an escrow charge (a milestone, a week, a bonus): created once, idempotent on
 * the intent id, inside its in-flight row, and confirmed with the browser's PaymentMethod.
 */
export async function chargeEscrow(d: EscrowDeps, o: Opened, body: EscrowRequestBody, existing: Stripe.PaymentIntent | undefined, c: EscrowCharge): Promise<Stripe.PaymentIntent> {
	const intent = c.row.intent;
	return inFlight(o, c.row, async () => {
		let p =
			existing ??
			(await d.stripe.paymentIntents.create(
				{
					amount: c.total,
					currency: lower(c.currency),
					allowed_payment_method_types: paymentMethodTypes(c.method, c.currency),
					transfer_group: c.group,
					description: c.description,
					metadata: { ...c.metadata, [META.intent]: intent, [META.method]: c.method }
				},
				{ idempotencyKey: intent }
			));
		await o.rec?.noteStripeObject(intent, p.id);
		// A declined attempt leaves the PaymentIntent waiting for another payment method: confirm again.
		if (body.paymentMethod && (p.status === 'requires_payment_method' || p.status === 'requires_confirmation'))
			p = await d.stripe.paymentIntents.confirm(p.id, { payment_method: body.paymentMethod });
		return p;
	});
}

/** Why a charge that has not succeeded gives no receipt yet: processing (with its date), canceled, or waiting for the browser. */
export function unpaid(s: ContractState, pi: Stripe.PaymentIntent): Error {
	if (pi.status === 'processing') return processing(s, pi);
	if (pi.status === 'canceled') return new EscrowError('declined', 'The payment was canceled.');
	return new PaymentRequired('The payment needs the client to complete it in the browser.', pi.client_secret ?? '');
}

/** A bank debit under way: when it is expected to clear, on the function's clock. */
export function processing(s: ContractState, pi: Stripe.PaymentIntent): EscrowError {
	const method = (pi.metadata[META.method] ?? 'bank_transfer') as FundingMethod;
	let expectedAt = pi.created * 1000 + 4 * DAY_MS;
	try {
		expectedAt = quoteFunding(int(pi.metadata[META.escrow]), method, s.terms!.currency, pi.created * 1000).availableAt;
	} catch {
		// an unquotable amount: keep the typical bank-debit time
	}
	return new EscrowError(
		'processing',
		`The payment is processing (bank debits take a few days); it should clear by ${new Date(expectedAt).toISOString()}. Ask again with the same intent then: it will not be charged twice.`,
		{ expectedAt }
	);
}

async function funded(d: EscrowDeps, o: Opened, pi: Stripe.PaymentIntent): Promise<Receipt> {
	const receipt = await fundedReceipt(d, o.s, pi, o.prev);
	if (o.rec) {
		const books = await milestoneBooks(d.stripe, o.s.contract, pi.metadata[META.milestone]!);
		await o.rec.noteMoney(pi.metadata[META.milestone], books.funded - books.released - books.refunded, d.now());
	}
	return record(d, o, pi.metadata[META.intent]!, receipt);
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
