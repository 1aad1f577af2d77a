/**
 * The Work Diary of one week, laid out for a person in their time zone: days, the hours of each day
 * that hold time, six 10-minute cells per hour, and what each segment is (tracked or manual) and
 * what it bills (billable, billed, over the limit, disputed, refunded…). Pure: it reads the rules'
 * own computations (contract/hourly.ts, contract/timesheet.ts) and decides nothing about money.
 */
import { timesheetDraft } from '../contract/hourly';
import type { ContractState } from '../contract/state';
import { closesAt, disputeStatus, limitFor, lockAt, recordedTimesheet, reviewEndsAt, timesheetDeadline, unbillableReason, weekFigures, type Segment, type WeekFigures } from '../contract/timesheet';
import { SEGMENT_MINUTES, SEGMENT_MS, localDays, weekLabel } from '../contract/weeks';

export type Billing = 'billable' | 'billed' | 'over-limit' | 'no-memo' | 'not-billable' | 'not-billed' | 'disputed' | 'refunded';

/** In words, after the source: "tracked, billed". */
export const BILLING_WORDS: Record<Billing, string> = {
	billable: 'billable',
	billed: 'billed',
	'over-limit': 'over the weekly limit, not billed',
	'no-memo': 'no memo, not billed',
	'not-billable': 'not billed',
	'not-billed': 'not in the timesheet, not billed',
	disputed: 'disputed, waiting for the outcome',
	refunded: 'disputed and refunded to the client'
};

export interface DiaryCell {
	id: string;
	start: number;
	source: Segment['source'];
	memo: string;
	/** Minutes with input in the app's tracker window, 0–10 (0 for manual time). */
	activity: number;
	billing: Billing;
	/** Why time that is not billed is not (for 'not-billable'). */
	why?: string;
	/** In the recorded timesheet: the client may dispute it. */
	inTimesheet: boolean;
	/** "10:00–10:10" in the person's zone. */
	time: string;
	/** Everything about the cell in words: what a screen reader reads. */
	label: string;
}

export interface DiaryHour {
	/** The UTC instant the local hour starts (unique across a daylight-saving repeat). */
	key: number;
	label: string;
	/** Six cells, :00 to :50 local; undefined where no time was logged. */
	cells: (DiaryCell | undefined)[];
	/** The memos of this hour's segments, in order, each once. */
	memos: string[];
}

export interface DiaryDay {
	day: string;
	label: string;
	hours: DiaryHour[];
	minutes: number;
}

export interface DiaryView {
	week: string;
	label: string;
	days: DiaryDay[];
	cells: DiaryCell[];
	minutes: { logged: number; tracked: number; manual: number; billable: number; overLimit: number; unbilled: number; disputed: number; refunded: number };
	/** What the week bills: its recorded timesheet, or what a timesheet signed now would. */
	amount: number;
	recorded: boolean;
	limit?: number;
	figures: WeekFigures;
	/** Money released for this week, each lot pending until its security period ends. */
	releases: { amount: number; at: number; maturesAt: number }[];
}

function formatters(timeZone: string, locale: string) {
	return {
		hm: new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
		day: new Intl.DateTimeFormat(locale, { timeZone, weekday: 'long', day: 'numeric', month: 'long' })
	};
}

