/**
 * Hourly weeks. A week runs Monday 00:00 to Sunday 23:59:59.999 UTC for everyone, whatever their
 * zone: the week's money clocks (edit lock, review, disputes) are offsets from its end, judged on the
 * provider's clock, so every replica and the provider must cut weeks the same way. All math here is
 * UTC milliseconds; only the display helpers take a time zone, to show the same instants locally.
 *
 * A week is named by its Monday, "YYYY-MM-DD" (a string that sorts in time order).
 */
export const HOUR_MS = 3_600_000;
export const WEEK_MS = 7 * 86_400_000;
/** Time is logged in 10-minute segments aligned to the UTC clock (:00, :10, … :50). */
export const SEGMENT_MS = 10 * 60_000;
export const SEGMENT_MINUTES = 10;
export const SLOTS_PER_HOUR = 6;

const WEEK_KEY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The Monday 00:00 UTC at or before `ms`. */
export function weekStartOf(ms: number): number {
	const d = new Date(ms);
	const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
	const sinceMonday = (d.getUTCDay() + 6) % 7;
	return midnight - sinceMonday * 86_400_000;
}

/** The week holding the instant `ms`. */
export function weekOf(ms: number): string {
	return new Date(weekStartOf(ms)).toISOString().slice(0, 10);
}

/** Is `key` the name of a week: a real date that is a Monday? */
export function isWeekKey(key: string): boolean {
	const m = WEEK_KEY.exec(key);
	if (!m) return false;
	const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
	return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === key && new Date(ms).getUTCDay() === 1;
}

/** Monday 00:00 UTC of the week. */
export function weekStart(week: string): number {
	if (!isWeekKey(week)) throw new RangeError(`Not a week: ${week}`);
	return Date.parse(`${week}T00:00:00Z`);
}

/** The instant the week ends: the next Monday 00:00 UTC (exclusive), i.e. just after Sunday 23:59:59.999. */
export function weekEnd(week: string): number {
	return weekStart(week) + WEEK_MS;
}

export function nextWeek(week: string, n = 1): string {
	return weekOf(weekStart(week) + n * WEEK_MS);
}

export function previousWeek(week: string): string {
	return nextWeek(week, -1);
}

/** Is `ms` on a segment boundary (a whole multiple of 10 minutes since the epoch)? */
export function isSlotStart(ms: number): boolean {
	return Number.isSafeInteger(ms) && ms % SEGMENT_MS === 0;
}

/** The segment slot holding `ms`. */
export function slotOf(ms: number): number {
	return ms - (((ms % SEGMENT_MS) + SEGMENT_MS) % SEGMENT_MS);
}

/** Index of a slot inside its week: 0 (Monday 00:00) … 1007 (Sunday 23:50). */
export function slotIndex(start: number): number {
	return Math.floor((start - weekStartOf(start)) / SEGMENT_MS);
}

/** The once-shown sentence that explains the rule behind the local times a page shows. */
export const WEEK_RULE_TEXT = 'Weeks run Monday 00:00 to Sunday 23:59 UTC; times are shown in your time zone.';

/** An instant in `timeZone`, e.g. "Mon 19 Oct, 02:00". */
export function localTime(ms: number, timeZone: string, locale = 'en-GB'): string {
	return new Intl.DateTimeFormat(locale, { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);
}

/**
 * The week as a person in `timeZone` reads it: its first and last minute in their local time. Across
 * a daylight-saving change the two ends are an hour off the same wall time — the week is still
 * exactly 7 × 24 hours, as the provider counts it.
 */
export function weekLabel(week: string, timeZone: string, locale = 'en-GB'): string {
	return `${localTime(weekStart(week), timeZone, locale)} – ${localTime(weekEnd(week) - 60_000, timeZone, locale)}`;
}

/**
 * The local calendar days a week touches in `timeZone`, each with the UTC instants of its part of
 * the week: what a day-by-day grid lays out. A zone east of UTC starts the week on Monday morning and
 * spills into the next Monday; west of UTC it starts on Sunday. On a DST day a local day has 23 or 25
 * hours.
 */
export function localDays(week: string, timeZone: string): { day: string; from: number; to: number }[] {
	const fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
	const out: { day: string; from: number; to: number }[] = [];
	const end = weekEnd(week);
	for (let t = weekStart(week); t < end; t += SEGMENT_MS) {
		const day = fmt.format(t);
		const last = out[out.length - 1];
		if (last && last.day === day) last.to = t + SEGMENT_MS;
		else out.push({ day, from: t, to: t + SEGMENT_MS });
	}
	return out;
}

/** Provider time in a reason: to the minute, in UTC (the provider's clock, not this device's). */
export const utcTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Minutes as a person reads a duration: "3 h", "1 h 20 min". */
export function hoursText(minutes: number): string {
	const h = Math.floor(minutes / 60);
	const m = minutes % 60;
	if (!h) return `${m} min`;
	return m ? `${h} h ${m} min` : `${h} h`;
}
