/**
 * The Resolution Center on an hourly contract (dispute.ts, timesheet.ts): a dispute whose subject is
 * the segments of a segment dispute the freelancer declined. The amount is what those segments bill,
 * held in their week's escrow; opening it holds those segments only (the rest of the week is
 * released as before); it ends in a split with the same negotiation, silence, small-amount and
 * mediator rules as a milestone. Attacks first.
 */
import { describe, expect, it } from 'vitest';
import { answerDeadline, settleDecision } from '../../../src/lib/contract/dispute';
import { disputeAttention, dueSettlements, hourlyDisputes, mediatorFees, segmentDisputes } from '../../../src/lib/contract/dispute-affordances';
import { assertContractInvariants } from '../../../src/lib/contract/fold';
import { timesheetDraft } from '../../../src/lib/contract/hourly';
import type { HourlyTerms, Payload } from '../../../src/lib/contract/schema';
import { DAY_MS } from '../../../src/lib/contract/state';
import { weekFigures } from '../../../src/lib/contract/timesheet';
import { SEGMENT_MS } from '../../../src/lib/contract/weeks';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { CLIENT, FREELANCER, MEDIATOR, PROVIDER, World, hourlyTerms, type EmitOptions } from '../../support/world';

const W1 = '2026-11-02';
const W3 = '2026-11-16';
const t = (s: string) => Date.parse(`${s}Z`);
const MON = t('2026-11-02T10:00');
const LOCK1 = t('2026-11-09T12:00');
const REVIEW1 = t('2026-11-14T00:00');
const DISPUTED = t('2026-11-11T12:00');
const DECLINED = t('2026-11-12T08:00');
const OPENED = t('2026-11-12T10:00');
const HOUR = 3_600_000;

type Key = typeof CLIENT;

/** $50/h, 10 h a week funded ($500), 18 segments logged (3 h, $150); the client disputes the first `n`, the freelancer declines. */
async function declinedWeek(o: { n?: number; t?: HourlyTerms; answer?: boolean | 'none' } = {}) {
	const w = new World();
	await w.active(o.t ?? hourlyTerms());
	w.now = MON;
	const fund = await w.emit(CLIENT, 'hourly.fund', { week: W1, amount: 50_000, currency: 'USD', method: 'card' }, { at: MON });
	await w.emit(PROVIDER, 'receipt.weekFunded', { intent: fund, week: W1, amount: 50_000, fee: 0, currency: 'USD', method: 'card', clearsAt: MON }, { at: MON });
	const ids: string[] = [];
	for (let i = 0; i < 18; i++) {
		const start = MON + i * SEGMENT_MS;
		ids.push(await w.emit(FREELANCER, 'hourly.segment', { start, source: 'tracked', memo: 'Built the signup form', activity: 7 }, { at: start + SEGMENT_MS }));
	}
	const draft = timesheetDraft(w.state, W1);
	const sheet = await w.emit(FREELANCER, 'hourly.timesheet', { week: W1, segments: draft.segments, minutes: 180, amount: 15_000, currency: 'USD' }, { at: LOCK1 });
	await w.record(sheet, 'timesheet', { at: LOCK1 });
	const sd = await segmentDispute(w, ids.slice(0, o.n ?? 12));
	if (o.answer !== 'none') await answer(w, sd, o.answer ?? false);
	w.now = OPENED;
	return { w, ids, sd };
}

async function segmentDispute(w: World, segments: string[], at = DISPUTED): Promise<string> {
	const d = await w.emit(CLIENT, 'hourly.disputed', { week: W1, segments, reason: 'No work was delivered for these.' }, { at });
	await w.record(d, 'dispute', { at });
	return d;
}

async function answer(w: World, sd: string, accept: boolean, at = DECLINED): Promise<void> {
	const a = await w.emit(FREELANCER, 'hourly.disputeAnswered', { dispute: sd, accept }, { at });
	await w.record(a, 'dispute-answer', { at });
}

