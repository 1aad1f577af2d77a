import { describe, expect, it } from 'vitest';
import { balances } from '../../../src/lib/contract/balances';
import { clocks } from '../../../src/lib/contract/clocks';
import { milestone, DAY_MS } from '../../../src/lib/contract/state';
import { milestoneStatus } from '../../../src/lib/contract/status';
import { CLIENT, FREELANCER, PROVIDER, STRANGER, World, terms } from '../../support/world';

const status = (w: World, id: string) => milestoneStatus(w.state, milestone(w.state, id)!);

describe('proposal', () => {
	it('a proposal fixes the proposer and terms; the counterparty is bound by a countersign the provider recorded', async () => {
		const w = new World();
		const proposal = await w.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() });
		expect(w.state.status).toBe('proposed');
		expect(w.state.parties).toEqual({ client: CLIENT.publicKey });
		expect(status(w, 'design')).toBe('draft');
		const accept = await w.emit(FREELANCER, 'contract.accepted', { proposal, name: 'Grace' });
		expect(w.state.status).toBe('proposed');
		expect([...w.state.acceptances.values()].map((a) => a.author)).toEqual([FREELANCER.publicKey]);
		const countersign = await w.emit(CLIENT, 'contract.countersigned', { acceptance: accept });
		// Countersigned but not recorded: nobody is bound yet and no money can move.
		expect(w.state.status).toBe('proposed');
		const early = await w.emit(CLIENT, 'milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		expect(w.rejection(early)?.code).toBe('invalid-state');
		await w.emit(PROVIDER, 'receipt.attested', { event: countersign, kind: 'countersign' });
		expect(w.state.status).toBe('active');
		expect(w.state.parties).toEqual({ client: CLIENT.publicKey, freelancer: FREELANCER.publicKey });
		expect(w.state.names[FREELANCER.publicKey]).toBe('Grace');
		expect(w.state.binding).toMatchObject({ countersign, acceptance: accept });
		expect(status(w, 'design')).toBe('awaiting_funding');
	});

	it('a freelancer can propose too', async () => {
		const w = new World();
		const proposal = await w.emit(FREELANCER, 'contract.proposed', { role: 'freelancer', name: 'Grace', terms: terms() });
		const accept = await w.emit(CLIENT, 'contract.accepted', { proposal, name: 'Ada' });
		const countersign = await w.emit(FREELANCER, 'contract.countersigned', { acceptance: accept });
		await w.emit(PROVIDER, 'receipt.attested', { event: countersign, kind: 'countersign' });
		expect(w.state.parties).toEqual({ client: CLIENT.publicKey, freelancer: FREELANCER.publicKey });
	});

	it('a decline speaks for its author only; the proposer withdraws', async () => {
		const a = new World();
		const p1 = await a.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() });
		// Anyone holding the link can decline: that must not kill the proposal for the intended party.
		await a.emit(STRANGER, 'contract.declined', { proposal: p1, reason: 'Not interested' });
		expect(a.state.status).toBe('proposed');
		expect([...a.state.declines.values()].map((d) => d.author)).toEqual([STRANGER.publicKey]);
		const accept = await a.emit(FREELANCER, 'contract.accepted', { proposal: p1, name: 'Grace' });
		const cs = await a.emit(CLIENT, 'contract.countersigned', { acceptance: accept });
		await a.emit(PROVIDER, 'receipt.attested', { event: cs, kind: 'countersign' });
		expect(a.state.status).toBe('active');
		const b = new World();
		const p2 = await b.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() });
		await b.emit(CLIENT, 'contract.withdrawn', { proposal: p2 });
		expect(b.state.status).toBe('withdrawn');
	});
});

describe('milestone amendments', () => {
	it('an added milestone exists only once the other party accepts', async () => {
		const w = new World();
		await w.active();
		const change = await w.emit(FREELANCER, 'milestone.changeProposed', {
			change: { kind: 'add', milestone: { id: 'seo', title: 'SEO', amount: 30_000 } }
		});
		expect(milestone(w.state, 'seo')).toBeUndefined();
		await w.emit(CLIENT, 'milestone.changeAccepted', { proposal: change });
		expect(milestone(w.state, 'seo')?.amount).toBe(30_000);
	});

	it('an amendment can raise the amount of a funded milestone, which then needs a top-up', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const change = await w.emit(CLIENT, 'milestone.changeProposed', { change: { kind: 'amend', milestone: 'design', amount: 150_000 } });
		await w.emit(FREELANCER, 'milestone.changeAccepted', { proposal: change });
		expect(milestone(w.state, 'design')!.amount).toBe(150_000);
		await w.fund('design', 50_000);
		expect(milestone(w.state, 'design')!.funded).toBe(150_000);
	});

	it('a declined change changes nothing; an unfunded milestone can be removed', async () => {
		const w = new World();
		await w.active();
		const c1 = await w.emit(CLIENT, 'milestone.changeProposed', { change: { kind: 'amend', milestone: 'design', title: 'Branding' } });
		await w.emit(FREELANCER, 'milestone.changeDeclined', { proposal: c1 });
		expect(milestone(w.state, 'design')!.title).toBe('Design');
		const c2 = await w.emit(CLIENT, 'milestone.changeProposed', { change: { kind: 'remove', milestone: 'build' } });
		await w.emit(FREELANCER, 'milestone.changeAccepted', { proposal: c2 });
		expect(milestone(w.state, 'build')).toBeUndefined();
	});
});

