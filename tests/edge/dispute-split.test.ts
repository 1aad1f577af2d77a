/**
 * Issue 12, providers: the Stripe function executes a dispute's outcome as ONE split of the
 * milestone's escrow from the same charge (a transfer to the freelancer, a transfer of the fee to
 * the mediator's connected account, a refund to the client), idempotent on the intent id, and signs
 * the very receipt the TEST MODE mock signs for the same outcome.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS, escrowOf, milestone } from '../../src/lib/contract/state';
import { MockEscrowProvider } from '../../src/lib/escrow/mock';
import type { EscrowAdapter, Receipt } from '../../src/lib/escrow/adapter';
import * as disputes from '../../src/lib/sync/dispute-actions';
import { FREELANCER, MEDIATOR } from '../support/world';
import { disputed, payloadOf, rule, toMediation, type Disputed } from './dispute-setup';
import { stack, type Stack } from './harness';

async function onStripe(o: { mediator?: boolean } = {}) {
	const s = stack();
	await s.onboard(FREELANCER);
	const mediatorAccount = await s.onboard(MEDIATOR);
	return { s, c: await disputed(s.adapter, s.clock, o), mediatorAccount };
}

/** Stripe's objects for the contract's milestone 'a'. */
function moved(s: Stack, c: Disputed) {
	const group = `${c.pair.contract}:a`;
	const charges = [...s.fake.charges.values()].filter((ch) => ch.transfer_group === group);
	const ids = new Set(charges.map((ch) => ch.id));
	return {
		charges,
		transfers: [...s.fake.transfers.values()].filter((t) => t.transfer_group === group).map((t) => ({ to: t.destination, amount: t.amount, from: t.source_transaction })),
		refunds: [...s.fake.refunds.values()].filter((r) => ids.has(r.charge as string)).map((r) => ({ amount: r.amount, from: r.charge }))
	};
}

/** The split receipt the last settle wrote in `who`'s log. */
function lastSplit(c: Disputed, who: 'client' | 'freelancer'): Receipt {
	const split = c.party(who).log.envelopes().filter(([, e]) => JSON.parse(JSON.parse(e).body).type === 'receipt.split');
	const [id, envelope] = split.at(-1)!;
	return { id, envelope };
}

