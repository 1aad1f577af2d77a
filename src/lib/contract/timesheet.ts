/**
 * What an hourly contract keeps per week, and the pure computations every replica and the provider
 * run on it: a week's clocks, its limit, what it bills, what disputes hold back, what it still owes
 * and what escrow it holds unused. The rules that change this state are in hourly.ts.
 *
 * Content decides, never order. Every money figure here reads only:
 *  - the contents of events (a timesheet names its segments; a dispute names its segments), and
 *  - the provider's record (s.recorded: provider times of the timesheet, limit changes, disputes,
 *    answers, pauses and the end) and its receipts, which form one chain, so they fold in the
 *    order the provider signed them;
 * and time only as the provider time of the receipt being judged. A segment's own acceptance may
 * depend on fold order (two devices writing the same slot): that never changes money, because only
 * the recorded timesheet's named segments bill.
 */
import { moneyText } from './rejections';
import { ZERO_MINOR, addMinor, type Minor } from '../money/minor';
import type { SignedTerms } from './schema';
import { DAY_MS, type ContractState } from './state';
import { HOUR_MS, SEGMENT_MINUTES, SEGMENT_MS, SLOTS_PER_HOUR, nextWeek, slotOf, weekEnd, weekOf, weekStart } from './weeks';

/** As the verified proposal carries them: `rate` is Minor. */
export type HourlyRules = Extract<SignedTerms, { kind: 'hourly' }>['hourly'];

/** One logged 10-minute segment, as the freelancer wrote it. */
export interface Segment {
	id: string;
	start: number;
	week: string;
	source: 'tracked' | 'manual';
	memo: string;
	activity: number;
	screenshot?: string;
	/** The freelancer's claimed time of writing. */
	at: number;
	/** The segment this one edits. */
	replaces?: string;
	/** The first segment of its edit chain: a timesheet bills each chain at most once. */
	root: string;
	/**
	 * live: counts on this replica's diary; replaced / deleted: edited or deleted since; refused: it
	 * lost its slot to another segment written concurrently (kept, because a timesheet the freelancer
	 * wrote before seeing that one may name it: content decides what bills).
	 */
	status: 'live' | 'replaced' | 'deleted' | 'refused';
}

/** A timesheet the freelancer signed. Only the one the provider recorded for the week counts. */
export interface Timesheet {
	id: string;
	week: string;
	segments: string[];
	minutes: number;
	amount: Minor;
	at: number;
}

export interface DisputeAnswer {
	id: string;
	accept: boolean;
	at: number;
}

export interface Dispute {
	id: string;
	week: string;
	segments: string[];
	reason: string;
	at: number;
	/** Every answer the freelancer signed; the one the provider recorded first counts. */
	answers: DisputeAnswer[];
}

/** A client's signed limit change; it applies once the provider recorded it (see `limitFor`). */
export interface LimitChange {
	id: string;
	hours: number;
	at: number;
}

/** A recorded limit change: from which week it applies (a raise at once, a lowering from next Monday). */
export interface LimitStep {
	event: string;
	hours: number;
	from: string;
	recordedAt: number;
}

/** Money per week, settled by receipts only. Its escrow account holds funded + carriedIn − released − carriedOut − refunded − settled. */
export interface WeekBook {
	week: string;
	funded: Minor;
	carriedIn: Minor;
	released: Minor;
	carriedOut: Minor;
	refunded: Minor;
	/** Paid out by Resolution Center splits of its disputed segments (dispute.ts): to the freelancer, the client and a mediator. */
	settled?: Minor;
	/** The timesheet the provider recorded for this week, and when. */
	timesheet?: string;
	recordedAt?: number;
}

