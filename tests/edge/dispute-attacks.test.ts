/**
 * Attacks on the Stripe function's dispute splits (issue 12), each written as the attacker's own
 * client would send it: a ruling signed by someone other than the mediator both parties accepted, a
 * ruling picking an offer never made, an outcome sent before its deadline by a device whose clock
 * runs ahead, two parties racing the same due outcome, a split larger than what Stripe holds, a fee
 * larger than one share, a mediator who cannot be paid, a chargeback open on the payment.
 * After each refusal nothing has moved on Stripe.
 */
import { describe, expect, it } from 'vitest';
import { mediatorRuling, milestoneDisputes } from '../../src/lib/contract/dispute-affordances';
import { DAY_MS } from '../../src/lib/contract/state';
import { PATHS } from '../../src/lib/escrow/protocol';
import * as disputes from '../../src/lib/sync/dispute-actions';
import { FREELANCER, MEDIATOR, STRANGER } from '../support/world';
import { FORM, disputed, forged, rule, toMediation, type Disputed } from './dispute-setup';
import { signedHeader, stack, type Stack } from './harness';

async function onStripe(o: { mediator?: boolean; offer?: string; mediatorOnboarded?: boolean } = {}) {
	const s = stack();
	await s.onboard(FREELANCER);
	if (o.mediatorOnboarded !== false) await s.onboard(MEDIATOR);
	return { s, c: await disputed(s.adapter, s.clock, o) };
}

/** Money that left milestone 'a' on Stripe: transfers (less reversals) and refunds. */
function out(s: Stack, c: Disputed, intent?: string) {
	const group = `${c.pair.contract}:a`;
	const mine = (m: unknown) => !intent || (m as Record<string, string>).intent === intent;
	const charges = new Set([...s.fake.charges.values()].filter((ch) => ch.transfer_group === group).map((ch) => ch.id));
	const transfers = [...s.fake.transfers.values()].filter((t) => t.transfer_group === group && mine(t.metadata));
	const refunds = [...s.fake.refunds.values()].filter((r) => charges.has(r.charge as string) && r.status !== 'canceled' && mine(r.metadata));
	return {
		objects: transfers.length + refunds.length,
		total: transfers.reduce((n, t) => n + (t.amount as number) - (t.amount_reversed as number), 0) + refunds.reduce((n, r) => n + (r.amount as number), 0)
	};
}

const base = (c: Disputed) => ({ dispute: c.dispute().id, milestone: 'a', currency: 'USD' as const });

