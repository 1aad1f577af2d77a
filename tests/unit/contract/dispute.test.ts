/**
 * The Resolution Center's rules (contract/dispute.ts): opening, negotiation with its deadlines and
 * silence, the midpoint, rejection, small amounts, mediator acceptance and its deadline, final-offer
 * rulings, fees, the split the provider executes, and the mock executing it on its own record.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerDeadline, disputeStatus, settleDecision } from '../../../src/lib/contract/dispute';
import { assertContractInvariants, check } from '../../../src/lib/contract/fold';
import { autoReleaseDecision } from '../../../src/lib/contract/release';
import type { Payload } from '../../../src/lib/contract/schema';
import { DAY_MS, escrowOf, milestone, type Ev } from '../../../src/lib/contract/state';
import { milestoneStatus } from '../../../src/lib/contract/status';
import { encodeBody } from '../../../src/lib/contract/envelope';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { CURRENCY_CODES } from '../../../src/lib/money/currency';
import { MEDIATION_FEE_MINIMUM, SMALL_DISPUTE_LIMIT, feeShares, mediationFee, midpoint } from '../../../src/lib/money/mediation';
import { deliveryOrder, replica, summary } from '../../support/sim';
import { CLIENT, DisputePlay, FREELANCER, MEDIATOR, OTHER_MEDIATOR, PROVIDER, STRANGER, World, terms, type DisputeAction, type Side } from '../../support/world';

const HOUR = 3_600_000;

/** A funded, submitted milestone "design" (100.00) with a dispute the client opened on 60.00, offering 10.00 to the freelancer. */
async function disputed(o: { amount?: number; offer?: number; t?: ReturnType<typeof terms> } = {}) {
	const w = new World();
	await w.active(o.t ?? terms());
	await w.fund('design', 100_000);
	await w.submit('design');
	const d = await w.openDispute(CLIENT, { milestone: 'design', amount: o.amount ?? 60_000, offer: o.offer ?? 10_000 });
	return { w, d };
}

const base = (d: string) => ({ dispute: d, milestone: 'design', currency: 'USD' as const });

/** A `dispute.settle` intent and the provider's split for it; returns the receipt's rejection (undefined: applied). */
async function settle(w: World, d: string, basis: Payload<'dispute.settle'>['basis'], share: number, x: { freelancer: number; client: number; fee?: number }, by = FREELANCER) {
	const intent = await w.emit(by, 'dispute.settle', { ...base(d), basis, freelancer: share });
	const receipt = await w.split(intent, d, 'design', x);
	return w.rejection(receipt);
}