export interface HourlyState {
	segments: Map<string, Segment>;
	/** Slot start → the live segment in it. */
	slots: Map<number, string>;
	timesheets: Map<string, Timesheet>;
	disputes: Map<string, Dispute>;
	/** Answer id → its dispute. */
	answers: Map<string, string>;
	limitChanges: Map<string, LimitChange>;
	/** Recorded limit changes in the order the provider recorded them. */
	limits: LimitStep[];
	/** Pause and resume events by id (they count once recorded). */
	pauses: Map<string, 'pause' | 'resume'>;
	weeks: Map<string, WeekBook>;
}

/** A one-off payment with a note (either kind of contract). */
export interface Bonus {
	intent: string;
	amount: Minor;
	note: string;
	at: number;
	/** Set when the provider paid it. */
	receipt?: string;
	fee?: Minor;
	paidAt?: number;
}

export function emptyHourly(): HourlyState {
	return { segments: new Map(), slots: new Map(), timesheets: new Map(), disputes: new Map(), answers: new Map(), limitChanges: new Map(), limits: [], pauses: new Map(), weeks: new Map() };
}

export function isHourly(s: ContractState): boolean {
	return s.terms?.kind === 'hourly' && s.hourly !== undefined;
}

export function hourlyTermsOf(s: ContractState): HourlyRules {
	if (s.terms?.kind !== 'hourly') throw new Error('Not an hourly contract.');
	return s.terms.hourly;
}

/** floor(minutes × rate / 60): what `minutes` of work cost, in minor units, rounded down once. */
export function amountFor(minutes: number, rate: Minor): Minor {
	return Math.floor((minutes * rate) / 60) as Minor;
}

/** The week's money book (zeros for a week nothing happened in yet; not stored by this call). */
export function weekBook(s: ContractState, week: string): WeekBook {
	return s.hourly?.weeks.get(week) ?? { week, funded: ZERO_MINOR, carriedIn: ZERO_MINOR, released: ZERO_MINOR, carriedOut: ZERO_MINOR, refunded: ZERO_MINOR, settled: ZERO_MINOR };
}

/** The stored book, created on first use (rules that post money call this). */
export function openWeekBook(s: ContractState, week: string): WeekBook {
	const weeks = s.hourly!.weeks;
	let b = weeks.get(week);
	if (!b) weeks.set(week, (b = { week, funded: ZERO_MINOR, carriedIn: ZERO_MINOR, released: ZERO_MINOR, carriedOut: ZERO_MINOR, refunded: ZERO_MINOR, settled: ZERO_MINOR }));
	return b;
}

export function heldIn(b: WeekBook): Minor {
	return (b.funded + b.carriedIn - b.released - b.carriedOut - b.refunded - (b.settled ?? 0)) as Minor;
}

// —— the provider's record: pauses, the end, and the clocks they move ————————————————————————

type Stop = { at: number; kind: 'pause' | 'resume' | 'end' };

function stops(s: ContractState): Stop[] {
	const out: Stop[] = [];
	for (const r of s.recorded.values()) if (r.kind === 'pause' || r.kind === 'resume' || r.kind === 'end') out.push({ at: r.at, kind: r.kind });
	return out.sort((a, b) => a.at - b.at || (a.kind < b.kind ? -1 : 1));
}

/** Is the contract paused or ended at provider time `at`, as the provider recorded? Then since when. */
export function stoppedAt(s: ContractState, at: number): number | undefined {
	let since: number | undefined;
	for (const x of stops(s)) {
		if (x.at > at) break;
		if (x.kind === 'end') return since ?? x.at;
		since = x.kind === 'pause' ? (since ?? x.at) : undefined;
	}
	return since;
}

/** May time at slot `start` bill: not while the contract was paused or after it ended (recorded times)? */
function activeAt(s: ContractState, start: number): boolean {
	return stoppedAt(s, start) === undefined;
}

/** When the week closed: its end, or earlier when the contract was paused or ended during it (as recorded). */
export function closesAt(s: ContractState, week: string): number {
	const from = weekStart(week);
	let end = weekEnd(week);
	for (const x of stops(s)) if (x.kind !== 'resume' && x.at >= from && x.at < end) end = x.at;
	return end;
}

