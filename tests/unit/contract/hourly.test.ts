/**
 * Hourly contracts: every rule of hourly.ts on scenarios built with the test World (the provider's
 * receipts written by hand, with the numbers worked out here), then the TEST MODE mock executing
 * them, then a property: any delivery order of the same hourly events derives the same state, and
 * no week bills more than its limit × rate.
 */
import { balances } from '../../../src/lib/contract/balances';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertContractInvariants } from '../../../src/lib/contract/fold';
import { timesheetDraft, weekReleaseTerms } from '../../../src/lib/contract/hourly';
import { ContractTerms, HourlyTerms, type Payload } from '../../../src/lib/contract/schema';
import { DAY_MS } from '../../../src/lib/contract/state';
import { closesAt, disputeStatus, limitFor, lockAt, reviewEndsAt, weekFigures } from '../../../src/lib/contract/timesheet';
import { SEGMENT_MS } from '../../../src/lib/contract/weeks';
import { EscrowError } from '../../../src/lib/escrow/adapter';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { deliveryOrder, replica, summary } from '../../support/sim';
import { CLIENT, FREELANCER, PROVIDER, STRANGER, World, hourlyTerms, terms } from '../../support/world';

const W1 = '2026-11-02';
const W2 = '2026-11-09';
const W3 = '2026-11-16';
const t = (s: string) => Date.parse(`${s}Z`);
/** Monday 10:00 of the first week: where the freelancer starts logging. */
const MON = t('2026-11-02T10:00');
/** The first week's edits lock: Monday 9 November 12:00 UTC. */
const LOCK1 = t('2026-11-09T12:00');
/** Its review ends Friday 13 November 23:59:59 UTC. */
const REVIEW1 = t('2026-11-14T00:00');

async function hourlyWorld(over: Partial<HourlyTerms['hourly']> = {}): Promise<World> {
	const w = new World();
	await w.active(hourlyTerms(over));
	return w;
}

type SegmentIn = Partial<Payload<'hourly.segment'>> & { at?: number };

/** One segment at `start`, written once it ended (or at `at`). */
function log(w: World, start: number, { at, ...p }: SegmentIn = {}): Promise<string> {
	return w.emit(FREELANCER, 'hourly.segment', { start, source: 'tracked', memo: 'Built the signup form', activity: 7, ...p }, { at: at ?? Math.max(w.now, start + SEGMENT_MS) });
}

async function logRun(w: World, from: number, n: number, p: SegmentIn = {}): Promise<string[]> {
	const ids: string[] = [];
	for (let i = 0; i < n; i++) ids.push(await log(w, from + i * SEGMENT_MS, p));
	return ids;
}

/** The freelancer signs the week's timesheet from the diary, and the provider records it at `at`. */
async function closeWeek(w: World, week: string, at: number, segments?: string[]): Promise<{ sheet: string; record: string }> {
	const d = timesheetDraft(w.state, week);
	const named = segments ?? d.segments;
	const minutes = named.length * 10;
	const rate = (w.state.terms as HourlyTerms).hourly.rate;
	const sheet = await w.emit(FREELANCER, 'hourly.timesheet', { week, segments: named, minutes, amount: Math.floor((minutes * rate) / 60), currency: 'USD' }, { at });
	const record = await w.record(sheet, 'timesheet', { at });
	return { sheet, record };
}

async function fundWeek(w: World, week: string, amount: number, at = w.now): Promise<{ intent: string; receipt: string }> {
	const intent = await w.emit(CLIENT, 'hourly.fund', { week, amount, currency: 'USD', method: 'card' }, { at });
	const receipt = await w.emit(PROVIDER, 'receipt.weekFunded', { intent, week, amount, fee: 0, currency: 'USD', method: 'card', clearsAt: at }, { at });
	return { intent, receipt };
}

async function release(w: World, week: string, at: number, paid: { amount: number; carried: number; carriedTo?: string }, intent?: string): Promise<{ intent: string; receipt: string }> {
	intent ??= await w.emit(FREELANCER, 'hourly.release', { week, currency: 'USD' }, { at });
	const receipt = await w.emit(PROVIDER, 'receipt.weekReleased', { intent, week, ...paid, currency: 'USD' }, { at });
	return { intent, receipt };
}

async function dispute(w: World, week: string, segments: string[], at: number): Promise<string> {
	const d = await w.emit(CLIENT, 'hourly.disputed', { week, segments, reason: 'No work was delivered for these.' }, { at });
	await w.record(d, 'dispute', { at });
	return d;
}

async function answer(w: World, d: string, accept: boolean, at: number): Promise<{ answer: string; record: string }> {
	const a = await w.emit(FREELANCER, 'hourly.disputeAnswered', { dispute: d, accept }, { at });
	const record = await w.record(a, 'dispute-answer', { at });
	return { answer: a, record };
}

const bal = (w: World, account: Parameters<World['state']['ledger']['balance']>[0]) => w.state.ledger.balance(account);

describe('hourly terms', () => {
	it('are a kind of contract; fixed-price proposals without a kind stay valid as fixed-price', () => {
		const fixed = terms();
		expect(fixed.kind).toBeUndefined();
		expect(ContractTerms.safeParse(fixed).success).toBe(true);
		expect(ContractTerms.safeParse({ ...fixed, kind: 'fixed' }).success).toBe(true);
		expect(ContractTerms.safeParse(hourlyTerms()).success).toBe(true);
		expect(ContractTerms.safeParse({ ...fixed, kind: 'weekly' }).success).toBe(false);
	});

	it('have no milestones, a rate, an optional limit and clocks whose lock comes before the review ends', () => {
		const h = hourlyTerms();
		expect(ContractTerms.safeParse({ ...h, milestones: terms().milestones }).success).toBe(false);
		expect(ContractTerms.safeParse({ ...h, hourly: { ...h.hourly, rate: 0 } }).success).toBe(false);
		const { weeklyLimitHours: _limit, ...unlimited } = h.hourly;
		expect(ContractTerms.safeParse({ ...h, hourly: unlimited }).success).toBe(true);
		const bad = ContractTerms.safeParse({ ...h, hourly: { ...h.hourly, lockHours: 48, reviewDays: 2 } });
		expect(bad.success).toBe(false);
		expect(bad.error!.issues[0]!.path).toEqual(['hourly', 'lockHours']);
	});

	it('fold into an active hourly contract with an empty diary', async () => {
		const w = await hourlyWorld();
		expect(w.state.status).toBe('active');
		expect(w.state.milestones).toEqual([]);
		expect(w.state.hourly!.segments.size).toBe(0);
		expect(limitFor(w.state, W1)).toBe(10);
	});
});

