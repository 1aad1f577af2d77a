/**
 * Every action on an hourly contract (and the bonus, on either kind), one named function each, as
 * sync/actions.ts does for milestones: check the form's fields (all at once, in words), ask the
 * session's Party to write the event (money intents go through the provider; timesheets, disputes,
 * answers and pauses are recorded by it inside `act`), and map what went wrong to field errors.
 * What a button may offer is asked here too (`weekOffers`), of the rules in contract/hourly.ts and
 * contract/timesheet.ts; components render it and decide nothing.
 */
import { amountWithin } from '../contract/affordances';
import { recordedTimesheet, closesAt, lockAt, nominalLockAt, timesheetDeadline, reviewEndsAt, disputeStatus, weekFigures, limitFor, stoppedAt, hourlyTermsOf } from '../contract/timesheet';
import { carriedOnRelease, reclaimRefusal, timesheetDraft, weekReleaseRefusal } from '../contract/hourly';
import { reasonOf, reject } from '../contract/rejections';
import { testClockOffset, testModeNow } from '../contract/testclock';
import { PAYLOADS, MAX_WEEK_HOURS, type EventType, type Payload } from '../contract/schema';
import type { ContractState, Role } from '../contract/state';
import { SEGMENT_MS, isSlotStart, localTime, nextWeek, weekOf, weekStart } from '../contract/weeks';
import type { CurrencyCode } from '../money/currency';
import type { FundingMethod } from '../money/fees';
import { failureMessages, type FieldErrors } from '../ui/failure';
import { fieldErrors } from '../ui/field-errors';
import type { OutboxEntry } from './outbox';
import { ActionRefused, PendingIntent, type Party } from './party';
import type { DueSlot } from './tracker';
import { durationText } from '../ui/diary';

/** What the hourly use cases need of a contract session. */
export interface HourlySession {
	readonly party: Pick<Party, 'act' | 'settle' | 'ask' | 'derived' | 'now'>;
}

export type Outcome = { ok: true } | { ok: false; errors: FieldErrors; pending: boolean };

const OK: Outcome = { ok: true };
const refused = (errors: FieldErrors): Outcome => ({ ok: false, errors, pending: false });
const has = (errors: FieldErrors) => Object.keys(errors).length > 0;
const stateOf = (session: HourlySession) => session.party.derived().state;
const currencyOf = (s: ContractState) => s.terms!.currency as CurrencyCode;

async function run(fn: () => Promise<unknown>, fields: Record<string, string> = {}): Promise<Outcome> {
	try {
		await fn();
		return OK;
	} catch (e) {
		return { ok: false, errors: failureMessages(e, fields), pending: e instanceof PendingIntent };
	}
}

function schemaErrors<T extends EventType>(type: T, payload: Payload<T>, currency: string | undefined, fields: Record<string, string> = {}): FieldErrors {
	const parsed = PAYLOADS[type].safeParse(payload);
	if (parsed.success) return {};
	return failureMessages(new ActionRefused(reject('bad-schema'), fieldErrors(parsed.error.issues, { type, currency })), fields);
}

/** The rules' answer to an event this device would write now, as a sentence (null: allowed). */
function refusal<T extends EventType>(session: HourlySession, type: T, payload: Payload<T>, at?: number): string | null {
	const r = session.party.ask(type, payload, at);
	return r ? reasonOf(r.rejection) : null;
}

/**
 * The Work Diary's clock: this device's, moved by the contract's TEST MODE offset when it has one
 * (contract/testclock.ts), so that in TEST MODE time is logged, edited and locked on the same date the
 * provider's clock shows, and a "past week" can be logged to test its review. Any other provider: the
 * device's own clock, unchanged.
 */
export function diaryNow(s: ContractState, deviceNow: number): number {
	return deviceNow + testClockOffset(s);
}

/** The date for the next time event this device signs: undefined (its own clock) unless a TEST MODE offset moves it. */
function writtenAt(session: HourlySession): number | undefined {
	const offset = testClockOffset(stateOf(session));
	return offset ? session.party.now() + offset : undefined;
}

/** A slot as a person reads it in their zone: "Mon 2 Nov, 10:00". */
const when = (ms: number, timeZone?: string) => localTime(ms, timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);

// —— time ——————————————————————————————————————————————————————————————————————————————————