describe('the Stripe function splits a dispute’s outcome', () => {
	it('"accept the midpoint": the freelancer’s share transferred and the client’s refunded from the same charge; both parties fold it', async () => {
		const { s, c } = await onStripe();
		expect(await disputes.makeOffer(c.session('freelancer'), c.view('freelancer'), '500.01', 'USD')).toEqual({ ok: true });
		await c.sync();
		expect(await disputes.acceptMidpoint(c.session('client'), c.view('client'), 'USD')).toEqual({ ok: true });
		await c.sync();
		const m = moved(s, c);
		const charge = m.charges[0]!.id;
		const freelancerAccount = [...s.fake.accounts.values()].find((a) => (a.metadata as Record<string, string>).party_key === FREELANCER.publicKey)!.id;
		expect(m.transfers).toEqual([{ to: freelancerAccount, amount: 30_001, from: charge }]);
		expect(m.refunds).toEqual([{ amount: 29_999, from: charge }]);
		for (const who of ['client', 'freelancer'] as const) {
			const d = c.party(who).derived();
			expect(d.rejected).toEqual([]);
			expect(milestone(d.state, 'a')).toMatchObject({ released: 30_001, refunded: 29_999 });
			expect(escrowOf(milestone(d.state, 'a')!)).toBe(40_000);
		}
		// The $400.00 not in dispute still moves the ordinary way.
		await c.pair.client.settle('milestone.release', { milestone: 'a', amount: 40_000, currency: 'USD', method: 'card' });
		expect(moved(s, c).transfers.reduce((sum, t) => sum + (t.amount as number), 0)).toBe(70_001);
		// The freelancer's share waits the security period like any release, then is withdrawn.
		await c.sync();
		await expect(c.pair.freelancer.settle('withdrawal.requested', { amount: 30_001, currency: 'USD', method: 'bank' })).rejects.toMatchObject({ code: 'insufficient-balance' });
		s.clock.now += c.pair.freelancer.derived().state.terms!.securityPeriodDays * DAY_MS;
		await c.pair.freelancer.settle('withdrawal.requested', { amount: 70_001, currency: 'USD', method: 'bank' });
		expect(c.pair.freelancer.derived().rejected).toEqual([]);
	});

	it('a ruling: the freelancer’s share less half the fee, the client’s less the other half, the fee to the mediator’s own connected account', async () => {
		const { s, c, mediatorAccount } = await onStripe({ mediator: true });
		await toMediation(c);
		const mo = await rule(c, 'freelancer');
		const m = moved(s, c);
		const charge = m.charges[0]!.id;
		// $600.00 in dispute, the freelancer's $500.00 picked, fee 5 % = $30.00 split $15.00 / $15.00.
		expect(m.transfers).toEqual(expect.arrayContaining([{ to: mediatorAccount, amount: 3_000, from: charge }]));
		expect(m.transfers.filter((t) => t.to !== mediatorAccount)).toEqual([{ to: expect.any(String), amount: 48_500, from: charge }]);
		expect(m.refunds).toEqual([{ amount: 8_500, from: charge }]);
		expect(s.fake.connectedBalance(mediatorAccount)).toBe(3_000);
		await c.pair.client.receive(mo.log.envelopes());
		const st = c.pair.client.derived();
		expect(st.rejected).toEqual([]);
		expect([...st.state.disputes.values()][0]!.settlement).toMatchObject({ basis: 'ruling', freelancer: 48_500, client: 8_500, fee: 3_000 });
		expect(st.state.ledger.balance(`mediator:${MEDIATOR.publicKey}`)).toBe(3_000);
	});

	it('deadline outcomes on the function’s clock: silence accepts the last offer; no mediator accepted splits at the midpoint', async () => {
		const { s, c } = await onStripe();
		s.clock.now += 5 * DAY_MS;
		expect(await disputes.settleDispute(c.session('freelancer'), c.view('freelancer'), 'USD')).toEqual({ ok: true });
		expect(payloadOf(lastSplit(c, 'freelancer'))).toMatchObject({ freelancer: 10_000, client: 50_000, fee: 0 });
		expect(moved(s, c).refunds).toEqual([{ amount: 50_000, from: expect.any(String) }]);

		const { s: s2, c: c2 } = await onStripe();
		expect(await disputes.rejectOffer(c2.session('freelancer'), c2.view('freelancer'), '400', 'USD')).toEqual({ ok: true });
		await c2.sync();
		s2.clock.now += 3 * DAY_MS;
		expect(c2.view('client').settle).toMatchObject({ allowed: true, split: { basis: 'no-mediator' } });
		expect(await disputes.settleDispute(c2.session('client'), c2.view('client'), 'USD')).toEqual({ ok: true });
		expect(payloadOf(lastSplit(c2, 'client'))).toMatchObject({ freelancer: 25_000, client: 35_000, fee: 0 });
		expect(moved(s2, c2)).toMatchObject({ transfers: [{ amount: 25_000 }], refunds: [{ amount: 35_000 }] });
	});

	it('idempotent on the intent id: asked again (the answer lost), the same receipt and nothing moves twice', async () => {
		const { s, c } = await onStripe();
		const accept = await c.pair.freelancer.settle('dispute.accept', { dispute: c.dispute().id, milestone: 'a', offer: c.view('freelancer').accept.offer!, currency: 'USD' });
		const before = moved(s, c);
		const again = await s.adapter.release({ contract: c.pair.contract, log: c.pair.freelancer.log.envelopes().map(([, e]) => e), event: accept.intent.id });
		expect(again).toEqual(accept.receipt);
		expect(moved(s, c)).toEqual(before);
		expect(before).toMatchObject({ transfers: [{ amount: 10_000 }], refunds: [{ amount: 50_000 }] });
	});

	it('a split cut short after the transfer (Stripe answered 500 on the refund) is finished on retry: only the refund is made, once', async () => {
		const { s, c } = await onStripe();
		let failed = false;
		s.fake.jitter = () => {
			const last = s.fake.requests.at(-1)!;
			if (!failed && last.method === 'POST' && last.path === '/v1/refunds') {
				failed = true;
				s.fake.failNext('500');
			}
			return 0;
		};
		const first = await disputes.acceptOffer(c.session('freelancer'), c.view('freelancer'), 'USD');
		expect(first.ok).toBe(false);
		expect(moved(s, c)).toMatchObject({ transfers: [{ amount: 10_000 }], refunds: [] });
		s.clock.now += 60_000;
		const resumed = await c.pair.freelancer.resume();
		expect(resumed.settled).toHaveLength(1);
		expect(moved(s, c)).toMatchObject({ transfers: [{ amount: 10_000 }], refunds: [{ amount: 50_000 }] });
		const d = c.pair.freelancer.derived();
		expect(d.rejected).toEqual([]);
		// The receipt keeps the first attempt's time: judged as the split was first made.
		expect(JSON.parse(JSON.parse(lastSplit(c, 'freelancer').envelope).body).at).toBe(s.clock.now - 60_000);
	});

	it('signs what the TEST MODE mock signs for the same outcome, field for field', async () => {
		const play = async (escrow: EscrowAdapter, clock: { now: number }) => {
			const c = await disputed(escrow, clock, { mediator: true });
			await toMediation(c);
			const mo = await rule(c, 'client');
			const [, envelope] = mo.log.envelopes().filter(([, e]) => JSON.parse(JSON.parse(e).body).type === 'receipt.split')[0]!;
			const p = JSON.parse(JSON.parse(envelope).body);
			return { type: p.type, deps: p.deps.length, payload: { ...p.payload, intent: 'x', dispute: 'x' } };
		};
		const { s } = await onStripe();
		const clock = { now: s.clock.now };
		const onMock = await play(new MockEscrowProvider({ now: () => clock.now }), clock);
		const onFunction = await play(s.adapter, s.clock);
		expect(onFunction).toEqual(onMock);
		expect(onMock.payload).toEqual({ intent: 'x', dispute: 'x', milestone: 'a', freelancer: 8_500, client: 48_500, fee: 3_000, mediator: MEDIATOR.publicKey, currency: 'USD' });
	});
});
