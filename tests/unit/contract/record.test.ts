/**
 * Money clocks are judged on the provider's record (record.ts), the same way on every replica as by
 * the provider: what a party leaves out of a log cannot start or stop one, and the end of a contract
 * stops them all.
 */
import { describe, expect, it } from 'vitest';
import { recordSubject, unrecordedOf } from '../../../src/lib/contract/record';
import { milestone } from '../../../src/lib/contract/state';
import { equivocations } from '../../../src/lib/contract/equivocation';
import { CLIENT, FREELANCER, PROVIDER, STRANGER, World } from '../../support/world';

async function submitted() {
	const w = new World();
	await w.active();
	await w.fund('design', 100_000);
	const sub = await w.submit('design');
	return { w, sub };
}

const autoRelease = (w: World, sub: string) =>
	w.emit(FREELANCER, 'milestone.autoRelease', { milestone: 'design', submission: sub });
const autoReceipt = (w: World, intent: string) =>
	w.emit(PROVIDER, 'receipt.released', { intent, milestone: 'design', amount: 100_000, currency: 'USD', auto: true });

describe('the provider’s record decides money clocks', () => {
	it('a submission the provider recorded still counts once a newer one, written without seeing the record, sorts first', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const first = await w.emit(FREELANCER, 'milestone.submitted', { milestone: 'design', message: 'Done.', links: [] });
		// The client asks for changes (its app cannot reach the provider), and the freelancer submits again.
		const changes = await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'design', reason: 'More contrast.' }, { deps: [first] });
		const second = await w.emit(FREELANCER, 'milestone.submitted', { milestone: 'design', message: 'Again.', links: [] }, { deps: [changes] });
		// Meanwhile the provider recorded the first submission, having seen more of the client's messages: its record sorts after the second.
		let seen = [first];
		for (let i = 0; i < 4; i++) seen = [await w.emit(CLIENT, 'message.posted', { text: `Note ${i}.` }, { deps: seen })];
		const record = await w.record(first, 'submission', { deps: [first, ...seen] });
		expect(milestone(w.state, 'design')!.submission?.id).toBe(second);
		expect(w.rejection(record)).toBeUndefined();
		// On its record nothing stopped the first review: it pays the auto-release, and every replica agrees.
		w.advance(15);
		const intent = await autoRelease(w, first);
		const receipt = await autoReceipt(w, intent);
		expect(w.rejection(receipt)).toBeUndefined();
		expect(milestone(w.state, 'design')!.released).toBe(100_000);
	});

	it('a replaced submission is not recorded once the newer one is known: that would stop the current review', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const first = await w.emit(FREELANCER, 'milestone.submitted', { milestone: 'design', message: 'Done.', links: [] });
		await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'design', reason: 'More contrast.' });
		const second = await w.submit('design');
		expect(unrecordedOf(w.state, FREELANCER.publicKey)).toEqual([]);
		// The client has the provider record the freelancer's old submission, to stop the review of the new one.
		const late = await w.record(first, 'submission');
		expect(w.rejection(late)?.message).toMatch(/A newer submission was written/);
		w.advance(15);
		const receipt = await autoReceipt(w, await autoRelease(w, second));
		expect(w.rejection(receipt)).toBeUndefined();
	});

	it('a recorded change request stops auto-release, even under an intent the rules let through', async () => {
		const { w, sub } = await submitted();
		// The intent is signed while the review is open; the change request comes after it.
		w.advance(15);
		const intent = await autoRelease(w, sub);
		const cr = await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'design', reason: 'Not yet' }, { deps: [sub] });
		await w.emit(PROVIDER, 'receipt.attested', { event: cr, kind: 'change-request' });
		w.advance(0.001);
		const receipt = await autoReceipt(w, intent);
		expect(w.rejection(receipt)?.code).toBe('invalid-state');
		expect(milestone(w.state, 'design')!.released).toBe(0);
	});

	it('an unrecorded change request does not stop the clock the provider judges on: the app records it at once', async () => {
		const { w, sub } = await submitted();
		const cr = await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'design', reason: 'Not yet' });
		expect(unrecordedOf(w.state, CLIENT.publicKey)).toEqual([cr]);
		expect(recordSubject(w.state, cr)).toEqual({ kind: 'change-request', milestone: 'design' });
		w.advance(15);
		// The freelancer's intent is refused by the rules (the client acted), but a provider that never
		// saw the change request pays, and every replica agrees with the provider's receipt.
		const intent = await autoRelease(w, sub);
		expect(w.rejection(intent)?.code).toBe('invalid-state');
		const receipt = await autoReceipt(w, intent);
		expect(w.rejection(receipt)).toBeUndefined();
		expect(milestone(w.state, 'design')!.released).toBe(100_000);
	});

	it('ending by agreement closes every open review; a recorded end refuses auto-release on an old submission', async () => {
		const { w, sub } = await submitted();
		const proposal = await w.emit(CLIENT, 'contract.endProposed', { reason: 'Done here' });
		const end = await w.emit(FREELANCER, 'contract.endAccepted', { proposal });
		expect(milestone(w.state, 'design')!.reviewOpen).toBe(false);
		expect(recordSubject(w.state, end)).toEqual({ kind: 'end' });
		await w.emit(PROVIDER, 'receipt.attested', { event: end, kind: 'end' });
		w.advance(15);
		const intent = await autoRelease(w, sub);
		expect(w.rejection(intent)?.code).toBe('invalid-state');
		const receipt = await autoReceipt(w, intent);
		expect(w.rejection(receipt)?.code).toBe('invalid-state');
		// The escrow is the client's to take back.
		const refund = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 100_000, currency: 'USD', basis: 'ended-by-agreement' });
		await w.emit(PROVIDER, 'receipt.refunded', { intent: refund, milestone: 'design', amount: 100_000, currency: 'USD' });
		expect(milestone(w.state, 'design')!.refunded).toBe(100_000);
	});

	it('a recorded answer stops the refund clock even if the client leaves it out of its claim', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const req = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 40_000, currency: 'USD', reason: 'Less work' });
		await w.emit(PROVIDER, 'receipt.attested', { event: req, kind: 'refund-request' });
		w.advance(1);
		const answer = await w.emit(FREELANCER, 'refund.declined', { request: req, reason: 'It was done' });
		expect(recordSubject(w.state, answer)).toEqual({ kind: 'refund-answer', milestone: 'design' });
		await w.emit(PROVIDER, 'receipt.attested', { event: answer, kind: 'refund-answer' });
		w.advance(8);
		// The client's intent names a log position before the answer (it "did not see" it).
		const intent = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 40_000, currency: 'USD', basis: 'unanswered-request', request: req }, { deps: [req] });
		const receipt = await w.emit(PROVIDER, 'receipt.refunded', { intent, milestone: 'design', amount: 40_000, currency: 'USD' });
		expect(w.rejection(receipt)?.code).toBe('invalid-state');
		expect(milestone(w.state, 'design')!.refunded).toBe(0);
	});

	it('the provider records each event once, and a second countersign never', async () => {
		const w = new World();
		const { countersign } = await w.active();
		const again = await w.emit(PROVIDER, 'receipt.attested', { event: countersign, kind: 'countersign' });
		expect(w.rejection(again)?.code).toBe('already-settled');
		expect(w.state.recorded.get(countersign)?.kind).toBe('countersign');
		expect(w.state.binding?.countersign).toBe(countersign);
	});
});

