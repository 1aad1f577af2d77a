/**
 * The Resolution Center's use cases (sync/dispute-actions.ts) on two real Parties and the TEST MODE
 * mock: what each role may do comes from dispute-affordances.ts; forms say every error at once, in
 * words, money formatted; settlements are split by the provider.
 */
import { describe, expect, it } from 'vitest';
import { affordances } from '../../../src/lib/contract/affordances';
import { disputeAffordances, ifYouDoNothing, mediatorRuling, milestoneDisputes } from '../../../src/lib/contract/dispute-affordances';
import { DAY_MS, escrowOf, milestone } from '../../../src/lib/contract/state';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { formatAmount } from '../../../src/lib/money/amount';
import { mediationFee } from '../../../src/lib/money/mediation';
import * as actions from '../../../src/lib/sync/actions';
import * as disputes from '../../../src/lib/sync/dispute-actions';
import { attentionOf } from '../../../src/lib/sync/inbox';
import { activePair } from '../../support/parties';
import { MEDIATOR, T0, terms } from '../../support/world';

type Who = 'client' | 'freelancer';

async function setUp(o: { mediator?: boolean } = {}) {
	const clock = { now: T0 };
	const provider = new MockEscrowProvider({ now: () => clock.now });
	const info = await provider.info();
	const t = terms({
		provider: { id: 'mock', publicKey: info.publicKey, testMode: true },
		...(o.mediator ? { mediator: { publicKey: MEDIATOR.publicKey, name: 'Mo Mediator', feeBps: 500 } } : {})
	});
	const pair = await activePair({ escrow: provider, clock: () => clock.now, terms: t });
	const party = (who: Who) => (who === 'client' ? pair.client : pair.freelancer);
	const sync = async () => {
		await pair.freelancer.receive(pair.client.log.envelopes());
		await pair.client.receive(pair.freelancer.log.envelopes());
	};
	const state = (who: Who) => party(who).derived().state;
	const ms = (who: Who) => milestoneDisputes(state(who), who, 'design', clock.now);
	const view = (who: Who) => ms(who).current!;
	const session = (who: Who) => ({ party: party(who) });
	// Funded ($1,000.00) and submitted, as a dispute usually starts.
	await actions.fundMilestone(session('client'), affordances(state('client'), 'client', clock.now).milestones[0]!, 'USD', 'card');
	await sync();
	await actions.requestPayment(session('freelancer'), affordances(state('freelancer'), 'freelancer', clock.now).milestones[0]!, { message: 'Done.', links: 'https://ok.example' });
	await sync();
	return { clock, provider, pair, sync, state, ms, view, session, party };
}

const FORM = { amount: '600', reason: 'not-delivered', details: 'The pages are missing.', offer: '100' };

describe('opening a dispute', () => {
	it('shows every field error at once, in words with money formatted, and writes nothing', async () => {
		const c = await setUp();
		const size = c.party('client').log.size;
		const r = await disputes.openDispute(c.session('client'), c.ms('client'), { amount: '2,000', reason: '', details: ' ', offer: '' }, 'USD');
		expect(r).toEqual({
			ok: false,
			pending: false,
			errors: {
				amount: 'Escrow holds $1,000.00 for this milestone: enter at most that.',
				reason: 'Choose the reason for the dispute.',
				details: 'Say what happened: the other party and any mediator read it.',
				offer: expect.stringMatching(/^Enter your opening offer: how much of the \$1,000\.00 in dispute goes to the freelancer/)
			}
		});
		const over = await disputes.openDispute(c.session('client'), c.ms('client'), { ...FORM, offer: '700' }, 'USD');
		expect(over).toMatchObject({ ok: false, errors: { offer: '$600.00 is in dispute: your opening offer can be at most that.' } });
		expect(c.party('client').log.size).toBe(size);
	});

	it("offers each role only its own reasons that apply now, and only on escrow still held", async () => {
		const c = await setUp();
		expect(c.ms('client').open).toMatchObject({ allowed: true, max: 100_000, reasons: ['not-delivered'] });
		expect(c.ms('freelancer').open).toMatchObject({ allowed: true, reasons: ['client-silent'] });
		// The client's reason typed into the freelancer's form is refused next to the field.
		const r = await disputes.openDispute(c.session('freelancer'), c.ms('freelancer'), FORM, 'USD');
		expect(r).toMatchObject({ ok: false, errors: { reason: expect.stringMatching(/does not apply/) } });
		// Nothing held on "build": nothing to dispute.
		const build = disputeAffordances(c.state('client'), 'client', c.clock.now).find((m) => m.milestone === 'build')!;
		expect(build.open).toMatchObject({ allowed: false, reason: expect.stringMatching(/escrow still held/) });
	});
});

