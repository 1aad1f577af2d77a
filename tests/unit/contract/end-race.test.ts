import { describe, expect, it } from 'vitest';
import { milestone } from '../../../src/lib/contract/state';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { CLIENT, FREELANCER, PROVIDER, World, hourlyTerms } from '../../support/world';

/*
 * One party ends the contract while the other, not having seen it, acts on money. The end must not
 * decide about that money by sorting first: whether money moved is the provider's call (its receipt).
 * Found by tests/sim/convergence.test.ts (SIM_SEED=2105547073): the provider refunded $150.00, the
 * fold showed none, because the freelancer's acceptance of the end sorted before the client's
 * refund request and refused it as made on an ended contract.
 */
describe('an end accepted concurrently with money', () => {
	it('a refund request the accepting party had not seen still stands: the provider’s refund counts', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const proposal = await w.emit(CLIENT, 'contract.endProposed', {});
		const req = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 40_000, currency: 'USD', reason: 'Half the pages are missing.' });
		await w.emit(PROVIDER, 'receipt.attested', { event: req, kind: 'refund-request' });
		w.advance(8);
		const intent = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 40_000, currency: 'USD', basis: 'unanswered-request', request: req });
		const receipt = await w.emit(PROVIDER, 'receipt.refunded', { intent, milestone: 'design', amount: 40_000, currency: 'USD' });
		expect(w.rejection(receipt)).toBeUndefined();
		// The freelancer accepts the end having seen only the proposal: its acceptance sorts before the request.
		const accepted = await w.emit(FREELANCER, 'contract.endAccepted', { proposal }, { deps: [proposal] });
		expect(w.rejection(accepted)).toBeUndefined();
		expect(w.state.status).toBe('ended');
		expect(w.rejection(req)).toBeUndefined();
		expect(w.rejection(receipt)).toBeUndefined();
		expect(milestone(w.state, 'design')).toMatchObject({ funded: 100_000, refunded: 40_000 });
	});

	it('a funding the accepting party had not seen still counts: the provider holds it', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const proposal = await w.emit(CLIENT, 'contract.endProposed', {});
		// One more event first, so the funding sorts after an acceptance that names only the proposal.
		await w.emit(CLIENT, 'message.posted', { text: 'Funding the build as well.' });
		const { intent, receipt } = await w.fund('build', 200_000);
		expect(w.rejection(receipt)).toBeUndefined();
		const accepted = await w.emit(FREELANCER, 'contract.endAccepted', { proposal }, { deps: [proposal] });
		expect(w.rejection(accepted)).toBeUndefined();
		expect(w.rejection(intent)).toBeUndefined();
		expect(w.rejection(receipt)).toBeUndefined();
		expect(milestone(w.state, 'build')).toMatchObject({ funded: 200_000 });
	});

	it('a party that had seen the end is still refused: after it, no new request or funding', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const proposal = await w.emit(CLIENT, 'contract.endProposed', {});
		await w.emit(FREELANCER, 'contract.endAccepted', { proposal });
		const req = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 40_000, currency: 'USD', reason: 'After the end.' });
		expect(w.rejection(req)?.code).toBe('invalid-state');
		const fund = await w.emit(CLIENT, 'milestone.fund', { milestone: 'build', amount: 200_000, currency: 'USD', method: 'card' });
		expect(w.rejection(fund)?.code).toBe('invalid-state');
	});

	it('hourly: a week funded while the freelancer accepts ending unseen still counts', async () => {
		const w = new World();
		await w.active(hourlyTerms());
		const proposal = await w.emit(CLIENT, 'contract.endProposed', {});
		await w.emit(CLIENT, 'message.posted', { text: 'Funding this week anyway.' });
		const week = '2026-11-02';
		const intent = await w.emit(CLIENT, 'hourly.fund', { week, amount: 50_000, currency: 'USD', method: 'card' });
		const receipt = await w.emit(PROVIDER, 'receipt.weekFunded', { intent, week, amount: 50_000, fee: 0, currency: 'USD', method: 'card', clearsAt: w.now });
		expect(w.rejection(receipt)).toBeUndefined();
		const accepted = await w.emit(FREELANCER, 'contract.endAccepted', { proposal }, { deps: [proposal] });
		expect(w.rejection(accepted)).toBeUndefined();
		expect(w.rejection(intent)).toBeUndefined();
		expect(w.rejection(receipt)).toBeUndefined();
	});

	it('a dispute the accepting party had not seen still stands: the provider’s split counts, the end refunds only what is left', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.submit('design');
		const proposal = await w.emit(CLIENT, 'contract.endProposed', {});
		await w.emit(CLIENT, 'message.posted', { text: 'Opening a dispute on the design first.' });
		const d = await w.openDispute(CLIENT, { milestone: 'design', amount: 60_000, offer: 10_000 });
		// The freelancer, seeing only the proposal, accepts ending; its acceptance sorts before the dispute.
		const accepted = await w.emit(FREELANCER, 'contract.endAccepted', { proposal }, { deps: [proposal] });
		expect(w.rejection(accepted)).toBeUndefined();
		expect(w.state.status).toBe('ended');
		expect(w.rejection(d)).toBeUndefined();
		expect(w.state.disputes.get(d)?.openedAt).toBeDefined();
		// The freelancer, having now seen the dispute, accepts the client's offer; the provider splits.
		const accept = await w.emit(FREELANCER, 'dispute.accept', { dispute: d, milestone: 'design', currency: 'USD', offer: d });
		const split = await w.split(accept, d, 'design', { freelancer: 10_000, client: 50_000 });
		expect(w.rejection(accept)).toBeUndefined();
		expect(w.rejection(split)).toBeUndefined();
		expect(milestone(w.state, 'design')).toMatchObject({ released: 10_000, refunded: 50_000 });
		// What the dispute did not hold is refundable by the agreement to end; no more.
		const rest = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 40_000, currency: 'USD', basis: 'ended-by-agreement' });
		expect(w.rejection(rest)).toBeUndefined();
		const receipt = await w.emit(PROVIDER, 'receipt.refunded', { intent: rest, milestone: 'design', amount: 40_000, currency: 'USD' });
		expect(w.rejection(receipt)).toBeUndefined();
		expect(milestone(w.state, 'design')).toMatchObject({ released: 10_000, refunded: 90_000 });
	});

	it('after a seen end no dispute opens', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const proposal = await w.emit(CLIENT, 'contract.endProposed', {});
		await w.emit(FREELANCER, 'contract.endAccepted', { proposal });
		const d = await w.openDispute(CLIENT, { milestone: 'design', amount: 60_000, offer: 10_000 });
		expect(w.rejection(d)?.code).toBe('invalid-state');
	});

	it('the provider records such a dispute too, splits it, and refunds by the end only what the dispute did not hold', async () => {
		const w = new World();
		const mock = new MockEscrowProvider({ key: PROVIDER, now: () => w.now });
		await w.active();
		await w.fund('design', 100_000);
		await w.submit('design');
		const proposal = await w.emit(CLIENT, 'contract.endProposed', {});
		await w.emit(CLIENT, 'message.posted', { text: 'Opening a dispute on the design first.' });
		const d = await w.openDispute(CLIENT, { milestone: 'design', amount: 60_000, offer: 10_000, record: false });
		await w.emit(FREELANCER, 'contract.endAccepted', { proposal }, { deps: [proposal] });
		expect(w.state.status).toBe('ended');
		// The provider's own fold holds the end first; the dispute's author had not seen it.
		const recorded = await w.attestWith(mock, d);
		expect(recorded.refused).toBeUndefined();
		expect(w.rejection(recorded.receipt!)).toBeUndefined();
		const everything = await w.settleWith(mock, 'refund', CLIENT, 'milestone.refund', { milestone: 'design', amount: 100_000, currency: 'USD', basis: 'ended-by-agreement' });
		expect(everything.refused?.message).toMatch(/in dispute/);
		const split = await w.settleWith(mock, 'release', FREELANCER, 'dispute.accept', { dispute: d, milestone: 'design', currency: 'USD', offer: d });
		expect(split.refused).toBeUndefined();
		expect(w.rejection(split.receipt!)).toBeUndefined();
		const rest = await w.settleWith(mock, 'refund', CLIENT, 'milestone.refund', { milestone: 'design', amount: 40_000, currency: 'USD', basis: 'ended-by-agreement' });
		expect(rest.refused).toBeUndefined();
		expect(w.rejection(rest.receipt!)).toBeUndefined();
		expect(milestone(w.state, 'design')).toMatchObject({ released: 10_000, refunded: 90_000 });
		expect(mock.statement(w.contract)).toMatchObject({ milestones: { design: { funded: 100_000, released: 10_000, refunded: 90_000 } } });
	});

	it('an auto-release the provider paid while the client accepted ending unseen counts; nothing is left to refund', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const sub = await w.submit('design');
		const proposal = await w.emit(FREELANCER, 'contract.endProposed', { reason: 'Ending by agreement' });
		await w.emit(FREELANCER, 'message.posted', { text: 'Claiming the design meanwhile.' });
		w.advance(w.state.terms!.reviewWindowDays + 1);
		const intent = await w.emit(FREELANCER, 'milestone.autoRelease', { milestone: 'design', submission: sub });
		const receipt = await w.emit(PROVIDER, 'receipt.released', { intent, milestone: 'design', amount: 100_000, currency: 'USD', auto: true });
		expect(w.rejection(receipt)).toBeUndefined();
		const accepted = await w.emit(CLIENT, 'contract.endAccepted', { proposal }, { deps: [proposal] });
		expect(w.rejection(accepted)).toBeUndefined();
		expect(w.state.status).toBe('ended');
		// The claim itself shows as made on an ended contract; what the provider paid counts regardless.
		expect(w.rejection(receipt)).toBeUndefined();
		expect(milestone(w.state, 'design')).toMatchObject({ released: 100_000, refunded: 0 });
		const refund = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 100_000, currency: 'USD', basis: 'ended-by-agreement' });
		expect(w.rejection(refund)?.code).toBe('unfunded');
	});

	it('an auto-release claimed after a seen end is refused', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const sub = await w.submit('design');
		const proposal = await w.emit(FREELANCER, 'contract.endProposed', { reason: 'Ending by agreement' });
		await w.emit(CLIENT, 'contract.endAccepted', { proposal });
		w.advance(w.state.terms!.reviewWindowDays + 1);
		const intent = await w.emit(FREELANCER, 'milestone.autoRelease', { milestone: 'design', submission: sub });
		expect(w.rejection(intent)?.code).toBe('invalid-state');
	});

	it('an auto-release the provider paid counts though a change request the provider recorded later sorts first', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const sub = await w.submit('design');
		const before = w.log.heads();
		await w.emit(FREELANCER, 'message.posted', { text: 'Claiming the design.' });
		w.advance(w.state.terms!.reviewWindowDays + 1);
		const intent = await w.emit(FREELANCER, 'milestone.autoRelease', { milestone: 'design', submission: sub });
		const receipt = await w.emit(PROVIDER, 'receipt.released', { intent, milestone: 'design', amount: 100_000, currency: 'USD', auto: true });
		expect(w.rejection(receipt)).toBeUndefined();
		// The client's app, late, asks for changes on what it saw; the provider records it after it paid.
		const changes = await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'design', reason: 'Too late, but still.' }, { deps: before });
		await w.record(changes, 'change-request');
		expect(w.rejection(receipt)).toBeUndefined();
		expect(milestone(w.state, 'design')).toMatchObject({ released: 100_000 });
	});

	it('a milestone added while the freelancer accepts ending unseen exists, and its funding counts', async () => {
		const w = new World();
		await w.active();
		const change = await w.emit(FREELANCER, 'milestone.changeProposed', { change: { kind: 'add', milestone: { id: 'seo', title: 'SEO', amount: 30_000 } } });
		const proposal = await w.emit(CLIENT, 'contract.endProposed', { reason: 'Ending by agreement' }, { deps: [change] });
		const seen = [change, proposal];
		await w.emit(CLIENT, 'message.posted', { text: 'One more milestone first.' });
		const accepted = await w.emit(CLIENT, 'milestone.changeAccepted', { proposal: change });
		const { intent, receipt } = await w.fund('seo', 30_000);
		// The freelancer accepts ending having seen the proposal, not the client's yes to its milestone.
		const ended = await w.emit(FREELANCER, 'contract.endAccepted', { proposal }, { deps: seen });
		expect(w.rejection(ended)).toBeUndefined();
		expect(w.state.status).toBe('ended');
		expect(w.rejection(accepted)).toBeUndefined();
		expect(w.rejection(intent)).toBeUndefined();
		expect(w.rejection(receipt)).toBeUndefined();
		expect(milestone(w.state, 'seo')).toMatchObject({ funded: 30_000 });
		// Proposed after a seen end, a change is refused.
		const late = await w.emit(CLIENT, 'milestone.changeProposed', { change: { kind: 'add', milestone: { id: 'ads', title: 'Ads', amount: 10_000 } } });
		expect(w.rejection(late)?.code).toBe('invalid-state');
	});

	it('a party claiming not to have seen a recorded end cannot hold back the escrow the end returns', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.submit('design');
		const proposal = await w.emit(FREELANCER, 'contract.endProposed', { reason: 'Ending by agreement' });
		const accepted = await w.emit(CLIENT, 'contract.endAccepted', { proposal });
		await w.record(accepted, 'end');
		// The freelancer names only its own proposal as seen, and disputes the escrow going back.
		const d = await w.emit(FREELANCER, 'dispute.opened', { milestone: 'design', amount: 100_000, currency: 'USD', reason: 'client-silent', details: 'Pay me.', offer: 100_000 }, { deps: [proposal] });
		const record = await w.record(d, 'milestone-dispute');
		expect(w.rejection(record)?.message).toMatch(/recorded the end of the contract first/);
		const refund = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 100_000, currency: 'USD', basis: 'ended-by-agreement' });
		const receipt = await w.emit(PROVIDER, 'receipt.refunded', { intent: refund, milestone: 'design', amount: 100_000, currency: 'USD' });
		expect(w.rejection(receipt)).toBeUndefined();
		expect(milestone(w.state, 'design')).toMatchObject({ refunded: 100_000 });
	});

	it('ended alone while the client funded unseen: the end stands whichever sorts first, and the client takes the money back', async () => {
		for (const fundingFirst of [false, true]) {
			const w = new World();
			await w.active();
			let seen = w.log.heads();
			// A message first makes the funding sort after the end; the freelancer's own messages make its end sort after the funding.
			if (!fundingFirst) await w.emit(CLIENT, 'message.posted', { text: 'Funding the design.' });
			const { receipt } = await w.fund('design', 100_000);
			if (fundingFirst) for (let i = 0; i < 4; i++) seen = [await w.emit(FREELANCER, 'message.posted', { text: `Wrapping up ${i}.` }, { deps: seen })];
			// The freelancer ends the contract alone: on its view nothing is held in escrow.
			const ended = await w.emit(FREELANCER, 'contract.ended', {}, { deps: seen });
			const order: string[] = w.state.applied.map((e) => e.id);
			expect(order.indexOf(receipt) < order.indexOf(ended), 'the receipt sorts first').toBe(fundingFirst);
			expect(w.rejection(ended)).toBeUndefined();
			expect(w.state.status).toBe('ended');
			expect(w.rejection(receipt)).toBeUndefined();
			const refund = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 100_000, currency: 'USD', basis: 'ended-by-agreement' });
			expect(w.rejection(refund)).toBeUndefined();
			const back = await w.emit(PROVIDER, 'receipt.refunded', { intent: refund, milestone: 'design', amount: 100_000, currency: 'USD' });
			expect(w.rejection(back)).toBeUndefined();
			expect(milestone(w.state, 'design')).toMatchObject({ funded: 100_000, refunded: 100_000 });
		}
	});

	it('ending alone after seeing money in escrow is refused', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const ended = await w.emit(FREELANCER, 'contract.ended', {});
		expect(w.rejection(ended)?.message).toMatch(/Escrow still holds \$1,000\.00/);
	});

	it('both parties propose ending at once: accepting the other’s proposal ends the contract whichever proposal sorts first', async () => {
		for (const theirsFirst of [false, true]) {
			const w = new World();
			await w.active();
			await w.fund('design', 100_000);
			const before = w.log.heads();
			const mine = await w.emit(CLIENT, 'contract.endProposed', { reason: 'Ending by agreement' });
			// The freelancer proposes too, not having seen it; pick a wording whose id sorts on the side wanted.
			let theirs = ['', ''] as [string, string];
			for (let i = 0; !theirs[0] || theirs[0] < mine !== theirsFirst; i++)
				theirs = w.envelope(FREELANCER, w.draft(FREELANCER, 'contract.endProposed', { reason: `Ending by agreement (${i})` }, { deps: before }));
			await w.put(...theirs);
			const accepted = await w.emit(FREELANCER, 'contract.endAccepted', { proposal: mine });
			expect(w.rejection(accepted), `the other proposal sorts first: ${theirsFirst}`).toBeUndefined();
			expect(w.state.status).toBe('ended');
			const refund = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 100_000, currency: 'USD', basis: 'ended-by-agreement' });
			expect(w.rejection(refund)).toBeUndefined();
		}
	});
});
