import { describe, expect, it } from 'vitest';
import {
	SEGMENT_MS,
	WEEK_MS,
	isSlotStart,
	isWeekKey,
	localDays,
	nextWeek,
	previousWeek,
	slotIndex,
	slotOf,
	weekEnd,
	weekLabel,
	weekOf,
	weekStart
} from '../../../src/lib/contract/weeks';

const utc = (s: string) => Date.parse(`${s}Z`);

describe('weeks (UTC, Monday 00:00 to Sunday 23:59:59)', () => {
	it('cut at Monday 00:00 UTC, whatever the day and time', () => {
		expect(weekOf(utc('2026-11-02T00:00:00'))).toBe('2026-11-02');
		expect(weekOf(utc('2026-11-04T13:37:00'))).toBe('2026-11-02');
		expect(weekOf(utc('2026-11-08T23:59:59.999'))).toBe('2026-11-02');
		expect(weekOf(utc('2026-11-09T00:00:00'))).toBe('2026-11-09');
		// Sunday is the last day of the week, not the first.
		expect(weekOf(utc('2026-11-01T12:00:00'))).toBe('2026-10-26');
		// Across a year end.
		expect(weekOf(utc('2027-01-01T08:00:00'))).toBe('2026-12-28');
	});

	it('are named by their Monday, and only a real Monday names one', () => {
		expect(isWeekKey('2026-11-02')).toBe(true);
		expect(isWeekKey('2026-11-03')).toBe(false);
		expect(isWeekKey('2026-02-30')).toBe(false);
		expect(isWeekKey('26-11-02')).toBe(false);
		expect(() => weekStart('2026-11-03')).toThrow(/Not a week/);
	});

	it('end at the next Monday 00:00, and step by whole weeks', () => {
		expect(weekEnd('2026-11-02')).toBe(utc('2026-11-09T00:00:00'));
		expect(nextWeek('2026-12-28')).toBe('2027-01-04');
		expect(previousWeek('2027-01-04')).toBe('2026-12-28');
		expect(nextWeek('2026-11-02', 3)).toBe('2026-11-23');
	});

	it('run on a 10-minute grid of segments', () => {
		expect(isSlotStart(utc('2026-11-02T09:10:00'))).toBe(true);
		expect(isSlotStart(utc('2026-11-02T09:15:00'))).toBe(false);
		expect(slotOf(utc('2026-11-02T09:19:59'))).toBe(utc('2026-11-02T09:10:00'));
		expect(slotIndex(utc('2026-11-02T00:00:00'))).toBe(0);
		expect(slotIndex(utc('2026-11-08T23:50:00'))).toBe(7 * 24 * 6 - 1);
		expect(SEGMENT_MS).toBe(600_000);
	});

	describe('a week that crosses a daylight-saving change in the viewer’s zone', () => {
		// Europe/Berlin leaves summer time on Sunday 25 October 2026 (03:00 CEST → 02:00 CET).
		const week = '2026-10-19';

		it('is still exactly 7 × 24 hours: the math is UTC', () => {
			expect(weekEnd(week) - weekStart(week)).toBe(WEEK_MS);
			expect(weekOf(utc('2026-10-25T01:30:00'))).toBe(week);
		});

		it('shows its two ends an hour apart on the wall clock', () => {
			expect(weekLabel(week, 'Europe/Berlin')).toBe('Mon 19 Oct, 02:00 – Mon 26 Oct, 00:59');
			expect(weekLabel(week, 'UTC')).toBe('Mon 19 Oct, 00:00 – Sun 25 Oct, 23:59');
		});

		it('lays out local days with a 25-hour Sunday', () => {
			const days = localDays(week, 'Europe/Berlin');
			expect(days.map((d) => d.day)).toEqual(['2026-10-19', '2026-10-20', '2026-10-21', '2026-10-22', '2026-10-23', '2026-10-24', '2026-10-25', '2026-10-26']);
			const sunday = days.find((d) => d.day === '2026-10-25')!;
			expect(sunday.to - sunday.from).toBe(25 * 3_600_000);
			// Monday starts at 02:00 local (00:00 UTC) and the last local hour spills into the next Monday.
			expect(days[0]!.to - days[0]!.from).toBe(22 * 3_600_000);
			expect(days[7]!.to - days[7]!.from).toBe(1 * 3_600_000);
			expect(days.reduce((sum, d) => sum + (d.to - d.from), 0)).toBe(WEEK_MS);
		});

		it('starts on Sunday evening west of UTC (New York leaves summer time on 1 November 2026)', () => {
			const ny = localDays('2026-10-26', 'America/New_York');
			expect(ny[0]!.day).toBe('2026-10-25');
			expect(weekLabel('2026-10-26', 'America/New_York')).toBe('Sun 25 Oct, 20:00 – Sun 1 Nov, 18:59');
			// Its last local day runs 00:00 to 19:00 wall time, which on the 25-hour day is 20 real hours.
			const last = ny.find((d) => d.day === '2026-11-01')!;
			expect(last.to - last.from).toBe(20 * 3_600_000);
		});
	});
});
