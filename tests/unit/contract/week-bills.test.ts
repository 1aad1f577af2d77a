/**
 * Payments for hourly contracts: each week's bill as both parties see it (hours, amount, status, when
 * it is paid, and for the freelancer when each release becomes available), and the week's invoice
 * (the billed segments as runs of the same memo, the rate and the amounts), all from the rules.
 */
import { describe, expect, it } from 'vitest';
import { timesheetDraft, weekReleaseTerms } from '../../../src/lib/contract/hourly';
import { weekBill, weekBills, weekInvoice } from '../../../src/lib/contract/statement';
import { DAY_MS } from '../../../src/lib/contract/state';
import { SEGMENT_MS } from '../../../src/lib/contract/weeks';
import { CLIENT, FREELANCER, PROVIDER, World, hourlyTerms } from '../../support/world';

const W1 = '2026-11-02';
const W2 = '2026-11-09';
const t = (s: string) => Date.parse(`${s}Z`);
const MON = t('2026-11-02T10:00');
const LOCK1 = t('2026-11-09T12:00');
const REVIEW1 = t('2026-11-14T00:00');

async function log(w: World, start: number, memo: string, source: 'tracked' | 'manual' = 'tracked'): Promise<string> {
	return w.emit(FREELANCER, 'hourly.segment', { start, source, memo, activity: source === 'tracked' ? 6 : 0 }, { at: Math.max(w.now, start + SEGMENT_MS) });
}

/** $50 an hour, 10 h a week. Week 1: an hour on the signup form (the first 20 minutes disputed), two hours of tests, ten manual minutes. */
async function billedWeek() {
	const w = new World();
	await w.active(hourlyTerms({ rate: 5_000, weeklyLimitHours: 10 }));
	const fund = await w.emit(CLIENT, 'hourly.fund', { week: W1, amount: 50_000, currency: 'USD', method: 'card' }, { at: MON });
	await w.emit(PROVIDER, 'receipt.weekFunded', { intent: fund, week: W1, amount: 50_000, fee: 0, currency: 'USD', method: 'card', clearsAt: MON }, { at: MON });
	const ids: string[] = [];
	for (let i = 0; i < 6; i++) ids.push(await log(w, MON + i * SEGMENT_MS, 'Built the signup form'));
	for (let i = 6; i < 18; i++) ids.push(await log(w, MON + i * SEGMENT_MS, 'Wrote the tests'));
	ids.push(await log(w, t('2026-11-03T15:00'), 'Call with the client', 'manual'));
	const d = timesheetDraft(w.state, W1);
	const sheet = await w.emit(FREELANCER, 'hourly.timesheet', { week: W1, segments: d.segments, minutes: d.minutes, amount: d.amount, currency: 'USD' }, { at: LOCK1 });
	await w.record(sheet, 'timesheet', { at: LOCK1 });
	return { w, ids };
}