describe('rulings the function refuses', () => {
	it('a ruling signed by a stranger, or by a party, while another mediator was accepted', async () => {
		const { s, c } = await onStripe({ mediator: true });
		await toMediation(c);
		const freelancersOffer = c.dispute().offers.freelancer!.id;
		for (const key of [STRANGER, FREELANCER]) {
			const { id, receipt } = await forged(s.adapter, c.pair.freelancer.log, key, 'dispute.rule', { ...base(c), offer: freelancersOffer }, s.clock.now);
			// Not the accepted mediator: the fold does not take it as a ruling at all.
			await expect(receipt).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/not in the contract log/) });
			expect(out(s, c, id)).toEqual({ objects: 0, total: 0 });
		}
		expect(out(s, c)).toEqual({ objects: 0, total: 0 });
		// The accepted mediator's own ruling still goes through.
		await rule(c, 'freelancer');
		expect(out(s, c).total).toBe(60_000);
	});

	it('a ruling by a mediator only one party accepted (the freelancer’s accomplice)', async () => {
		const { s, c } = await onStripe();
		expect(await disputes.rejectOffer(c.session('freelancer'), c.view('freelancer'), '600', 'USD')).toEqual({ ok: true });
		await c.sync();
		const v = c.view('freelancer');
		expect(await disputes.proposeMediator(c.session('freelancer'), c.party('freelancer').derived().state, v, { name: 'Pal', key: STRANGER.publicKey, percent: '20' }, 'USD')).toEqual({ ok: true });
		await c.sync();
		const { id, receipt } = await forged(s.adapter, c.pair.freelancer.log, STRANGER, 'dispute.rule', { ...base(c), offer: c.dispute().offers.freelancer!.id }, s.clock.now);
		await expect(receipt).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/not in the contract log/) });
		expect(out(s, c, id)).toEqual({ objects: 0, total: 0 });
	});

	it('a ruling that picks an offer that is not a party’s last one, or no offer at all', async () => {
		const { s, c } = await onStripe({ mediator: true });
		expect(await disputes.makeOffer(c.session('freelancer'), c.view('freelancer'), '550', 'USD')).toEqual({ ok: true });
		await c.sync();
		const older = c.dispute().offers.freelancer!.id;
		expect(await disputes.makeOffer(c.session('freelancer'), c.view('freelancer'), '450', 'USD')).toEqual({ ok: true });
		await c.sync();
		expect(await disputes.rejectOffer(c.session('client'), c.view('client'), '', 'USD')).toEqual({ ok: true });
		await c.sync();
		for (const who of ['client', 'freelancer'] as const) expect(await disputes.acceptMediator(c.session(who), c.view(who))).toEqual({ ok: true });
		await c.sync();
		const mo = await c.mediator();
		// An older offer of the freelancer, and an event that is no offer at all (the submission).
		const submission = mo.log.envelopes().find(([, e]) => JSON.parse(JSON.parse(e).body).type === 'milestone.submitted')![0];
		for (const offer of [older, submission]) {
			const { id, receipt } = await forged(s.adapter, mo.log, MEDIATOR, 'dispute.rule', { ...base(c), offer }, s.clock.now);
			await expect(receipt).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/last offers|never made/) });
			expect(out(s, c, id)).toEqual({ objects: 0, total: 0 });
		}
		expect(out(s, c)).toEqual({ objects: 0, total: 0 });
	});

	it('a ruling after the mediator’s deadline on the function’s clock, dated before it by the mediator’s device', async () => {
		const { s, c } = await onStripe({ mediator: true });
		await toMediation(c);
		const mo = await c.mediator();
		s.clock.now += 7 * DAY_MS;
		const { id, receipt } = await forged(s.adapter, mo.log, MEDIATOR, 'dispute.rule', { ...base(c), offer: c.dispute().offers.freelancer!.id }, s.clock.now - 2 * DAY_MS);
		await expect(receipt).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/time to rule ended/) });
		expect(out(s, c, id)).toEqual({ objects: 0, total: 0 });
	});
});

describe('deadline outcomes on the function’s clock', () => {
	it('an outcome sent before its deadline by a device whose clock runs six days ahead is refused; the same intent goes through once the deadline passed here', async () => {
		const { s, c } = await onStripe();
		const ahead = 6 * DAY_MS;
		// On the device's clock the answer window is over and silence is due.
		expect(c.view('client', ahead).settle).toMatchObject({ allowed: true, split: { basis: 'silence', share: 10_000 } });
		const { id, receipt, again: sendAgain } = await forged(s.adapter, c.pair.client.log, c.pair.client.key, 'dispute.settle', { ...base(c), basis: 'silence', freelancer: 10_000 }, s.clock.now + ahead);
		await expect(receipt).rejects.toMatchObject({ code: 'too-early', message: expect.stringMatching(/freelancer has until .* to answer/) });
		expect(out(s, c)).toEqual({ objects: 0, total: 0 });
		s.clock.now += 5 * DAY_MS;
		const again = await sendAgain();
		expect(JSON.parse(JSON.parse(again.envelope).body)).toMatchObject({ type: 'receipt.split', payload: { freelancer: 10_000, client: 50_000 } });
		expect(out(s, c, id)).toEqual({ objects: 2, total: 60_000 });
	});

	it('an outcome that asks for another split than the one due is refused', async () => {
		const { s, c } = await onStripe();
		s.clock.now += 5 * DAY_MS;
		const { receipt } = await forged(s.adapter, c.pair.freelancer.log, FREELANCER, 'dispute.settle', { ...base(c), basis: 'silence', freelancer: 60_000 }, s.clock.now);
		await expect(receipt).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/outcome is now "silence"/) });
		expect(out(s, c)).toEqual({ objects: 0, total: 0 });
	});

	it('two parties racing the same due outcome: one split; the other party is told it is settled, and the same intent twice gets the same receipt', async () => {
		const { s, c } = await onStripe();
		s.clock.now += 5 * DAY_MS;
		const results = await Promise.allSettled([
			disputes.settleDispute(c.session('client'), c.view('client'), 'USD'),
			disputes.settleDispute(c.session('freelancer'), c.view('freelancer'), 'USD')
		]);
		const outcomes = results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason));
		expect(outcomes.filter((o) => o.ok === true)).toHaveLength(1);
		expect(outcomes.filter((o) => o.ok === false)).toEqual([expect.objectContaining({ errors: { form: expect.stringMatching(/settled/) } })]);
		expect(out(s, c)).toEqual({ objects: 2, total: 60_000 });
		// One intent sent twice at once: one split, one receipt.
		const { s: s2, c: c2 } = await onStripe();
		s2.clock.now += 5 * DAY_MS;
		const { receipt, again } = await forged(s2.adapter, c2.pair.client.log, c2.pair.client.key, 'dispute.settle', { ...base(c2), basis: 'silence', freelancer: 10_000 }, s2.clock.now);
		const twice = again();
		const [a, b] = await Promise.all([receipt, twice]);
		expect(a).toEqual(b);
		expect(out(s2, c2)).toEqual({ objects: 2, total: 60_000 });
	});
});