describe('negotiating', () => {
	it('opened, recorded by the provider: the other party faces the offer, with the deadline and what silence means', async () => {
		const c = await setUp();
		expect(await disputes.openDispute(c.session('client'), c.ms('client'), FORM, 'USD')).toEqual({ ok: true });
		await c.sync();
		const v = c.view('freelancer');
		expect(v.status).toMatchObject({ stage: 'negotiating', turn: 'freelancer', deadline: c.clock.now + 5 * DAY_MS });
		expect(v.theirs?.amount).toBe(10_000);
		expect(v.accept).toMatchObject({ allowed: true, split: { freelancer: 10_000, client: 50_000 } });
		expect(v.acceptMidpoint).toMatchObject({ allowed: false, reason: 'A midpoint needs an offer from each party.' });
		expect(v.reject).toMatchObject({ allowed: true, needsFinal: true });
		expect(c.ms('client').open).toMatchObject({ allowed: false, reason: 'A dispute is already open on this milestone.' });
		const money = (n: number) => formatAmount(n, 'USD');
		const when = () => 'Fri 11 Dec 14:00';
		expect(ifYouDoNothing(c.state('freelancer'), v, 'freelancer', when, money)).toBe(
			"If you do nothing by Fri 11 Dec 14:00, you accept the client's last offer: $100.00 to the freelancer and $500.00 back to the client."
		);
		expect(ifYouDoNothing(c.state('client'), c.view('client'), 'client', when, money)).toBe(
			'If the freelancer does nothing by Fri 11 Dec 14:00, the freelancer accepts your last offer: $100.00 to the freelancer and $500.00 back to the client.'
		);
	});

	it('an offer above the disputed amount is refused in words; offers are exchanged; "accept the midpoint" splits the escrow', async () => {
		const c = await setUp();
		await disputes.openDispute(c.session('client'), c.ms('client'), FORM, 'USD');
		await c.sync();
		expect(await disputes.makeOffer(c.session('freelancer'), c.view('freelancer'), '600.01', 'USD')).toEqual({
			ok: false,
			pending: false,
			errors: { amount: '$600.00 is in dispute: your offer can be at most that.' }
		});
		expect(await disputes.makeOffer(c.session('freelancer'), c.view('freelancer'), '', 'USD')).toMatchObject({ errors: { amount: expect.stringMatching(/^Enter your offer/) } });
		expect(await disputes.makeOffer(c.session('freelancer'), c.view('freelancer'), '500.01', 'USD')).toEqual({ ok: true });
		await c.sync();
		const v = c.view('client');
		expect(v.status.turn).toBe('client');
		// $100.00 and $500.01: the odd cent goes to the freelancer.
		expect(v.midpoint).toBe(30_001);
		expect(v.acceptMidpoint).toMatchObject({ allowed: true, split: { basis: 'midpoint', freelancer: 30_001, client: 29_999 } });
		expect(await disputes.acceptMidpoint(c.session('client'), v, 'USD')).toEqual({ ok: true });
		await c.sync();
		for (const who of ['client', 'freelancer'] as const) {
			const s = c.state(who);
			const m = milestone(s, 'design')!;
			expect([m.released, m.refunded, escrowOf(m), m.phase]).toEqual([30_001, 29_999, 40_000, 'in_progress']);
			expect([...s.disputes.values()][0]!.settlement).toMatchObject({ basis: 'midpoint', freelancer: 30_001, client: 29_999 });
			expect(c.ms(who).current).toBeUndefined();
			expect(c.ms(who).past).toHaveLength(1);
		}
		// Settled: accepting again is refused in words, and nothing moves twice.
		expect(await disputes.acceptMidpoint(c.session('client'), v, 'USD')).toMatchObject({ ok: false, errors: { form: expect.stringMatching(/settled/) } });
	});

	it("accepting the other's last offer settles at it", async () => {
		const c = await setUp();
		await disputes.openDispute(c.session('client'), c.ms('client'), FORM, 'USD');
		await c.sync();
		expect(await disputes.acceptOffer(c.session('freelancer'), c.view('freelancer'), 'USD')).toEqual({ ok: true });
		const m = milestone(c.state('freelancer'), 'design')!;
		expect([m.released, m.refunded]).toEqual([10_000, 50_000]);
	});

	it('silence: past the answer deadline nobody can answer any more, and either party has the due outcome executed', async () => {
		const c = await setUp();
		await disputes.openDispute(c.session('client'), c.ms('client'), FORM, 'USD');
		await c.sync();
		expect(c.view('client').settle).toMatchObject({ allowed: false, reason: expect.stringMatching(/freelancer has until .* to answer/) });
		c.clock.now += 5 * DAY_MS;
		const v = c.view('freelancer');
		expect(v.accept.allowed).toBe(false);
		expect(v.offer).toMatchObject({ allowed: false, reason: expect.stringMatching(/Negotiation ended/) });
		expect(v.status.stage).toBe('due');
		expect(v.settle).toMatchObject({ allowed: true, split: { basis: 'silence', freelancer: 10_000, client: 50_000 } });
		expect(await disputes.settleDispute(c.session('client'), c.view('client'), 'USD')).toEqual({ ok: true });
		expect(milestone(c.state('client'), 'design')).toMatchObject({ released: 10_000, refunded: 50_000 });
	});
});

