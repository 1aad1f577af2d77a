import { describe, expect, it } from 'vitest';
import { affordances, amountWithin, endingConsequence, partyRole, type Affordance } from '../../../src/lib/contract/affordances';
import { autoReleaseDecision, releaseAmount } from '../../../src/lib/contract/release';
import { milestoneStatus, STATUS_LABEL } from '../../../src/lib/contract/status';
import { DAY_MS, milestone, type Role } from '../../../src/lib/contract/state';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { minor } from '../../../src/lib/money/minor';
import { activePair } from '../../support/parties';
import { CLIENT, FREELANCER, PROVIDER, STRANGER, T0, World, terms } from '../../support/world';

const ms = (w: World, role: Role | undefined, id = 'design', now = w.now) => affordances(w.state, role, now).milestones.find((m) => m.milestone === id)!;
const contract = (w: World, role: Role | undefined, now = w.now) => affordances(w.state, role, now).contract;

function refused(a: Affordance, code: string, reason?: RegExp): void {
	expect(a.allowed).toBe(false);
	if (a.allowed) return;
	expect(a.code).toBe(code);
	if (reason) expect(a.reason).toMatch(reason);
	// A reason is words, never raw minor units.
	expect(a.reason).not.toMatch(/\b\d{5,}\b/);
}

async function submitted() {
	const w = new World();
	await w.active();
	await w.fund('design', 100_000);
	const sub = await w.submit('design');
	return { w, sub };
}

