/**
 * Hourly contracts and bonuses on the Stripe escrow function: weekly funding into the contract's
 * pool, the week's release judged on the function's record and clock, carry-over kept in its books,
 * unused escrow refunded from the right charges, bonuses — attacks first, then what an auditor
 * compares: the ledger after a script run on the function equals the mock's for the same script.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../support/random';
import { ContractLog } from '../../src/lib/contract/log';
import { DAY_MS } from '../../src/lib/contract/state';
import { hourlyBooks, poolMismatch } from '../../src/edge/books';
import { MockEscrowProvider } from '../../src/lib/escrow/mock';
import type { EscrowAdapter } from '../../src/lib/escrow/adapter';
import { authenticate } from '../../src/lib/identity/authenticate';
import { MemoryContract } from '../../src/lib/sync/memory-contract';
import { Party } from '../../src/lib/sync/party';
import { CLIENT, FREELANCER } from '../support/world';
import { edgeContract } from './contracts';
import { BASE, stack, type Stack } from './harness';
import { StripeEscrowAdapter } from '../../src/lib/escrow/stripe';
import { FakeStripe } from './fake-stripe/fake';
import { billed, hourlyContract, LIMIT, utc, W1, W2, W3, W4, type HourlyContract } from './hourly-support';
import { segmentDisputes } from '../../src/lib/contract/dispute-affordances';
import * as disputes from '../../src/lib/sync/dispute-actions';

const envelopes = (p: Party) => p.log.envelopes().map(([, e]) => e);
const bodyOf = (r: { envelope: string }) => JSON.parse(JSON.parse(r.envelope).body) as { at: number; type: string; payload: Record<string, unknown> };
const transfers = (s: Stack) => [...s.fake.transfers.values()];
const refunds = (s: Stack) => [...s.fake.refunds.values()];
/** Transferred to the freelancer, net of reversals. */
const paidOut = (fake: FakeStripe) => [...fake.transfers.values()].reduce((sum, t) => sum + (t.amount as number) - (t.amount_reversed as number), 0);

/** A device of `key` that holds what `from` holds now, on its own clock. */
async function device(s: Stack | { adapter: EscrowAdapter; clock: { now: number } }, c: HourlyContract, key: typeof CLIENT, from: Party, skewMs = 0): Promise<Party> {
	const p = new Party(key, new MemoryContract(c.id), s.adapter, () => s.clock.now + skewMs);
	await p.receive(from.log.envelopes());
	return p;
}

/** Week 1 funded at its limit, an hour logged, the timesheet recorded at the lock (Monday 9 November 12:00 UTC). */
async function weekOneBilled(s: Stack, slots = 6): Promise<HourlyContract> {
	await s.onboard(FREELANCER);
	const c = await hourlyContract(s.adapter, s.clock);
	await c.fund(W1, LIMIT);
	await c.sync();
	s.clock.now = utc('2026-11-03T12:00');
	await c.log('2026-11-03T09:00', slots);
	s.clock.now = utc('2026-11-09T12:00');
	await c.submit(W1);
	return c;
}