describe('opening a dispute', () => {
	it('each party has its own reasons; the amount is escrow still held; the offer is part of it', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const open = (key: typeof CLIENT, p: Partial<Payload<'dispute.opened'>>) =>
			w.emit(key, 'dispute.opened', { milestone: 'design', amount: 50_000, currency: 'USD', reason: 'not-delivered', details: 'x', offer: 0, ...p }).then((id) => w.rejection(id));
		expect((await open(CLIENT, { reason: 'client-silent' }))?.code).toBe('wrong-role');
		expect((await open(FREELANCER, { reason: 'not-delivered' }))?.code).toBe('wrong-role');
		expect((await open(CLIENT, { reason: 'refund-declined' }))?.message).toMatch(/No refund request on this milestone was declined/);
		expect((await open(FREELANCER, { reason: 'client-silent' }))?.message).toMatch(/No submission is waiting/);
		expect((await open(FREELANCER, { reason: 'changes-requested' }))?.message).toMatch(/not requested changes/);
		expect((await open(CLIENT, { amount: 100_001 }))?.code).toBe('exceeds-escrow');
		expect((await open(CLIENT, { offer: 50_001 }))?.code).toBe('amount-mismatch');
		expect((await open(STRANGER, {}))?.code).toBe('not-party');
		// A declined refund request is a reason for the client; a change request on submitted work one for the freelancer.
		const req = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 10_000, currency: 'USD', reason: 'Late.' });
		await w.emit(FREELANCER, 'refund.declined', { request: req, reason: 'It was on time.' });
		expect(await open(CLIENT, { reason: 'refund-declined' })).toBeUndefined();
		await w.submit('design');
		await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'design', reason: 'Bigger logo.' });
		expect(await open(FREELANCER, { reason: 'changes-requested' })).toBeUndefined();
	});

	it('counts once the provider recorded it; the provider records one open dispute per milestone, in the order of its record', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.submit('design');
		// Both open at once, neither seeing the other's.
		const byFreelancer = await w.openDispute(FREELANCER, { milestone: 'design', amount: 100_000, offer: 100_000, record: false });
		const byClient = await w.openDispute(CLIENT, { milestone: 'design', amount: 100_000, offer: 0, record: false });
		expect(milestoneStatus(w.state, milestone(w.state, 'design')!)).not.toBe('disputed');
		const first = await w.record(byClient, 'milestone-dispute');
		const second = await w.record(byFreelancer, 'milestone-dispute');
		expect(w.rejection(first)).toBeUndefined();
		expect(w.rejection(second)?.message).toMatch(/already open/);
		expect(milestone(w.state, 'design')!.phase).toBe('disputed');
		expect(milestoneStatus(w.state, milestone(w.state, 'design')!)).toBe('disputed');
		expect(w.state.disputes.get(byClient)!.openedAt).toBe(w.now);
		expect(w.state.disputes.get(byFreelancer)!.openedAt).toBeUndefined();
	});

	it('stops the money clocks on that escrow: no auto-release, no unanswered refund; only the undisputed part moves', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const req = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 30_000, currency: 'USD', reason: 'Too slow.' });
		await w.record(req, 'refund-request');
		await w.submit('design');
		w.advance(1);
		const d = await w.openDispute(CLIENT, { milestone: 'design', amount: 60_000, offer: 0 });
		w.advance(20);
		// The review window would have ended: the dispute stopped it.
		expect(autoReleaseDecision(w.state, 'design', w.now)).toMatchObject({ due: false });
		// The refund request's answer window would have ended too.
		const unanswered = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 30_000, currency: 'USD', basis: 'unanswered-request', request: req });
		const r1 = await w.emit(PROVIDER, 'receipt.refunded', { intent: unanswered, milestone: 'design', amount: 30_000, currency: 'USD' });
		expect(w.rejection(r1)?.message).toMatch(/dispute on this milestone was opened/);
		// A new refund request is refused: the dispute decides this escrow.
		const again = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 1_000, currency: 'USD', reason: 'x' });
		expect(w.rejection(again)?.message).toMatch(/in dispute/);
		// 40.00 is not in dispute and can be released; a cent more cannot.
		const tooMuch = await w.emit(CLIENT, 'milestone.release', { milestone: 'design', amount: 40_001, currency: 'USD', method: 'card' });
		expect(w.rejection(tooMuch)?.message).toMatch(/\$600\.00 of this milestone's escrow is in dispute.*\$400\.00 can still move/);
		await w.release('design', 40_000);
		expect(escrowOf(milestone(w.state, 'design')!)).toBe(60_000);
		expect(w.state.disputes.get(d)!.settlement).toBeUndefined();
	});
});