describe('fund → Request Payment → Release Payment → withdraw', () => {
	it('moves money only on receipts, through the ledger, and matures after the security period', async () => {
		const w = new World();
		await w.active();
		const fundIntent = await w.emit(CLIENT, 'milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		// The intent alone moves nothing.
		expect(balances(w.state).escrow).toBe(0);
		expect(status(w, 'design')).toBe('awaiting_funding');
		await w.emit(PROVIDER, 'receipt.funded', { intent: fundIntent, milestone: 'design', amount: 100_000, fee: 2_930, currency: 'USD', method: 'card', clearsAt: w.now });
		expect(balances(w.state)).toMatchObject({ escrow: 100_000, clientPaid: 102_930, fees: 2_930 });
		expect(status(w, 'design')).toBe('funded');

		w.advance(3);
		const sub = await w.submit('design', false);
		expect(status(w, 'design')).toBe('submitted');
		expect(clocks(w.state)).toEqual([expect.objectContaining({ kind: 'review', subject: sub, deadline: undefined })]);
		const attest = await w.emit(PROVIDER, 'receipt.attested', { event: sub, kind: 'submission' });
		expect(w.rejection(attest)).toBeUndefined();
		expect(clocks(w.state)[0]).toMatchObject({ kind: 'review', startedAt: w.now, deadline: w.now + 14 * DAY_MS });

		w.advance(1);
		const released = await w.release('design', 100_000);
		expect(status(w, 'design')).toBe('released');
		expect(balances(w.state)).toMatchObject({ escrow: 0, pending: 100_000, available: 0 });
		const releasedAt = w.now;
		expect(clocks(w.state)).toEqual([expect.objectContaining({ kind: 'security', subject: released.receipt, deadline: releasedAt + 5 * DAY_MS })]);

		// A withdrawal executed before the security period ends is refused by the fold, even if a provider signed it.
		w.advance(2);
		const early = await w.emit(FREELANCER, 'withdrawal.requested', { amount: 50_000, currency: 'USD', method: 'bank' });
		const earlyReceipt = await w.emit(PROVIDER, 'receipt.paidOut', { intent: early, amount: 50_000, fee: 99, currency: 'USD', method: 'bank', arrivesAt: w.now });
		expect(w.rejection(earlyReceipt)?.code).toBe('insufficient-balance');

		w.advance(3);
		const ok = await w.emit(FREELANCER, 'withdrawal.requested', { amount: 60_000, currency: 'USD', method: 'bank' });
		await w.emit(PROVIDER, 'receipt.paidOut', { intent: ok, amount: 60_000, fee: 99, currency: 'USD', method: 'bank', arrivesAt: w.now + 2 * DAY_MS });
		expect(balances(w.state)).toMatchObject({ pending: 0, available: 40_000, paidOut: 59_901 });
		expect(w.state.payouts).toHaveLength(1);
		expect(clocks(w.state)).toEqual([]);
	});

	it('a partial release leaves the rest in escrow', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.submit('design');
		await w.release('design', 40_000);
		const m = milestone(w.state, 'design')!;
		expect([m.released, m.funded - m.released - m.refunded]).toEqual([40_000, 60_000]);
		// The review clock stopped with the client's release: the chip no longer says "Submitted for review".
		expect(status(w, 'design')).toBe('partly_released');
		// The client acted: the freelancer may request payment for the rest (a day later), which restarts the clock.
		w.advance(1);
		const again = await w.submit('design');
		expect(w.rejection(again)).toBeUndefined();
		expect(clocks(w.state).find((c) => c.kind === 'review')).toMatchObject({ subject: again });
		await w.release('design', 60_000);
		expect(status(w, 'design')).toBe('released');
	});
});

describe('request changes', () => {
	it('sends the milestone back to in progress and restarts the review window on resubmission', async () => {
		const w = new World();
		await w.active();
		await w.fund('build', 200_000);
		await w.submit('build');
		w.advance(2);
		await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'build', reason: 'Fix the form.' });
		expect(status(w, 'build')).toBe('changes_requested');
		expect(clocks(w.state)).toEqual([]);
		w.advance(3);
		const again = await w.submit('build');
		expect(clocks(w.state)[0]).toMatchObject({ subject: again, deadline: w.now + 14 * DAY_MS });
	});
});

