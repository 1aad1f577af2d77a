/**
 * "One milestone, one money operation at a time." A release and a refund of the same escrow (or two
 * releases), sent together, must not both read "100.00 held" and both go through: the difference
 * would be paid from the platform's balance. The function runs every operation of a milestone in
 * one queue (the record's), keeps an "in flight" row around each Stripe call, and reads the books
 * again after writing; the fake answers each request after a random delay so the requests interleave
 * the way they would over a network.
 */
import { describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { MemoryContract } from '../../src/lib/sync/memory-contract';
import { Party } from '../../src/lib/sync/party';
import { FREELANCER, CLIENT } from '../support/world';
import { edgeContract } from './contracts';
import { FakeStripe } from './fake-stripe/fake';
import { stack, type Stack } from './harness';
import { mulberry32 } from '../support/random';

const ROUNDS = 25;


/** What Stripe's books say for the contract's milestone 'a': escrow funded, and what left it. */
function books(fake: FakeStripe, contract: string): { funded: number; out: number } {
	const group = `${contract}:a`;
	let funded = 0;
	let out = 0;
	for (const ch of fake.charges.values()) {
		if (ch.transfer_group !== group || ch.status !== 'succeeded') continue;
		const pi = fake.paymentIntents.get(ch.payment_intent as string)!;
		funded += Number((pi.metadata as Record<string, string>).escrow_amount);
	}
	for (const t of fake.transfers.values()) if (t.transfer_group === group) out += (t.amount as number) - (t.amount_reversed as number);
	for (const r of fake.refunds.values()) {
		const ch = fake.charges.get(r.charge as string)!;
		if (ch.transfer_group === group && (r.status === 'succeeded' || r.status === 'pending')) out += r.amount as number;
	}
	return { funded, out };
}

async function funded(s: Stack) {
	const c = await edgeContract(s);
	await c.client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
	await c.sync();
	return c;
}

const releaseBy = (p: Party, amount: number) => p.settle('milestone.release', { milestone: 'a', amount, currency: 'USD', method: 'card' });
const refundBy = (p: Party, amount: number) => p.settle('milestone.refund', { milestone: 'a', amount, currency: 'USD', basis: 'freelancer' });

describe('one milestone, one money operation at a time', () => {
	it(`release and refund of the whole escrow, sent together: never more out than in (${ROUNDS} rounds)`, async () => {
		const s = stack();
		const rnd = mulberry32(1);
		s.fake.jitter = () => Math.floor(rnd() * 4);
		await s.onboard(FREELANCER);
		const seen = { overpaid: 0, bothWent: 0, noneWent: 0, refusals: new Set<string>() };
		for (let round = 0; round < ROUNDS; round++) {
			const c = await funded(s);
			const results = await Promise.allSettled([releaseBy(c.client, 100_000), refundBy(c.freelancer, 100_000)]);
			const b = books(s.fake, c.id);
			if (b.out > b.funded) seen.overpaid++;
			const ok = results.filter((r) => r.status === 'fulfilled').length;
			if (ok === 2) seen.bothWent++;
			if (ok === 0) seen.noneWent++;
			for (const r of results) if (r.status === 'rejected') seen.refusals.add((r.reason as { code: string }).code);
		}
		// Exactly one of the two goes through each round; the other is refused from the books.
		const { refusals, ...counts } = seen;
		expect(counts).toEqual({ overpaid: 0, bothWent: 0, noneWent: 0 });
		for (const code of refusals) expect(['over-release', 'unfunded']).toContain(code);
	});

	it(`two releases from two devices that together ask for more than is held (${ROUNDS} rounds)`, async () => {
		const s = stack();
		const rnd = mulberry32(2);
		s.fake.jitter = () => Math.floor(rnd() * 4);
		await s.onboard(FREELANCER);
		const seen = { overpaid: 0, bothWent: 0, noneWent: 0 };
		for (let round = 0; round < ROUNDS; round++) {
			const c = await funded(s);
			const laptop = new Party(CLIENT, new MemoryContract(c.id), s.adapter, () => s.clock.now);
			await laptop.receive(c.client.log.envelopes());
			// 51,000 + 51,500 fits in the charge (escrow + fee) but not in the escrow: only the books can say no.
			const results = await Promise.allSettled([releaseBy(c.client, 51_000), releaseBy(laptop, 51_500)]);
			const b = books(s.fake, c.id);
			if (b.out > b.funded) seen.overpaid++;
			const ok = results.filter((r) => r.status === 'fulfilled').length;
			if (ok === 2) seen.bothWent++;
			if (ok === 0) seen.noneWent++;
		}
		expect(seen).toEqual({ overpaid: 0, bothWent: 0, noneWent: 0 });
	});

	it('without a shared queue (two function instances, one Stripe): the books read after writing undo the over-payment', async () => {
		const clock = { now: Date.UTC(2026, 10, 2) };
		const fake = new FakeStripe(() => clock.now);
		const rnd = mulberry32(3);
		fake.jitter = () => Math.floor(rnd() * 4);
		fake.refundsPending = true; // a refund Stripe can still cancel
		const one = stack({ fake, clock });
		const two = stack({ fake, clock });
		await one.onboard(FREELANCER);
		const seen = { overpaid: 0 };
		for (let round = 0; round < ROUNDS; round++) {
			const c = await funded(one);
			const elsewhere = new Party(CLIENT, new MemoryContract(c.id), two.adapter, () => clock.now);
			await elsewhere.receive(c.client.log.envelopes());
			const freelancerElsewhere = new Party(FREELANCER, new MemoryContract(c.id), two.adapter, () => clock.now);
			await freelancerElsewhere.receive(c.freelancer.log.envelopes());
			await Promise.allSettled([releaseBy(c.client, 51_000), releaseBy(elsewhere, 51_500)]);
			let b = books(fake, c.id);
			if (b.out > b.funded) seen.overpaid++;
			await c.sync();
			await Promise.allSettled([releaseBy(c.client, 100_000 - b.out), refundBy(freelancerElsewhere, 100_000 - b.out)]);
			b = books(fake, c.id);
			if (b.out > b.funded) seen.overpaid++;
		}
		expect(seen).toEqual({ overpaid: 0 });
	});

	it('an "in flight" row left by an operation that died makes the next one re-read the books and undo an over-payment first', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		const c = await funded(s);
		// A second client device that will not hear of the release: its next request reaches the function.
		const stale = new Party(CLIENT, new MemoryContract(c.id), s.adapter, () => s.clock.now);
		await stale.receive(c.client.log.envelopes());
		await releaseBy(c.client, 100_000);
		// A release that died mid-way (another instance had already released): its transfer is in
		// Stripe, its row in the record, and no receipt anywhere.
		const stripe = new Stripe('sk_test_x', { httpClient: Stripe.createFetchHttpClient(s.fake.fetch), maxNetworkRetries: 0 });
		const charge = [...s.fake.charges.values()].find((ch) => ch.status === 'succeeded')!;
		const dead = 'D'.repeat(43);
		const destination = [...s.fake.accounts.keys()][0]!;
		await stripe.transfers.create({
			amount: 2_000,
			currency: 'usd',
			destination,
			transfer_group: `${c.id}:a`,
			source_transaction: charge.id,
			metadata: { contract: c.id, milestone: 'a', intent: dead }
		});
		const rec = await s.records!.open(c.id);
		await rec.setInFlight('m:a', { op: 'release', intent: dead, milestone: 'a', at: s.clock.now });
		expect(books(s.fake, c.id)).toEqual({ funded: 100_000, out: 102_000 });
		// The next operation on the milestone (here a release the books refuse) repairs first.
		await expect(releaseBy(stale, 1)).rejects.toMatchObject({ code: expect.stringMatching(/unfunded|over-release/) });
		expect(books(s.fake, c.id)).toEqual({ funded: 100_000, out: 100_000 });
		expect(await rec.inFlight('m:a')).toBeUndefined();
	});
});