/** The week's diary at provider time `now`, in `timeZone`. */
export function diaryWeek(s: ContractState, week: string, now: number, timeZone: string, locale = 'en-GB'): DiaryView {
	const h = s.hourly!;
	const f = formatters(timeZone, locale);
	const sheet = recordedTimesheet(s, week);
	const draft = timesheetDraft(s, week);
	const billing = new Map<string, Billing>();
	const why = new Map<string, string>();
	const shown: Segment[] = [];
	const named = new Set(sheet?.segments ?? []);
	for (const x of h.segments.values()) if (x.week === week && (x.status === 'live' || named.has(x.id))) shown.push(x);
	shown.sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1));

	const notBilled = (x: Segment): Billing => {
		if (!x.memo) return 'no-memo';
		const reason = unbillableReason(s, x);
		if (reason) {
			why.set(x.id, reason);
			return 'not-billable';
		}
		return draft.overLimit.includes(x.id) ? 'over-limit' : sheet ? 'not-billed' : 'over-limit';
	};
	if (sheet) {
		for (const d of h.disputes.values()) {
			if (d.week !== week) continue;
			const st = disputeStatus(s, d, now);
			if (st === 'unrecorded') continue;
			for (const id of d.segments) if (named.has(id) && billing.get(id) !== 'refunded') billing.set(id, st === 'accepted' || st === 'lapsed' ? 'refunded' : 'disputed');
		}
		for (const x of shown) if (!billing.has(x.id)) billing.set(x.id, named.has(x.id) ? 'billed' : notBilled(x));
	} else {
		const ok = new Set(draft.segments);
		for (const x of shown) billing.set(x.id, ok.has(x.id) ? 'billable' : notBilled(x));
	}

	const cells: DiaryCell[] = shown.map((x) => {
		const b = billing.get(x.id)!;
		const time = `${f.hm.format(x.start)}–${f.hm.format(x.start + SEGMENT_MS)}`;
		const words = b === 'not-billable' ? `not billed: ${why.get(x.id)}` : BILLING_WORDS[b];
		const activity = x.source === 'manual' ? 'manual time, no activity recorded' : `activity in this app ${x.activity} of 10 minutes`;
		return {
			id: x.id,
			start: x.start,
			source: x.source,
			memo: x.memo,
			activity: x.activity,
			billing: b,
			...(why.has(x.id) ? { why: why.get(x.id)! } : {}),
			inTimesheet: named.has(x.id),
			time,
			label: `${time}, ${x.source}, ${words}, ${activity}, memo: ${x.memo || 'none'}`
		};
	});

	const days: DiaryDay[] = localDays(week, timeZone).map((d) => ({ day: d.day, label: f.day.format(d.from), hours: [], minutes: 0 }));
	const ranges = localDays(week, timeZone);
	let di = 0;
	for (const c of cells) {
		while (di < ranges.length - 1 && c.start >= ranges[di]!.to) di++;
		const day = days[di]!;
		const minute = Number(f.hm.format(c.start).slice(3, 5));
		const key = c.start - minute * 60_000;
		let hour = day.hours[day.hours.length - 1];
		if (!hour || hour.key !== key) day.hours.push((hour = { key, label: f.hm.format(key), cells: Array.from({ length: 6 }, () => undefined), memos: [] }));
		hour.cells[Math.floor(minute / 10)] = c;
		if (c.memo && hour.memos[hour.memos.length - 1] !== c.memo && !hour.memos.includes(c.memo)) hour.memos.push(c.memo);
		day.minutes += SEGMENT_MINUTES;
	}

	const count = (p: (c: DiaryCell) => boolean) => cells.filter(p).length * SEGMENT_MINUTES;
	const limit = limitFor(s, week);
	return {
		week,
		label: weekLabel(week, timeZone, locale),
		days,
		cells,
		minutes: {
			logged: cells.length * SEGMENT_MINUTES,
			tracked: count((c) => c.source === 'tracked'),
			manual: count((c) => c.source === 'manual'),
			billable: count((c) => c.billing === 'billable' || c.billing === 'billed' || c.billing === 'disputed' || c.billing === 'refunded'),
			overLimit: count((c) => c.billing === 'over-limit'),
			unbilled: count((c) => c.billing === 'no-memo' || c.billing === 'not-billable' || c.billing === 'not-billed'),
			disputed: count((c) => c.billing === 'disputed'),
			refunded: count((c) => c.billing === 'refunded')
		},
		amount: sheet ? sheet.amount : draft.amount,
		recorded: !!sheet,
		...(limit !== undefined ? { limit } : {}),
		figures: weekFigures(s, week, now),
		releases: s.releases.filter((l) => l.week === week).map((l) => ({ amount: l.amount, at: l.releasedAt, maturesAt: l.maturesAt }))
	};
}

/**
 * Where a week stands, in one sentence, at provider time `now`: in progress, locking, waiting for its
 * timesheet, in review until…, released. `at` formats an instant, `money` an amount.
 */
export function weekPhase(s: ContractState, week: string, now: number, at: (ms: number) => string, money: (minor: number) => string): string {
	const closes = closesAt(s, week);
	const lock = lockAt(s, week);
	const sheet = recordedTimesheet(s, week);
	if (now < closes) return `In progress. Edits lock ${at(lock)}.`;
	if (!sheet && now < lock) return `Closed. Edits lock ${at(lock)}; the timesheet is submitted then.`;
	if (!sheet) {
		const deadline = timesheetDeadline(s, week);
		return now < deadline ? `Edits locked. Waiting for the timesheet (it must be recorded by ${at(deadline)}).` : 'No timesheet was recorded in time: nothing bills for this week.';
	}
	const f = weekFigures(s, week, now);
	const waiting = f.disputedMinutes ? ` ${durationText(f.disputedMinutes)} disputed, waiting for the outcome.` : '';
	const ends = reviewEndsAt(s, week)!;
	if (now < ends) return `In review until ${at(ends)}.${waiting}`;
	if (f.released > 0) return `Released ${money(f.released)}.${waiting}`;
	return `The client’s review ended ${at(ends)}.${waiting}`;
}

/** A duration as a person reads it: "20 min", "1 h", "1 h 20 min" (never "0 h 20 min"). */
export function durationText(minutes: number): string {
	const h = Math.floor(minutes / 60);
	const m = minutes % 60;
	return h === 0 ? `${m} min` : m ? `${h} h ${m} min` : `${h} h`;
}