describe('negotiation: offers, deadlines and silence', () => {
	it('silence accepts the opening offer when the negotiation period ends; the split releases and refunds, and the release waits the security period', async () => {
		const { w, d } = await disputed();
		const dispute = w.state.disputes.get(d)!;
		expect(answerDeadline(w.state, dispute)).toBe(w.now + 5 * DAY_MS);
		expect(disputeStatus(w.state, dispute, w.now)).toMatchObject({ stage: 'negotiating', turn: 'freelancer', ifNothing: expect.stringMatching(/taken as accepted: \$100\.00 to the freelancer, \$500\.00 back to the client/) });
		w.now += 5 * DAY_MS - 1;
		expect(await settle(w, d, 'silence', 10_000, { freelancer: 10_000, client: 50_000 }, CLIENT)).toMatchObject({ code: 'too-early' });
		w.now += 1;
		expect(await settle(w, d, 'silence', 10_000, { freelancer: 10_000, client: 50_000 }, CLIENT)).toBeUndefined();
		const s = w.state;
		const m = milestone(s, 'design')!;
		expect(s.disputes.get(d)!.settlement).toMatchObject({ basis: 'silence', freelancer: 10_000, client: 50_000, fee: 0 });
		expect([m.released, m.refunded, escrowOf(m), m.phase]).toEqual([10_000, 50_000, 40_000, 'in_progress']);
		expect(s.ledger.balance('freelancer:pending')).toBe(10_000);
		expect(s.releases.at(-1)).toMatchObject({ amount: 10_000, maturesAt: w.now + 5 * DAY_MS, matured: false });
		// Settled once: a second outcome is refused.
		expect(await settle(w, d, 'silence', 10_000, { freelancer: 10_000, client: 50_000 })).toMatchObject({ code: 'already-settled' });
	});

	it('a new offer gives the other party at least 48 hours; after the negotiation period no new offer counts', async () => {
		const { w, d } = await disputed();
		w.now += 4.5 * DAY_MS;
		const late = await w.offer(FREELANCER, d, 50_000);
		expect(w.state.disputes.get(d)!.offers.freelancer?.id).toBe(late);
		expect(answerDeadline(w.state, w.state.disputes.get(d)!)).toBe(w.now + 2 * DAY_MS);
		w.now += DAY_MS;
		const tooLate = await w.emit(CLIENT, 'dispute.offered', { dispute: d, amount: 20_000 });
		const record = await w.record(tooLate, 'dispute-offer');
		expect(w.rejection(record)?.message).toMatch(/Negotiation ended .*no new offers/);
		expect(await settle(w, d, 'silence', 50_000, { freelancer: 50_000, client: 10_000 })).toMatchObject({ code: 'too-early' });
		w.now += DAY_MS;
		// The client stayed silent on the freelancer's offer: taken as accepted.
		expect(await settle(w, d, 'silence', 50_000, { freelancer: 50_000, client: 10_000 })).toBeUndefined();
	});

	it("accepting the other's last offer settles at it; an offer the provider recorded as superseded, or an answer after the deadline, is refused", async () => {
		const { w, d } = await disputed();
		await w.offer(FREELANCER, d, 50_000);
		const second = await w.offer(CLIENT, d, 20_000);
		// The freelancer's app had not seen the client's second offer: it accepts the opening offer.
		const stale = await w.emit(FREELANCER, 'dispute.accept', { ...base(d), offer: d });
		expect(w.rejection(await w.split(stale, d, 'design', { freelancer: 10_000, client: 50_000 }))?.message).toMatch(/not the other party's last one/);
		// A party cannot accept its own offer.
		const own = await w.emit(CLIENT, 'dispute.accept', { ...base(d), offer: second });
		expect(w.rejection(own)?.message).toMatch(/no offer the freelancer made/);
		const ok = await w.emit(FREELANCER, 'dispute.accept', { ...base(d), offer: second });
		expect(w.rejection(await w.split(ok, d, 'design', { freelancer: 20_000, client: 40_000 }))).toBeUndefined();
		expect(w.state.disputes.get(d)!.settlement?.basis).toBe('accepted');

		const late = await disputed();
		late.w.advance(5);
		const after = await late.w.emit(FREELANCER, 'dispute.accept', { ...base(late.d), offer: late.d });
		expect(late.w.rejection(await late.w.split(after, late.d, 'design', { freelancer: 10_000, client: 50_000 }))?.message).toMatch(/answer window ended .*silence accepted/);
	});

	it('the midpoint of the two last offers, rounded to the minor unit with the odd unit to the freelancer', async () => {
		expect([midpoint(0, 1), midpoint(10, 20), midpoint(10_000, 50_001)]).toEqual([1, 15, 30_001]);
		const { w, d } = await disputed();
		const first = await w.offer(FREELANCER, d, 55_000);
		const last = await w.offer(FREELANCER, d, 50_001);
		const old = await w.emit(CLIENT, 'dispute.acceptMidpoint', { ...base(d), client: d, freelancer: first });
		expect(w.rejection(await w.split(old, d, 'design', { freelancer: 32_500, client: 27_500 }))?.message).toMatch(/not both parties' last ones/);
		const mid = await w.emit(CLIENT, 'dispute.acceptMidpoint', { ...base(d), client: d, freelancer: last });
		// A receipt that rounds the other way is refused; the right one applies.
		expect(w.rejection(await w.split(mid, d, 'design', { freelancer: 30_000, client: 30_000 }))?.code).toBe('receipt-mismatch');
		expect(w.rejection(await w.split(mid, d, 'design', { freelancer: 30_001, client: 29_999 }))).toBeUndefined();
		expect(w.state.disputes.get(d)!.settlement).toMatchObject({ basis: 'midpoint', freelancer: 30_001, client: 29_999 });
	});
});

describe('rejection and small amounts', () => {
	it('a rejection names the final offer of a party that has none; it ends negotiation; after the answer deadline silence has accepted', async () => {
		const { w, d } = await disputed();
		const bare = await w.emit(FREELANCER, 'dispute.rejected', { dispute: d, offer: d });
		expect(w.rejection(bare)?.message).toMatch(/Name your final offer/);
		const r = await w.rejectOffer(FREELANCER, d, d, 60_000);
		const s = w.state.disputes.get(d)!;
		expect(s.rejection?.id).toBe(r);
		expect(s.offers.freelancer).toMatchObject({ id: r, amount: 60_000 });
		expect(w.rejection(await w.emit(CLIENT, 'dispute.offered', { dispute: d, amount: 30_000 }))?.message).toMatch(/negotiation is over/);

		const late = await disputed();
		late.w.advance(5);
		const rej = await late.w.emit(FREELANCER, 'dispute.rejected', { dispute: late.d, offer: late.d, final: 60_000 });
		expect(late.w.rejection(await late.w.record(rej, 'dispute-rejection'))?.message).toMatch(/answer window ended .*silence accepted the last offer/);
		expect(late.w.state.disputes.get(late.d)!.rejection).toBeUndefined();
	});

	it('below the small-dispute limit a rejection splits at the midpoint at once, with no mediator', async () => {
		const { w, d } = await disputed({ amount: 4_999, offer: 0 });
		await w.rejectOffer(FREELANCER, d, d, 4_999);
		const med = await w.emit(CLIENT, 'dispute.mediatorAccepted', { dispute: d, mediator: MEDIATOR.publicKey, name: 'Mo', feeBps: 500, fee: 2_500 });
		expect(w.rejection(med)?.message).toMatch(/small-dispute limit/);
		expect(await settle(w, d, 'small-amount', 2_500, { freelancer: 2_500, client: 2_499 })).toBeUndefined();
		// At the limit it is not small: mediation (here nobody accepts a mediator: midpoint after 3 days).
		const big = await disputed({ amount: 5_000, offer: 0 });
		await big.w.rejectOffer(FREELANCER, big.d, big.d, 5_000);
		expect(await settle(big.w, big.d, 'small-amount', 2_500, { freelancer: 2_500, client: 2_500 })).toMatchObject({ code: 'too-early' });
		// The terms may set another limit.
		const custom = await disputed({ t: terms({ smallDisputeLimit: 100_000 }) });
		await custom.w.rejectOffer(FREELANCER, custom.d, custom.d, 60_000);
		expect(await settle(custom.w, custom.d, 'small-amount', 35_000, { freelancer: 35_000, client: 25_000 })).toBeUndefined();
	});
});

describe('mediation', () => {
	/** A dispute of 60.00: client offers 10.00, freelancer rejects with 50.00. */
	async function rejected(t = terms()) {
		const { w, d } = await disputed({ t });
		const r = await w.rejectOffer(FREELANCER, d, d, 50_000);
		return { w, d, r };
	}

	it('no mediator agreed within 3 days: the midpoint; a proposal the other did not accept makes nobody lose', async () => {
		const { w, d } = await rejected();
		await w.acceptMediator(CLIENT, d, 3_000);
		w.now += 3 * DAY_MS - 1;
		expect(await settle(w, d, 'no-mediator', 30_000, { freelancer: 30_000, client: 30_000 })).toMatchObject({ code: 'too-early', message: expect.stringMatching(/until .* to accept a mediator/) });
		w.now += 1;
		const late = await w.emit(FREELANCER, 'dispute.mediatorAccepted', { dispute: d, mediator: MEDIATOR.publicKey, name: 'Mo', feeBps: 500, fee: 3_000 });
		expect(w.rejection(await w.record(late, 'mediator-acceptance'))?.message).toMatch(/time to accept a mediator ended/);
		expect(await settle(w, d, 'no-mediator', 30_000, { freelancer: 30_000, client: 30_000 })).toBeUndefined();
	});

	it('a mediator both accept, with a fee both saw; a mismatched fee or a party as mediator is refused', async () => {
		const { w, d } = await rejected();
		const wrongFee = await w.emit(CLIENT, 'dispute.mediatorAccepted', { dispute: d, mediator: MEDIATOR.publicKey, name: 'Mo', feeBps: 500, fee: 2_500 });
		expect(w.rejection(wrongFee)?.message).toMatch(/comes to \$30\.00/);
		const party = await w.emit(CLIENT, 'dispute.mediatorAccepted', { dispute: d, mediator: FREELANCER.publicKey, name: 'Grace', feeBps: 500, fee: 3_000 });
		expect(w.rejection(party)?.message).toMatch(/cannot be a party/);
		await w.acceptMediator(CLIENT, d, 3_000, { mediator: OTHER_MEDIATOR });
		await w.acceptMediator(FREELANCER, d, 3_000);
		expect(w.state.disputes.get(d)!.mediator).toBeUndefined();
		await w.acceptMediator(CLIENT, d, 3_000);
		expect(w.state.disputes.get(d)!.mediator).toMatchObject({ publicKey: MEDIATOR.publicKey, fee: 3_000, acceptedAt: w.now });
		expect(disputeStatus(w.state, w.state.disputes.get(d)!, w.now)).toMatchObject({ stage: 'mediation', turn: 'mediator', deadline: w.now + 7 * DAY_MS });
	});

	it('the mediator named in the terms: a party that does not accept it loses to the one that did; neither → midpoint', async () => {
		const named = terms({ mediator: { publicKey: MEDIATOR.publicKey, name: 'Mo', feeBps: 800 } });
		for (const [signers, basis, share] of [
			[['client'], 'mediator-unsigned', 10_000],
			[['freelancer'], 'mediator-unsigned', 50_000],
			[[], 'no-mediator', 30_000]
		] as const) {
			const { w, d } = await rejected(named);
			const other = await w.emit(CLIENT, 'dispute.mediatorAccepted', { dispute: d, mediator: OTHER_MEDIATOR.publicKey, name: 'Ot', feeBps: 500, fee: 3_000 });
			expect(w.rejection(other)?.message).toMatch(/terms name the mediator Mo/);
			// 8 % of 600.00 = 48.00 (above the 25.00 minimum).
			for (const side of signers as readonly Side[]) await w.acceptMediator(side === 'client' ? CLIENT : FREELANCER, d, 4_800, { feeBps: 800 });
			expect(w.state.disputes.get(d)!.steps.size).toBe(2 + signers.length);
			w.advance(3);
			expect(settleDecision(w.state, w.state.disputes.get(d)!, w.now)).toMatchObject({ due: true, split: { basis, share } });
			expect(await settle(w, d, basis, share, { freelancer: share, client: 60_000 - share })).toBeUndefined();
		}
	});

	/** Both accepted MEDIATOR (fee 30.00 on 60.00); the client then offers nothing new. */
	async function mediated() {
		const x = await rejected();
		await x.w.acceptMediator(CLIENT, x.d, 3_000);
		await x.w.acceptMediator(FREELANCER, x.d, 3_000);
		return x;
	}

	it("a final-offer ruling picks one party's last offer; the fee comes half from each share, and the mediator is paid", async () => {
		const { w, d, r } = await mediated();
		w.advance(6);
		const ruling = await w.emit(MEDIATOR, 'dispute.rule', { ...base(d), offer: r });
		const receipt = await w.split(ruling, d, 'design', { freelancer: 48_500, client: 8_500, fee: 3_000, mediator: MEDIATOR.publicKey });
		expect(w.rejection(receipt)).toBeUndefined();
		const s = w.state;
		const m = milestone(s, 'design')!;
		expect(s.disputes.get(d)!.settlement).toMatchObject({ basis: 'ruling', freelancer: 48_500, client: 8_500, fee: 3_000 });
		expect([m.released, m.refunded, m.mediationFees, escrowOf(m)]).toEqual([48_500, 8_500, 3_000, 40_000]);
		expect(s.ledger.balance(`mediator:${MEDIATOR.publicKey}`)).toBe(3_000);
		assertContractInvariants(s);
	});

	it('when one share is too small for its half of the fee, the other share pays the rest', async () => {
		expect(feeShares(1_000, 59_000, 3_000)).toEqual({ freelancer: 1_000, client: 2_000 });
		expect(feeShares(59_000, 1_000, 3_001)).toEqual({ freelancer: 2_001, client: 1_000 });
		expect(feeShares(30_000, 30_000, 3_001)).toEqual({ freelancer: 1_500, client: 1_501 });
		const { w, d } = await disputed({ offer: 1_000 });
		await w.rejectOffer(FREELANCER, d, d, 50_000);
		await w.acceptMediator(CLIENT, d, 3_000);
		await w.acceptMediator(FREELANCER, d, 3_000);
		const ruling = await w.emit(MEDIATOR, 'dispute.rule', { ...base(d), offer: d });
		expect(w.rejection(await w.split(ruling, d, 'design', { freelancer: 0, client: 57_000, fee: 3_000, mediator: MEDIATOR.publicKey }))).toBeUndefined();
		expect(w.state.ledger.balance('freelancer:pending')).toBe(0);
	});

	it('a ruling naming an offer never made, or not a last one, is refused; so is a ruling by anyone but the accepted mediator', async () => {
		const { w, d, r } = await mediated();
		const never = await w.emit(MEDIATOR, 'dispute.rule', { ...base(d), offer: r.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) });
		expect(w.rejection(never)?.message).toMatch(/offer that was never made/);
		const byStranger = await w.emit(STRANGER, 'dispute.rule', { ...base(d), offer: r });
		expect(w.rejection(byStranger)?.code).toBe('not-party');
		const byClient = await w.emit(CLIENT, 'dispute.rule', { ...base(d), offer: d });
		expect(w.rejection(byClient)?.code).toBe('wrong-role');
		// OTHER_MEDIATOR was accepted by one party only: it is nobody's mediator.
		const x = await rejected();
		await x.w.acceptMediator(CLIENT, x.d, 3_000, { mediator: OTHER_MEDIATOR });
		expect(x.w.rejection(await x.w.emit(OTHER_MEDIATOR, 'dispute.rule', { ...base(x.d), offer: x.d }))?.code).toBe('not-party');
		// An offer the client made before its last one was really made, but is not a last offer.
		const y = await disputed();
		await y.w.offer(CLIENT, y.d, 15_000);
		const rej = await y.w.rejectOffer(FREELANCER, y.d, y.w.state.disputes.get(y.d)!.offers.client!.id, 50_000);
		await y.w.acceptMediator(CLIENT, y.d, 3_000);
		await y.w.acceptMediator(FREELANCER, y.d, 3_000);
		const old = await y.w.emit(MEDIATOR, 'dispute.rule', { ...base(y.d), offer: y.d });
		expect(y.w.rejection(await y.w.split(old, y.d, 'design', { freelancer: 8_500, client: 48_500, fee: 3_000, mediator: MEDIATOR.publicKey }))?.message).toMatch(/not\./);
		const right = await y.w.emit(MEDIATOR, 'dispute.rule', { ...base(y.d), offer: rej });
		expect(y.w.rejection(await y.w.split(right, y.d, 'design', { freelancer: 48_500, client: 8_500, fee: 3_000, mediator: MEDIATOR.publicKey }))).toBeUndefined();
	});

	it('a mediator that misses its deadline is not paid: the midpoint applies', async () => {
		const { w, d, r } = await mediated();
		w.advance(7);
		const ruling = await w.emit(MEDIATOR, 'dispute.rule', { ...base(d), offer: r });
		expect(w.rejection(await w.split(ruling, d, 'design', { freelancer: 48_500, client: 8_500, fee: 3_000, mediator: MEDIATOR.publicKey }))?.message).toMatch(/time to rule ended/);
		expect(await settle(w, d, 'mediator-late', 30_000, { freelancer: 30_000, client: 30_000 }, CLIENT)).toBeUndefined();
		expect(w.state.ledger.balance(`mediator:${MEDIATOR.publicKey}`)).toBe(0);
	});

	it('the fee: 5 % by default, at least the currency minimum, never more than the disputed amount', () => {
		expect(mediationFee(100_000, 500, 'USD')).toBe(5_000);
		expect(mediationFee(20_000, 500, 'USD')).toBe(2_500);
		expect(mediationFee(2_000, 500, 'USD')).toBe(2_000);
		expect(['EUR', 'GBP', 'CHF'].map((c) => mediationFee(10_000, 500, c as 'EUR'))).toEqual([2_500, 2_500, 2_500]);
		expect(mediationFee(10_000, 500, 'JPY')).toBe(4_000);
		expect(mediationFee(10_000, 500, 'KWD')).toBe(8_000);
		expect(mediationFee(1_000_000, 500, 'BHD')).toBe(50_000);
		for (const c of CURRENCY_CODES) {
			expect(MEDIATION_FEE_MINIMUM[c], c).toBeGreaterThan(0);
			expect(SMALL_DISPUTE_LIMIT[c], c).toBeGreaterThan(MEDIATION_FEE_MINIMUM[c]);
		}
	});
});

describe('the renamed refund answer', () => {
	it('an event signed as "refund.disputed" before the rename is read as "refund.declined"', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const req = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 10_000, currency: 'USD', reason: 'x' });
		const draft = { ...w.draft(FREELANCER, 'refund.declined', { request: req, reason: 'No.' }), type: 'refund.disputed' as never };
		const [id, envelope] = w.envelope(FREELANCER, draft);
		expect(JSON.parse(JSON.parse(envelope).body).type).toBe('refund.disputed');
		await w.put(id, envelope);
		expect(w.rejection(id)).toBeUndefined();
		expect(w.state.refundRequests.get(req)).toMatchObject({ status: 'declined', declineReason: 'No.', answer: id });
		expect(w.state.applied.at(-1)?.type).toBe('refund.declined');
	});
});

