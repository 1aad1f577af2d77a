/**
 * Stripe webhooks. They touch no record (store.ts), so deduplication and ordering come from the
 * way events are handled, not from a table of seen ids:
 *  - the payload is only a hint: each handler re-reads the live object from Stripe and writes what
 *    the *current* state implies (a dispute.closed that arrives before its dispute.created reads
 *    the closed dispute and leaves the flag off; the late created event then reads it closed too);
 *  - every write is "set metadata to X", skipped when it already is X: a duplicate delivery (same
 *    event id) finds nothing to change and answers `applied: false`.
 * Events whose objects Stripe already keeps as the source of truth (transfers, refunds, account
 * status, payment outcomes) need no write at all: the function reads them live on every request.
 */
import type Stripe from 'stripe';
import { EscrowError } from '../lib/escrow/adapter';
import { META } from './books';

/** Stripe's default: a signed payload older than 5 minutes is refused (replay protection). */
export const WEBHOOK_TOLERANCE_S = 300;

export const HANDLED = [
	'payment_intent.succeeded',
	'payment_intent.payment_failed',
	'charge.refunded',
	'transfer.created',
	'transfer.reversed',
	'charge.dispute.created',
	'charge.dispute.closed',
	'account.updated'
] as const;

export interface WebhookResult {
	id: string;
	type: string;
	/** Whether this delivery changed anything in Stripe (false for a duplicate or a read-only event). */
	applied: boolean;
}

export async function handleWebhook(
	stripe: Stripe,
	secret: string,
	payload: string,
	signature: string | null,
	nowMs: number,
	crypto: Parameters<Stripe['webhooks']['constructEventAsync']>[4]
): Promise<WebhookResult> {
	if (!signature) throw new EscrowError('not-authorised', 'Missing Stripe-Signature header.');
	let event: Stripe.Event;
	try {
		event = await stripe.webhooks.constructEventAsync(payload, signature, secret, WEBHOOK_TOLERANCE_S, crypto, nowMs);
	} catch {
		// Never echo the verification detail: it can include the expected signature.
		throw new EscrowError('not-authorised', 'The webhook signature or its timestamp did not verify.');
	}
	const applied = await apply(stripe, event);
	return { id: event.id, type: event.type, applied };
}

async function apply(stripe: Stripe, event: Stripe.Event): Promise<boolean> {
	switch (event.type) {
		case 'charge.dispute.created':
		case 'charge.dispute.closed':
			return syncDispute(stripe, event.data.object.id);
		default:
			return false;
	}
}

/** Disputes that still hold the money: release waits while one is open. */
const OPEN_DISPUTE = new Set(['warning_needs_response', 'warning_under_review', 'needs_response', 'under_review']);

/** Mirror the live dispute state onto the escrow PaymentIntent's `disputed` flag. */
async function syncDispute(stripe: Stripe, disputeId: string): Promise<boolean> {
	const dispute = await stripe.disputes.retrieve(disputeId);
	const piId = typeof dispute.payment_intent === 'string' ? dispute.payment_intent : dispute.payment_intent?.id;
	if (!piId) return false;
	const pi = await stripe.paymentIntents.retrieve(piId);
	if (!pi.metadata[META.contract]) return false; // not an escrow payment of this function
	const want = OPEN_DISPUTE.has(dispute.status) ? '1' : '0';
	if ((pi.metadata[META.disputed] ?? '0') === want) return false;
	await stripe.paymentIntents.update(pi.id, { metadata: { [META.disputed]: want } });
	return true;
}
