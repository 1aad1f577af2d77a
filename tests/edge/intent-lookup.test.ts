/**
 * Intent lookup before create (the intent outbox on the function's side). Stripe forgets idempotency
 * keys after about 24 hours and a bank debit stays `processing` for days, so the idempotency key
 * alone cannot keep a retry from charging twice: before anything is created the function looks the
 * intent up in its record, its outbox and the milestone's charges. A debit still processing answers
 * 'processing' with the date it should clear (never "nothing was charged"); a retry once it
 * succeeded gets the receipt.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS, milestone } from '../../src/lib/contract/state';
import { StripeEscrowAdapter } from '../../src/lib/escrow/stripe';
import { FREELANCER } from '../support/world';
import { edgeContract } from './contracts';
import { BASE, stack } from './harness';

describe('a bank debit still processing', () => {
	it("answers 'processing' with the expected date, never charges twice, and gives the receipt once it cleared", async () => {
		const s = stack();
		const bank = new StripeEscrowAdapter({ url: BASE, fetch: (i, init) => s.handler(new Request(i, init)), paymentMethod: async () => 'pm_usBankAccount' });
		const c = await edgeContract({ adapter: bank, clock: s.clock });
		const fundByBank = () => c.client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'bank_transfer' });

		const started = s.clock.now;
		const first = await fundByBank().catch((e: unknown) => e);
		expect(first).toMatchObject({ code: 'processing', expectedAt: Math.floor(started / 1000) * 1000 + 4 * DAY_MS });
		expect((first as Error).message).not.toMatch(/nothing was charged/i);
		const [pi] = [...s.fake.paymentIntents.values()];
		expect(pi).toMatchObject({ status: 'processing', payment_method_types: ['us_bank_account'] });

		// Two days later Stripe has forgotten the idempotency key; the debit is still processing.
		s.clock.now += 2 * DAY_MS;
		await expect(fundByBank()).rejects.toMatchObject({ code: 'processing' });
		expect(s.fake.paymentIntents.size).toBe(1);

		// The bank settles it; the next retry (two more days on) gets the receipt, still one PaymentIntent.
		s.fake.settlePayment(pi!.id);
		s.clock.now += 2 * DAY_MS;
		const { intent, receipt } = await fundByBank();
		expect(s.fake.paymentIntents.size).toBe(1);
		expect(milestone(c.client.derived().state, 'a')).toMatchObject({ funded: 100_000 });

		// Asked again later, from anywhere: the same receipt.
		s.clock.now += 3 * DAY_MS;
		const again = await bank.fund({ contract: c.id, log: c.client.log.envelopes().map(([, e]) => e), event: intent.id });
		expect(again).toEqual(receipt);
		expect(s.fake.paymentIntents.size).toBe(1);
	});

	it('a debit that failed at the bank can be paid again with the same intent, on the same PaymentIntent', async () => {
		const s = stack();
		let pm = 'pm_usBankAccount';
		const bank = new StripeEscrowAdapter({ url: BASE, fetch: (i, init) => s.handler(new Request(i, init)), paymentMethod: async () => pm });
		const c = await edgeContract({ adapter: bank, clock: s.clock });
		const fundByBank = () => c.client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'bank_transfer' });
		await expect(fundByBank()).rejects.toMatchObject({ code: 'processing' });
		const [pi] = [...s.fake.paymentIntents.values()];
		s.fake.settlePayment(pi!.id, 'failed');
		s.clock.now += 3 * DAY_MS;
		pm = 'pm_card_visa';
		await fundByBank();
		expect(s.fake.paymentIntents.size).toBe(1);
		expect(milestone(c.client.derived().state, 'a')).toMatchObject({ funded: 100_000 });
	});
});

describe('an executed intent asked about again', () => {
	it('is answered from the record with the very same receipt, without touching Stripe, days later', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		const c = await edgeContract(s);
		await c.client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
		const { intent, receipt } = await c.client.settle('milestone.release', { milestone: 'a', amount: 60_000, currency: 'USD', method: 'card' });
		s.clock.now += 3 * DAY_MS;
		const calls = s.fake.requests.length;
		const log = c.client.log.envelopes().map(([, e]) => e);
		expect(await s.adapter.release({ contract: c.id, log, event: intent.id })).toEqual(receipt);
		expect(s.fake.requests.length).toBe(calls);
		expect(s.fake.transfers.size).toBe(1);
	});
});
