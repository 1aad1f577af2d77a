/**
 * attest → a signed timestamp on the function's clock for a submission or a refund request, also
 * recorded in the milestone's PaymentIntent metadata, so Stripe holds when the review clock started
 * and a retry gets the same receipt.
 */
import type { Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { attestationKind, attestedMilestone, signReceipt } from '../../lib/escrow/provider-core';
import { milestoneBooks } from '../books';
import { open, type EscrowDeps } from './context';

/**
 * Metadata key for one attestation on the milestone's PaymentIntent (Stripe keys: ≤ 40 characters).
 * Change requests get their own prefix: auto-release reads them from Stripe, not from the log.
 */
export const attestKey = (event: string, kind: string): string => `${kind === 'change-request' ? 'chg' : 'att'}_${event.slice(0, 36)}`;
/** Stripe allows 50 metadata keys; leave room for the function's own. */
const MAX_ATTESTATIONS_KEYS = 45;

export async function attest(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	const { s, prev } = await open(d, body);
	const kind = attestationKind(s, body.event);
	const milestoneId = attestedMilestone(s, body.event);
	const books = await milestoneBooks(d.stripe, s.contract, milestoneId);
	// Recorded on the newest funding PaymentIntent, so Stripe holds the review clock's start too.
	const pi = books.charges.map((c) => c.intent).sort((a, b) => b.created - a.created)[0];
	const recorded = pi?.metadata[attestKey(body.event, kind)]?.match(/^(\d{1,16}):([A-Za-z0-9_-]{43})?$/);
	let at: number;
	let link: string | null;
	if (recorded) {
		at = Number(recorded[1]);
		link = recorded[2] ?? null;
	} else {
		at = d.now();
		link = prev;
		if (pi && Object.keys(pi.metadata).length < MAX_ATTESTATIONS_KEYS)
			await d.stripe.paymentIntents.update(pi.id, { metadata: { [attestKey(body.event, kind)]: `${at}:${link ?? ''}` } });
	}
	return signReceipt(d.key, { contract: s.contract, prev: link, dep: body.event, at, type: 'receipt.attested', payload: { event: body.event, kind } });
}