describe('equivocation is shown by content', () => {
	it('two events of one author on the same prev, and two countersigns, in any order', async () => {
		const w = new World();
		const { proposal, countersign } = await w.active();
		const base = w.log.lastOf(FREELANCER.publicKey);
		const a = await w.emit(FREELANCER, 'message.posted', { text: 'one' }, { prev: base });
		const b = await w.emit(FREELANCER, 'message.posted', { text: 'two' }, { prev: base });
		const stranger = await w.emit(STRANGER, 'contract.accepted', { proposal, name: 'Mallory' }, { deps: [proposal] });
		const second = await w.emit(CLIENT, 'contract.countersigned', { acceptance: stranger }, { prev: proposal, deps: [stranger] });
		const found = equivocations(w.state);
		expect(found).toContainEqual({ author: FREELANCER.publicKey, kind: 'fork', events: [a, b].sort() });
		expect(found).toContainEqual({ author: CLIENT.publicKey, kind: 'countersign', events: [countersign, second].sort() });
		// The recorded countersign still decides who the freelancer is.
		expect(w.state.parties.freelancer).toBe(FREELANCER.publicKey);
	});

	it("the escrow provider's receipts form one chain: two receipts on one prev are its equivocation", async () => {
		const w = new World();
		await w.active();
		const tip = w.log.lastOf(PROVIDER.publicKey);
		const { receipt: one } = await w.fund('design', 100_000);
		expect(equivocations(w.state)).toEqual([]);
		// A second history: a receipt the provider signed on the same prev as the first.
		const intent = await w.emit(CLIENT, 'milestone.fund', { milestone: 'build', amount: 50_000, currency: 'USD', method: 'card' });
		const two = await w.emit(PROVIDER, 'receipt.funded', { intent, milestone: 'build', amount: 50_000, fee: 0, currency: 'USD', method: 'card', clearsAt: w.now }, { prev: tip });
		expect(equivocations(w.state)).toContainEqual({ author: PROVIDER.publicKey, kind: 'fork', events: [one, two].sort() });
	});
});