/** Open a Resolution Center dispute on segment dispute `sd`; recorded at `at` unless `record` is false. Returns the id and any rejection. */
async function open(w: World, key: Key, sd: string, o: { amount?: number; offer?: number; at?: number; record?: boolean; reason?: Payload<'dispute.opened'>['reason'] } = {}) {
	const at = o.at ?? OPENED;
	const id = await w.emit(key, 'dispute.opened', { segmentDispute: sd, amount: o.amount ?? 10_000, currency: 'USD', reason: o.reason ?? 'segments-declined', details: 'The segments show no work.', offer: o.offer ?? 0 }, { at });
	const rejected = w.rejection(id);
	let record: string | undefined;
	if (!rejected && o.record !== false) record = await w.record(id, 'milestone-dispute', { at });
	return { id, rejected, record };
}

const week = { week: W1, currency: 'USD' as const };

/** Any event at provider-or-claimed time `at` (payloads typed loosely: some are attacks). */
function emitAt(w: World, key: Key, type: string, payload: object, at: number, o: EmitOptions = {}): Promise<string> {
	return w.emit(key, type as never, payload as never, { ...o, at });
}

async function settleIntent(w: World, d: string, basis: Payload<'dispute.settle'>['basis'], share: number, at: number) {
	return emitAt(w, FREELANCER, 'dispute.settle', { dispute: d, ...week, basis, freelancer: share }, at);
}

async function split(w: World, intent: string, d: string, x: { freelancer: number; client: number; fee?: number; mediator?: string }, at: number, subject: { week: string } | { milestone: string } = { week: W1 }) {
	return emitAt(w, PROVIDER, 'receipt.split', { intent, dispute: d, ...subject, freelancer: x.freelancer, client: x.client, fee: x.fee ?? 0, ...(x.mediator ? { mediator: x.mediator } : {}), currency: 'USD' }, at);
}

const bal = (w: World, account: string) => w.state.ledger.balance(account as never);

