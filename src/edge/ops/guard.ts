/**
 * The books are read again after every release and refund. One operation per milestone at a time
 * (the record's queue) is what keeps two operations from both spending the same escrow; this is the
 * backstop for when that failed (two isolates without a shared store, an object that was reset in
 * the middle of a Stripe call): if more left the milestone than came in, the operation that finds
 * it undoes its own part — a transfer is reversed, a refund cancelled while Stripe still allows it
 * — and no receipt is issued for it.
 */
import type Stripe from 'stripe';
import { EscrowError } from '../../lib/escrow/adapter';
import { excessOf, META, milestoneBooks, type MilestoneBooks } from '../books';
import type { EscrowDeps } from './context';
import type { InFlight } from '../store';

export interface Undo {
	books: MilestoneBooks;
	/** What was over-paid when the books were read again (0: nothing). */
	excess: number;
	/** Whether this intent's part was undone. */
	undone: boolean;
}

const CANCELLABLE = new Set(['pending', 'requires_action']);

/** Read the milestone's books; if it over-paid, undo what `intent` moved. */
export async function undoOverpayment(d: EscrowDeps, contract: string, milestone: string, op: 'release' | 'refund', intent: string): Promise<Undo> {
	const books = await milestoneBooks(d.stripe, contract, milestone);
	const excess = excessOf(books);
	if (excess <= 0) return { books, excess: 0, undone: false };
	d.log?.(`over-payment of ${excess} found after a ${op}: undoing it`);
	if (op === 'release') {
		let undone = false;
		for (const t of books.transfers) {
			const live = t.amount - t.amount_reversed;
			if (t.metadata[META.intent] !== intent || live <= 0) continue;
			await d.stripe.transfers.createReversal(t.id, { amount: live, metadata: { [META.intent]: intent, reason: 'over-payment' } }, { idempotencyKey: `reverse:${t.id}:${t.amount_reversed}` });
			undone = true;
		}
		return { books, excess, undone };
	}
	let undone = false;
	let stuck = false;
	for (const c of books.charges)
		for (const r of c.refunds as Stripe.Refund[]) {
			if (r.metadata?.[META.intent] !== intent || r.status === 'canceled' || r.status === 'failed') continue;
			if (CANCELLABLE.has(r.status ?? '')) {
				await d.stripe.refunds.cancel(r.id);
				undone = true;
			} else stuck = true;
		}
	if (stuck) d.log?.('over-payment could not be undone: a refund had already gone through');
	return { books, excess, undone: undone && !stuck };
}

/** After this operation's own write: refuse (and undo) it if the milestone paid out more than it holds. */
export async function checkAfterWrite(d: EscrowDeps, contract: string, milestone: string, op: 'release' | 'refund', intent: string): Promise<MilestoneBooks> {
	const u = await undoOverpayment(d, contract, milestone, op, intent);
	if (u.excess <= 0) return u.books;
	if (u.undone)
		throw new EscrowError('over-release', `Another operation took this milestone's escrow at the same time; this ${op} was undone and nothing was paid.`);
	throw new EscrowError(
		'unavailable',
		`Stripe shows ${u.excess} more paid out of this milestone than was funded, and this ${op} could not be undone; it is held for the operator to review. Nothing else was changed.`
	);
}

/**
 * A row left by an operation that never finished: the books are read again, and if that operation
 * over-paid the milestone, its part is undone. (A fund needs nothing here: its intent is looked up
 * in Stripe before anything is created.)
 */
export async function repairInFlight(d: EscrowDeps, contract: string, row: InFlight): Promise<void> {
	if ((row.op === 'release' || row.op === 'refund') && row.milestone) await undoOverpayment(d, contract, row.milestone, row.op, row.intent);
}