describe('the mock provider executes disputes on its own record and clock', () => {
	async function withMock() {
		const w = new World();
		const mock = new MockEscrowProvider({ key: PROVIDER, now: () => w.now });
		await w.active();
		await w.fund('design', 100_000);
		await w.submit('design');
		return { w, mock };
	}

	it('records steps in its order, refuses early outcomes, executes a ruling once as a split, and pays the mediator', async () => {
		const { w, mock } = await withMock();
		const d = await w.emit(CLIENT, 'dispute.opened', { milestone: 'design', amount: 60_000, currency: 'USD', reason: 'not-delivered', details: 'x', offer: 10_000 });
		expect((await w.attestWith(mock, d)).receipt).toBeDefined();
		const early = await w.settleWith(mock, 'release', CLIENT, 'dispute.settle', { ...base(d), basis: 'silence', freelancer: 10_000 });
		expect(early.refused?.code).toBe('too-early');
		// A release of disputed money is refused by the provider too.
		expect((await w.settleWith(mock, 'release', CLIENT, 'milestone.release', { milestone: 'design', amount: 50_000, currency: 'USD', method: 'card' })).refused?.message).toMatch(/in dispute/);
		const rej = await w.emit(FREELANCER, 'dispute.rejected', { dispute: d, offer: d, final: 50_000 });
		await w.attestWith(mock, rej);
		for (const key of [CLIENT, FREELANCER]) {
			const id = await w.emit(key, 'dispute.mediatorAccepted', { dispute: d, mediator: MEDIATOR.publicKey, name: 'Mo', feeBps: 500, fee: 3_000 });
			expect((await w.attestWith(mock, id)).receipt).toBeDefined();
		}
		// Someone else's "ruling" is refused by the provider, leaving no trace.
		const forged = await w.settleWith(mock, 'release', STRANGER, 'dispute.rule', { ...base(d), offer: rej });
		expect(forged.refused?.code).toBe('invalid-request');
		expect(w.state.intents.has(forged.intent)).toBe(false);
		w.advance(2);
		const [intent, envelope] = w.envelope(MEDIATOR, w.draft(MEDIATOR, 'dispute.rule', { ...base(d), offer: rej }));
		const req = { contract: w.contract, log: [...w.written.map(([, e]) => e), envelope], event: intent };
		const receipt = await mock.release(req);
		expect((await mock.release(req)).id).toBe(receipt.id);
		await w.put(intent, envelope);
		await w.put(receipt.id, receipt.envelope);
		expect(w.rejection(receipt.id)).toBeUndefined();
		expect(mock.statement(w.contract)).toMatchObject({ milestones: { design: { funded: 100_000, released: 48_500, refunded: 8_500 } }, mediationFees: { design: 3_000 }, mediators: { [MEDIATOR.publicKey]: 3_000 } });
		// Settled: any other outcome is refused.
		expect((await w.settleWith(mock, 'release', CLIENT, 'dispute.settle', { ...base(d), basis: 'mediator-late', freelancer: 30_000 })).refused).toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/The dispute is settled/) });
	});

	it('judges silence on its own record: an offer it recorded late moves the deadline, whatever the requester sends', async () => {
		const { w, mock } = await withMock();
		const d = await w.emit(CLIENT, 'dispute.opened', { milestone: 'design', amount: 60_000, currency: 'USD', reason: 'not-delivered', details: 'x', offer: 10_000 });
		await w.attestWith(mock, d);
		w.now += 4 * DAY_MS + 12 * HOUR;
		const offer = await w.emit(FREELANCER, 'dispute.offered', { dispute: d, amount: 50_000 });
		await w.attestWith(mock, offer);
		w.now += DAY_MS;
		// The client's app sends a log without the offer, claiming silence on its own opening offer.
		const [intent, envelope] = w.envelope(CLIENT, w.draft(CLIENT, 'dispute.settle', { ...base(d), basis: 'silence', freelancer: 10_000 }, { deps: [d] }));
		const log = w.written.filter(([id]) => id !== offer).map(([, e]) => e);
		await expect(mock.release({ contract: w.contract, log: [...log, envelope], event: intent })).rejects.toMatchObject({ code: 'too-early' });
		w.now += DAY_MS;
		await expect(mock.release({ contract: w.contract, log: [...log, envelope], event: intent })).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/outcome is now "silence" with \$500\.00/) });
	});
});