describe('segments', () => {
	it('are logged on the 10-minute grid, once they ended: a time in the future is refused', async () => {
		const w = await hourlyWorld();
		const ok = await log(w, MON);
		expect(w.rejection(ok)).toBeUndefined();
		const future = await log(w, MON + 10 * SEGMENT_MS, { at: MON + 10 * SEGMENT_MS + 5 * 60_000 });
		expect(w.rejection(future)?.message).toMatch(/future/);
		const offGrid = await log(w, MON + 5 * 60_000);
		expect(w.rejection(offGrid)?.message).toMatch(/whole ten minutes/);
	});

	it('may not overlap: a second segment in a taken slot is refused, an edit of the first is not', async () => {
		const w = await hourlyWorld();
		const first = await log(w, MON, { source: 'manual' });
		const second = await log(w, MON, { memo: 'Something else' });
		expect(w.rejection(second)?.message).toMatch(/Another segment already covers 2026-11-02 10:00 UTC/);
		const edit = await log(w, MON + SEGMENT_MS, { replaces: first, source: 'manual', memo: 'Moved' });
		expect(w.rejection(edit)).toBeUndefined();
		const h = w.state.hourly!;
		expect(h.segments.get(first)!.status).toBe('replaced');
		expect(h.slots.get(MON)).toBeUndefined();
		expect(h.slots.get(MON + SEGMENT_MS)).toBe(edit);
		// An edit of a segment already edited is refused.
		const again = await log(w, MON + 2 * SEGMENT_MS, { replaces: first, source: 'manual' });
		expect(w.rejection(again)?.message).toMatch(/already edited or deleted/);
	});

	it('manual time is refused when the terms do not allow it, and labelled when they do', async () => {
		const strict = await hourlyWorld({ manualTime: false });
		const manual = await log(strict, MON, { source: 'manual' });
		expect(strict.rejection(manual)?.message).toMatch(/do not allow manual time/);
		const open = await hourlyWorld({ manualTime: true });
		const allowed = await log(open, MON, { source: 'manual' });
		expect(open.state.hourly!.segments.get(allowed)!.source).toBe('manual');
	});

	it('are deleted until the lock; a deleted or memo-less segment does not bill', async () => {
		const w = await hourlyWorld();
		const [a, b, c] = await logRun(w, MON, 3);
		const silent = await log(w, MON + 3 * SEGMENT_MS, { memo: '' });
		await w.emit(FREELANCER, 'hourly.segmentsDeleted', { segments: [b!] }, { at: MON + DAY_MS });
		const d = timesheetDraft(w.state, W1);
		expect(d.segments).toEqual([a, c]);
		expect(d.unbilled).toEqual([silent]);
		expect(d.minutes).toBe(20);
	});

	it('editing after the lock is refused: by the calendar, and once the provider recorded the timesheet', async () => {
		const w = await hourlyWorld();
		const [a] = await logRun(w, MON, 2);
		const late = await log(w, MON + 5 * SEGMENT_MS, { at: LOCK1 });
		expect(w.rejection(late)?.message).toMatch(/locked 2026-11-09 12:00 UTC/);
		const lateEdit = await log(w, MON + 6 * SEGMENT_MS, { replaces: a, at: LOCK1 + 1 });
		expect(w.rejection(lateEdit)?.message).toMatch(/locked/);
		// Paused on Wednesday: the week closes then, and its timesheet is recorded 12 h later, before the calendar lock.
		const p = await hourlyWorld();
		await logRun(p, MON, 2);
		const pause = await p.emit(CLIENT, 'hourly.paused', {}, { at: t('2026-11-04T12:00') });
		await p.record(pause, 'pause', { at: t('2026-11-04T12:00') });
		expect(lockAt(p.state, W1)).toBe(t('2026-11-05T00:00'));
		await closeWeek(p, W1, t('2026-11-05T00:00'));
		const afterRecord = await log(p, MON + 9 * SEGMENT_MS, { at: t('2026-11-05T01:00') });
		expect(p.rejection(afterRecord)?.message).toMatch(/provider recorded its timesheet/);
	});
});

