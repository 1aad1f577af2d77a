import { describe, expect, it } from 'vitest';
import { clocks, describeSpan, milestoneClocks } from '../../../src/lib/contract/clocks';
import { nextAction } from '../../../src/lib/contract/next-action';
import { noticesFor } from '../../../src/lib/contract/notices';
import { DAY_MS, milestone } from '../../../src/lib/contract/state';
import { escrowByOwner, escrowLine, milestoneStatus } from '../../../src/lib/contract/status';
import { latestChangeRequest, revisionsText } from '../../../src/lib/contract/work';
import { formatAmount } from '../../../src/lib/money/amount';
import { CLIENT, FREELANCER, PROVIDER, T0, World } from '../../support/world';

const money = (n: number) => formatAmount(n, 'USD');
const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('what a milestone says about itself', () => {
	it('the change request reason reaches the freelancer: on the milestone, in the Inbox, with the changes used', async () => {
		const w = new World();
		await w.active();
		await w.fund('build', 200_000);
		await w.submit('build');
		const from = w.state.applied.length;
		await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'build', reason: 'The contact form does not send.' });
		const m = milestone(w.state, 'build')!;
		expect(latestChangeRequest(w.state, m)).toMatchObject({ reason: 'The contact form does not send.' });
		expect(revisionsText(m)).toBe('1 of 1 change used');
		expect(revisionsText(milestone(w.state, 'design')!)).toBeUndefined();
		expect(noticesFor(w.state, FREELANCER.publicKey, from).map((n) => n.text)).toEqual(['Ada requested changes to Build: “The contact form does not send.”']);
		expect(nextAction(w.state, 'freelancer', w.now)).toBe('Make the requested changes to milestone 2');
	});

	it('a passed review deadline is said to have passed, and nothing is promised to pay by itself', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.submit('design');
		const m = milestone(w.state, 'design')!;
		expect(milestoneStatus(w.state, m, T0 + DAY_MS)).toBe('submitted');
		expect(milestoneStatus(w.state, m, T0 + 14 * DAY_MS)).toBe('review_passed');
		expect(clocks(w.state)[0]!.outcome).not.toMatch(/automatically/);
		const [running] = milestoneClocks(w.state, m, T0 + DAY_MS);
		expect(running).toMatchObject({ kind: 'review', start: T0, end: T0 + 14 * DAY_MS, state: 'running' });
		expect(describeSpan(running!, T0 + DAY_MS, money, date)).toBe('Review window: 2026-11-02 – 2026-11-16, 13 days left. If the client does not act by then, the freelancer can claim the payment.');
		const [passed] = milestoneClocks(w.state, m, T0 + 15 * DAY_MS);
		expect(passed!.state).toBe('passed');
		expect(describeSpan(passed!, T0 + 15 * DAY_MS, money, date)).toMatch(/ended with no answer from the client: the freelancer can claim the payment/);
		expect(nextAction(w.state, 'freelancer', T0 + 15 * DAY_MS)).toBe('Claim the payment for milestone 1: the review window ended');
		expect(nextAction(w.state, 'client', T0 + 15 * DAY_MS)).toMatch(/review window ended/);
	});

	it('draws the stopped review window, the refund answer window and the security period of one milestone', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.submit('design');
		w.advance(2);
		const request = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 10_000, currency: 'USD', reason: 'Less.' });
		await w.emit(PROVIDER, 'receipt.attested', { event: request, kind: 'refund-request' });
		w.advance(1);
		await w.release('design', 50_000);
		const spans = milestoneClocks(w.state, milestone(w.state, 'design')!, w.now);
		expect(spans.map((s) => [s.kind, s.state])).toEqual([
			['review', 'stopped'],
			['refund-answer', 'running'],
			['security', 'running']
		]);
		expect(spans[0]!.stoppedAt).toBe(T0 + 2 * DAY_MS);
		expect(describeSpan(spans[2]!, w.now, money, date)).toBe('Security period: 2026-11-05 – 2026-11-10, 5 days left. The released $500.00 becomes available to withdraw then.');
		expect(milestoneStatus(w.state, milestone(w.state, 'design')!)).toBe('refund_requested');
	});

	it('after the contract ends by agreement, escrow is no longer held for the freelancer', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		expect(escrowByOwner(w.state)).toEqual({ forFreelancer: 100_000, backToClient: 0 });
		expect(escrowLine(w.state, milestone(w.state, 'design')!, 'freelancer')).toBe('in escrow for you');
		const proposal = await w.emit(FREELANCER, 'contract.endProposed', {});
		await w.emit(CLIENT, 'contract.endAccepted', { proposal });
		const m = milestone(w.state, 'design')!;
		expect(escrowByOwner(w.state)).toEqual({ forFreelancer: 0, backToClient: 100_000 });
		expect(escrowLine(w.state, m, 'freelancer')).not.toMatch(/for you/);
		expect(milestoneStatus(w.state, m)).toBe('ended_in_escrow');
		expect(nextAction(w.state, 'client', w.now)).toBe('Take back what is left in escrow');
	});
});