describe('attacks on a dispute of Work Diary segments', () => {
	it('cannot be opened on segments that were never disputed, or on a segment dispute still open, accepted or lapsed', async () => {
		const { w, ids } = await declinedWeek();
		// A segment's id, not a segment dispute's.
		expect((await open(w, CLIENT, ids[15]!)).rejected?.message).toMatch(/no dispute of Work Diary segments/);
		const fresh = await segmentDispute(w, ids.slice(12, 14), t('2026-11-12T09:00'));
		expect((await open(w, CLIENT, fresh, { amount: 1_666 })).rejected?.message).toMatch(/has not answered it yet/);
		await answer(w, fresh, true, t('2026-11-12T09:30'));
		expect((await open(w, FREELANCER, fresh, { amount: 1_666 })).rejected?.message).toMatch(/it was accepted/);
		const silent = await segmentDispute(w, ids.slice(14, 16), t('2026-11-12T09:00'));
		expect((await open(w, FREELANCER, silent, { amount: 1_666, at: t('2026-11-15T10:00') })).rejected?.message).toMatch(/it was accepted/);
		// And the rules' affordance offers no "open" on them either.
		expect(segmentDisputes(w.state, 'client', fresh, OPENED)!.open.allowed).toBe(false);
		expect(hourlyDisputes(w.state, 'client', OPENED).map((x) => x.segments!.dispute)).not.toContain(fresh);
	});

	it('names exactly what the segments bill: no more, no less', async () => {
		const { w, sd } = await declinedWeek();
		expect((await open(w, CLIENT, sd, { amount: 10_001 })).rejected).toMatchObject({ code: 'amount-mismatch', message: expect.stringMatching(/bill \$100\.00/) });
		expect((await open(w, CLIENT, sd, { amount: 50_000 })).rejected?.code).toBe('amount-mismatch');
		expect((await open(w, FREELANCER, sd, { amount: 9_999 })).rejected?.code).toBe('amount-mismatch');
		expect((await open(w, FREELANCER, sd, { offer: 10_001 })).rejected?.code).toBe('amount-mismatch');
		// A milestone's reason does not open it, and the segments' reason opens no milestone dispute.
		expect((await open(w, CLIENT, sd, { reason: 'not-delivered' })).rejected?.message).toMatch(/declined the segment dispute/);
		expect((await open(w, CLIENT, sd)).rejected).toBeUndefined();
	});

	it('two disputes on the same segments: the provider records one; an overlapping segment dispute cannot open a second', async () => {
		const { w, ids, sd } = await declinedWeek();
		// Both parties open at once, neither seeing the other's: both fold, the provider records the first only.
		const a = await open(w, CLIENT, sd, { record: false });
		const b = await open(w, FREELANCER, sd, { record: false, offer: 10_000 });
		expect([a.rejected, b.rejected]).toEqual([undefined, undefined]);
		expect(w.rejection(await w.record(b.id, 'milestone-dispute', { at: OPENED }))).toBeUndefined();
		expect(w.rejection(await w.record(a.id, 'milestone-dispute', { at: OPENED + 1 }))?.message).toMatch(/already open in the Resolution Center/);
		// Once one is recorded, another opening on them is refused at once.
		expect((await open(w, CLIENT, sd, { at: OPENED + 2 })).rejected?.message).toMatch(/already open/);
		// A second segment dispute naming some of the same segments, declined too, cannot reach them again.
		const overlap = await segmentDispute(w, ids.slice(10, 14), t('2026-11-12T11:00'));
		await answer(w, overlap, false, t('2026-11-12T11:30'));
		expect((await open(w, CLIENT, overlap, { amount: 3_333, at: t('2026-11-12T12:00') })).rejected?.message).toMatch(/already open in the Resolution Center/);
		assertContractInvariants(w.state);
	});

	it('the week cannot be released in full, nor its disputed escrow carried or reclaimed, while the dispute is open', async () => {
		const { w, sd } = await declinedWeek();
		const { id: d } = await open(w, CLIENT, sd);
		const claim = await emitAt(w, FREELANCER, 'hourly.release', week, REVIEW1);
		const full = await emitAt(w, PROVIDER, 'receipt.weekReleased', { intent: claim, week: W1, amount: 15_000, carried: 35_000, carriedTo: W3, currency: 'USD' }, REVIEW1);
		expect(w.rejection(full)?.code).toBe('amount-mismatch');
		const everything = await emitAt(w, PROVIDER, 'receipt.weekReleased', { intent: claim, week: W1, amount: 5_000, carried: 45_000, carriedTo: W3, currency: 'USD' }, REVIEW1);
		expect(w.rejection(everything)?.code).toBe('amount-mismatch');
		// The rest of the week is released as before: 6 segments, $50.00; $350.00 unused carries on; $100.00 stays.
		const net = await emitAt(w, PROVIDER, 'receipt.weekReleased', { intent: claim, week: W1, amount: 5_000, carried: 35_000, carriedTo: W3, currency: 'USD' }, REVIEW1);
		expect(w.rejection(net)).toBeUndefined();
		expect(bal(w, `escrow:week:${W1}`)).toBe(10_000);
		const reclaim = await emitAt(w, CLIENT, 'hourly.reclaim', week, REVIEW1 + DAY_MS);
		const grab = await emitAt(w, PROVIDER, 'receipt.weekReclaimed', { intent: reclaim, week: W1, amount: 10_000, to: 'carry', carriedTo: W3, currency: 'USD' }, REVIEW1 + DAY_MS);
		expect(w.rejection(grab)?.message).toMatch(/no unused escrow/);
		expect(weekFigures(w.state, W1, REVIEW1).disputedMinutes).toBe(120);
		expect(w.state.disputes.get(d)!.openedAt).toBe(OPENED);
		assertContractInvariants(w.state);
	});

	it('a later accepted segment dispute on the same segments refunds nothing while the dispute holds them', async () => {
		const { w, ids, sd } = await declinedWeek();
		await open(w, CLIENT, sd);
		const again = await segmentDispute(w, ids.slice(0, 2), t('2026-11-12T11:00'));
		await answer(w, again, true, t('2026-11-12T11:30'));
		const f = weekFigures(w.state, W1, REVIEW1);
		expect([f.refundedMinutes, f.disputedMinutes, f.payable, f.unused]).toEqual([0, 120, 5_000, 35_000]);
	});

	it('a split naming a milestone or another week, or paying more than the dispute holds, is refused', async () => {
		const { w, sd } = await declinedWeek();
		const { id: d } = await open(w, CLIENT, sd, { offer: 4_000 });
		const due = answerDeadline(w.state, w.state.disputes.get(d)!)!;
		const intent = await settleIntent(w, d, 'silence', 4_000, due);
		expect(w.rejection(await split(w, intent, d, { freelancer: 4_000, client: 6_000 }, due, { week: '2026-11-09' }))?.code).toBe('receipt-mismatch');
		expect(w.rejection(await split(w, intent, d, { freelancer: 4_000, client: 6_000 }, due, { milestone: 'design' }))?.code).toBe('receipt-mismatch');
		expect(w.rejection(await split(w, intent, d, { freelancer: 10_000, client: 0 }, due))?.code).toBe('receipt-mismatch');
		// The intent itself must name the week: one naming a milestone is refused by the rules.
		const wrong = await emitAt(w, FREELANCER, 'dispute.settle', { dispute: d, milestone: 'design', currency: 'USD', basis: 'silence', freelancer: 4_000 }, due);
		expect(w.rejection(wrong)?.code).toBe('wrong-milestone');
		expect(w.rejection(await split(w, intent, d, { freelancer: 4_000, client: 6_000 }, due))).toBeUndefined();
		assertContractInvariants(w.state);
	});
});

