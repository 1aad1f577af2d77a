/**
 * The money operations of the Stripe escrow function: separate charges and transfers.
 *   fund     → a PaymentIntent on the platform (escrow + fee), transfer_group = contract:milestone
 *   release  → Transfer(s) to the freelancer's connected account, source_transaction = the charge
 *   refund   → Refund(s) of escrow still held on the platform
 *   withdraw → a Payout on the freelancer's connected account
 *   attest   → a signed timestamp, recorded on the milestone's PaymentIntent metadata
 * Each one checks the intent with the same rules as the mock (provider-core), checks Stripe's own
 * books (books.ts), and is idempotent per intent: Stripe idempotency key = intent id, and the
 * receipt's time and chain link are stored on the Stripe object so a retry gets the same receipt.
 */
export type { EscrowDeps } from './ops/context';
export { fund } from './ops/fund';
export { release } from './ops/release';
export { refund } from './ops/refund';
export { withdraw } from './ops/withdraw';
export { attest } from './ops/attest';