/** Edits lock, and the timesheet can be recorded, from here (provider time). */
export function lockAt(s: ContractState, week: string): number {
	return closesAt(s, week) + hourlyTermsOf(s).lockHours * HOUR_MS;
}

/** The lock by the week's calendar end alone: what a segment's claimed time is checked against. */
export function nominalLockAt(s: ContractState, week: string): number {
	return weekEnd(week) + hourlyTermsOf(s).lockHours * HOUR_MS;
}

/** A timesheet not recorded by then never bills: the week's escrow is all unused. */
export function timesheetDeadline(s: ContractState, week: string): number {
	return closesAt(s, week) + hourlyTermsOf(s).reviewDays * DAY_MS;
}

/**
 * The end of the client's review of a recorded timesheet: the terms' offset from the week's close,
 * and never less than the full review span after a late record (lock to review end), so recording
 * late never shortens the client's review.
 */
export function reviewEndsAt(s: ContractState, week: string): number | undefined {
	const b = s.hourly?.weeks.get(week);
	if (b?.recordedAt === undefined) return undefined;
	const r = hourlyTermsOf(s);
	const span = r.reviewDays * DAY_MS - r.lockHours * HOUR_MS;
	return Math.max(closesAt(s, week) + r.reviewDays * DAY_MS, b.recordedAt + span);
}

/** The timesheet the provider recorded for the week. */
export function recordedTimesheet(s: ContractState, week: string): Timesheet | undefined {
	const id = s.hourly?.weeks.get(week)?.timesheet;
	return id === undefined ? undefined : s.hourly!.timesheets.get(id);
}

// —— the weekly limit ————————————————————————————————————————————————————————————————————

/** The weekly limit in hours for `week` (undefined: no limit, not protected by escrow). */
export function limitFor(s: ContractState, week: string): number | undefined {
	let hours = hourlyTermsOf(s).weeklyLimitHours;
	for (const step of s.hourly!.limits) if (step.from <= week) hours = step.hours;
	return hours;
}

/** From which week a limit change recorded at `at` applies: a raise at once (hours already logged count), a lowering from next Monday. */
export function limitStepFrom(s: ContractState, hours: number, at: number): string {
	const week = weekOf(at);
	const current = limitFor(s, week);
	return current !== undefined && hours > current ? week : nextWeek(week);
}

/** The week's limit × rate: the escrow that protects it (undefined without a limit). */
export function capFor(s: ContractState, week: string): number | undefined {
	const limit = limitFor(s, week);
	return limit === undefined ? undefined : limit * hourlyTermsOf(s).rate;
}

/** Why a named segment cannot bill in its week, on the provider's record; null if it can. */
export function unbillableReason(s: ContractState, seg: Segment): string | null {
	if (!s.binding) return 'the contract is not bound yet';
	if (seg.start < slotOf(s.binding.at)) return 'it is before the contract began';
	if (seg.start + SEGMENT_MS > closesAt(s, seg.week)) return 'it is after the week closed (paused or ended)';
	if (!activeAt(s, seg.start)) return 'the contract was paused then';
	return null;
}

// —— disputes ————————————————————————————————————————————————————————————————————————————

export type DisputeStatus = 'unrecorded' | 'open' | 'accepted' | 'declined' | 'lapsed';

export function disputeAnswerDeadline(s: ContractState, d: Dispute): number | undefined {
	const rec = s.recorded.get(d.id);
	return rec === undefined ? undefined : rec.at + hourlyTermsOf(s).disputeAnswerDays * DAY_MS;
}

/** The answer the provider recorded for a dispute (it records one), if any. */
export function recordedAnswer(s: ContractState, d: Dispute): (DisputeAnswer & { recordedAt: number }) | undefined {
	for (const a of d.answers) {
		const rec = s.recorded.get(a.id);
		if (rec) return { ...a, recordedAt: rec.at };
	}
	return undefined;
}