describe('editing a segment', () => {
	const SHOT = 'A'.repeat(43);

	it('cannot turn manual time into tracked time (manual time would pass as tracked)', async () => {
		const w = await hourlyWorld({ manualTime: true });
		const manual = await log(w, MON, { source: 'manual', activity: 0 });
		const forged = await log(w, MON, { replaces: manual, source: 'tracked', activity: 9 });
		expect(w.rejection(forged)?.code).toBe('tracked-time-altered');
		expect(w.rejection(forged)?.message).toMatch(/Manual time cannot become tracked time/);
		expect(w.state.hourly!.segments.get(manual)!.status).toBe('live');
		expect(w.state.hourly!.segments.get(manual)!.source).toBe('manual');
		// Nor by the back door: tracked → manual is refused as well (delete it and add manual time instead).
		const tracked = await log(w, MON + SEGMENT_MS);
		const down = await log(w, MON + SEGMENT_MS, { replaces: tracked, source: 'manual' });
		expect(w.rejection(down)?.code).toBe('tracked-time-altered');
		// A manual segment's edit may still move it and change its memo.
		const moved = await log(w, MON + 5 * SEGMENT_MS, { replaces: manual, source: 'manual', activity: 0, memo: 'Call with the client' });
		expect(w.rejection(moved)).toBeUndefined();
	});

	it('keeps a tracked segment’s time, activity count and screenshot: only its memo changes', async () => {
		const w = await hourlyWorld();
		const a = await log(w, MON, { activity: 3, screenshot: SHOT });
		const activity = await log(w, MON, { replaces: a, activity: 10, screenshot: SHOT });
		expect(w.rejection(activity)?.code).toBe('tracked-time-altered');
		expect(w.rejection(activity)?.message).toMatch(/activity/);
		const shot = await log(w, MON, { replaces: a, activity: 3, screenshot: 'B'.repeat(43) });
		expect(w.rejection(shot)?.message).toMatch(/screenshot/);
		const noShot = await log(w, MON, { replaces: a, activity: 3 });
		expect(w.rejection(noShot)?.message).toMatch(/screenshot/);
		const moved = await log(w, MON + SEGMENT_MS, { replaces: a, activity: 3, screenshot: SHOT });
		expect(w.rejection(moved)?.message).toMatch(/time it was tracked/);
		// Into another week (one with room under its limit), before either locked: refused the same way.
		const monday2 = await log(w, t('2026-11-09T08:00'), { activity: 3, at: t('2026-11-09T08:30') });
		const elsewhere = await log(w, MON + 20 * SEGMENT_MS, { replaces: monday2, activity: 3, at: t('2026-11-09T09:00') });
		expect(w.rejection(elsewhere)?.code).toBe('tracked-time-altered');
		expect(w.state.hourly!.segments.get(monday2)!.week).toBe(W2);
		expect(w.state.hourly!.segments.get(a)!.status).toBe('live');
		const memo = await log(w, MON, { replaces: a, activity: 3, screenshot: SHOT, memo: 'Fixed the signup form' });
		expect(w.rejection(memo)).toBeUndefined();
		expect(w.state.hourly!.segments.get(memo)).toMatchObject({ source: 'tracked', activity: 3, screenshot: SHOT, memo: 'Fixed the signup form' });
	});

	it('is refused after the lock, and to anyone but the freelancer', async () => {
		const w = await hourlyWorld();
		const a = await log(w, MON);
		const late = await log(w, MON, { replaces: a, memo: 'Too late', at: LOCK1 });
		expect(w.rejection(late)?.code).toBe('invalid-state');
		expect(w.rejection(late)?.message).toMatch(/locked 2026-11-09 12:00 UTC/);
		const byClient = await w.emit(CLIENT, 'hourly.segment', { start: MON, source: 'tracked', memo: 'Nothing happened', activity: 7, replaces: a }, { at: MON + DAY_MS });
		expect(w.rejection(byClient)?.code).toBe('wrong-role');
		const byStranger = await w.emit(STRANGER, 'hourly.segment', { start: MON, source: 'tracked', memo: 'Mine now', activity: 7, replaces: a }, { at: MON + DAY_MS });
		expect(w.rejection(byStranger)?.code).toBe('not-party');
		const delByClient = await w.emit(CLIENT, 'hourly.segmentsDeleted', { segments: [a] }, { at: MON + DAY_MS });
		expect(w.rejection(delByClient)?.code).toBe('wrong-role');
		expect(w.state.hourly!.segments.get(a)).toMatchObject({ status: 'live', memo: 'Built the signup form' });
	});
});