describe('hourly on Stripe: attacks', () => {
	it('a release before the review window ends on the function’s clock is refused, whatever the device’s clock says', async () => {
		const s = stack();
		const c = await weekOneBilled(s);
		// The freelancer's device runs six days ahead: by its clock the review (until 14 November 00:00) is over.
		s.clock.now = utc('2026-11-10T09:00');
		const ahead = await device(s, c, FREELANCER, c.freelancer, 6 * DAY_MS);
		await expect(c.claim(W1, ahead)).rejects.toMatchObject({ code: 'too-early', message: expect.stringMatching(/review ends 2026-11-14 00:00 UTC/) });
		expect(transfers(s)).toHaveLength(0);
		// On the function's clock the window passes: the same intent is paid then, once.
		s.clock.now = utc('2026-11-14T00:00');
		const { receipt } = await c.claim(W1);
		expect(bodyOf(receipt).payload).toMatchObject({ week: W1, amount: 6_000, carried: 54_000, carriedTo: W3 });
		expect(transfers(s).map((t) => t.amount)).toEqual([6_000]);
	});

	it('a timesheet edited after the lock (on the function’s clock) is ignored: the week pays what the recorded timesheet bills', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		const c = await hourlyContract(s.adapter, s.clock);
		await c.fund(W1, LIMIT);
		s.clock.now = utc('2026-11-03T12:00');
		await c.log('2026-11-03T09:00', 6);
		// A device of the freelancer whose clock runs three hours behind: for it the week has not locked yet.
		const liar = await device(s, c, FREELANCER, c.freelancer, -3 * 3_600_000);
		s.clock.now = utc('2026-11-09T12:00');
		await c.submit(W1);
		s.clock.now = utc('2026-11-09T13:00');
		const extra = [];
		for (let i = 0; i < 6; i++) extra.push((await liar.act('hourly.segment', { start: utc('2026-11-04T09:00') + i * 600_000, source: 'manual', memo: 'More', activity: 0 })).id);
		const bigger = await liar.act('hourly.timesheet', { week: W1, segments: [...billed(c.client, W1), ...extra], minutes: 120, amount: 12_000, currency: 'USD' });
		await expect(liar.attest(bigger.id)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/already recorded the timesheet/) });
		// It claims with everything it wrote in the log it sends: the recorded timesheet is what bills.
		await liar.receive(c.freelancer.log.envelopes());
		s.clock.now = utc('2026-11-14T09:00');
		const { receipt } = await c.claim(W1, liar);
		expect(bodyOf(receipt).payload).toMatchObject({ amount: 6_000, carried: 54_000 });
		expect(paidOut(s.fake)).toBe(6_000);
	});

	it('two devices racing the week’s release pay once', async () => {
		const s = stack();
		const c = await weekOneBilled(s);
		s.clock.now = utc('2026-11-14T09:00');
		const phone = await device(s, c, FREELANCER, c.freelancer, 1);
		const results = await Promise.allSettled([c.claim(W1), c.claim(W1, phone)]);
		expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
		expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'not-authorised', message: expect.stringMatching(/Nothing is left to pay for this week/) } });
		expect(transfers(s).map((t) => t.amount)).toEqual([6_000]);
	});

	it('through a second function instance (its own record, one Stripe), a stale device’s claim pays nothing more', async () => {
		const clock = { now: utc('2026-11-02T00:00') };
		const fake = new FakeStripe(() => clock.now);
		const one = stack({ fake, clock });
		const two = stack({ fake, clock });
		const c = await weekOneBilled(one);
		await two.onboard(FREELANCER);
		clock.now = utc('2026-11-14T09:00');
		const stale = await device(two, c, FREELANCER, c.freelancer, 1);
		await c.claim(W1);
		await expect(c.claim(W1, stale)).rejects.toMatchObject({ code: 'over-release' });
		// Refused before anything moved (the books read after writing are only the backstop).
		expect(fake.transfers.size).toBe(1);
		expect(paidOut(fake)).toBe(6_000);
	});

	it('a week paid by bank debit and, while it processes, by card from another device: charged once', async () => {
		const s = stack();
		const bank = new StripeEscrowAdapter({ url: BASE, fetch: (i, init) => s.handler(new Request(i, init)), paymentMethod: async () => 'pm_usBankAccount' });
		const c = await hourlyContract(bank, s.clock);
		const laptop = await device(s, c, CLIENT, c.client, 1);
		const byBank = () => c.client.settle('hourly.fund', { week: W1, amount: LIMIT, currency: 'USD', method: 'bank_transfer' });
		await expect(byBank()).rejects.toMatchObject({ code: 'processing' });
		// The laptop never saw that intent, and no receipt exists yet: only Stripe knows the week is being paid.
		await expect(c.fund(W1, LIMIT, laptop)).rejects.toMatchObject({ code: 'already-settled', message: 'This week is already funded.' });
		expect(s.fake.paymentIntents.size).toBe(1);
		s.fake.settlePayment([...s.fake.paymentIntents.values()][0]!.id);
		s.clock.now += DAY_MS;
		const { receipt } = await byBank();
		expect(bodyOf(receipt).payload).toMatchObject({ week: W1, amount: LIMIT, method: 'bank_transfer' });
		expect(s.fake.paymentIntents.size).toBe(1);
	});

	it('reclaim cannot take money already released: a stale client device gets only the unused escrow, refunded from the charges that hold it', async () => {
		const s = stack();
		const c = await weekOneBilled(s);
		await c.client.act('hourly.paused', {});
		await c.sync();
		const stale = await device(s, c, CLIENT, c.client);
		s.clock.now = utc('2026-11-14T09:00');
		// Paused: nothing carries on; the freelancer is paid the hour, the rest stays for the client.
		expect(bodyOf((await c.claim(W1)).receipt).payload).toMatchObject({ amount: 6_000, carried: 0 });
		// The stale device never saw the release; the function's record did.
		const { receipt } = await c.reclaim(W1, stale);
		expect(bodyOf(receipt).payload).toMatchObject({ week: W1, amount: 54_000, to: 'client' });
		const [charge] = [...s.fake.charges.values()];
		expect(refunds(s).map((r) => [r.charge, r.amount])).toEqual([[charge!.id, 54_000]]);
		expect((charge!.amount_refunded as number) + paidOut(s.fake)).toBe(LIMIT);
		// Nothing is left to take back, whoever asks.
		const other = await device(s, c, CLIENT, c.freelancer, 5);
		await expect(c.reclaim(W1, other)).rejects.toMatchObject({ code: 'not-authorised' });
		expect(refunds(s)).toHaveLength(1);
	});

	it('two instances (no shared queue) reclaiming the same week at once: one refund, the other week’s escrow stays in the pool', async () => {
		const clock = { now: utc('2026-11-02T00:00') };
		const fake = new FakeStripe(() => clock.now);
		const rnd = mulberry32(11);
		fake.jitter = () => Math.floor(rnd() * 4);
		fake.refundsPending = true; // a refund Stripe can still cancel
		const one = stack({ fake, clock });
		const two = stack({ fake, clock });
		const seen = { overpaid: 0, bothWent: 0 };
		for (let round = 0; round < 8; round++) {
			const c = await hourlyContract(one.adapter, clock);
			await c.fund(W2, LIMIT);
			await c.fund(W3, LIMIT);
			await c.client.act('hourly.paused', {});
			const elsewhere = await device(two, c, CLIENT, c.client, 1);
			const results = await Promise.allSettled([c.reclaim(W2), c.reclaim(W2, elsewhere)]);
			if (results.every((r) => r.status === 'fulfilled')) seen.bothWent++;
			// Week 2 gives back at most what it held; week 3's escrow stays in the pool.
			const b = await hourlyBooks(one.deps.stripe, c.id, []);
			if (b.weeks.get(W2)!.refunded > LIMIT || b.pool.funded - b.pool.refunded < LIMIT) seen.overpaid++;
		}
		expect(seen).toEqual({ overpaid: 0, bothWent: 0 });
	});

	it('a second instance that never saw the timesheet or the release cannot take what was paid: Stripe’s week entry bounds it', async () => {
		const clock = { now: utc('2026-11-02T00:00') };
		const fake = new FakeStripe(() => clock.now);
		const one = stack({ fake, clock });
		const two = stack({ fake, clock });
		await one.onboard(FREELANCER);
		const c = await hourlyContract(one.adapter, clock);
		await c.fund(W1, LIMIT);
		// A client device that keeps only this much, talking to another instance with its own (empty) record.
		const stale = await device(two, c, CLIENT, c.client);
		clock.now = utc('2026-11-03T12:00');
		await c.log('2026-11-03T09:00', 6);
		clock.now = utc('2026-11-09T12:00');
		await c.submit(W1);
		clock.now = utc('2026-11-14T09:00');
		await c.claim(W1);
		// Past the timesheet deadline its fold sees a week nobody billed: all 60,000 unused. Stripe holds 54,000 for it.
		clock.now = utc('2026-11-20T00:00');
		await expect(c.reclaim(W1, stale)).rejects.toMatchObject({ code: 'over-release', message: expect.stringMatching(/holds \$540\.00/) });
		expect(fake.refunds.size).toBe(0);
		expect(paidOut(fake)).toBe(6_000);
	});
});