describe('a dispute of Work Diary segments', () => {
	it('holds the amount they bill in their week; only a split moves it; silence accepts the last offer', async () => {
		const { w, sd } = await declinedWeek();
		// Before any dispute: 12 declined segments wait, 6 are payable.
		expect(weekFigures(w.state, W1, OPENED)).toMatchObject({ disputedMinutes: 120, payable: 5_000 });
		const { id: d, rejected } = await open(w, FREELANCER, sd, { offer: 10_000 });
		expect(rejected).toBeUndefined();
		const dispute = w.state.disputes.get(d)!;
		expect(dispute).toMatchObject({ amount: 10_000, segments: { week: W1, dispute: sd }, openedAt: OPENED });
		expect(dispute.milestone).toBeUndefined();
		// Negotiation: 5 days from the recorded opening; the client faces the freelancer's offer.
		const deadline = answerDeadline(w.state, dispute)!;
		expect(deadline).toBe(OPENED + 5 * DAY_MS);
		expect(settleDecision(w.state, dispute, deadline - 1).due).toBe(false);
		const dec = settleDecision(w.state, dispute, deadline);
		expect(dec).toMatchObject({ due: true, split: { basis: 'silence', freelancer: 10_000, client: 0 } });
		// The rest of the week was released meanwhile.
		const claim = await emitAt(w, FREELANCER, 'hourly.release', week, REVIEW1);
		expect(w.rejection(await emitAt(w, PROVIDER, 'receipt.weekReleased', { intent: claim, week: W1, amount: 5_000, carried: 35_000, carriedTo: W3, currency: 'USD' }, REVIEW1))).toBeUndefined();
		const early = await settleIntent(w, d, 'silence', 10_000, deadline - HOUR);
		expect(w.rejection(await split(w, early, d, { freelancer: 10_000, client: 0 }, deadline - HOUR))?.code).toBe('too-early');
		const intent = await settleIntent(w, d, 'silence', 10_000, deadline);
		expect(w.rejection(await split(w, intent, d, { freelancer: 10_000, client: 0 }, deadline))).toBeUndefined();
		expect(bal(w, `escrow:week:${W1}`)).toBe(0);
		expect(bal(w, 'freelancer:pending')).toBe(15_000);
		expect(w.state.hourly!.weeks.get(W1)!.settled).toBe(10_000);
		// The split's share waits the security period like the week's release.
		expect(w.state.releases.find((l) => l.receipt !== undefined && l.week === W1 && l.amount === 10_000)).toBeTruthy();
		const f = weekFigures(w.state, W1, deadline);
		expect([f.settledMinutes, f.disputedMinutes, f.owed, f.unused, f.releasable]).toEqual([120, 0, 5_000, 0, 0]);
		assertContractInvariants(w.state);
	});

	it('settled before the week is released: the release pays the rest and carries what is unused', async () => {
		const { w, sd } = await declinedWeek();
		const { id: d } = await open(w, CLIENT, sd, { offer: 2_000 });
		const accept = await emitAt(w, FREELANCER, 'dispute.accept', { dispute: d, ...week, offer: d }, OPENED + HOUR);
		expect(w.rejection(await split(w, accept, d, { freelancer: 2_000, client: 8_000 }, OPENED + HOUR))).toBeUndefined();
		expect(bal(w, 'client:source')).toBe(-50_000 + 8_000);
		const claim = await emitAt(w, FREELANCER, 'hourly.release', week, REVIEW1);
		const r = await emitAt(w, PROVIDER, 'receipt.weekReleased', { intent: claim, week: W1, amount: 5_000, carried: 35_000, carriedTo: W3, currency: 'USD' }, REVIEW1);
		expect(w.rejection(r)).toBeUndefined();
		expect(bal(w, `escrow:week:${W1}`)).toBe(0);
		expect(bal(w, 'freelancer:pending')).toBe(7_000);
		// Settled segments cannot be disputed in the Resolution Center again.
		expect((await open(w, FREELANCER, sd, { at: REVIEW1 })).rejected?.message).toMatch(/already settled/);
		assertContractInvariants(w.state);
	});

	it('the midpoint of the two last offers, the odd unit to the freelancer', async () => {
		const { w, sd } = await declinedWeek({ n: 7 });
		// 7 segments bill floor(70 × 5000 / 60) = $58.33.
		const { id: d, rejected } = await open(w, CLIENT, sd, { amount: 5_833, offer: 0 });
		expect(rejected).toBeUndefined();
		const offer = await emitAt(w, FREELANCER, 'dispute.offered', { dispute: d, amount: 5_833 }, OPENED + HOUR);
		await w.record(offer, 'dispute-offer', { at: OPENED + HOUR });
		const mid = await emitAt(w, CLIENT, 'dispute.acceptMidpoint', { dispute: d, ...week, client: d, freelancer: offer }, OPENED + 2 * HOUR);
		expect(w.rejection(await split(w, mid, d, { freelancer: 2_917, client: 2_916 }, OPENED + 2 * HOUR))).toBeUndefined();
		expect(w.state.disputes.get(d)!.settlement).toMatchObject({ basis: 'midpoint', freelancer: 2_917, client: 2_916 });
		assertContractInvariants(w.state);
	});

	it('small amounts split at the midpoint on a rejection, with no mediator', async () => {
		const { w, sd } = await declinedWeek({ n: 2 });
		const { id: d } = await open(w, CLIENT, sd, { amount: 1_666, offer: 0 });
		const rej = await emitAt(w, FREELANCER, 'dispute.rejected', { dispute: d, offer: d, final: 1_666 }, OPENED + HOUR);
		await w.record(rej, 'dispute-rejection', { at: OPENED + HOUR });
		const dec = settleDecision(w.state, w.state.disputes.get(d)!, OPENED + HOUR);
		expect(dec).toMatchObject({ due: true, split: { basis: 'small-amount', freelancer: 833, client: 833 } });
		const med = await emitAt(w, CLIENT, 'dispute.mediatorAccepted', { dispute: d, mediator: MEDIATOR.publicKey, name: 'Mo', feeBps: 500, fee: 2_500 }, OPENED + 2 * HOUR);
		expect(w.rejection(med)?.message).toMatch(/small-dispute limit/);
		const intent = await settleIntent(w, d, 'small-amount', 833, OPENED + 2 * HOUR);
		expect(w.rejection(await split(w, intent, d, { freelancer: 833, client: 833 }, OPENED + 2 * HOUR))).toBeUndefined();
		assertContractInvariants(w.state);
	});

	it('a mediator both accepted picks one of the two last offers; its fee comes out of the week’s escrow; late, the midpoint and no fee', async () => {
		for (const late of [false, true]) {
			const { w, sd } = await declinedWeek();
			const { id: d } = await open(w, CLIENT, sd, { offer: 0 });
			const rej = await emitAt(w, FREELANCER, 'dispute.rejected', { dispute: d, offer: d, final: 10_000 }, OPENED + HOUR);
			await w.record(rej, 'dispute-rejection', { at: OPENED + HOUR });
			// 5 % of $100.00 is $5.00; the USD minimum of $25.00 applies.
			for (const [key, at] of [[CLIENT, OPENED + 2 * HOUR], [FREELANCER, OPENED + 3 * HOUR]] as const) {
				const acc = await emitAt(w, key, 'dispute.mediatorAccepted', { dispute: d, mediator: MEDIATOR.publicKey, name: 'Mo', feeBps: 500, fee: 2_500 }, at);
				await w.record(acc, 'mediator-acceptance', { at });
			}
			expect(w.state.disputes.get(d)!.mediator).toMatchObject({ fee: 2_500, acceptedAt: OPENED + 3 * HOUR });
			const byDeadline = OPENED + 3 * HOUR + 7 * DAY_MS;
			// Payments shows the mediator its fee on this dispute, and when it is earned.
			expect(mediatorFees(w.state, MEDIATOR.publicKey)).toMatchObject([{ status: 'awaiting-ruling', fee: 2_500, at: byDeadline }]);
			expect(mediatorFees(w.state, CLIENT.publicKey)).toEqual([]);
			if (!late) {
				// A number of its own is refused; the freelancer's last offer is one of the two.
				const own = await emitAt(w, MEDIATOR, 'dispute.rule', { dispute: d, ...week, offer: sd }, OPENED + DAY_MS);
				expect(w.rejection(own)?.message).toMatch(/never made in this dispute/);
				const rule = await emitAt(w, MEDIATOR, 'dispute.rule', { dispute: d, ...week, offer: rej }, OPENED + DAY_MS);
				expect(w.rejection(await split(w, rule, d, { freelancer: 8_750, client: 0, fee: 1_250 }, OPENED + DAY_MS))?.code).toBe('receipt-mismatch');
				// The fee halves between the shares; the client's share is nothing, so the freelancer's pays it all.
				expect(w.rejection(await split(w, rule, d, { freelancer: 7_500, client: 0, fee: 2_500, mediator: MEDIATOR.publicKey }, OPENED + DAY_MS))).toBeUndefined();
				expect(bal(w, `mediator:${MEDIATOR.publicKey}`)).toBe(2_500);
				expect(mediatorFees(w.state, MEDIATOR.publicKey)).toMatchObject([{ status: 'paid', fee: 2_500, at: OPENED + DAY_MS }]);
			} else {
				expect(settleDecision(w.state, w.state.disputes.get(d)!, byDeadline - 1).due).toBe(false);
				const intent = await settleIntent(w, d, 'mediator-late', 5_000, byDeadline);
				expect(w.rejection(await split(w, intent, d, { freelancer: 5_000, client: 5_000 }, byDeadline))).toBeUndefined();
				expect(bal(w, `mediator:${MEDIATOR.publicKey}`)).toBe(0);
				expect(mediatorFees(w.state, MEDIATOR.publicKey)).toMatchObject([{ status: 'not-paid', reason: expect.stringMatching(/did not rule in time/) }]);
			}
			assertContractInvariants(w.state);
		}
	});

	it('is listed for both parties once the segment dispute is declined, with the amount and the segments', async () => {
		const { w, sd } = await declinedWeek();
		const [x] = hourlyDisputes(w.state, 'freelancer', OPENED);
		expect(x).toMatchObject({ segments: { dispute: sd, week: W1 }, open: { allowed: true, max: 10_000 } });
		// Until someone opens a dispute the declined time waits in escrow: both Inboxes say so.
		for (const role of ['client', 'freelancer'] as const)
			expect(disputeAttention(w.state, role, OPENED)).toBe('The declined time of the Work Diary week of 2026-11-02 stays in escrow until one of you opens a dispute on it (Resolution Center)');
		await open(w, FREELANCER, sd, { offer: 10_000 });
		const y = segmentDisputes(w.state, 'client', sd, OPENED)!;
		expect(y.open.allowed).toBe(false);
		expect(y.current?.status).toMatchObject({ stage: 'negotiating', turn: 'client' });
		expect(y.current?.accept).toMatchObject({ allowed: true, split: { freelancer: 10_000, client: 0 } });
		// The Inbox line names the week; once silence decides, the due outcome is the app's to pay out.
		expect(disputeAttention(w.state, 'client', OPENED)).toMatch(/^Answer the freelancer's offer on the Work Diary week of 2026-11-02 \(Resolution Center\) — if you do nothing, you accept it in 5 days$/);
		expect(disputeAttention(w.state, 'freelancer', OPENED)).toBeUndefined();
		const due = OPENED + 5 * DAY_MS;
		expect(dueSettlements(w.state, 'freelancer', due).map((v) => v.settle.split)).toMatchObject([{ basis: 'silence', freelancer: 10_000 }]);
		expect(disputeAttention(w.state, 'client', due)).toBe("Have the dispute's outcome on the Work Diary week of 2026-11-02 paid out (Resolution Center)");
	});
});

describe('a second split of the same outcome', () => {
	it('from the TEST MODE mock settles its intent and moves nothing; from any other provider it stays refused', async () => {
		for (const provider of [{ id: 'mock', testMode: true }, { id: 'stripe', testMode: false }]) {
			const t = { ...hourlyTerms(), provider: { ...provider, publicKey: PROVIDER.publicKey } };
			const { w, sd } = await declinedWeek({ t });
			const { id: d } = await open(w, CLIENT, sd, { offer: 4_000 });
			const due = answerDeadline(w.state, w.state.disputes.get(d)!)!;
			const first = await settleIntent(w, d, 'silence', 4_000, due);
			const second = await emitAt(w, CLIENT, 'dispute.settle', { dispute: d, ...week, basis: 'silence', freelancer: 4_000 }, due, { deps: w.log.heads().filter((h) => h !== first) });
			expect(w.rejection(await split(w, first, d, { freelancer: 4_000, client: 6_000 }, due))).toBeUndefined();
			// A different split is refused whoever signs it.
			expect(w.rejection(await split(w, second, d, { freelancer: 10_000, client: 0 }, due))).toBeDefined();
			const again = await split(w, second, d, { freelancer: 4_000, client: 6_000 }, due);
			if (provider.id === 'mock') {
				expect(w.rejection(again)).toBeUndefined();
				expect(w.state.intents.get(second)!.settledBy).toBe(again);
				expect(w.state.disputes.get(d)!.duplicates).toEqual([{ intent: second, receipt: again }]);
			} else expect(w.rejection(again)?.code).toBe('already-settled');
			expect([bal(w, 'freelancer:pending'), bal(w, `escrow:week:${W1}`)]).toEqual([4_000, 40_000]);
			assertContractInvariants(w.state);
		}
	});
});

describe('the TEST MODE mock executes the split', () => {
	it('out of the week’s escrow, books equal to the fold, idempotent on the intent', async () => {
		const { w, sd } = await declinedWeek();
		let clock = OPENED;
		const mock = new MockEscrowProvider({ key: PROVIDER, now: () => clock });
		const req = (event: string) => ({ contract: w.contract, log: w.written.map(([, e]) => e), event });
		const opening = await emitAt(w, CLIENT, 'dispute.opened', { segmentDispute: sd, amount: 10_000, currency: 'USD', reason: 'segments-declined', details: 'No work.', offer: 3_000 }, OPENED);
		const rec = await mock.attest(req(opening));
		await w.put(rec.id, rec.envelope);
		expect(w.state.disputes.get(opening)!.openedAt).toBe(OPENED);
		clock = OPENED + HOUR;
		const accept = await emitAt(w, FREELANCER, 'dispute.accept', { dispute: opening, ...week, offer: opening }, clock);
		const receipt = await mock.release(req(accept));
		await w.put(receipt.id, receipt.envelope);
		expect(w.rejection(receipt.id)).toBeUndefined();
		expect((await mock.release(req(accept))).id).toBe(receipt.id);
		expect(mock.statement(w.contract).weeks[W1]).toMatchObject({ funded: 50_000, settled: 10_000 });
		expect(w.state.hourly!.weeks.get(W1)!.settled).toBe(10_000);
		expect(bal(w, `escrow:week:${W1}`)).toBe(40_000);
		// The rest of the week, released by the mock after review: its own books agree.
		clock = REVIEW1;
		const claim = await emitAt(w, FREELANCER, 'hourly.release', week, REVIEW1);
		const released = await mock.release(req(claim));
		await w.put(released.id, released.envelope);
		expect(w.rejection(released.id)).toBeUndefined();
		expect(mock.statement(w.contract).weeks[W1]).toMatchObject({ released: 5_000, carriedOut: 35_000, settled: 10_000 });
		expect(bal(w, `escrow:week:${W1}`)).toBe(0);
		assertContractInvariants(w.state);
	});
});