describe('rejection and the mediator', () => {
	it('a rejection by a party without an offer needs its final offer; then both accept the mediator the terms name, its fee shown', async () => {
		const c = await setUp({ mediator: true });
		await disputes.openDispute(c.session('client'), c.ms('client'), FORM, 'USD');
		await c.sync();
		expect(await disputes.rejectOffer(c.session('freelancer'), c.view('freelancer'), '', 'USD')).toMatchObject({ ok: false, errors: { final: expect.stringMatching(/^Enter your final offer/) } });
		expect(c.view('freelancer').acceptMediator).toMatchObject({ allowed: false, reason: expect.stringMatching(/nothing to mediate/) });
		expect(await disputes.rejectOffer(c.session('freelancer'), c.view('freelancer'), '600', 'USD')).toEqual({ ok: true });
		await c.sync();
		const v = c.view('client');
		expect(v.status.stage).toBe('mediator-setup');
		expect(v.offer.allowed).toBe(false);
		expect(v.acceptMediator).toMatchObject({ allowed: true, mediator: { name: 'Mo Mediator', fee: mediationFee(60_000, 500, 'USD') } });
		expect(await disputes.acceptMediator(c.session('client'), v)).toEqual({ ok: true });
		await c.sync();
		expect(c.view('client').acceptMediator).toMatchObject({ allowed: false, acceptedByMe: true });
		expect(await disputes.acceptMediator(c.session('freelancer'), c.view('freelancer'))).toEqual({ ok: true });
		await c.sync();
		expect(c.view('client').status).toMatchObject({ stage: 'mediation', turn: 'mediator' });
	});
});

describe('the Inbox', () => {
	it('lists each dispute step for the person it waits on, with what silence means, and drops it once settled', async () => {
		const c = await setUp({ mediator: true });
		await disputes.openDispute(c.session('client'), c.ms('client'), FORM, 'USD');
		await c.sync();
		const line = (who: Who) => attentionOf({ state: c.state(who), missing: false, now: c.clock.now }, c.pair[who].key.publicKey)?.text;
		expect(line('freelancer')).toBe("Answer the client's offer on milestone 1 (Resolution Center) — if you do nothing, you accept it in 5 days");
		// The client made the last offer: nothing of the dispute waits on it.
		expect(line('client') ?? '').not.toMatch(/Resolution Center/);
		await disputes.rejectOffer(c.session('freelancer'), c.view('freelancer'), '500', 'USD');
		await c.sync();
		for (const who of ['client', 'freelancer'] as const) expect(line(who)).toBe('Accept the mediator for the dispute on milestone 1 (Resolution Center) — the time to accept ends in 3 days');
		await disputes.acceptMediator(c.session('client'), c.view('client'));
		await c.sync();
		expect(line('client') ?? '').not.toMatch(/Resolution Center/);
		// Nobody else acts: past the mediator's 3 days the outcome is due, for either party to have paid out.
		c.clock.now += 3 * DAY_MS;
		expect(line('client')).toBe("Have the dispute's outcome on milestone 1 paid out (Resolution Center)");
		expect(c.view('client').settle).toMatchObject({ allowed: true, split: { basis: 'mediator-unsigned', share: 10_000 } });
		expect(await disputes.settleDispute(c.session('freelancer'), c.view('freelancer'), 'USD')).toEqual({ ok: true });
		await c.sync();
		expect(line('client') ?? '').not.toMatch(/Resolution Center/);
		expect(line('freelancer') ?? '').not.toMatch(/Resolution Center/);
	});
});