/**
 * Where a dispute stands at provider time `at`: an answer counts if the provider recorded it before
 * the answer window ended; with none by then it has lapsed, which counts as accepted.
 */
export function disputeStatus(s: ContractState, d: Dispute, at: number): DisputeStatus {
	const rec = s.recorded.get(d.id);
	if (!rec || rec.at > at) return 'unrecorded';
	const deadline = disputeAnswerDeadline(s, d)!;
	const answer = recordedAnswer(s, d);
	if (answer && answer.recordedAt <= at && answer.recordedAt < deadline) return answer.accept ? 'accepted' : 'declined';
	return at >= deadline ? 'lapsed' : 'open';
}

/**
 * Declined for good: the freelancer's answer declining it was recorded within the answer window.
 * Independent of any clock, so the Resolution Center may take its segments over (dispute.ts).
 */
export function isDeclined(s: ContractState, d: Dispute): boolean {
	const answer = recordedAnswer(s, d);
	return answer !== undefined && !answer.accept && answer.recordedAt < disputeAnswerDeadline(s, d)!;
}

/**
 * The week's segments in Resolution Center disputes at provider time `at` (dispute.ts): those of
 * disputes still open wait for their split; those of settled ones were paid by it. Once recorded
 * such a dispute decides its segments, whatever segment dispute is answered or lapses after it.
 */
export function segmentsInResolution(s: ContractState, week: string, at: number): { open: Set<string>; settled: Set<string> } {
	const open = new Set<string>();
	const settled = new Set<string>();
	for (const d of s.disputes.values()) {
		if (d.segments?.week !== week || d.openedAt === undefined || d.openedAt > at) continue;
		const into = d.settlement && d.settlement.at <= at ? settled : open;
		for (const id of d.segments.ids) into.add(id);
	}
	return { open, settled };
}

// —— the week's figures ————————————————————————————————————————————————————————————————

export interface WeekFigures {
	week: string;
	/** Minutes in the recorded timesheet (0 without one). */
	minutes: number;
	/** What the recorded timesheet bills: floor(minutes × rate / 60). */
	billed: Minor;
	/** Minutes in disputes accepted or lapsed: not paid (the client keeps that escrow). */
	refundedMinutes: number;
	/** Minutes in disputes still open or declined, or in a Resolution Center dispute still open: they wait for their outcome. */
	disputedMinutes: number;
	/** Minutes a Resolution Center split paid (dispute.ts): no longer owed by the week's release. */
	settledMinutes: number;
	/** What the week owes the freelancer now. */
	payable: Minor;
	/** The most it may still come to owe: payable plus whatever open or declined disputes hold back. */
	/** Minor units, or Infinity (a week without a limit or a timesheet yet). */
	owed: number;
	released: Minor;
	/** In this week's escrow. */
	held: Minor;
	/** What a release pays now: what is owed and not released, up to what escrow holds. */
	releasable: Minor;
	/** Owed and not released, beyond what escrow holds ("owed, not in escrow"). */
	owedNotInEscrow: Minor;
	/** Escrow beyond anything the week may still owe: carried over, or refunded once paused or ended. */
	unused: Minor;
	/** What the client still pays in for the week: its limit × rate before the timesheet, what it owes after. */
	due: Minor;
}