describe('affordances: what a role may do now, with the reason when not', () => {
	it('partyRole names the two parties and nobody else', async () => {
		const w = new World();
		await w.active();
		expect(partyRole(w.state, CLIENT.publicKey)).toBe('client');
		expect(partyRole(w.state, FREELANCER.publicKey)).toBe('freelancer');
		expect(partyRole(w.state, PROVIDER.publicKey)).toBeUndefined();
		expect(partyRole(w.state, STRANGER.publicKey)).toBeUndefined();
		expect(partyRole(w.state, undefined)).toBeUndefined();
	});

	it('fund: the client, for what the milestone still needs; not the freelancer, not twice, not again after a refund', async () => {
		const w = new World();
		await w.active();
		expect(ms(w, 'client').fund).toMatchObject({ allowed: true, amount: 100_000 });
		refused(ms(w, 'freelancer').fund, 'wrong-role');
		refused(ms(w, undefined).fund, 'not-party', /client and the freelancer/);
		await w.fund('design', 100_000);
		refused(ms(w, 'client').fund, 'invalid-state', /already funded/);
		// A partial refund: the refunded part is not owed again, so "Fund milestone" does not come back.
		const intent = await w.emit(FREELANCER, 'milestone.refund', { milestone: 'design', amount: 40_000, currency: 'USD', basis: 'freelancer' });
		await w.emit(PROVIDER, 'receipt.refunded', { intent, milestone: 'design', amount: 40_000, currency: 'USD' });
		refused(ms(w, 'client').fund, 'invalid-state', /refunded, so it is not offered for funding again/);
		refused(ms(w, 'freelancer').fund, 'wrong-role');
	});

	it('Request Payment: the freelancer, once funded, not while a request awaits review', async () => {
		const w = new World();
		await w.active();
		refused(ms(w, 'freelancer').requestPayment, 'unfunded', /once the milestone is funded/);
		await w.fund('design', 100_000);
		expect(ms(w, 'freelancer').requestPayment.allowed).toBe(true);
		refused(ms(w, 'client').requestPayment, 'wrong-role');
		await w.submit('design');
		refused(ms(w, 'freelancer').requestPayment, 'invalid-state', /already waiting for review/);
	});

	it('Request changes: the client on submitted work, counting changes against the cap', async () => {
		const w = new World();
		await w.active();
		await w.fund('build', 200_000);
		refused(ms(w, 'client', 'build').requestChanges, 'invalid-state', /submitted work/);
		await w.submit('build');
		expect(ms(w, 'client', 'build').requestChanges).toMatchObject({ allowed: true, used: 0, cap: 1 });
		refused(ms(w, 'freelancer', 'build').requestChanges, 'wrong-role');
		await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'build', reason: 'The form does not send.' });
		await w.submit('build');
		const capped = ms(w, 'client', 'build').requestChanges;
		expect(capped).toMatchObject({ used: 1, cap: 1 });
		refused(capped, 'revision-cap', /1 change request for this milestone/);
		// No cap in the terms: changes are counted, none refused.
		await w.fund('design', 100_000);
		await w.submit('design');
		expect(ms(w, 'client').requestChanges).toMatchObject({ allowed: true, used: 0 });
		expect(ms(w, 'client').requestChanges).not.toHaveProperty('cap');
	});

	it('release and "release everything": the client, up to what escrow holds, paid from the funding method', async () => {
		const w = new World();
		await w.active();
		refused(ms(w, 'client').release, 'unfunded', /no money in escrow/);
		refused(ms(w, 'client').releaseEverything, 'unfunded');
		await w.fund('design', 100_000);
		expect(ms(w, 'client').release).toMatchObject({ allowed: true, max: 100_000, method: 'card' });
		expect(ms(w, 'client').releaseEverything).toMatchObject({ allowed: true, amount: 100_000 });
		refused(ms(w, 'freelancer').release, 'wrong-role');
		await w.release('design', 40_000);
		expect(ms(w, 'client').releaseEverything).toMatchObject({ allowed: true, amount: 60_000 });
	});

	it('a typed amount is checked before any confirmation: empty and zero never mean everything', () => {
		expect(amountWithin('', 60_000, 'USD', 'release')).toEqual({ ok: false, message: 'Enter the amount to release. To release all of it, choose “Release everything”.' });
		expect(amountWithin('0', 60_000, 'USD', 'release')).toEqual({ ok: false, message: 'Enter an amount above $0.00. To release all of it, choose “Release everything”.' });
		expect(amountWithin('0.00', 60_000, 'USD', 'refund')).toEqual({ ok: false, message: 'Enter an amount above $0.00.' });
		expect(amountWithin('600.01', 60_000, 'USD', 'release')).toEqual({ ok: false, message: 'Escrow holds $600.00 for this milestone: enter at most that.' });
		expect(amountWithin('abc', 60_000, 'USD', 'release')).toMatchObject({ ok: false, message: expect.stringContaining('is not an amount') });
		expect(amountWithin('400', 60_000, 'USD', 'release')).toEqual({ ok: true, minor: 40_000 });
		expect(amountWithin('', 1, 'USD', 'milestone')).toEqual({ ok: false, message: 'Enter the amount of the new milestone.' });
	});

	it('claim auto-release: refused before the deadline with when it ends, allowed after it for everything held', async () => {
		const { w, sub } = await submitted();
		const early = ms(w, 'freelancer');
		refused(early.claimAutoRelease, 'too-early', /review window ends 2026-11-16 09:00 UTC/);
		expect(early.claimAutoRelease).toMatchObject({ submission: sub, deadline: T0 + 14 * DAY_MS, amount: 100_000 });
		const late = ms(w, 'freelancer', 'design', T0 + 14 * DAY_MS);
		expect(late.claimAutoRelease).toMatchObject({ allowed: true, amount: 100_000, submission: sub });
		refused(ms(w, 'client', 'design', T0 + 14 * DAY_MS).claimAutoRelease, 'wrong-role');
	});

	it('claim auto-release: a partial release stops the review clock; the chip and the claim both know it', async () => {
		const { w } = await submitted();
		w.advance(1);
		await w.release('design', 40_000);
		refused(ms(w, 'freelancer', 'design', T0 + 30 * DAY_MS).claimAutoRelease, 'invalid-state', /awaits review/);
		expect(milestoneStatus(w.state, milestone(w.state, 'design')!, T0 + 30 * DAY_MS)).toBe('partly_released');
		expect(STATUS_LABEL.partly_released).not.toMatch(/Submitted for review/);
	});

	it('claim auto-release: not once the contract ended', async () => {
		const { w } = await submitted();
		w.advance(1);
		const proposal = await w.emit(CLIENT, 'contract.endProposed', {});
		await w.emit(FREELANCER, 'contract.endAccepted', { proposal });
		refused(ms(w, 'freelancer', 'design', T0 + 30 * DAY_MS).claimAutoRelease, 'invalid-state', /only while the contract is active/);
	});

	it('refund request and its answer: the client asks up to escrow, the freelancer answers, the client receives', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		expect(ms(w, 'client').requestRefund).toMatchObject({ allowed: true, max: 100_000 });
		refused(ms(w, 'freelancer').requestRefund, 'wrong-role');
		const request = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 30_000, currency: 'USD', reason: 'Less work.' });
		await w.emit(PROVIDER, 'receipt.attested', { event: request, kind: 'refund-request' });
		const forFreelancer = contract(w, 'freelancer').refunds[0]!;
		expect(forFreelancer.approve.allowed && forFreelancer.decline.allowed).toBe(true);
		const forClient = contract(w, 'client').refunds[0]!;
		refused(forClient.approve, 'wrong-role');
		// Unanswered: not before the answer window ends, then on the provider's clock.
		refused(forClient.receive, 'too-early', /answer window ends 2026-11-09 09:00 UTC/);
		expect(forClient.receive).toMatchObject({ basis: 'unanswered-request', amount: 30_000, deadline: T0 + 7 * DAY_MS });
		expect(contract(w, 'client', T0 + 7 * DAY_MS).refunds[0]!.receive).toMatchObject({ allowed: true, basis: 'unanswered-request' });
		await w.emit(FREELANCER, 'refund.approved', { request });
		expect(contract(w, 'client').refunds[0]!.receive).toMatchObject({ allowed: true, basis: 'approved-request', amount: 30_000 });
		refused(contract(w, 'freelancer').refunds[0]!.approve, 'invalid-state');
	});

	it('end: alone with nothing in escrow; by agreement while escrow is held, saying what happens to it in money', async () => {
		const w = new World();
		await w.active();
		expect(contract(w, 'freelancer').end).toMatchObject({ allowed: true, mode: 'end', escrow: 0 });
		expect(contract(w, 'client').end.consequence).toMatch(/No money is held in escrow/);
		await w.fund('design', 100_000);
		const end = contract(w, 'client').end;
		expect(end).toMatchObject({ allowed: true, mode: 'propose', escrow: 100_000 });
		expect(end.consequence).toBe(endingConsequence(w.state));
		expect(end.consequence).toContain('Escrow holds $1,000.00 (Design $1,000.00)');
		refused(contract(w, 'client').acceptEnd, 'invalid-state', /Nobody has proposed/);
		const proposal = await w.emit(CLIENT, 'contract.endProposed', {});
		refused(contract(w, 'client').end, 'invalid-state', /already been proposed/);
		refused(contract(w, 'client').acceptEnd, 'wrong-role', /other party/);
		expect(contract(w, 'freelancer').acceptEnd).toMatchObject({ allowed: true, proposal, escrow: 100_000 });
		await w.emit(FREELANCER, 'contract.endAccepted', { proposal });
		// What is left goes back to the client: only the client can take it, for what escrow holds.
		expect(ms(w, 'client').refundOnEnd).toMatchObject({ allowed: true, amount: 100_000 });
		refused(ms(w, 'freelancer').refundOnEnd, 'wrong-role');
		refused(ms(w, 'client').fund, 'invalid-state');
		refused(ms(w, 'client').requestChanges, 'invalid-state');
	});

	it('propose a milestone with an id from the rules; answer the other party\'s change; message; feedback once ended', async () => {
		const w = new World();
		await w.active();
		const add = contract(w, 'freelancer').proposeMilestone;
		expect(add).toMatchObject({ allowed: true, id: 'm3' });
		const change = await w.emit(FREELANCER, 'milestone.changeProposed', { change: { kind: 'add', milestone: { id: 'm3', title: 'Extra', amount: 5_000 } } });
		expect(contract(w, 'client').proposeMilestone).toMatchObject({ id: 'm4' });
		const [mine] = contract(w, 'freelancer').changes;
		const [theirs] = contract(w, 'client').changes;
		expect(mine).toMatchObject({ id: change, mine: true });
		refused(mine!.accept, 'wrong-role');
		expect(mine!.decline.allowed).toBe(true);
		expect(theirs).toMatchObject({ mine: false, accept: { allowed: true }, decline: { allowed: true } });
		expect(contract(w, 'client').message.allowed).toBe(true);
		refused(contract(w, 'client').feedback, 'invalid-state', /once the contract has ended/);
		await w.emit(CLIENT, 'contract.ended', {});
		expect(contract(w, 'client').feedback.allowed).toBe(true);
		refused(contract(w, 'client').end, 'invalid-state');
		await w.emit(CLIENT, 'feedback.left', { rating: 5, text: 'Great.' });
		refused(contract(w, 'client').feedback, 'invalid-state', /already been left/);
	});
});

