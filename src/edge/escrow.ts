/**
 * The operations of the Stripe escrow function: separate charges and transfers.
 *   fund     → a PaymentIntent on the platform (escrow + fee), transfer_group = contract:milestone
 *   release  → Transfer(s) to the freelancer's connected account, source_transaction = the charge
 *   refund   → Refund(s) of escrow still held on the platform
 *   withdraw → a Payout on the freelancer's connected account
 *   attest   → the provider records an event (countersign, submission, change request, refund
 *              request or answer, end) with a signed timestamp, in the contract's record
 * Each one folds the provider's record of the contract together with the log it is sent (the rules
 * are the mock's, provider-core), runs in the milestone's queue, checks Stripe's own books
 * (books.ts), and is idempotent per intent: the record serves the receipt it issued, the outbox and
 * Stripe metadata find what an intent created, and Stripe's idempotency key is the intent id.
 */
export type { EscrowDeps } from './ops/context';
export { fund } from './ops/fund';
export { release } from './ops/release';
export { refund } from './ops/refund';
export { withdraw } from './ops/withdraw';
export { attest } from './ops/attest';