describe('a mediator the parties name, and its ruling', () => {
	it('a party proposes a mediator (every field checked at once), the other accepts it, and the mediator rules for one last offer, its fee paid from the split', async () => {
		const c = await setUp();
		await disputes.openDispute(c.session('client'), c.ms('client'), FORM, 'USD');
		await c.sync();
		await disputes.makeOffer(c.session('freelancer'), c.view('freelancer'), '500', 'USD');
		await c.sync();
		expect(c.view('client').proposeMediator).toMatchObject({ allowed: false, reason: expect.stringMatching(/nothing to mediate/) });
		expect(await disputes.rejectOffer(c.session('client'), c.view('client'), '', 'USD')).toEqual({ ok: true });
		await c.sync();
		const v = c.view('client');
		expect(v.acceptMediator).toMatchObject({ allowed: false, reason: expect.stringMatching(/No mediator has been named yet/) });
		expect(v.proposeMediator.allowed).toBe(true);
		expect(await disputes.proposeMediator(c.session('client'), c.state('client'), v, { name: ' ', key: c.pair.freelancer.key.publicKey, percent: '25' }, 'USD')).toEqual({
			ok: false,
			pending: false,
			errors: {
				name: "Enter the mediator's name, as both parties will see it.",
				key: 'The mediator cannot be a party of this contract or its escrow provider.',
				percent: 'Enter the fee as a percentage of the disputed amount, from 0 to 20 (like 5 or 2.5).'
			}
		});
		expect(await disputes.proposeMediator(c.session('client'), c.state('client'), v, { name: 'Mo', key: 'abc', percent: '5' }, 'USD')).toMatchObject({ errors: { key: expect.stringMatching(/^That is not a mediator's key/) } });
		expect(await disputes.proposeMediator(c.session('client'), c.state('client'), v, { name: 'Mo', key: MEDIATOR.publicKey, percent: '5' }, 'USD')).toEqual({ ok: true });
		await c.sync();
		expect(c.view('client').acceptMediator).toMatchObject({ allowed: false, acceptedByMe: true, reason: 'You accepted Mo: waiting for the freelancer.' });
		// The freelancer is shown the same mediator and the fee it comes to: 5 % of $600.00 is $30.00.
		const f = c.view('freelancer');
		expect(f.acceptMediator).toMatchObject({ allowed: true, mediator: { name: 'Mo', publicKey: MEDIATOR.publicKey, feeBps: 500, fee: 3_000 } });
		expect(await disputes.acceptMediator(c.session('freelancer'), f)).toEqual({ ok: true });
		await c.sync();
		expect(c.view('client').status).toMatchObject({ stage: 'mediation', turn: 'mediator' });

		// The mediator's device: only it may rule, between the two last offers.
		const mo = await c.pair.device(MEDIATOR);
		await mo.receive(c.pair.freelancer.log.envelopes());
		const d = [...mo.derived().state.disputes.values()][0]!;
		expect(mediatorRuling(c.state('client'), d, c.pair.client.key.publicKey, c.clock.now)).toMatchObject({ allowed: false });
		const ruling = mediatorRuling(mo.derived().state, d, MEDIATOR.publicKey, c.clock.now);
		expect(ruling).toMatchObject({ allowed: true, choices: [{ by: 'client', split: { share: 10_000 } }, { by: 'freelancer', split: { share: 50_000, freelancer: 48_500, client: 8_500, fee: 3_000 } }] });
		const forFreelancer = ruling.choices.find((x) => x.by === 'freelancer')!.offer;
		expect(await disputes.ruleDispute({ party: mo }, { dispute: d }, ruling, forFreelancer, 'USD')).toEqual({ ok: true });
		await c.pair.client.receive(mo.log.envelopes());
		const s = c.pair.client.derived().state;
		expect([...s.disputes.values()][0]!.settlement).toMatchObject({ basis: 'ruling', freelancer: 48_500, client: 8_500, fee: 3_000 });
		expect(s.ledger.balance(`mediator:${MEDIATOR.publicKey}`)).toBe(3_000);
	});
});