describe('hourly on Stripe: each intent, idempotent', () => {
	it('funds the week into the contract’s pool, per week in the books; a retry returns the same receipt and creates nothing', async () => {
		const s = stack();
		const c = await hourlyContract(s.adapter, s.clock);
		const { intent, receipt } = await c.fund(W1, LIMIT);
		const quote = await s.adapter.quoteFunding(LIMIT, 'USD', 'card');
		const [pi] = [...s.fake.paymentIntents.values()];
		expect(pi).toMatchObject({ amount: quote.total, transfer_group: `${c.id}:_hourly`, metadata: { week: W1, intent: intent.id, escrow_amount: String(LIMIT) } });
		expect(bodyOf(receipt)).toMatchObject({ type: 'receipt.weekFunded', payload: { week: W1, amount: LIMIT, fee: quote.fee, method: 'card' } });
		expect((await s.adapter.fund({ contract: c.id, log: envelopes(c.client), event: intent.id })).id).toBe(receipt.id);
		expect(s.fake.paymentIntents.size).toBe(1);
		// Funded is funded: a device that never saw the receipt funds the week again; the function's record refuses it
		// (as the fold's rejection or as its own check, depending on which of the two concurrent events folds first).
		const fresh = new Party(CLIENT, new MemoryContract(c.id), s.adapter, () => s.clock.now);
		await fresh.receive(c.client.log.envelopes().filter(([id]) => id !== receipt.id));
		await expect(c.fund(W1, LIMIT, fresh)).rejects.toMatchObject({ code: expect.stringMatching(/^(already-settled|not-authorised)$/), message: expect.stringMatching(/week is (already )?funded/) });
		expect(s.fake.paymentIntents.size).toBe(1);
	});

	it('release retried returns the same receipt; carry-over shows in the function’s books and the next funding asks only the rest', async () => {
		const s = stack();
		const c = await weekOneBilled(s);
		s.clock.now = utc('2026-11-14T09:00');
		const { intent, receipt } = await c.claim(W1);
		await c.sync();
		s.clock.now += 60_000;
		expect((await s.adapter.release({ contract: c.id, log: envelopes(c.freelancer), event: intent.id })).id).toBe(receipt.id);
		expect(transfers(s)).toHaveLength(1);
		expect(transfers(s)[0]).toMatchObject({ transfer_group: `${c.id}:_hourly`, metadata: { week: W1, intent: intent.id } });
		const b = await hourlyBooks(s.deps.stripe, c.id, c.client.derived().state.hourly!.weeks.values());
		expect(b.weeks.get(W1)).toMatchObject({ funded: LIMIT, released: 6_000, carriedOut: 54_000, refunded: 0 });
		expect(b.weeks.get(W3)).toMatchObject({ funded: 0, carriedIn: 54_000 });
		expect(b.held(W3)).toBe(54_000);
		expect(poolMismatch(b)).toBe(0);
		// Week 3 needs only what its carried-in escrow does not cover.
		await c.sync();
		s.clock.now = utc('2026-11-16T09:00');
		await c.fund(W3, 6_000);
		const after = await hourlyBooks(s.deps.stripe, c.id, c.client.derived().state.hourly!.weeks.values());
		expect(after.held(W3)).toBe(LIMIT);
		expect(poolMismatch(after)).toBe(0);
	});

	it('a release net of an accepted dispute; a declined one waits', async () => {
		const s = stack();
		const c = await weekOneBilled(s);
		s.clock.now = utc('2026-11-10T09:00');
		const segs = billed(c.client, W1);
		await c.dispute(W1, segs.slice(4), true);
		s.clock.now = utc('2026-11-14T09:00');
		expect(bodyOf((await c.claim(W1)).receipt).payload).toMatchObject({ amount: 4_000, carried: 56_000 });
		expect(transfers(s).map((t) => t.amount)).toEqual([4_000]);
	});

	it('reclaim carries on while the contract runs (no money moves in Stripe) and refunds once paused; retries get the same receipt', async () => {
		const s = stack();
		const c = await hourlyContract(s.adapter, s.clock);
		await c.fund(W1, LIMIT);
		// No time logged, and the timesheet deadline passed: the week's escrow is unused.
		s.clock.now = utc('2026-11-20T00:00');
		const carried = await c.reclaim(W1);
		expect(bodyOf(carried.receipt).payload).toMatchObject({ amount: LIMIT, to: 'carry', carriedTo: W4 });
		expect(refunds(s)).toHaveLength(0);
		await c.client.act('hourly.paused', {});
		const { intent, receipt } = await c.reclaim(W4);
		expect(bodyOf(receipt).payload).toMatchObject({ week: W4, amount: LIMIT, to: 'client' });
		expect((await s.adapter.refund({ contract: c.id, log: envelopes(c.client), event: intent.id })).id).toBe(receipt.id);
		expect(refunds(s).map((r) => r.amount)).toEqual([LIMIT]);
		const b = await hourlyBooks(s.deps.stripe, c.id, c.client.derived().state.hourly!.weeks.values());
		expect(b.weeks.get(W1)).toMatchObject({ funded: LIMIT, carriedOut: LIMIT });
		expect(b.weeks.get(W4)).toMatchObject({ carriedIn: LIMIT, refunded: LIMIT });
		expect(poolMismatch(b)).toBe(0);
	});

	it('a bonus on a fixed-price contract: a charge and its transfer, no review, available after the security period; retried, the same receipt', async () => {
		const s = stack();
		const c = await edgeContract(s);
		await expect(c.client.settle('bonus.paid', { amount: 2_500, currency: 'USD', method: 'card', note: 'Thanks' })).rejects.toMatchObject({ message: expect.stringMatching(/onboarding/) });
		expect(s.fake.paymentIntents.size).toBe(0);
		const account = await s.onboard(FREELANCER);
		const { intent, receipt } = await c.client.settle('bonus.paid', { amount: 2_500, currency: 'USD', method: 'card', note: 'Thanks again' });
		expect(bodyOf(receipt)).toMatchObject({ type: 'receipt.bonusPaid', payload: { amount: 2_500, method: 'card' } });
		expect(transfers(s)).toMatchObject([{ amount: 2_500, destination: account, transfer_group: `${c.id}:_bonus` }]);
		expect((await s.adapter.fund({ contract: c.id, log: envelopes(c.client), event: intent.id })).id).toBe(receipt.id);
		expect(s.fake.paymentIntents.size).toBe(1);
		expect(transfers(s)).toHaveLength(1);
		await c.sync();
		await expect(c.freelancer.settle('withdrawal.requested', { amount: 2_500, currency: 'USD', method: 'bank' })).rejects.toMatchObject({ code: 'insufficient-balance' });
		s.clock.now += 5 * DAY_MS;
		await c.freelancer.settle('withdrawal.requested', { amount: 2_500, currency: 'USD', method: 'bank' });
		expect(s.fake.payouts.size).toBe(1);
	});

	it('without a record (the Deno entry) a week’s release and reclaim are refused: they are judged on the record', async () => {
		const s = stack({ records: false });
		await s.onboard(FREELANCER);
		const c = await hourlyContract(s.adapter, s.clock);
		await c.fund(W1, LIMIT);
		s.clock.now = utc('2026-11-20T00:00');
		await expect(c.reclaim(W1)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/keeps no record/) });
		expect(refunds(s)).toHaveLength(0);
	});
});

