/**
 * The Work Diary's layout and words: local days and hours (a daylight-saving repeat keeps its two
 * hours apart), six cells per hour, and what each segment bills, told in words for screen readers.
 */
import { describe, expect, it } from 'vitest';
import { timesheetDraft } from '../../../src/lib/contract/hourly';
import { SEGMENT_MS } from '../../../src/lib/contract/weeks';
import { diaryWeek, durationText, weekPhase } from '../../../src/lib/ui/diary';
import { CLIENT, FREELANCER, World, hourlyTerms } from '../../support/world';

const t = (s: string) => Date.parse(`${s}Z`);

async function world(over: Parameters<typeof hourlyTerms>[0] = {}, bound?: number) {
	const w = new World();
	if (bound !== undefined) w.now = bound;
	await w.active(hourlyTerms(over));
	return w;
}

function log(w: World, start: number, memo = 'Built the signup form', source: 'tracked' | 'manual' = 'tracked', activity = 7) {
	return w.emit(FREELANCER, 'hourly.segment', { start, source, memo, activity }, { at: start + SEGMENT_MS + 60_000 });
}

describe('the Work Diary of a week', () => {
	it('lays segments out by local day and hour, six cells an hour, across a daylight-saving change', async () => {
		// New York leaves daylight saving on Sunday 1 November 2026 at 02:00: 01:00–01:59 happens twice.
		const w = await world({}, t('2026-10-26T00:00'));
		const ids = [await log(w, t('2026-11-01T05:00')), await log(w, t('2026-11-01T05:10'), 'Later memo'), await log(w, t('2026-11-01T06:20'))];
		const v = diaryWeek(w.state, '2026-10-26', t('2026-11-01T12:00'), 'America/New_York');
		expect(v.label).toBe('Sun 25 Oct, 20:00 – Sun 1 Nov, 18:59');
		expect(v.days.map((d) => d.day)[0]).toBe('2026-10-25');
		const sunday = v.days.find((d) => d.day === '2026-11-01')!;
		expect(sunday.label).toBe('Sunday 1 November');
		// 05:00 UTC is 01:00 EDT; 06:20 UTC is 01:20 EST: two rows both labelled 01:00.
		expect(sunday.hours.map((h) => h.label)).toEqual(['01:00', '01:00']);
		expect(sunday.hours[0]!.cells.map((c) => c?.id)).toEqual([ids[0], ids[1], undefined, undefined, undefined, undefined]);
		expect(sunday.hours[1]!.cells.map((c) => c?.id)).toEqual([undefined, undefined, ids[2], undefined, undefined, undefined]);
		expect(sunday.hours[0]!.memos).toEqual(['Built the signup form', 'Later memo']);
		expect(sunday.minutes).toBe(30);
		expect(v.minutes).toMatchObject({ logged: 30, tracked: 30, manual: 0, billable: 30 });
	});

	it('says in words what each segment is and bills: over the limit, no memo, manual, disputed, refunded', async () => {
		const w = await world({ weeklyLimitHours: 1, rate: 6_000 });
		const mon = t('2026-11-02T10:00');
		for (let i = 0; i < 6; i++) await log(w, mon + i * SEGMENT_MS);
		const over = await log(w, mon + 6 * SEGMENT_MS);
		const silent = await log(w, mon + 7 * SEGMENT_MS, '');
		const manual = await log(w, mon + 8 * SEGMENT_MS, 'Call with the client', 'manual', 0);
		let v = diaryWeek(w.state, '2026-11-02', t('2026-11-03T00:00'), 'UTC');
		const by = (id: string) => v.cells.find((c) => c.id === id)!;
		expect(by(over).billing).toBe('over-limit');
		expect(by(over).label).toBe('11:00–11:10, tracked, over the weekly limit, not billed, activity in this app 7 of 10 minutes, memo: Built the signup form');
		expect(by(silent).label).toContain('no memo, not billed');
		expect(by(manual).label).toContain('manual, over the weekly limit');
		expect(by(manual).label).toContain('manual time, no activity recorded');
		expect(v.minutes).toMatchObject({ logged: 90, billable: 60, overLimit: 20, unbilled: 10, manual: 10 });
		expect(v.amount).toBe(6_000);
		expect(weekPhase(w.state, '2026-11-02', t('2026-11-03T00:00'), (ms) => new Date(ms).toISOString(), String)).toBe('In progress. Edits lock 2026-11-09T12:00:00.000Z.');

		// Timesheet recorded, two segments disputed: one dispute accepted, one still open.
		const lock = t('2026-11-09T12:00');
		const d = timesheetDraft(w.state, '2026-11-02');
		const sheet = await w.emit(FREELANCER, 'hourly.timesheet', { week: '2026-11-02', segments: d.segments, minutes: d.minutes, amount: d.amount, currency: 'USD' }, { at: lock });
		await w.record(sheet, 'timesheet', { at: lock });
		const d1 = await w.emit(CLIENT, 'hourly.disputed', { week: '2026-11-02', segments: [d.segments[0]!], reason: 'x' }, { at: lock + 1 });
		await w.record(d1, 'dispute', { at: lock + 1 });
		const d2 = await w.emit(CLIENT, 'hourly.disputed', { week: '2026-11-02', segments: [d.segments[1]!], reason: 'y' }, { at: lock + 2 });
		await w.record(d2, 'dispute', { at: lock + 2 });
		const a = await w.emit(FREELANCER, 'hourly.disputeAnswered', { dispute: d1, accept: true }, { at: lock + 3 });
		await w.record(a, 'dispute-answer', { at: lock + 3 });
		v = diaryWeek(w.state, '2026-11-02', lock + 4, 'UTC');
		expect(by(d.segments[0]!).billing).toBe('refunded');
		expect(by(d.segments[1]!).billing).toBe('disputed');
		expect(by(d.segments[2]!)).toMatchObject({ billing: 'billed', inTimesheet: true });
		expect(by(over)).toMatchObject({ billing: 'over-limit', inTimesheet: false });
		expect(v.minutes).toMatchObject({ disputed: 10, refunded: 10 });
		expect(v.recorded).toBe(true);
		expect(weekPhase(w.state, '2026-11-02', lock + 4, (ms) => new Date(ms).toISOString(), String)).toBe('In review until 2026-11-14T00:00:00.000Z. 10 min disputed, waiting for the outcome.');
	});

	it('durations read as a person says them', () => {
		expect([0, 20, 60, 80, 600].map(durationText)).toEqual(['0 min', '20 min', '1 h', '1 h 20 min', '10 h']);
	});
});