/**
 * The tracker's slots that ended, one 'hourly.segment' each. A slot that already holds a segment
 * (written by another tab, or before a reload) is skipped; one the rules refuse (the week locked,
 * the contract paused) is dropped, and why is returned for the tracker to show.
 */
export async function logTrackedSlots(session: HourlySession, slots: DueSlot[]): Promise<{ refused: string[] }> {
	const out: string[] = [];
	for (const slot of slots) {
		if (stateOf(session).hourly?.slots.has(slot.start)) continue;
		const payload = { start: slot.start, source: 'tracked' as const, memo: slot.memo, activity: Math.min(10, Math.max(0, slot.activity)), ...(slot.screenshot ? { screenshot: slot.screenshot.hash } : {}) };
		try {
			await session.party.act('hourly.segment', payload, writtenAt(session));
		} catch (e) {
			if (!(e instanceof ActionRefused)) throw e;
			out.push(`${when(slot.start)} was not logged: ${reasonOf(e.rejection)}`);
		}
	}
	return { refused: out };
}

/** Local wall time "YYYY-MM-DD" + "HH:MM" → the instant, in this device's time zone. */
function localInstant(day: string, time: string): number | undefined {
	if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !/^\d{2}:\d{2}$/.test(time)) return undefined;
	const ms = new Date(`${day}T${time}`).getTime();
	return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Manual time: a day, a start and an end in this device's local time, on whole ten minutes, and a
 * memo. It becomes one manual segment per 10 minutes (labelled manual: never protected by escrow).
 * Every field is checked at once; time that has not ended (on the diary's clock: `diaryNow`), or
 * already holds a segment, is refused.
 */
export async function addManualTime(session: HourlySession, form: { day: string; from: string; to: string; memo: string }, deviceNow: number): Promise<Outcome> {
	const s = stateOf(session);
	const now = diaryNow(s, deviceNow);
	const errors: FieldErrors = {};
	if (s.terms?.kind !== 'hourly' || !s.terms.hourly.manualTime) return refused({ form: 'The terms of this contract do not allow manual time: only tracked time is logged.' });
	if (!form.day) errors.day = 'Choose the day the work was done.';
	const start = form.from ? localInstant(form.day || '2000-01-03', form.from) : undefined;
	const end = form.to ? localInstant(form.day || '2000-01-03', form.to) : undefined;
	if (!form.from) errors.from = 'Enter when the work started, like 09:00.';
	else if (start === undefined) errors.from = `“${form.from}” is not a time: enter it like 09:00.`;
	else if (!form.from.endsWith('0')) errors.from = 'Time is logged in 10-minute segments: start on a whole ten minutes, like 09:10.';
	if (!form.to) errors.to = 'Enter when the work ended, like 10:30.';
	else if (end === undefined) errors.to = `“${form.to}” is not a time: enter it like 10:30.`;
	else if (!form.to.endsWith('0')) errors.to = 'Time is logged in 10-minute segments: end on a whole ten minutes, like 10:30.';
	else if (start !== undefined && end <= start) errors.to = 'The end must be after the start, on the same day.';
	const memo = form.memo.trim();
	if (!memo) errors.memo = 'Write a memo: it tells the client what the time was for, and time without one is not billed.';
	else Object.assign(errors, schemaErrors('hourly.segment', { start: 0, source: 'manual', memo, activity: 0 }, undefined, {}));
	if (!has(errors) && form.day && start !== undefined && end !== undefined) {
		if (!isSlotStart(start) || !isSlotStart(end)) errors.from = 'Your time zone is not on the 10-minute grid of UTC: choose times that fall on it.';
		else if (end > now) errors.to = 'That time has not ended yet: time in the future cannot be logged.';
		else {
			const taken = [];
			for (let t = start; t < end; t += SEGMENT_MS) if (s.hourly?.slots.has(t)) taken.push(t);
			if (taken.length) errors.from = `${when(taken[0]!)}${taken.length > 1 ? ` and ${taken.length - 1} more ten minutes` : ''} already ${taken.length > 1 ? 'have' : 'has'} time logged: change the times, or edit that time instead.`;
		}
	}
	if (has(errors)) return refused(errors);
	let written = 0;
	for (let t = start!; t < end!; t += SEGMENT_MS) {
		try {
			await session.party.act('hourly.segment', { start: t, source: 'manual', memo, activity: 0 }, writtenAt(session));
			written++;
		} catch (e) {
			const why = failureMessages(e).form ?? String(e);
			return refused({ form: written ? `${written * 10} minutes were logged; ${when(t)} and after were not: ${why}` : why });
		}
	}
	return OK;
}

/** Delete segments before the week's lock. */
export function deleteSegments(session: HourlySession, ids: string[]): Promise<Outcome> {
	if (!ids.length) return Promise.resolve(refused({ form: 'Select the time to delete first.' }));
	return run(() => session.party.act('hourly.segmentsDeleted', { segments: ids }, writtenAt(session)));
}

/** A new memo for segments before the lock: each is replaced by the same time, same source, new memo. */
export async function changeMemo(session: HourlySession, ids: string[], memo: string): Promise<Outcome> {
	if (!ids.length) return refused({ form: 'Select the time whose memo you change first.' });
	const text = memo.trim();
	if (!text) return refused({ memo: 'Write the new memo: time without one is not billed.' });
	const errors = schemaErrors('hourly.segment', { start: 0, source: 'manual', memo: text, activity: 0 }, undefined);
	if (has(errors)) return refused(errors);
	return run(async () => {
		for (const id of ids) {
			const seg = stateOf(session).hourly!.segments.get(id);
			if (!seg) continue;
			await session.party.act('hourly.segment', { start: seg.start, source: seg.source, memo: text, activity: seg.activity, ...(seg.screenshot ? { screenshot: seg.screenshot } : {}), replaces: id }, writtenAt(session));
		}
	});
}

// —— the week ——————————————————————————————————————————————————————————————————————————————

/** The freelancer signs the week's timesheet as the diary drafts it; the provider records it (from the lock, on its clock). */
export function submitTimesheet(session: HourlySession, week: string): Promise<Outcome> {
	const s = stateOf(session);
	const d = timesheetDraft(s, week);
	return run(() => session.party.act('hourly.timesheet', { week, segments: d.segments, minutes: d.minutes, amount: d.amount, currency: currencyOf(s) }));
}

/** The client disputes billed segments in the review window, with a reason the freelancer reads. */
export function disputeSegments(session: HourlySession, week: string, ids: string[], reason: string): Promise<Outcome> {
	const errors: FieldErrors = {};
	if (!ids.length) errors.form = 'Select the time you dispute first.';
	if (!reason.trim()) errors.reason = 'Say why you dispute this time: the freelancer reads it and accepts or declines.';
	const payload = { week, segments: ids, reason: reason.trim() };
	if (ids.length) for (const [k, v] of Object.entries(schemaErrors('hourly.disputed', payload, undefined, {}))) errors[k] ??= v;
	if (has(errors)) return Promise.resolve(refused(errors));
	return run(() => session.party.act('hourly.disputed', payload));
}

/** The freelancer accepts (that time is refunded to the client) or declines a dispute. */
export function answerDispute(session: HourlySession, dispute: string, accept: boolean): Promise<Outcome> {
	return run(() => session.party.act('hourly.disputeAnswered', { dispute, accept }));
}

/** The client pays the week's escrow: its limit × rate before its timesheet, what it still owes after. */
export function fundWeek(session: HourlySession, week: string, amount: number, method: FundingMethod): Promise<Outcome> {
	// Dated on the provider's clock, on which the amount was worked out (weekOffers) and the provider judges it.
	return run(() => session.party.settle('hourly.fund', { week, amount, currency: currencyOf(stateOf(session)), method }, providerTime(session)));
}

/**
 * Provider time for the contract as this device reckons it (ContractSession.now does the same): its
 * clock plus the TEST MODE offset, never behind the provider's latest receipt.
 */
export function providerTime(session: HourlySession): number {
	const s = stateOf(session);
	return Math.max(testModeNow(s, session.party.now()), s.providerNow);
}

/** The freelancer's claim on a week after its review window (the app also makes it when it opens). */
export function claimWeek(session: HourlySession, week: string): Promise<Outcome> {
	return run(() => session.party.settle('hourly.release', { week, currency: currencyOf(stateOf(session)) }));
}

/** The client takes back a week's unused escrow: refunded when paused or ended, else carried to a later week. */
export function reclaimWeek(session: HourlySession, week: string): Promise<Outcome> {
	return run(() => session.party.settle('hourly.reclaim', { week, currency: currencyOf(stateOf(session)) }));
}

// —— the contract ——————————————————————————————————————————————————————————————————————————

/** A one-off payment with a note, from the client, on either kind of contract. */
export function payBonus(session: HourlySession, form: { amount: string; note: string }, method: FundingMethod): Promise<Outcome> {
	const currency = currencyOf(stateOf(session));
	const errors: FieldErrors = {};
	const a = amountWithin(form.amount, Number.MAX_SAFE_INTEGER, currency, 'milestone');
	if (!a.ok) errors.amount = form.amount.trim() ? a.message : 'Enter the amount of the bonus.';
	if (!form.note.trim()) errors.note = 'Write a note: the freelancer sees what the bonus is for.';
	const payload = { amount: a.ok ? a.minor : 1, currency, method, note: form.note.trim() };
	if (form.note.trim()) Object.assign(errors, Object.fromEntries(Object.entries(schemaErrors('bonus.paid', payload, currency)).filter(([k]) => k !== 'amount')));
	if (has(errors)) return Promise.resolve(refused(errors));
	return run(() => session.party.settle('bonus.paid', payload), { amount: 'amount', note: 'note' });
}

/** The client pauses the contract: the current week closes now, later time does not bill. */
export function pauseContract(session: HourlySession, reason: string): Promise<Outcome> {
	const payload = reason.trim() ? { reason: reason.trim() } : {};
	const errors = schemaErrors('hourly.paused', payload, undefined);
	if (has(errors)) return Promise.resolve(refused(errors));
	return run(() => session.party.act('hourly.paused', payload));
}

export function resumeContract(session: HourlySession): Promise<Outcome> {
	return run(() => session.party.act('hourly.resumed', {}));
}

/** The client changes the weekly limit: a raise applies at once, a lowering from next Monday. */
export function changeWeeklyLimit(session: HourlySession, hours: string): Promise<Outcome> {
	const n = Number(hours.trim());
	if (!hours.trim()) return Promise.resolve(refused({ hours: 'Enter the new weekly limit in hours.' }));
	if (!Number.isInteger(n) || n < 1 || n > MAX_WEEK_HOURS) return Promise.resolve(refused({ hours: `Enter a whole number of hours from 1 to ${MAX_WEEK_HOURS}.` }));
	return run(() => session.party.act('hourly.limitChanged', { hours: n }), { hours: 'hours' });
}

// —— what the page may offer, and what the app does by itself ————————————————————————————————

/** A button's answer: allowed, or why not. */
export type Offer<D extends object = object> = D & ({ allowed: true } | { allowed: false; reason: string });
const offer = <D extends object>(reason: string | null, d: D): Offer<D> => (reason ? { ...d, allowed: false, reason } : { ...d, allowed: true });

export interface WeekOffers {
	week: string;
	fund: Offer<{ amount: number }>;
	submit: Offer<{ segments: number; minutes: number; amount: number }>;
	claim: Offer<{ amount: number; carried: number }>;
	/** To the client once paused or ended; else on to a later week (a week over that nobody claimed). */
	reclaim: Offer<{ amount: number; to: 'client' | 'carry' }>;
	dispute: Offer<{ endsAt?: number }>;
	/** Segments may still be added, edited or deleted (before the lock, as the diary's clock reads it: `diaryNow`). */
	editable: boolean;
}

const pendingFor = (pending: readonly OutboxEntry[], week: string, call: OutboxEntry['call']) => pending.some((p) => p.milestone === `week:${week}` && p.call === call);

/**
 * What this role may do on `week` now. Provider clocks (lock, review window) are judged on
 * `providerNow`; what this device would sign is asked of the rules at its own time (`deviceNow`).
 */
export function weekOffers(session: HourlySession, role: Role | undefined, week: string, providerNow: number, deviceNow: number, pending: readonly OutboxEntry[] = []): WeekOffers {
	const s = stateOf(session);
	const currency = currencyOf(s);
	const sheet = recordedTimesheet(s, week);
	// What the week owes is worked out on the provider's clock, as the provider will (never the device's).
	const due = weekFigures(s, week, providerNow).due;
	const fundWhy =
		role !== 'client'
			? 'Only the client funds a week.'
			: pendingFor(pending, week, 'fund')
				? 'A payment for this week is waiting for the escrow provider.'
				: due === 0
					? limitFor(s, week) === undefined && !sheet
						? 'Without a weekly limit, a week is paid after its timesheet (not protected by escrow).'
						: 'The week is funded.'
					: refusal(session, 'hourly.fund', { week, amount: due, currency, method: 'card' }, providerNow);

	// The draft walks every segment: drawn up only when a timesheet could still be signed.
	const draft = role === 'freelancer' && !sheet && s.hourly ? timesheetDraft(s, week) : { segments: [] as string[], minutes: 0, amount: 0 };
	const lock = lockAt(s, week);
	const mine = [...(s.hourly?.timesheets.values() ?? [])].some((t) => t.week === week);
	const submitWhy =
		role !== 'freelancer'
			? 'Only the freelancer submits the timesheet.'
			: sheet
				? 'The provider has recorded this week’s timesheet.'
				: providerNow < lock
					? `Edits lock ${when(lock)}: the timesheet is submitted from then.`
					: providerNow >= timesheetDeadline(s, week)
						? `The timesheet had to be recorded by ${when(timesheetDeadline(s, week))}.`
						: mine
							? 'This week’s timesheet is signed and waits for the escrow provider to record it.'
							: refusal(session, 'hourly.timesheet', { week, segments: draft.segments, minutes: draft.minutes, amount: draft.amount, currency });

	const fig = weekFigures(s, week, providerNow);
	const releaseRule = weekReleaseRefusal(s, week, providerNow);
	const claimWhy =
		role !== 'freelancer'
			? 'Only the freelancer claims the week’s payment.'
			: pendingFor(pending, week, 'release')
				? 'The claim is waiting for the escrow provider.'
				: releaseRule
					? reasonOf(releaseRule)
					: refusal(session, 'hourly.release', { week, currency });

	const stopped = stoppedAt(s, providerNow) !== undefined;
	const endsAt = reviewEndsAt(s, week);
	const reclaimRule = reclaimRefusal(s, week, providerNow);
	const reclaimWhy =
		role !== 'client'
			? 'Only the client takes back unused escrow.'
			: pendingFor(pending, week, 'refund')
				? 'The request is waiting for the escrow provider.'
				: reclaimRule
					? reasonOf(reclaimRule)
					: !stopped && (sheet ? providerNow < endsAt! : providerNow < timesheetDeadline(s, week))
						? 'Unused escrow carries on to the next week by itself; it can be taken back when the contract is paused or ended.'
						: refusal(session, 'hourly.reclaim', { week, currency });

	const disputeWhy =
		role !== 'client' ? 'Only the client disputes time.' : !sheet ? 'Time can be disputed once the week’s timesheet is recorded.' : providerNow >= endsAt! ? `The review window ended ${when(endsAt!)}.` : null;

	return {
		week,
		fund: offer(fundWhy, { amount: due }),
		submit: offer(submitWhy, { segments: draft.segments.length, minutes: draft.minutes, amount: draft.amount }),
		claim: offer(claimWhy, { amount: fig.releasable, carried: carriedOnRelease(s, week, providerNow) }),
		reclaim: offer(reclaimWhy, { amount: fig.unused, to: stopped ? 'client' : 'carry' }),
		dispute: offer(disputeWhy, endsAt !== undefined ? { endsAt } : {}),
		editable: role === 'freelancer' && !sheet && diaryNow(s, deviceNow) < nominalLockAt(s, week) && s.status === 'active'
	};
}

/** The weeks an hourly contract has touched, from the week it began to the current one (and the next, to fund ahead). */
export function contractWeeks(s: ContractState, providerNow: number): string[] {
	if (!s.hourly) return [];
	const weeks = new Set<string>();
	const first = weekOf(s.binding?.at ?? s.proposal?.at ?? providerNow);
	const last = nextWeek(weekOf(providerNow));
	for (let w = first; w <= last && weeks.size < 520; w = nextWeek(w)) weeks.add(w);
	for (const seg of s.hourly.segments.values()) weeks.add(seg.week);
	for (const w of s.hourly.weeks.keys()) weeks.add(w);
	return [...weeks].sort();
}

/** Per session: what the app already tried by itself, and what it said about each week. */
const duties = new WeakMap<object, { done: Set<string>; notes: Map<string, string>; running: boolean }>();

/** What the app said it did by itself, by week (kept while the session lives, across pages). */
export function dutyNotes(session: object): Map<string, string> {
	let d = duties.get(session);
	if (!d) duties.set(session, (d = { done: new Set(), notes: new Map(), running: false }));
	return d.notes;
}

/**
 * The freelancer's app does by itself what nobody else will: once a week's edits lock it submits the
 * week's timesheet (if any time was logged), and once the review window has passed it claims the
 * week's payment. Each is tried once per session; `onNote` hears what happened, week by week (also
 * kept in `dutyNotes`).
 */
export async function runWeeklyDuties(
	session: HourlySession & { readonly pending: readonly OutboxEntry[] },
	role: Role | undefined,
	providerNow: number,
	deviceNow: number,
	money: (minor: number) => string,
	onNote: (week: string, text: string) => void = () => {}
): Promise<void> {
	const s = stateOf(session);
	if (role !== 'freelancer' || !s.hourly || s.status === 'proposed') return;
	dutyNotes(session);
	const d = duties.get(session)!;
	if (d.running) return;
	d.running = true;
	const say = (week: string, text: string) => {
		d.notes.set(week, text);
		onNote(week, text);
	};
	try {
		const logged = new Set<string>();
		for (const x of s.hourly.segments.values()) if (x.status === 'live') logged.add(x.week);
		for (const week of contractWeeks(s, providerNow)) {
			if (weekStart(week) > providerNow) continue;
			const o = weekOffers(session, role, week, providerNow, deviceNow, session.pending);
			if (o.submit.allowed && logged.has(week) && !d.done.has(`sheet:${week}`)) {
				d.done.add(`sheet:${week}`);
				const r = await submitTimesheet(session, week);
				say(
					week,
					r.ok
						? `The week’s edits locked, so this app submitted its timesheet for you: ${durationText(o.submit.minutes)} billing ${money(o.submit.amount)}.`
						: `The week’s edits locked, but this app could not submit its timesheet: ${r.errors.form ?? Object.values(r.errors)[0]} Use “Submit timesheet” to try again.`
				);
			}
			const key = `claim:${week}:${o.claim.amount}:${o.claim.carried}`;
			if (o.claim.allowed && !d.done.has(key)) {
				d.done.add(key);
				say(week, `The client’s review ended: this app is claiming ${money(o.claim.amount)} for you…`);
				const r = await claimWeek(session, week);
				say(
					week,
					r.ok
						? `The client’s review ended, so this app claimed the week’s payment for you: ${money(o.claim.amount)} released${o.claim.carried ? ', unused escrow carried on to a later week' : ''}.`
						: r.pending
							? `The client’s review ended: this app asked the escrow provider to release ${money(o.claim.amount)} for you and is waiting for its answer.`
							: `The client’s review ended, but this app could not claim the payment: ${r.errors.form ?? Object.values(r.errors)[0]} Use “Claim payment” to try again.`
				);
			}
		}
	} finally {
		d.running = false;
	}
}

/** Where a dispute stands, in words, at provider time `now`. */
export function disputeText(s: ContractState, id: string, now: number): { status: ReturnType<typeof disputeStatus>; text: string } {
	const d = s.hourly!.disputes.get(id)!;
	const status = disputeStatus(s, d, now);
	const rec = s.recorded.get(d.id);
	const deadline = rec ? rec.at + hourlyTermsOf(s).disputeAnswerDays * 86_400_000 : undefined;
	const text = {
		unrecorded: 'Waiting for the escrow provider to record the dispute.',
		open: `Open: the freelancer answers by ${deadline ? when(deadline) : '—'}; without an answer it counts as accepted.`,
		accepted: 'Accepted: this time is refunded to the client.',
		declined: declinedText(s, d.id),
		lapsed: 'Not answered in time: it counts as accepted, and this time is refunded to the client.'
	}[status];
	return { status, text };
}

/** A declined segment dispute: where its time stands in the Resolution Center (dispute.ts). */
function declinedText(s: ContractState, id: string): string {
	const rc = [...s.disputes.values()].filter((x) => x.segments?.dispute === id);
	if (rc.some((x) => x.settlement)) return 'Declined, then settled in the Resolution Center: this time was paid out by the split below.';
	if (rc.some((x) => x.openedAt !== undefined)) return 'Declined: this time is in dispute in the Resolution Center and waits for its outcome; the rest of the week is paid as usual.';
	return 'Declined: this time waits. Either party may open a dispute on it in the Resolution Center; the rest of the week is paid as usual.';
}

/** The week's close, lock and review end, for the page. */
export function weekClocks(s: ContractState, week: string): { closes: number; lock: number; deadline: number; reviewEnds?: number } {
	const reviewEnds = reviewEndsAt(s, week);
	return { closes: closesAt(s, week), lock: lockAt(s, week), deadline: timesheetDeadline(s, week), ...(reviewEnds !== undefined ? { reviewEnds } : {}) };
}