describe('an auditor compares the Stripe function with the mock', () => {
	/**
	 * Two weeks of work, a dispute, a Resolution Center split of a declined one, carry-over, a bonus,
	 * a pause, a refund of unused escrow and a withdrawal.
	 */
	async function script(escrow: EscrowAdapter, clock: { now: number }, onboard: () => Promise<unknown>) {
		await onboard();
		const c = await hourlyContract(escrow, clock);
		await c.fund(W1, LIMIT);
		clock.now = utc('2026-11-03T12:00');
		await c.log('2026-11-03T09:00', 6);
		clock.now = utc('2026-11-09T12:00');
		await c.submit(W1);
		await c.fund(W2, LIMIT);
		clock.now = utc('2026-11-10T12:00');
		await c.log('2026-11-10T09:00', 3, 'Login form');
		await c.dispute(W1, billed(c.client, W1).slice(4), true);
		clock.now = utc('2026-11-14T09:00');
		await c.claim(W1);
		await c.bonus(2_500);
		await c.sync();
		clock.now = utc('2026-11-16T12:00');
		await c.submit(W2);
		// The client disputes one segment of week 2, the freelancer declines; in the Resolution Center the freelancer takes the client's $5.00.
		clock.now = utc('2026-11-17T12:00');
		await c.dispute(W2, billed(c.client, W2).slice(0, 1), false);
		const sd = [...c.client.derived().state.hourly!.disputes.values()].at(-1)!.id;
		clock.now = utc('2026-11-17T13:00');
		expect(await disputes.openSegmentsDispute({ party: c.client }, segmentDisputes(c.client.derived().state, 'client', sd, clock.now)!, { details: 'Not this one.', offer: '5' }, 'USD')).toEqual({ ok: true });
		await c.sync();
		expect(await disputes.acceptOffer({ party: c.freelancer }, segmentDisputes(c.freelancer.derived().state, 'freelancer', sd, clock.now)!.current!, 'USD')).toEqual({ ok: true });
		await c.sync();
		await c.fund(W3, 4_000);
		clock.now = utc('2026-11-21T09:00');
		await c.claim(W2);
		await c.client.act('hourly.paused', {});
		await c.sync();
		await c.reclaim(W4);
		clock.now = utc('2026-11-27T00:00');
		await c.sync();
		await c.freelancer.settle('withdrawal.requested', { amount: 9_000, currency: 'USD', method: 'bank' });
		await c.sync();
		return c;
	}

	it('the ledger after the run and each week’s books are the same', async () => {
		const mockClock = { now: utc('2026-11-02T00:00') };
		const mock = new MockEscrowProvider({ now: () => mockClock.now });
		const m = await script(mock, mockClock, async () => undefined);
		const s = stack();
		const f = await script(s.adapter, s.clock, () => s.onboard(FREELANCER));

		const ledger = (c: HourlyContract) => Object.fromEntries([...c.client.derived().state.ledger.balances].sort());
		expect(ledger(f)).toEqual(ledger(m));
		expect(ledger(f)).toMatchObject({ 'freelancer:pending': 0 });

		// The function's books: money from Stripe's objects, carries from its own record.
		const record = new ContractLog(f.id);
		for (const e of await s.record(f.id, CLIENT)) record.add(JSON.parse(e).id, e);
		await authenticate(record);
		const b = await hourlyBooks(s.deps.stripe, f.id, record.derive().state.hourly!.weeks.values());
		const counters = (e: { funded: number; carriedIn: number; released: number; carriedOut: number; refunded: number; settled: number }) => ({
			funded: e.funded,
			carriedIn: e.carriedIn,
			released: e.released,
			carriedOut: e.carriedOut,
			refunded: e.refunded,
			settled: e.settled
		});
		const statement = mock.statement(m.id);
		expect(Object.fromEntries([...b.weeks].map(([w, e]) => [w, counters(e)]))).toEqual(Object.fromEntries(Object.entries(statement.weeks).map(([w, e]) => [w, counters(e)])));
		expect(poolMismatch(b)).toBe(0);
		// No charge gave more than its escrow: refunds came from what transfers had not taken.
		for (const ch of b.pool.charges) {
			const taken = b.pool.transfers.filter((t) => t.source_transaction === ch.charge.id).reduce((sum, t) => sum + t.amount - t.amount_reversed, 0);
			expect(taken + ch.refunded).toBeLessThanOrEqual(ch.escrow);
		}
		// The unused escrow given back, and the client's $5.00 of the split.
		expect(b.pool.refunded).toBe(57_500);
		expect(statement.weeks[W2]).toMatchObject({ released: 2_000, settled: 1_000 });
		expect(statement.bonuses).toBe(2_500);
		expect(statement.paidOut).toBe(9_000);
		expect(statement.weeks[W4]).toMatchObject({ carriedIn: 57_000, refunded: 57_000 });
	});
});
