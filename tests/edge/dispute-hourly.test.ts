/**
 * A Resolution Center dispute on an hourly week's segments (the freelancer declined the client's
 * segment dispute), executed by the Stripe function as one split out of the contract's hourly pool:
 * the freelancer's share transferred and the client's refunded from the pool's charges, each object
 * naming the week so the function's week books count it as `settled`, the receipt the TEST MODE mock
 * signs. Attacks first: a split larger than what the week holds for those segments, a split racing
 * the week's release, the same outcome twice, an early outcome from a device whose clock runs ahead.
 */
import { describe, expect, it } from 'vitest';
import { mediatorRuling, segmentDisputes } from '../../src/lib/contract/dispute-affordances';
import { ContractLog } from '../../src/lib/contract/log';
import { DAY_MS } from '../../src/lib/contract/state';
import { hourlyBooks, poolMismatch } from '../../src/edge/books';
import { MockEscrowProvider } from '../../src/lib/escrow/mock';
import type { EscrowAdapter } from '../../src/lib/escrow/adapter';
import { authenticate } from '../../src/lib/identity/authenticate';
import * as disputes from '../../src/lib/sync/dispute-actions';
import { MemoryContract } from '../../src/lib/sync/memory-contract';
import { Party } from '../../src/lib/sync/party';
import { CLIENT, FREELANCER, MEDIATOR } from '../support/world';
import { forged, payloadOf } from './dispute-setup';
import { stack, type Stack } from './harness';
import { billed, hourlyContract, LIMIT, utc, W1, W3, type HourlyContract } from './hourly-support';

type Who = 'client' | 'freelancer';

/**
 * Week 1 funded at its limit ($600.00), 2 h logged ($120.00), the timesheet recorded at the lock; the
 * client disputes the first hour ($60.00), the freelancer declines, the client opens a Resolution
 * Center dispute on it offering $20.00 (Tuesday 10 November 13:00 UTC).
 */
async function declinedHour(escrow: EscrowAdapter, clock: { now: number }, onboard: () => Promise<unknown>, o: { mediator?: boolean } = {}) {
	await onboard();
	const c = await hourlyContract(escrow, clock, o.mediator ? { mediator: { publicKey: MEDIATOR.publicKey, name: 'Mo Mediator', feeBps: 500 } } : {});
	await c.fund(W1, LIMIT);
	clock.now = utc('2026-11-03T12:00');
	await c.log('2026-11-03T09:00', 12);
	clock.now = utc('2026-11-09T12:00');
	await c.submit(W1);
	clock.now = utc('2026-11-10T12:00');
	await c.dispute(W1, billed(c.client, W1).slice(0, 6), false);
	const sd = [...c.client.derived().state.hourly!.disputes.values()].at(-1)!.id;
	clock.now = utc('2026-11-10T13:00');
	const opening = segmentDisputes(c.client.derived().state, 'client', sd, clock.now)!;
	expect(await disputes.openSegmentsDispute({ party: c.client }, opening, { details: 'No work in this hour.', offer: '20' }, 'USD')).toEqual({ ok: true });
	await c.sync();
	const party = (who: Who) => (who === 'client' ? c.client : c.freelancer);
	/** The dispute as `who` sees it, at its clock (`ahead` ms past the provider's). */
	const view = (who: Who, ahead = 0) => segmentDisputes(party(who).derived().state, who, sd, clock.now + ahead)!.current!;
	expect(view('freelancer').status.stage).toBe('negotiating');
	return { c, view, party, session: (who: Who) => ({ party: party(who) }), escrow, clock };
}

async function onStripe() {
	const s = stack();
	return { s, ...(await declinedHour(s.adapter, s.clock, () => s.onboard(FREELANCER))) };
}

/** Money that left the hourly pool on Stripe (transfers less reversals, live refunds), optionally only `intent`'s. */
function out(s: Stack, c: HourlyContract, intent?: string) {
	const group = `${c.id}:_hourly`;
	const mine = (m: unknown) => !intent || (m as Record<string, string>).intent === intent;
	const charges = new Set([...s.fake.charges.values()].filter((ch) => ch.transfer_group === group).map((ch) => ch.id));
	const transfers = [...s.fake.transfers.values()].filter((t) => t.transfer_group === group && mine(t.metadata));
	const refunds = [...s.fake.refunds.values()].filter((r) => charges.has(r.charge as string) && r.status !== 'canceled' && mine(r.metadata));
	return {
		objects: transfers.length + refunds.length,
		total: transfers.reduce((n, t) => n + (t.amount as number) - (t.amount_reversed as number), 0) + refunds.reduce((n, r) => n + (r.amount as number), 0)
	};
}