describe('auto-release', () => {
	it('the provider releases the whole escrow once the review window has passed on its clock', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const sub = await w.submit('design');
		w.advance(14);
		const claim = await w.emit(FREELANCER, 'milestone.autoRelease', { milestone: 'design', submission: sub });
		const receipt = await w.emit(PROVIDER, 'receipt.released', { intent: claim, milestone: 'design', amount: 100_000, currency: 'USD', auto: true });
		expect(w.rejection(receipt)).toBeUndefined();
		expect(status(w, 'design')).toBe('released');
	});
});

describe('refunds', () => {
	it('request → freelancer approves → client refund', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const req = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 30_000, currency: 'USD', reason: 'Scope cut.' });
		await w.emit(PROVIDER, 'receipt.attested', { event: req, kind: 'refund-request' });
		expect(clocks(w.state)).toEqual([expect.objectContaining({ kind: 'refund-answer', deadline: w.now + 7 * DAY_MS })]);
		await w.emit(FREELANCER, 'refund.approved', { request: req });
		const intent = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 30_000, currency: 'USD', basis: 'approved-request', request: req });
		await w.emit(PROVIDER, 'receipt.refunded', { intent, milestone: 'design', amount: 30_000, currency: 'USD' });
		expect(milestone(w.state, 'design')).toMatchObject({ funded: 100_000, refunded: 30_000 });
		expect(w.state.refundRequests.get(req)!.status).toBe('refunded');
		expect(balances(w.state)).toMatchObject({ escrow: 70_000, clientPaid: 70_000 });
	});

	it('an unanswered request goes through after the answer window, on the provider clock', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const req = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 100_000, currency: 'USD', reason: 'No work delivered.' });
		await w.emit(PROVIDER, 'receipt.attested', { event: req, kind: 'refund-request' });
		const intent = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 100_000, currency: 'USD', basis: 'unanswered-request', request: req });
		w.advance(6);
		const early = await w.emit(PROVIDER, 'receipt.refunded', { intent, milestone: 'design', amount: 100_000, currency: 'USD' });
		expect(w.rejection(early)?.code).toBe('too-early');
		w.advance(1);
		const onTime = await w.emit(PROVIDER, 'receipt.refunded', { intent, milestone: 'design', amount: 100_000, currency: 'USD' });
		expect(w.rejection(onTime)).toBeUndefined();
		expect(status(w, 'design')).toBe('refunded');
	});

	it('a declined request leaves the escrow held and is no dispute (the Resolution Center opens those); the freelancer may always refund', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const req = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 100_000, currency: 'USD', reason: 'Not satisfied.' });
		await w.emit(FREELANCER, 'refund.declined', { request: req, reason: 'The work was delivered.' });
		expect(w.state.refundRequests.get(req)!.status).toBe('declined');
		expect(status(w, 'design')).not.toBe('disputed');
		const intent = await w.emit(FREELANCER, 'milestone.refund', { milestone: 'design', amount: 20_000, currency: 'USD', basis: 'freelancer' });
		await w.emit(PROVIDER, 'receipt.refunded', { intent, milestone: 'design', amount: 20_000, currency: 'USD' });
		expect(milestone(w.state, 'design')!.refunded).toBe(20_000);
	});
});

describe('messages, ending and feedback', () => {
	it('messages are kept in order as the record', async () => {
		const w = new World();
		await w.active();
		await w.emit(CLIENT, 'message.posted', { text: 'Hello' });
		await w.emit(FREELANCER, 'message.posted', { text: 'Hi!' });
		expect(w.state.messages.map((m) => [m.role, m.text])).toEqual([
			['client', 'Hello'],
			['freelancer', 'Hi!']
		]);
	});

	it('ending by agreement makes the remaining escrow refundable; feedback follows the end', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const end = await w.emit(FREELANCER, 'contract.endProposed', { reason: 'Project cancelled.' });
		await w.emit(CLIENT, 'contract.endAccepted', { proposal: end });
		expect(w.state.status).toBe('ended');
		const intent = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 100_000, currency: 'USD', basis: 'ended-by-agreement' });
		await w.emit(PROVIDER, 'receipt.refunded', { intent, milestone: 'design', amount: 100_000, currency: 'USD' });
		expect(balances(w.state).escrow).toBe(0);
		await w.emit(CLIENT, 'feedback.left', { rating: 4, text: 'Good communication.' });
		expect(w.state.feedback.client).toMatchObject({ rating: 4 });
	});

	it('either party ends alone once no escrow is held', async () => {
		const w = new World();
		await w.active();
		await w.emit(CLIENT, 'contract.ended', {});
		expect(w.state.status).toBe('ended');
	});
});