describe('the auto-release decision lives in one place', () => {
	it('what the page offers is what the provider pays: refused before the window, everything held after it', async () => {
		let now = T0;
		const provider = new MockEscrowProvider({ now: () => now });
		const info = await provider.info();
		const { client, freelancer } = await activePair({ escrow: provider, clock: () => now, terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }) });
		await client.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		await freelancer.receive(client.log.envelopes());
		const sub = await freelancer.act('milestone.submitted', { milestone: 'design', message: 'Done.', links: [] });
		now += 13 * DAY_MS;
		const early = affordances(freelancer.derived().state, 'freelancer', now).milestones[0]!.claimAutoRelease;
		expect(early.allowed).toBe(false);
		await expect(freelancer.settle('milestone.autoRelease', { milestone: 'design', submission: sub.id })).rejects.toMatchObject({ code: 'too-early' });
		now += DAY_MS;
		const due = affordances(freelancer.derived().state, 'freelancer', now).milestones[0]!.claimAutoRelease;
		expect(due).toMatchObject({ allowed: true, amount: 100_000 });
		const { receipt } = await freelancer.settle('milestone.autoRelease', { milestone: 'design', submission: sub.id });
		const released = freelancer.derived().state.applied.find((e) => e.id === receipt.id);
		expect(released).toMatchObject({ type: 'receipt.released', payload: { amount: 100_000, auto: true } });
	});

	it('the decision and the amount rule agree with the receipt rule', async () => {
		const { w, sub } = await submitted();
		expect(autoReleaseDecision(w.state, 'design', T0 + 14 * DAY_MS - 1)).toMatchObject({ due: false, refusal: { code: 'too-early' } });
		expect(autoReleaseDecision(w.state, 'design', T0 + 14 * DAY_MS)).toEqual({ due: true, submission: sub, deadline: T0 + 14 * DAY_MS, amount: 100_000 });
		expect(releaseAmount({ type: 'milestone.autoRelease' }, minor(70_000))).toBe(70_000);
		expect(releaseAmount({ type: 'milestone.release', amount: minor(30_000) }, minor(70_000))).toBe(30_000);
		w.now = T0 + 14 * DAY_MS;
		const intent = await w.emit(FREELANCER, 'milestone.autoRelease', { milestone: 'design', submission: sub });
		const receipt = await w.emit(PROVIDER, 'receipt.released', { intent, milestone: 'design', amount: 100_000, currency: 'USD', auto: true });
		expect(w.rejection(receipt)).toBeUndefined();
	});
});