describe('an end accepted concurrently with a dispute', () => {
	/** Funded and submitted; the client proposes ending, then (not having shared it) opens a dispute or not. */
	async function proposed() {
		const s = stack();
		await s.onboard(FREELANCER);
		const c = await disputed(s.adapter, s.clock, { open: false });
		const proposal = await c.pair.client.act('contract.endProposed', { reason: 'Ending by agreement' });
		await c.sync();
		await c.pair.client.act('message.posted', { text: 'Disputing the pages first.' });
		const open = () => disputes.openDispute(c.session('client'), milestoneDisputes(c.pair.client.derived().state, 'client', 'a', s.clock.now), FORM, 'USD');
		return { s, c, proposal, open };
	}

	it('recorded before the end the freelancer accepted unseen, the dispute holds its $600.00 and is split; the end refunds the rest', async () => {
		const { s, c, proposal, open } = await proposed();
		expect(await open()).toEqual({ ok: true });
		// The freelancer has seen only the proposal: its acceptance sorts before the dispute.
		await c.pair.freelancer.act('contract.endAccepted', { proposal: proposal.id });
		await c.sync();
		const state = c.pair.freelancer.derived().state;
		expect(state.status).toBe('ended');
		expect(state.recorded.has(c.dispute().id)).toBe(true);
		await expect(c.pair.client.settle('milestone.refund', { milestone: 'a', amount: 100_000, currency: 'USD', basis: 'ended-by-agreement' })).rejects.toMatchObject({ message: expect.stringMatching(/in dispute/) });
		expect(out(s, c)).toEqual({ objects: 0, total: 0 });
		expect(await disputes.acceptOffer(c.session('freelancer'), c.view('freelancer'), 'USD')).toEqual({ ok: true });
		expect(out(s, c)).toEqual({ objects: 2, total: 60_000 });
		await c.sync();
		await c.pair.client.settle('milestone.refund', { milestone: 'a', amount: 40_000, currency: 'USD', basis: 'ended-by-agreement' });
		await c.sync();
		expect(out(s, c).total).toBe(100_000);
		expect(c.pair.client.derived().state.milestones[0]).toMatchObject({ released: 10_000, refunded: 90_000 });
	});

	it('after the function recorded the end, a dispute is not recorded: the end returns all the escrow', async () => {
		const { s, c, proposal, open } = await proposed();
		await c.pair.freelancer.act('contract.endAccepted', { proposal: proposal.id });
		expect(await open()).toEqual({ ok: true });
		await c.sync();
		const state = c.pair.client.derived().state;
		expect(state.recorded.has(c.dispute().id)).toBe(false);
		await expect(c.pair.client.attest(c.dispute().id)).rejects.toMatchObject({ message: expect.stringMatching(/recorded the end of the contract first/) });
		await c.pair.client.settle('milestone.refund', { milestone: 'a', amount: 100_000, currency: 'USD', basis: 'ended-by-agreement' });
		expect(out(s, c)).toEqual({ objects: 1, total: 100_000 });
	});
});