/** The function's week books: money from Stripe, carries from its own record. */
async function weekBooks(s: Stack, c: HourlyContract) {
	const record = new ContractLog(c.id);
	for (const e of await s.record(c.id, CLIENT)) record.add(JSON.parse(e).id, e);
	await authenticate(record);
	return hourlyBooks(s.deps.stripe, c.id, record.derive().state.hourly!.weeks.values());
}

const base = { week: W1, currency: 'USD' as const };

/** Both parties go to the mediator the terms name (the freelancer's final offer $50.00), and it rules for the freelancer's. */
async function ruledForFreelancer(x: Awaited<ReturnType<typeof declinedHour>>): Promise<Party> {
	expect(await disputes.rejectOffer(x.session('freelancer'), x.view('freelancer'), '50', 'USD')).toEqual({ ok: true });
	await x.c.sync();
	expect(await disputes.acceptMediator(x.session('client'), x.view('client'))).toEqual({ ok: true });
	await x.c.sync();
	expect(await disputes.acceptMediator(x.session('freelancer'), x.view('freelancer'))).toEqual({ ok: true });
	await x.c.sync();
	const mo = new Party(MEDIATOR, new MemoryContract(x.c.id), x.escrow, () => x.clock.now);
	await mo.receive(x.c.freelancer.log.envelopes());
	await mo.receive(x.c.client.log.envelopes());
	const d = [...mo.derived().state.disputes.values()].at(-1)!;
	const ruling = mediatorRuling(mo.derived().state, d, MEDIATOR.publicKey, x.clock.now);
	const offer = ruling.choices.find((ch) => ch.by === 'freelancer')!.offer;
	expect(await disputes.ruleDispute({ party: mo }, { dispute: d }, ruling, offer, 'USD')).toEqual({ ok: true });
	await x.c.client.receive(mo.log.envelopes());
	await x.c.freelancer.receive(mo.log.envelopes());
	return mo;
}
const splits = (p: Party) => p.log.envelopes().filter(([, e]) => JSON.parse(JSON.parse(e).body).type === 'receipt.split');