describe('the week’s timesheet', () => {
	it('is recorded from the lock on the provider’s clock, once', async () => {
		const w = await hourlyWorld();
		await logRun(w, MON, 6);
		const early = await closeWeek(w, W1, LOCK1 - 1);
		expect(w.rejection(early.record)?.code).toBe('too-early');
		const rec = await w.record(early.sheet, 'timesheet', { at: LOCK1 });
		expect(w.rejection(rec)).toBeUndefined();
		expect(w.state.hourly!.weeks.get(W1)!.recordedAt).toBe(LOCK1);
		const second = await closeWeek(w, W1, LOCK1 + 60_000, []);
		expect(w.rejection(second.record)?.message).toMatch(/already recorded the timesheet/);
		expect(reviewEndsAt(w.state, W1)).toBe(REVIEW1);
	});

	it('recorded late still leaves the client the full review; past the deadline it never bills', async () => {
		const w = await hourlyWorld();
		await logRun(w, MON, 6);
		await closeWeek(w, W1, t('2026-11-12T12:00'));
		expect(reviewEndsAt(w.state, W1)).toBe(t('2026-11-17T00:00'));
		const v = await hourlyWorld();
		await logRun(v, MON, 6);
		const tooLate = await closeWeek(v, W1, REVIEW1);
		expect(v.rejection(tooLate.record)?.message).toMatch(/had to be recorded by 2026-11-14 00:00 UTC/);
	});

	it('bills floor(total minutes × rate / 60) once; an amount that does not add up is refused', async () => {
		const w = await hourlyWorld({ rate: 3_333 });
		const ids = await logRun(w, MON, 7);
		const wrong = await w.emit(FREELANCER, 'hourly.timesheet', { week: W1, segments: ids, minutes: 70, amount: 3_889, currency: 'USD' }, { at: LOCK1 });
		expect(w.rejection(wrong)?.code).toBe('amount-mismatch');
		const twice = await w.emit(FREELANCER, 'hourly.timesheet', { week: W1, segments: [ids[0]!, ids[0]!], minutes: 20, amount: 1_111, currency: 'USD' }, { at: LOCK1 });
		expect(w.rejection(twice)?.message).toMatch(/same time twice/);
		await closeWeek(w, W1, LOCK1);
		// 70 minutes × $33.33 an hour = $38.885: $38.88, rounded down once for the week.
		expect(weekFigures(w.state, W1, LOCK1).billed).toBe(3_888);
	});

	it('segments over the weekly limit are not billed', async () => {
		const w = await hourlyWorld({ weeklyLimitHours: 1 });
		const ids = await logRun(w, MON, 8);
		const d = timesheetDraft(w.state, W1);
		expect(d.segments).toEqual(ids.slice(0, 6));
		expect(d.overLimit).toEqual(ids.slice(6));
		const greedy = await closeWeek(w, W1, LOCK1, ids);
		expect(w.rejection(greedy.record)?.message).toMatch(/It bills 1 h 20 min; the week's limit is 1 h/);
		await closeWeek(w, W1, LOCK1 + 1);
		expect(weekFigures(w.state, W1, LOCK1 + 1).billed).toBe(5_000);
	});
});

describe('the weekly limit', () => {
	it('raised by the client applies at once, counting the hours already logged that week', async () => {
		const w = await hourlyWorld({ weeklyLimitHours: 1 });
		await logRun(w, MON, 9);
		const raise = await w.emit(CLIENT, 'hourly.limitChanged', { hours: 2 }, { at: t('2026-11-03T09:00') });
		expect(limitFor(w.state, W1)).toBe(1);
		await w.record(raise, 'limit-change', { at: t('2026-11-03T09:00') });
		expect(limitFor(w.state, W1)).toBe(2);
		expect(timesheetDraft(w.state, W1).segments).toHaveLength(9);
		const { record } = await closeWeek(w, W1, LOCK1);
		expect(w.rejection(record)).toBeUndefined();
	});

	it('raised while the freelancer accepts ending unseen: the provider recorded the raise, and the week bills under it', async () => {
		const w = await hourlyWorld({ weeklyLimitHours: 1 });
		const proposal = await w.emit(CLIENT, 'contract.endProposed', { reason: 'Wrapping up this week' }, { at: MON });
		await logRun(w, MON, 9);
		await w.emit(CLIENT, 'message.posted', { text: 'Raising the limit to cover the last hours.' }, { at: t('2026-11-03T08:00') });
		const raise = await w.emit(CLIENT, 'hourly.limitChanged', { hours: 2 }, { at: t('2026-11-03T09:00') });
		await w.record(raise, 'limit-change', { at: t('2026-11-03T09:00') });
		// The freelancer, having seen only the proposal, accepts ending; its acceptance sorts before the raise.
		const accepted = await w.emit(FREELANCER, 'contract.endAccepted', { proposal }, { deps: [proposal], at: t('2026-11-03T09:30') });
		expect(w.rejection(accepted)).toBeUndefined();
		expect(w.state.status).toBe('ended');
		expect(w.rejection(raise)).toBeUndefined();
		expect(limitFor(w.state, W1)).toBe(2);
		const { record } = await closeWeek(w, W1, LOCK1);
		expect(w.rejection(record)).toBeUndefined();
		expect(weekFigures(w.state, W1, LOCK1).billed).toBe(7_500);
		// A client that had seen the end changes nothing any more.
		for (const [type, payload] of [['hourly.limitChanged', { hours: 3 }], ['hourly.paused', {}]] as const) {
			const after = await w.emit(CLIENT, type, payload as never);
			expect(w.rejection(after)?.code).toBe('invalid-state');
		}
	});

	it('lowered applies from next Monday', async () => {
		const w = await hourlyWorld({ weeklyLimitHours: 2 });
		const lower = await w.emit(CLIENT, 'hourly.limitChanged', { hours: 1 }, { at: t('2026-11-04T09:00') });
		await w.record(lower, 'limit-change', { at: t('2026-11-04T09:00') });
		expect(limitFor(w.state, W1)).toBe(2);
		expect(limitFor(w.state, W2)).toBe(1);
		expect(w.state.hourly!.limits).toEqual([{ event: lower, hours: 1, from: W2, recordedAt: t('2026-11-04T09:00') }]);
	});

	it('hours under a raised limit that is not funded yet are owed, not in escrow, until the client funds them', async () => {
		const w = await hourlyWorld({ weeklyLimitHours: 1 });
		await fundWeek(w, W1, 5_000, MON);
		await logRun(w, MON, 9);
		const raise = await w.emit(CLIENT, 'hourly.limitChanged', { hours: 2 }, { at: t('2026-11-03T09:00') });
		await w.record(raise, 'limit-change', { at: t('2026-11-03T09:00') });
		expect(weekFigures(w.state, W1, t('2026-11-03T10:00')).due).toBe(5_000);
		await closeWeek(w, W1, LOCK1);
		const first = await release(w, W1, REVIEW1, { amount: 5_000, carried: 0 });
		expect(w.rejection(first.receipt)).toBeUndefined();
		const f = weekFigures(w.state, W1, REVIEW1);
		expect(f.owedNotInEscrow).toBe(2_500);
		expect(f.due).toBe(2_500);
		await fundWeek(w, W1, 2_500, REVIEW1 + 60_000);
		const second = await release(w, W1, REVIEW1 + 120_000, { amount: 2_500, carried: 0 });
		expect(w.rejection(second.receipt)).toBeUndefined();
		expect(bal(w, 'freelancer:pending')).toBe(7_500);
	});
});

describe('funding, release and carry-over', () => {
	it('the client funds limit × rate a week; only that amount, only the client', async () => {
		const w = await hourlyWorld();
		const wrong = await w.emit(CLIENT, 'hourly.fund', { week: W1, amount: 40_000, currency: 'USD', method: 'card' });
		expect(w.rejection(wrong)?.code).toBe('amount-mismatch');
		const byFreelancer = await w.emit(FREELANCER, 'hourly.fund', { week: W1, amount: 50_000, currency: 'USD', method: 'card' });
		expect(w.rejection(byFreelancer)?.code).toBe('wrong-role');
		const notAWeek = await w.emit(CLIENT, 'hourly.fund', { week: '2026-11-03', amount: 50_000, currency: 'USD', method: 'card' });
		expect(w.rejection(notAWeek)?.message).toMatch(/not a week/);
		await fundWeek(w, W1, 50_000);
		expect(bal(w, 'escrow:week:2026-11-02')).toBe(50_000);
		expect(weekFigures(w.state, W1, w.now).due).toBe(0);
	});

	it('without a weekly limit nothing is funded ahead (not protected by escrow); the week is paid after its timesheet', async () => {
		const w = await hourlyWorld({ weeklyLimitHours: undefined });
		const ahead = await w.emit(CLIENT, 'hourly.fund', { week: W1, amount: 5_000, currency: 'USD', method: 'card' });
		expect(w.rejection(ahead)?.message).toMatch(/not protected by escrow/);
		await logRun(w, MON, 12);
		await closeWeek(w, W1, LOCK1);
		expect(weekFigures(w.state, W1, LOCK1).due).toBe(10_000);
		await fundWeek(w, W1, 10_000, LOCK1 + 1);
		await release(w, W1, REVIEW1, { amount: 10_000, carried: 0 });
		expect(bal(w, 'freelancer:pending')).toBe(10_000);
	});

	it('the week is released after the review window on the provider’s clock, and unused escrow carries over', async () => {
		const w = await hourlyWorld();
		await fundWeek(w, W1, 50_000, MON);
		await logRun(w, MON, 18);
		await closeWeek(w, W1, LOCK1);
		const early = await release(w, W1, REVIEW1 - 1, { amount: 15_000, carried: 35_000, carriedTo: W3 });
		expect(w.rejection(early.receipt)?.code).toBe('too-early');
		// The provider signs what the rules say, or the receipt is refused.
		const skimmed = await release(w, W1, REVIEW1, { amount: 16_000, carried: 34_000, carriedTo: W3 }, early.intent);
		expect(w.rejection(skimmed.receipt)?.code).toBe('amount-mismatch');
		const ok = await release(w, W1, REVIEW1, { amount: 15_000, carried: 35_000, carriedTo: W3 }, early.intent);
		expect(w.rejection(ok.receipt)).toBeUndefined();
		expect(bal(w, 'freelancer:pending')).toBe(15_000);
		expect(bal(w, 'escrow:week:2026-11-02')).toBe(0);
		// Released on Saturday of week 2: the carry lands in week 3, so the client pays less for it.
		expect(bal(w, 'escrow:week:2026-11-16')).toBe(35_000);
		expect(weekFigures(w.state, W3, REVIEW1).due).toBe(15_000);
		expect(w.state.ledger.transfers.filter((x) => x.kind === 'carry')).toEqual([
			expect.objectContaining({ from: 'escrow:week:2026-11-02', to: 'escrow:week:2026-11-16', amount: 35_000, week: W1 })
		]);
		// Pending for the security period (5 days), then available.
		await fundWeek(w, W3, 15_000, REVIEW1 + 5 * DAY_MS);
		expect(bal(w, 'freelancer:pending')).toBe(0);
		expect(bal(w, 'freelancer:available')).toBe(15_000);
		assertContractInvariants(w.state);
	});
});

describe('disputes', () => {
	async function disputedWeek() {
		const w = await hourlyWorld();
		await fundWeek(w, W1, 50_000, MON);
		const ids = await logRun(w, MON, 18);
		await closeWeek(w, W1, LOCK1);
		const d = await dispute(w, W1, ids.slice(0, 2), t('2026-11-11T12:00'));
		return { w, ids, d };
	}

	it('accepted: those segments are not paid; the week is released net and their escrow carries over', async () => {
		const { w, d } = await disputedWeek();
		await answer(w, d, true, t('2026-11-12T08:00'));
		expect(disputeStatus(w.state, w.state.hourly!.disputes.get(d)!, REVIEW1)).toBe('accepted');
		// 160 of 180 minutes at $50/h = $133.33.
		const r = await release(w, W1, REVIEW1, { amount: 13_333, carried: 36_667, carriedTo: W3 });
		expect(w.rejection(r.receipt)).toBeUndefined();
		expect(bal(w, 'freelancer:pending')).toBe(13_333);
		expect(bal(w, 'escrow:week:2026-11-02')).toBe(0);
	});

	it('declined: it stays disputed, its amount stays in escrow while the rest is released', async () => {
		const { w, d } = await disputedWeek();
		await answer(w, d, false, t('2026-11-12T08:00'));
		const r = await release(w, W1, REVIEW1, { amount: 13_333, carried: 35_000, carriedTo: W3 });
		expect(w.rejection(r.receipt)).toBeUndefined();
		expect(disputeStatus(w.state, w.state.hourly!.disputes.get(d)!, REVIEW1 + 30 * DAY_MS)).toBe('declined');
		expect(bal(w, 'escrow:week:2026-11-02')).toBe(1_667);
		const f = weekFigures(w.state, W1, REVIEW1 + 30 * DAY_MS);
		expect([f.disputedMinutes, f.unused]).toEqual([20, 0]);
		const reclaim = await w.emit(CLIENT, 'hourly.reclaim', { week: W1, currency: 'USD' }, { at: REVIEW1 + DAY_MS });
		const refused = await w.emit(PROVIDER, 'receipt.weekReclaimed', { intent: reclaim, week: W1, amount: 1_667, to: 'carry', carriedTo: W3, currency: 'USD' }, { at: REVIEW1 + DAY_MS });
		expect(w.rejection(refused)?.message).toMatch(/no unused escrow/);
	});

	it('unanswered: counts as accepted once the answer window passed, when the client’s app reclaims it', async () => {
		const { w, d } = await disputedWeek();
		// The dispute was recorded Wednesday 12:00: the answer window ends Saturday 12:00.
		await release(w, W1, REVIEW1, { amount: 13_333, carried: 35_000, carriedTo: W3 });
		const reclaim = await w.emit(CLIENT, 'hourly.reclaim', { week: W1, currency: 'USD' }, { at: t('2026-11-14T06:00') });
		const early = await w.emit(PROVIDER, 'receipt.weekReclaimed', { intent: reclaim, week: W1, amount: 1_667, to: 'carry', carriedTo: W3, currency: 'USD' }, { at: t('2026-11-14T06:00') });
		expect(w.rejection(early)?.message).toMatch(/no unused escrow/);
		const lateAnswer = await answer(w, d, false, t('2026-11-14T12:00'));
		expect(w.rejection(lateAnswer.record)?.message).toMatch(/answer window ended 2026-11-14 12:00 UTC/);
		const ok = await w.emit(PROVIDER, 'receipt.weekReclaimed', { intent: reclaim, week: W1, amount: 1_667, to: 'carry', carriedTo: W3, currency: 'USD' }, { at: t('2026-11-14T12:00') });
		expect(w.rejection(ok)).toBeUndefined();
		expect(disputeStatus(w.state, w.state.hourly!.disputes.get(d)!, t('2026-11-14T12:00'))).toBe('lapsed');
		expect(bal(w, 'escrow:week:2026-11-16')).toBe(36_667);
	});

	it('are recorded only in the review window, and only of segments the timesheet bills', async () => {
		const { w, ids } = await disputedWeek();
		const late = await w.emit(CLIENT, 'hourly.disputed', { week: W1, segments: ids.slice(2, 3), reason: 'Too late.' }, { at: REVIEW1 });
		const record = await w.record(late, 'dispute', { at: REVIEW1 });
		expect(w.rejection(record)?.message).toMatch(/review window ended 2026-11-14 00:00 UTC/);
		expect(w.state.recorded.has(late)).toBe(false);
		const stray = await log(w, t('2026-11-08T10:00'), { at: t('2026-11-08T11:00') });
		const notBilled = await w.emit(CLIENT, 'hourly.disputed', { week: W1, segments: [stray], reason: 'Not billed anyway.' }, { at: t('2026-11-11T13:00') });
		expect(w.rejection(notBilled)?.message).toMatch(/does not bill/);
	});
});

describe('bonuses', () => {
	it('are paid on a fixed-price contract: no review, pending for the security period only', async () => {
		const w = new World();
		await w.active(terms());
		const intent = await w.emit(CLIENT, 'bonus.paid', { amount: 2_500, currency: 'USD', method: 'card', note: 'Thanks for the quick fix!' });
		const receipt = await w.emit(PROVIDER, 'receipt.bonusPaid', { intent, amount: 2_500, fee: 0, currency: 'USD', method: 'card' });
		expect(w.rejection(receipt)).toBeUndefined();
		expect(w.state.bonuses).toEqual([{ intent, amount: 2_500, note: 'Thanks for the quick fix!', at: w.now, receipt, fee: 0, paidAt: w.now }]);
		expect(bal(w, 'freelancer:pending')).toBe(2_500);
		expect(w.state.releases.at(-1)).toMatchObject({ milestone: 'bonus', bonus: intent, maturesAt: w.now + 5 * DAY_MS });
		w.advance(5);
		await w.fund('design', 100_000);
		expect(bal(w, 'freelancer:available')).toBe(2_500);
	});

	it('are paid on an hourly contract too, by the client only, for the amount it signed', async () => {
		const w = await hourlyWorld();
		const byFreelancer = await w.emit(FREELANCER, 'bonus.paid', { amount: 2_500, currency: 'USD', method: 'card', note: 'To myself' });
		expect(w.rejection(byFreelancer)?.code).toBe('wrong-role');
		const intent = await w.emit(CLIENT, 'bonus.paid', { amount: 2_500, currency: 'USD', method: 'card', note: 'For the extra hours over the limit' });
		const more = await w.emit(PROVIDER, 'receipt.bonusPaid', { intent, amount: 3_000, fee: 0, currency: 'USD', method: 'card' });
		expect(w.rejection(more)?.code).toBe('amount-mismatch');
		await w.emit(PROVIDER, 'receipt.bonusPaid', { intent, amount: 2_500, fee: 95, currency: 'USD', method: 'card' });
		expect(bal(w, 'freelancer:pending')).toBe(2_500);
		expect(bal(w, 'client:source')).toBe(-2_595);
	});
});

describe('pausing and ending', () => {
	it('pausing closes the week early: later time does not bill, and unused escrow goes back to the client', async () => {
		const w = await hourlyWorld();
		await fundWeek(w, W1, 50_000, MON);
		await fundWeek(w, W2, 50_000, MON + 1);
		await logRun(w, MON, 6);
		const pause = await w.emit(CLIENT, 'hourly.paused', { reason: 'Waiting for the designs.' }, { at: t('2026-11-04T12:00') });
		await w.record(pause, 'pause', { at: t('2026-11-04T12:00') });
		expect(closesAt(w.state, W1)).toBe(t('2026-11-04T12:00'));
		const thursday = await log(w, t('2026-11-05T10:00'), { at: t('2026-11-05T11:00') });
		expect(timesheetDraft(w.state, W1).unbilled).toEqual([thursday]);
		const sneaky = await closeWeek(w, W1, t('2026-11-05T00:00'), [...timesheetDraft(w.state, W1).segments, thursday]);
		expect(w.rejection(sneaky.record)?.message).toMatch(/after the week closed/);
		// Week 2 never started while paused: all of its escrow is unused, and is refunded.
		const reclaim = await w.emit(CLIENT, 'hourly.reclaim', { week: W2, currency: 'USD' }, { at: t('2026-11-06T09:00') });
		const receipt = await w.emit(PROVIDER, 'receipt.weekReclaimed', { intent: reclaim, week: W2, amount: 50_000, to: 'client', currency: 'USD' }, { at: t('2026-11-06T09:00') });
		expect(w.rejection(receipt)).toBeUndefined();
		expect(bal(w, 'client:source')).toBe(-50_000);
		const resume = await w.emit(CLIENT, 'hourly.resumed', {}, { at: t('2026-11-10T09:00') });
		await w.record(resume, 'resume', { at: t('2026-11-10T09:00') });
		expect(w.state.recorded.get(resume)!.kind).toBe('resume');
	});

	it('ending closes the current week early the same way', async () => {
		const w = await hourlyWorld();
		await logRun(w, MON, 6);
		const end = await w.emit(CLIENT, 'contract.ended', {}, { at: t('2026-11-03T18:00') });
		await w.record(end, 'end', { at: t('2026-11-03T18:00') });
		expect(closesAt(w.state, W1)).toBe(t('2026-11-03T18:00'));
		expect(lockAt(w.state, W1)).toBe(t('2026-11-04T06:00'));
		const { record } = await closeWeek(w, W1, t('2026-11-04T06:00'));
		expect(w.rejection(record)).toBeUndefined();
	});
});

describe('who may sign what', () => {
	it('each hourly event needs its party, receipts need the provider', async () => {
		const w = await hourlyWorld();
		const seg = await log(w, MON);
		const cases: [string, Promise<string>, string][] = [
			['client logs time', w.emit(CLIENT, 'hourly.segment', { start: MON + SEGMENT_MS, source: 'tracked', memo: 'x', activity: 1 }, { at: MON + DAY_MS }), 'wrong-role'],
			['stranger logs time', w.emit(STRANGER, 'hourly.segment', { start: MON + SEGMENT_MS, source: 'tracked', memo: 'x', activity: 1 }, { at: MON + DAY_MS }), 'not-party'],
			['freelancer raises the limit', w.emit(FREELANCER, 'hourly.limitChanged', { hours: 40 }), 'wrong-role'],
			['freelancer pauses', w.emit(FREELANCER, 'hourly.paused', {}), 'wrong-role'],
			['freelancer disputes', w.emit(FREELANCER, 'hourly.disputed', { week: W1, segments: [seg], reason: 'x' }), 'wrong-role'],
			['client signs a timesheet', w.emit(CLIENT, 'hourly.timesheet', { week: W1, segments: [], minutes: 0, amount: 0, currency: 'USD' }), 'wrong-role'],
			['client claims the week', w.emit(CLIENT, 'hourly.release', { week: W1, currency: 'USD' }), 'wrong-role'],
			['freelancer reclaims escrow', w.emit(FREELANCER, 'hourly.reclaim', { week: W1, currency: 'USD' }), 'wrong-role'],
			['client records its own timesheet', w.emit(CLIENT, 'receipt.attested', { event: seg, kind: 'timesheet' }), 'not-provider']
		];
		for (const [what, id, code] of cases) expect(w.rejection(await id)?.code, what).toBe(code);
	});

	it('hourly events are refused on a fixed-price contract', async () => {
		const w = new World();
		await w.active(terms());
		const seg = await log(w, MON);
		expect(w.rejection(seg)?.message).toMatch(/not an hourly contract/);
	});
});

describe('the TEST MODE mock provider', () => {
	async function withMock() {
		let clock = MON;
		const mock = new MockEscrowProvider({ key: PROVIDER, now: () => clock });
		const w = await hourlyWorld();
		const req = (event: string) => ({ contract: w.contract, log: w.written.map(([, e]) => e), event });
		const put = async (r: { id: string; envelope: string }) => {
			await w.put(r.id, r.envelope);
			return r;
		};
		const at = (ms: number) => {
			clock = ms;
			w.now = ms;
		};
		return { w, mock, req, put, at };
	}

	it('records the timesheet only from the lock on its own clock', async () => {
		const { w, mock, req, put, at } = await withMock();
		const ids = await logRun(w, MON, 6);
		at(LOCK1 - 60_000);
		const sheet = await w.emit(FREELANCER, 'hourly.timesheet', { week: W1, segments: ids, minutes: 60, amount: 5_000, currency: 'USD' });
		await expect(mock.attest(req(sheet))).rejects.toMatchObject({ code: 'too-early' });
		at(LOCK1);
		const r = await put(await mock.attest(req(sheet)));
		expect(w.rejection(r.id)).toBeUndefined();
		expect(w.state.hourly!.weeks.get(W1)!.recordedAt).toBe(LOCK1);
	});

	it('funds a week, releases it net of an accepted dispute and carries the rest, idempotent on the intent id, books equal to the fold', async () => {
		const { w, mock, req, put, at } = await withMock();
		const fund = await w.emit(CLIENT, 'hourly.fund', { week: W1, amount: 50_000, currency: 'USD', method: 'card' });
		const funded = await put(await mock.fund(req(fund)));
		expect((await mock.fund(req(fund))).id).toBe(funded.id);
		// What pages show as "in escrow" counts the week's escrow, not only milestones.
		expect(balances(w.state).escrow).toBe(50_000);
		const ids = await logRun(w, MON, 18);
		at(LOCK1);
		const sheet = await w.emit(FREELANCER, 'hourly.timesheet', { week: W1, segments: ids, minutes: 180, amount: 15_000, currency: 'USD' });
		await put(await mock.attest(req(sheet)));
		at(t('2026-11-11T12:00'));
		const d = await w.emit(CLIENT, 'hourly.disputed', { week: W1, segments: ids.slice(0, 2), reason: 'Not done.' });
		await put(await mock.attest(req(d)));
		const a = await w.emit(FREELANCER, 'hourly.disputeAnswered', { dispute: d, accept: true });
		await put(await mock.attest(req(a)));
		const claim = await w.emit(FREELANCER, 'hourly.release', { week: W1, currency: 'USD' });
		await expect(mock.release(req(claim))).rejects.toMatchObject({ code: 'too-early' });
		at(REVIEW1);
		mock.loseNextAnswer();
		await expect(mock.release(req(claim))).rejects.toBeInstanceOf(EscrowError);
		const released = await put(await mock.release(req(claim)));
		expect(w.rejection(released.id)).toBeUndefined();
		expect(bal(w, 'freelancer:pending')).toBe(13_333);
		expect(bal(w, 'escrow:week:2026-11-16')).toBe(36_667);
		const books = mock.statement(w.contract);
		expect(books.weeks).toEqual({
			[W1]: { funded: 50_000, carriedIn: 0, released: 13_333, carriedOut: 36_667, refunded: 0, settled: 0 },
			[W3]: { funded: 0, carriedIn: 36_667, released: 0, carriedOut: 0, refunded: 0, settled: 0 }
		});
		for (const [week, b] of Object.entries(books.weeks)) expect(w.state.hourly!.weeks.get(week)).toMatchObject(b);
		// The released week waits out the security period on the provider's clock, then can be withdrawn.
		at(REVIEW1 + 5 * DAY_MS);
		const out = await w.emit(FREELANCER, 'withdrawal.requested', { amount: 13_333, currency: 'USD', method: 'bank' as never });
		expect((await mock.withdraw(req(out))).id).toBeTruthy();
	});

	it('pays a bonus and refunds a paused contract’s unused escrow, refusing what the rules refuse', async () => {
		const { w, mock, req, put, at } = await withMock();
		const fund = await w.emit(CLIENT, 'hourly.fund', { week: W2, amount: 50_000, currency: 'USD', method: 'card' });
		await put(await mock.fund(req(fund)));
		const early = await w.emit(CLIENT, 'hourly.reclaim', { week: W2, currency: 'USD' });
		await expect(mock.refund(req(early))).rejects.toMatchObject({ code: 'not-authorised' });
		at(t('2026-11-04T12:00'));
		const pause = await w.emit(CLIENT, 'hourly.paused', {});
		await put(await mock.attest(req(pause)));
		// Asked again with the same intent (as the app's outbox does), now that the contract is paused.
		const back = await put(await mock.refund(req(early)));
		expect(w.rejection(back.id)).toBeUndefined();
		expect(bal(w, 'escrow:week:2026-11-09')).toBe(0);
		expect(mock.statement(w.contract).weeks[W2]!.refunded).toBe(50_000);
		const bonus = await w.emit(CLIENT, 'bonus.paid', { amount: 2_000, currency: 'USD', method: 'card', note: 'Thanks for this week' });
		const paid = await put(await mock.fund(req(bonus)));
		expect(w.rejection(paid.id)).toBeUndefined();
		expect(bal(w, 'freelancer:pending')).toBe(2_000);
		expect(mock.statement(w.contract).bonuses).toBe(2_000);
	});
});

describe('property: hourly events', () => {
	const scenario = fc.record({
		rate: fc.integer({ min: 1, max: 20_000 }),
		limit: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined, freq: 4 }),
		manual: fc.boolean(),
		segments: fc.array(
			fc.record({
				week: fc.integer({ min: 0, max: 1 }),
				slot: fc.integer({ min: 0, max: 40 }),
				manual: fc.boolean(),
				memo: fc.nat(4).map((n) => n > 0),
				edit: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined, freq: 4 }),
				del: fc.nat(4).map((n) => n === 0)
			}),
			{ minLength: 10, maxLength: 50, size: 'max' }
		),
		limitChange: fc.option(fc.record({ hours: fc.integer({ min: 1, max: 4 }), day: fc.integer({ min: 0, max: 9 }) }), { nil: undefined }),
		fund: fc.boolean(),
		greedy: fc.boolean(),
		disputes: fc.array(fc.record({ pick: fc.nat(100), n: fc.integer({ min: 1, max: 3 }), answer: fc.constantFrom('accept', 'decline', 'none') }), { maxLength: 2 }),
		releaseDay: fc.integer({ min: 10, max: 20 }),
		seeds: fc.array(fc.nat(), { minLength: 2, maxLength: 3 })
	});

	it('any order of the same events derives the same state, and no week bills or pays more than its limit × rate', async () => {
		await fc.assert(
			fc.asyncProperty(scenario, async (sc) => {
				const w = new World();
				await w.active(hourlyTerms({ rate: sc.rate, weeklyLimitHours: sc.limit, manualTime: sc.manual }));
				const weeks = [W1, W2];
				if (sc.fund && sc.limit) for (const week of weeks) await w.emit(CLIENT, 'hourly.fund', { week, amount: sc.limit * sc.rate, currency: 'USD', method: 'card' }, { at: MON });
				for (const intent of [...w.state.intents.values()]) if (!intent.rejection) await w.emit(PROVIDER, 'receipt.weekFunded', { intent: intent.id, week: intent.week!, amount: intent.amount!, fee: 0, currency: 'USD', method: 'card', clearsAt: MON }, { at: MON });
				if (sc.limitChange) {
					const at = MON + sc.limitChange.day * DAY_MS;
					const c = await w.emit(CLIENT, 'hourly.limitChanged', { hours: sc.limitChange.hours }, { at });
					await w.record(c, 'limit-change', { at });
				}
				for (const x of sc.segments) {
					const start = t(`${weeks[x.week]}T10:00`) + x.slot * SEGMENT_MS;
					const at = start + DAY_MS;
					const id = await log(w, start, { source: x.manual ? 'manual' : 'tracked', memo: x.memo ? 'Work' : '', at });
					// An edit keeps the source; only manual time may move (tracked time keeps its slot).
					if (x.edit !== undefined)
						await log(w, x.manual ? t(`${weeks[x.week]}T10:00`) + x.edit * SEGMENT_MS : start, { replaces: id, source: x.manual ? 'manual' : 'tracked', memo: 'Work (edited)', at: at + 1 });
					if (x.del) await w.emit(FREELANCER, 'hourly.segmentsDeleted', { segments: [id] }, { at: at + 2 });
				}
				for (const [i, week] of weeks.entries()) {
					const lock = lockAt(w.state, week);
					const d = timesheetDraft(w.state, week);
					// A greedy freelancer also names the segments over the limit: the provider must refuse that record.
					const named = sc.greedy ? [...d.segments, ...d.overLimit] : d.segments;
					await closeWeek(w, week, lock + i, named);
					const sheet = w.state.hourly!.weeks.get(week)?.timesheet;
					for (const dsp of sheet ? sc.disputes : []) {
						const billed = w.state.hourly!.timesheets.get(sheet!)!.segments;
						if (!billed.length) continue;
						const segs = [...new Set(Array.from({ length: dsp.n }, (_, k) => billed[(dsp.pick + k) % billed.length]!))];
						const id = await dispute(w, week, segs, lock + DAY_MS);
						if (dsp.answer !== 'none') await answer(w, id, dsp.answer === 'accept', lock + 2 * DAY_MS);
					}
					const at = t(`${week}T00:00`) + sc.releaseDay * DAY_MS;
					if (!sheet) continue;
					const claim = await w.emit(FREELANCER, 'hourly.release', { week, currency: 'USD' }, { at });
					await w.emit(PROVIDER, 'receipt.weekReleased', { intent: claim, week, ...weekReleaseTerms(w.state, week, at), currency: 'USD' }, { at });
				}
				const original = summary(w.derived());
				const pool = w.written;
				for (const seed of sc.seeds) {
					const { derived } = await replica(w.contract, deliveryOrder(pool, seed, 3), [5, 17]);
					expect(summary(derived)).toBe(original);
				}
				const s = w.state;
				assertContractInvariants(s);
				for (const b of s.hourly!.weeks.values()) {
					const limit = limitFor(s, b.week);
					const billed = b.timesheet ? s.hourly!.timesheets.get(b.timesheet)!.amount : 0;
					expect(b.released).toBeLessThanOrEqual(billed);
					if (limit !== undefined) expect(billed).toBeLessThanOrEqual(limit * sc.rate);
				}
			}),
			{ numRuns: 25 }
		);
	}, 120_000);
});