describe('what Stripe holds and who can be paid', () => {
	it('a split larger than what Stripe holds for the milestone is refused, nothing moved', async () => {
		const { s, c } = await onStripe();
		const charge = [...s.fake.charges.values()].find((ch) => ch.transfer_group === `${c.pair.contract}:a`)!;
		// Refunded outside the function (the platform's dashboard): $500.00 left where $600.00 is in dispute.
		await s.deps.stripe.refunds.create({ charge: charge.id as string, amount: 50_000 });
		const before = out(s, c);
		const r = await disputes.acceptOffer(c.session('freelancer'), c.view('freelancer'), 'USD');
		expect(r).toMatchObject({ ok: false, errors: { form: expect.stringMatching(/^Escrow holds \$500\.00; the release asks for \$600\.00\./) } });
		expect(out(s, c)).toEqual(before);
	});

	it('a fee larger than the share it should half come from is taken from the other share', async () => {
		const { s, c } = await onStripe({ mediator: true, offer: '0' });
		await toMediation(c);
		const mo = await rule(c, 'client');
		const group = `${c.pair.contract}:a`;
		const transfers = [...s.fake.transfers.values()].filter((t) => t.transfer_group === group);
		// $0.00 to the freelancer: the whole $30.00 fee comes out of the client's $600.00.
		expect(transfers.map((t) => [(t.metadata as Record<string, string>).split_part, t.amount])).toEqual([['mediator', 3_000]]);
		expect(out(s, c)).toEqual({ objects: 2, total: 60_000 });
		expect([...mo.derived().state.disputes.values()][0]!.settlement).toMatchObject({ freelancer: 0, client: 57_000, fee: 3_000 });
	});

	it('a mediator with no payable account: the ruling is refused before anything moves, and goes through once it onboarded', async () => {
		const { s, c } = await onStripe({ mediator: true, mediatorOnboarded: false });
		await toMediation(c);
		const mo = await c.mediator();
		const d = [...mo.derived().state.disputes.values()].at(-1)!;
		const ruling = mediatorRuling(mo.derived().state, d, MEDIATOR.publicKey, s.clock.now);
		const offer = ruling.choices.find((x) => x.by === 'freelancer')!.offer;
		expect(await disputes.ruleDispute({ party: mo }, { dispute: d }, ruling, offer, 'USD')).toMatchObject({ ok: false, errors: { form: expect.stringMatching(/mediator has not finished Stripe onboarding/) } });
		expect(out(s, c)).toEqual({ objects: 0, total: 0 });
		await s.onboard(MEDIATOR);
		expect(await disputes.ruleDispute({ party: mo }, { dispute: d }, ruling, offer, 'USD')).toEqual({ ok: true });
		expect(out(s, c)).toEqual({ objects: 3, total: 60_000 });
	});

	it('a deployment without a record (the Deno entry) refuses every dispute outcome: it cannot judge the record or the deadlines', async () => {
		const s = stack({ records: false });
		await s.onboard(FREELANCER);
		const c = await disputed(s.adapter, s.clock);
		const r = await disputes.acceptOffer(c.session('freelancer'), c.view('freelancer'), 'USD');
		expect(r).toMatchObject({ ok: false, errors: { form: expect.stringMatching(/keeps no record/) } });
		expect(out(s, c)).toEqual({ objects: 0, total: 0 });
	});

	it('a chargeback open on the payment stops the split until it closes', async () => {
		const { s, c } = await onStripe();
		const charge = [...s.fake.charges.values()].find((ch) => ch.transfer_group === `${c.pair.contract}:a`)!;
		const dispute = s.fake.openDispute(charge.id as string);
		await deliver(s, 'charge.dispute.created');
		const r = await disputes.acceptOffer(c.session('freelancer'), c.view('freelancer'), 'USD');
		expect(r).toMatchObject({ ok: false, errors: { form: expect.stringMatching(/chargeback/) } });
		expect(out(s, c)).toEqual({ objects: 0, total: 0 });
		s.fake.closeDispute(dispute.id as string, 'won');
		await deliver(s, 'charge.dispute.closed');
		expect(await disputes.acceptOffer(c.session('freelancer'), c.view('freelancer'), 'USD')).toEqual({ ok: true });
		expect(out(s, c)).toEqual({ objects: 2, total: 60_000 });
	});
});

/** Deliver the fake's latest event of `type` to the function's webhook, signed as Stripe signs it. */
async function deliver(s: Stack, type: string): Promise<void> {
	const event = [...s.fake.events].reverse().find((e) => e.type === type)!;
	const payload = JSON.stringify(event);
	const header = await signedHeader(payload, Math.floor(s.clock.now / 1000));
	const res = await s.handler(new Request(`https://escrow.milestone.test${PATHS.webhook}`, { method: 'POST', headers: { 'stripe-signature': header, 'content-type': 'application/json' }, body: payload }));
	expect(res.status).toBe(200);
}