/** The week's figures at provider time `at` (see WeekFigures). */
export function weekFigures(s: ContractState, week: string, at: number): WeekFigures {
	const r = hourlyTermsOf(s);
	const b = weekBook(s, week);
	const held = heldIn(b);
	const sheet = recordedTimesheet(s, week);
	let minutes = 0;
	let refundedMinutes = 0;
	let disputedMinutes = 0;
	let settledMinutes = 0;
	let owedMinutes: number | undefined;
	if (sheet) {
		minutes = sheet.minutes;
		const named = new Set(sheet.segments);
		const refunded = new Set<string>();
		const waiting = new Set<string>();
		for (const d of s.hourly!.disputes.values()) {
			if (d.week !== week) continue;
			const status = disputeStatus(s, d, at);
			if (status === 'unrecorded') continue;
			for (const seg of d.segments) {
				if (!named.has(seg)) continue;
				if (status === 'accepted' || status === 'lapsed') refunded.add(seg);
				else waiting.add(seg);
			}
		}
		// A recorded Resolution Center dispute decides its segments: open, they wait; settled, its split paid them.
		const resolution = segmentsInResolution(s, week, at);
		for (const seg of resolution.open) {
			if (!named.has(seg)) continue;
			refunded.delete(seg);
			waiting.add(seg);
		}
		for (const seg of resolution.settled) {
			refunded.delete(seg);
			waiting.delete(seg);
		}
		for (const seg of refunded) waiting.delete(seg);
		const settled = [...resolution.settled].filter((x) => named.has(x)).length;
		refundedMinutes = refunded.size * SEGMENT_MINUTES;
		disputedMinutes = waiting.size * SEGMENT_MINUTES;
		settledMinutes = settled * SEGMENT_MINUTES;
		owedMinutes = minutes - refundedMinutes - settledMinutes;
	}
	const billed = amountFor(minutes, r.rate);
	const payable = sheet ? amountFor(minutes - refundedMinutes - disputedMinutes - settledMinutes, r.rate) : ZERO_MINOR;
	const owed = sheet ? amountFor(owedMinutes!, r.rate) : potentialOwed(s, week, at);
	const stillOwed = Math.max(0, owed - b.released);
	const releasable = Math.max(0, Math.min(held, payable - b.released)) as Minor;
	const owedNotInEscrow = Math.max(0, payable - b.released - held) as Minor;
	const unused = Math.max(0, held - stillOwed) as Minor;
	// Before its timesheet a week needs its cap in escrow; after, what it may still owe.
	const need = sheet ? stillOwed : Number.isFinite(owed) ? owed : 0;
	const due = Math.max(0, need - held) as Minor;
	return { week, minutes, billed, refundedMinutes, disputedMinutes, settledMinutes, payable, owed, released: b.released, held, releasable, owedNotInEscrow, unused, due };
}

/**
 * What a week without a recorded timesheet may still come to owe at provider time `at`: nothing once
 * its timesheet deadline passed, or when the contract was paused or ended before the week began and
 * still is; else its limit × rate (Infinity without a limit: then no escrow is unused).
 */
function potentialOwed(s: ContractState, week: string, at: number): number {
	if (at >= timesheetDeadline(s, week)) return 0;
	const stopped = stoppedAt(s, at);
	if (stopped !== undefined && stopped <= weekStart(week)) return 0;
	return capFor(s, week) ?? Infinity;
}

/** Where unused escrow of `week` carries to when moved at provider time `at`: the week after the current one, and always a later week. */
export function carryTarget(week: string, at: number): string {
	const next = nextWeek(weekOf(at));
	const after = nextWeek(week);
	return next > after ? next : after;
}

/** All weekly escrow held now, across weeks. */
export function hourlyEscrow(s: ContractState): Minor {
	let sum = ZERO_MINOR;
	if (s.hourly) for (const b of s.hourly.weeks.values()) sum = addMinor(sum, heldIn(b));
	return sum;
}

/** Billed hours at most limit × 6 slots: the count of segments the week's limit allows. */
export function slotsAllowed(limitHours: number): number {
	return limitHours * SLOTS_PER_HOUR;
}

/** What ending an hourly contract means for the money, in words with amounts: what the confirmation shows. */
export function hourlyEndingConsequence(s: ContractState): string {
	const held = hourlyEscrow(s);
	const escrow = held > 0 ? ` Escrow holds ${moneyText(held, s.terms!.currency)} for the weeks; what they do not owe goes back to the client when they ask for it.` : '';
	return `Ending closes the current week now: time logged after it does not bill. Each week already worked still has its timesheet submitted, reviewed and paid as usual.${escrow} Payments already released stay with the freelancer.`;
}
