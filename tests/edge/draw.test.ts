/**
 * `draw` splits a release or refund across the charges that still hold money: richest first, never
 * more than a charge holds, and a refusal that names whose books were short.
 */
import { describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import type { EscrowCharge, MilestoneBooks } from '../../src/edge/books';
import { draw } from '../../src/edge/ops/context';

const charge = (id: string, escrow: number, refunded = 0): EscrowCharge =>
	({ charge: { id } as Stripe.Charge, intent: { id: `pi_${id}` } as Stripe.PaymentIntent, escrow, refunds: [], refunded }) as EscrowCharge;
const transfer = (source: string, amount: number): Stripe.Transfer => ({ source_transaction: source, amount, amount_reversed: 0 }) as Stripe.Transfer;

function books(charges: EscrowCharge[], transfers: Stripe.Transfer[] = []): MilestoneBooks {
	const funded = charges.reduce((s, c) => s + c.escrow, 0);
	return { charges, transfers, funded, released: 0, refunded: 0, disputed: false };
}

describe('draw', () => {
	it('takes from the charge holding the most first, and only what each still holds', () => {
		const b = books([charge('ch_a', 5_000), charge('ch_b', 8_000, 1_000)], [transfer('ch_b', 4_000)]);
		// ch_a holds 5,000; ch_b 8,000 − 4,000 transferred − 1,000 refunded = 3,000.
		const parts = draw(b, 7_000);
		expect(parts.map((p) => [p.charge.charge.id, p.amount])).toEqual([
			['ch_a', 5_000],
			['ch_b', 2_000]
		]);
	});

	it('refuses more than the books hold, naming the milestone by default and the hourly pool when told', () => {
		const b = books([charge('ch_a', 5_000)]);
		expect(() => draw(b, 5_001)).toThrow(expect.objectContaining({ code: 'over-release', message: expect.stringMatching(/for this milestone/) }));
		expect(() => draw(b, 5_001, 'this contract’s hourly escrow')).toThrow(expect.objectContaining({ message: expect.stringMatching(/hourly escrow/) }));
		expect(draw(b, 5_000)).toHaveLength(1);
	});
});