describe('hourly weeks on Payments', () => {
	it('a week in progress shows what is logged so far; a billed week is in review until its review ends', async () => {
		const { w } = await billedWeek();
		await log(w, t('2026-11-09T10:00'), 'Planning');
		const bills = weekBills(w.state, t('2026-11-10T09:00'));
		expect(bills.map((b) => [b.week, b.status])).toEqual([
			[W2, 'in-progress'],
			[W1, 'in-review']
		]);
		expect(bills[0]).toMatchObject({ minutes: 10, amount: 833 });
		// 19 segments = 190 minutes at $50/h: floor(190 × 5000 / 60) = $158.33.
		expect(bills[1]).toMatchObject({ minutes: 190, amount: 15_833, net: 15_833, refunded: 0, released: 0, reviewEndsAt: REVIEW1, pending: 0 });
		expect(bills[1]!.paidAt).toBeUndefined();
		// If paid as the review ends, available after the 5-day security period.
		expect(bills[1]!.availableFrom).toBe(REVIEW1 + 5 * DAY_MS);
	});

	it('disputed while a dispute is open; paid net of the accepted dispute, pending until the security period ends', async () => {
		const { w, ids } = await billedWeek();
		const d = await w.emit(CLIENT, 'hourly.disputed', { week: W1, segments: ids.slice(0, 2), reason: 'A coffee break.' }, { at: t('2026-11-11T12:00') });
		await w.record(d, 'dispute', { at: t('2026-11-11T12:00') });
		expect(weekBill(w.state, W1, t('2026-11-11T13:00'))).toMatchObject({ status: 'disputed', disputedMinutes: 20 });
		const a = await w.emit(FREELANCER, 'hourly.disputeAnswered', { dispute: d, accept: true }, { at: t('2026-11-11T14:00') });
		await w.record(a, 'dispute-answer', { at: t('2026-11-11T14:00') });
		// 170 minutes now: floor(170 × 5000 / 60) = $141.66; $16.67 goes back to the client.
		expect(weekBill(w.state, W1, t('2026-11-12T00:00'))).toMatchObject({ status: 'in-review', disputedMinutes: 0, net: 14_166, refunded: 1_667 });
		expect(weekBill(w.state, W1, REVIEW1 + DAY_MS)).toMatchObject({ status: 'releasing', availableFrom: REVIEW1 + 6 * DAY_MS });
		const intent = await w.emit(FREELANCER, 'hourly.release', { week: W1, currency: 'USD' }, { at: REVIEW1 });
		await w.emit(PROVIDER, 'receipt.weekReleased', { intent, week: W1, ...weekReleaseTerms(w.state, W1, REVIEW1), currency: 'USD' }, { at: REVIEW1 });
		const paid = weekBill(w.state, W1, REVIEW1 + DAY_MS);
		expect(paid).toMatchObject({ status: 'paid', released: 14_166, paidAt: REVIEW1, pending: 14_166, available: 0 });
		expect(paid.availableFrom).toBeUndefined();
		expect(paid.lots).toEqual([{ amount: 14_166, releasedAt: REVIEW1, availableAt: REVIEW1 + 5 * DAY_MS, available: false }]);
		expect(weekBill(w.state, W1, REVIEW1 + 5 * DAY_MS)).toMatchObject({ pending: 0, available: 14_166 });
	});

	it('a fixed-price contract has no weeks', async () => {
		const w = new World();
		await w.active();
		expect(weekBills(w.state, w.now)).toEqual([]);
		expect(weekInvoice(w.state, W1, w.now)).toBeUndefined();
	});
});

describe('the week’s invoice', () => {
	it('lists the billed time as runs of the same memo, marks disputed time, with the rate and the amounts', async () => {
		const { w, ids } = await billedWeek();
		const d = await w.emit(CLIENT, 'hourly.disputed', { week: W1, segments: ids.slice(0, 2), reason: 'A coffee break.' }, { at: t('2026-11-11T12:00') });
		await w.record(d, 'dispute', { at: t('2026-11-11T12:00') });
		const open = weekInvoice(w.state, W1, t('2026-11-11T13:00'))!;
		expect(open.lines.map((l) => [l.memo, l.minutes, l.source, l.dispute])).toEqual([
			['Built the signup form', 20, 'tracked', 'disputed'],
			['Built the signup form', 40, 'tracked', undefined],
			['Wrote the tests', 120, 'tracked', undefined],
			['Call with the client', 10, 'manual', undefined]
		]);
		expect(open.lines[2]).toMatchObject({ from: MON + 6 * SEGMENT_MS, to: MON + 18 * SEGMENT_MS });
		expect(open).toMatchObject({ title: 'Website', rate: 5_000, currency: 'USD', recordedAt: LOCK1 });
		expect(open.bill).toMatchObject({ minutes: 190, amount: 15_833, status: 'disputed' });
		// Unanswered past the answer window (3 days): it counts as accepted, and the invoice says refunded.
		const lapsed = weekInvoice(w.state, W1, t('2026-11-14T13:00'))!;
		expect(lapsed.lines[0]!.dispute).toBe('refunded');
		expect(lapsed.bill).toMatchObject({ net: 14_166, refunded: 1_667 });
	});

	it('does not exist before the provider recorded the timesheet: nothing is billed yet', async () => {
		const w = new World();
		await w.active(hourlyTerms());
		await log(w, MON, 'Built the signup form');
		expect(weekInvoice(w.state, W1, t('2026-11-05T00:00'))).toBeUndefined();
	});
});