describe('a dispute of an hourly week’s segments on the Stripe function: attacks', () => {
	it('a split larger than what the week holds for those segments is refused, nothing moved, though the pool could pay it', async () => {
		const { s, c, view, session } = await onStripe();
		const charge = [...s.fake.charges.values()].find((ch) => ch.transfer_group === `${c.id}:_hourly`)!;
		// Another deployment refunded $500.00 of the week's escrow that this record never saw: $100.00
		// left for the week, of which $60.00 is what the undisputed hour still owes the freelancer.
		await s.deps.stripe.refunds.create({ charge: charge.id as string, amount: 50_000, metadata: { contract: c.id, week: W1, intent: 'elsewhere' } });
		const before = out(s, c);
		const r = await disputes.acceptOffer(session('freelancer'), view('freelancer'), 'USD');
		expect(r).toMatchObject({ ok: false, errors: { form: expect.stringMatching(/^The week's escrow holds \$40\.00 for these segments; the split moves \$60\.00\./) } });
		expect(out(s, c)).toEqual(before);
		expect(splits(c.freelancer)).toHaveLength(0);
	});

	it('a split racing the week’s release from another device: both go through once, the release never pays the disputed hour', async () => {
		const { s, c, view, session } = await onStripe();
		s.clock.now = utc('2026-11-14T09:00');
		const phone = new Party(FREELANCER, new MemoryContract(c.id), s.adapter, () => s.clock.now);
		await phone.receive(c.freelancer.log.envelopes());
		const [claim, split] = await Promise.allSettled([c.claim(W1, phone), disputes.acceptOffer(session('freelancer'), view('freelancer'), 'USD')]);
		expect(claim.status).toBe('fulfilled');
		expect(split).toEqual({ status: 'fulfilled', value: { ok: true } });
		const released = JSON.parse(JSON.parse((claim as PromiseFulfilledResult<Awaited<ReturnType<HourlyContract['claim']>>>).value.receipt.envelope).body).payload;
		expect(released).toMatchObject({ week: W1, amount: 6_000, carried: 48_000, carriedTo: W3 });
		// Out of the pool: the undisputed hour, the freelancer's $20.00 and the client's $40.00 — $120.00 in all.
		expect(out(s, c)).toEqual({ objects: 3, total: 12_000 });
		const b = await weekBooks(s, c);
		expect(b.weeks.get(W1)).toMatchObject({ funded: LIMIT, released: 6_000, settled: 6_000, carriedOut: 48_000, refunded: 0 });
		expect(b.held(W1)).toBe(0);
		expect(poolMismatch(b)).toBe(0);
		await phone.receive(c.freelancer.log.envelopes());
		await c.freelancer.receive(phone.log.envelopes());
		await c.sync();
		for (const p of [c.client, c.freelancer]) expect(p.derived().rejected).toEqual([]);
	});

	it('the same outcome twice: both parties settling the due outcome at once, or one intent sent twice, make one split', async () => {
		const { s, c, view, session } = await onStripe();
		// The freelancer is silent past the answer deadline: the client's $20.00 offer is due.
		s.clock.now += 5 * DAY_MS;
		const results = await Promise.all([disputes.settleDispute(session('client'), view('client'), 'USD'), disputes.settleDispute(session('freelancer'), view('freelancer'), 'USD')]);
		expect(results.filter((o) => o.ok === true)).toHaveLength(1);
		expect(results.filter((o) => o.ok === false)).toEqual([expect.objectContaining({ errors: { form: expect.stringMatching(/settled/) } })]);
		expect(out(s, c)).toEqual({ objects: 2, total: 6_000 });

		const two = await onStripe();
		two.s.clock.now += 5 * DAY_MS;
		const d = two.view('client').dispute.id;
		const { id, receipt, again } = await forged(two.s.adapter, two.c.client.log, CLIENT, 'dispute.settle', { dispute: d, ...base, basis: 'silence', freelancer: 2_000 }, two.s.clock.now);
		const [a, b] = await Promise.all([receipt, again()]);
		expect(a).toEqual(b);
		// Later, once more: the receipt it issued, nothing moves again.
		two.s.clock.now += DAY_MS;
		expect(await again()).toEqual(a);
		expect(out(two.s, two.c, id)).toEqual({ objects: 2, total: 6_000 });
		expect(payloadOf(a)).toMatchObject({ week: W1, freelancer: 2_000, client: 4_000, fee: 0 });
	});

	it('an outcome sent before its deadline by a device whose clock runs six days ahead is refused; the same intent goes through once the deadline passed here', async () => {
		const { s, c, view } = await onStripe();
		const ahead = 6 * DAY_MS;
		expect(view('client', ahead).settle).toMatchObject({ allowed: true, split: { basis: 'silence', share: 2_000 } });
		const { id, receipt, again } = await forged(s.adapter, c.client.log, CLIENT, 'dispute.settle', { dispute: view('client').dispute.id, ...base, basis: 'silence', freelancer: 2_000 }, s.clock.now + ahead);
		await expect(receipt).rejects.toMatchObject({ code: 'too-early', message: expect.stringMatching(/freelancer has until .* to answer/) });
		expect(out(s, c)).toEqual({ objects: 0, total: 0 });
		s.clock.now += 5 * DAY_MS;
		expect(payloadOf(await again())).toMatchObject({ week: W1, freelancer: 2_000, client: 4_000 });
		expect(out(s, c, id)).toEqual({ objects: 2, total: 6_000 });
	});
});

describe('a dispute of an hourly week’s segments on the Stripe function', () => {
	it('the freelancer accepts the offer: shares from the pool’s charges, each naming the week; the receipt and the six week counters are the mock’s', async () => {
		const play = async (escrow: EscrowAdapter, clock: { now: number }, onboard: () => Promise<unknown>) => {
			const x = await declinedHour(escrow, clock, onboard);
			expect(await disputes.acceptOffer(x.session('freelancer'), x.view('freelancer'), 'USD')).toEqual({ ok: true });
			await x.c.sync();
			clock.now = utc('2026-11-14T09:00');
			await x.c.claim(W1);
			await x.c.sync();
			const [, envelope] = splits(x.c.client)[0]!;
			const p = JSON.parse(JSON.parse(envelope).body);
			return { c: x.c, receipt: { type: p.type, deps: p.deps.length, payload: { ...p.payload, intent: 'x', dispute: 'x' } } };
		};
		const s = stack();
		const mockClock = { now: s.clock.now };
		const mock = new MockEscrowProvider({ now: () => mockClock.now });
		const onMock = await play(mock, mockClock, async () => undefined);
		const onFunction = await play(s.adapter, s.clock, () => s.onboard(FREELANCER));
		expect(onFunction.receipt).toEqual(onMock.receipt);
		expect(onMock.receipt.payload).toEqual({ intent: 'x', dispute: 'x', week: W1, freelancer: 2_000, client: 4_000, fee: 0, currency: 'USD' });

		const c = onFunction.c;
		const pool = [...s.fake.charges.values()].filter((ch) => ch.transfer_group === `${c.id}:_hourly`).map((ch) => ch.id);
		const splitObjects = [...s.fake.transfers.values(), ...s.fake.refunds.values()].filter((o) => (o.metadata as Record<string, string>).split_dispute);
		expect(splitObjects.map((o) => ({ amount: o.amount, week: (o.metadata as Record<string, string>).week, from: o.source_transaction ?? o.charge }))).toEqual(
			expect.arrayContaining([
				{ amount: 2_000, week: W1, from: pool[0] },
				{ amount: 4_000, week: W1, from: pool[0] }
			])
		);
		expect(splitObjects).toHaveLength(2);
		for (const p of [c.client, c.freelancer]) expect(p.derived().rejected).toEqual([]);
		const ledger = (x: HourlyContract) => Object.fromEntries([...x.client.derived().state.ledger.balances].sort());
		expect(ledger(c)).toEqual(ledger(onMock.c));

		const b = await weekBooks(s, c);
		const six = (e: { funded: number; carriedIn: number; released: number; carriedOut: number; refunded: number; settled: number }) => ({
			funded: e.funded,
			carriedIn: e.carriedIn,
			released: e.released,
			carriedOut: e.carriedOut,
			refunded: e.refunded,
			settled: e.settled
		});
		const statement = mock.statement(onMock.c.id);
		expect(Object.fromEntries([...b.weeks].map(([w, e]) => [w, six(e)]))).toEqual(Object.fromEntries(Object.entries(statement.weeks).map(([w, e]) => [w, six(e)])));
		expect(six(b.weeks.get(W1)!)).toEqual({ funded: LIMIT, carriedIn: 0, released: 6_000, carriedOut: 48_000, refunded: 0, settled: 6_000 });
		expect(poolMismatch(b)).toBe(0);
	});

	it('a mediator’s ruling: the fee to the mediator’s own connected account out of the week’s escrow, counted in the week’s settled as the mock counts it', async () => {
		const s = stack();
		const mediatorAccount = await s.onboard(MEDIATOR);
		const mockClock = { now: s.clock.now };
		const mock = new MockEscrowProvider({ now: () => mockClock.now });
		const onMock = await declinedHour(mock, mockClock, async () => undefined, { mediator: true });
		await ruledForFreelancer(onMock);
		const onFunction = await declinedHour(s.adapter, s.clock, () => s.onboard(FREELANCER), { mediator: true });
		await ruledForFreelancer(onFunction);
		const receipt = (p: Party) => {
			const body = JSON.parse(JSON.parse(splits(p)[0]![1]).body);
			return { type: body.type, payload: { ...body.payload, intent: 'x', dispute: 'x' } };
		};
		expect(receipt(onFunction.c.client)).toEqual(receipt(onMock.c.client));
		// $60.00 in dispute, the freelancer's $50.00 picked; the fee is the $25.00 minimum, half of it more than the client's $10.00: the rest from the freelancer's share.
		expect(receipt(onMock.c.client).payload).toEqual({ intent: 'x', dispute: 'x', week: W1, freelancer: 3_500, client: 0, fee: 2_500, mediator: MEDIATOR.publicKey, currency: 'USD' });
		const toMediator = [...s.fake.transfers.values()].filter((t) => t.destination === mediatorAccount);
		expect(toMediator.map((t) => ({ amount: t.amount, week: (t.metadata as Record<string, string>).week, group: t.transfer_group }))).toEqual([{ amount: 2_500, week: W1, group: `${onFunction.c.id}:_hourly` }]);
		const b = await weekBooks(s, onFunction.c);
		const w = mock.statement(onMock.c.id).weeks[W1]!;
		expect(b.weeks.get(W1)).toMatchObject({ funded: w.funded, released: w.released, refunded: w.refunded, settled: w.settled });
		expect(w.settled).toBe(6_000);
		expect(mock.statement(onMock.c.id).mediators).toEqual({ [MEDIATOR.publicKey]: 2_500 });
		for (const p of [onFunction.c.client, onFunction.c.freelancer]) expect(p.derived().rejected).toEqual([]);
	});
});
