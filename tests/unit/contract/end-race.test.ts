import { describe, expect, it } from 'vitest';
import { milestone } from '../../../src/lib/contract/state';
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
});