describe('content decides, never order', () => {
	const side = fc.constantFrom<Side>('client', 'freelancer');
	const pct = fc.integer({ min: 0, max: 100 });
	const action: fc.Arbitrary<DisputeAction> = fc.oneof(
		fc.record({ kind: fc.constant('open' as const), by: side, pct: fc.integer({ min: 1, max: 100 }), offerPct: pct }),
		fc.record({ kind: fc.constant('offer' as const), by: side, pct }),
		fc.record({ kind: fc.constant('accept' as const), by: side }),
		fc.record({ kind: fc.constant('midpoint' as const), by: side }),
		fc.record({ kind: fc.constant('reject' as const), by: side, finalPct: pct }),
		fc.record({ kind: fc.constant('mediator' as const), by: side, other: fc.boolean() }),
		fc.record({ kind: fc.constant('rule' as const), forClient: fc.boolean(), stale: fc.boolean() }),
		fc.record({ kind: fc.constant('settle' as const), by: side, evenIfEarly: fc.boolean() }),
		fc.record({ kind: fc.constant('release' as const), pct }),
		fc.record({ kind: fc.constant('tick' as const), hours: fc.integer({ min: 1, max: 100 }) })
	);

	it('the same events in any order derive the same state, and the ledger never creates or loses money', async () => {
		const seen: Record<string, number> = {};
		await fc.assert(
			fc.asyncProperty(fc.array(action, { minLength: 3, maxLength: 25 }), fc.integer(), fc.boolean(), async (actions, seed, named) => {
				const w = new World();
				const mock = new MockEscrowProvider({ key: PROVIDER, now: () => w.now });
				await w.active(terms(named ? { mediator: { publicKey: MEDIATOR.publicKey, name: 'Mo', feeBps: 500 } } : {}));
				await w.fund('design', 100_000);
				await w.submit('design');
				const play = new DisputePlay(w, mock);
				for (const a of [{ kind: 'open', by: 'client', pct: 60, offerPct: 20 } as const, ...actions]) await play.run(a);
				for (const [k, n] of Object.entries(play.counts)) seen[k] = (seen[k] ?? 0) + n;
				const reference = summary(w.derived());
				const other = await replica(w.contract, deliveryOrder(w.written, seed, 3), [5, 11]);
				expect(summary(other.derived)).toBe(reference);
				const s = other.derived.state;
				assertContractInvariants(s);
				const m = milestone(s, 'design')!;
				const fees = m.mediationFees ?? 0;
				// Every unit funded is in escrow, with the freelancer, back with the client, or with a mediator.
				expect(m.funded).toBe(escrowOf(m) + m.released + m.refunded + fees);
				expect(s.ledger.balance('freelancer:pending') + s.ledger.balance('freelancer:available')).toBe(m.released);
				expect(-s.ledger.balance('client:source')).toBe(m.funded - m.refunded);
				let mediators = 0;
				for (const [a, v] of s.ledger.balances) if (a.startsWith('mediator:')) mediators += v;
				expect(mediators).toBe(fees);
				for (const d of s.disputes.values()) if (d.settlement) expect(d.settlement.freelancer + d.settlement.client + d.settlement.fee).toBe(d.amount);
				// The provider's books agree with the fold.
				const books = mock.statement(w.contract);
				if (books.milestones.design) expect(books.milestones.design).toEqual({ funded: m.funded, released: m.released, refunded: m.refunded });
				expect(books.mediationFees.design ?? 0).toBe(fees);
			}),
			{ numRuns: 40 }
		);
		// The histories reached settlements (no vacuous pass).
		expect(seen.opened).toBeGreaterThan(0);
		expect((seen['dispute.accept'] ?? 0) + (seen['dispute.acceptMidpoint'] ?? 0) + (seen['dispute.settle'] ?? 0)).toBeGreaterThan(0);
	}, 120_000);

	it('pages ask the same rules: `check` refuses a ruling by a party', async () => {
		const { w, d } = await disputed();
		const draft = w.draft(CLIENT, 'dispute.rule', { ...base(d), offer: d });
		expect(check(w.state, { ...draft, id: encodeBody(draft).id } as unknown as Ev)?.code).toBe('wrong-role');
	});
});
