/**
 * Hourly contracts: the rules. Time is logged in 10-minute segments; each week (Monday to Sunday,
 * UTC — weeks.ts) closes into one timesheet; the client reviews it, may dispute segments, and the
 * week is paid from escrow the client funded at the weekly limit × rate. Who may do what:
 * - freelancer: log, edit and delete segments until the week's edits lock; sign the week's
 *   timesheet; accept or decline a dispute; claim the week's payment after the review window;
 * - client: fund a week; raise the limit (at once) or lower it (from next Monday); dispute segments
 *   in the review window; pause and resume; take back unused escrow; pay a bonus (either kind of
 *   contract);
 * - provider: records the timesheet at the lock, limit changes, disputes, answers, pauses and
 *   resumes (record.ts), and executes the money intents with receipts that settle them here.
 *
 * The provider never moves money unasked: a lapsed dispute answer counts as accepted when the
 * client's app reclaims the escrow; the week's payment moves when the freelancer's app claims it.
 * Each deadline is judged on the provider's record and the receipt's provider time, with the same
 * functions the provider ran before signing (timesheet.ts), so a replica and the provider never
 * disagree about a week. The freelancer's claimed times on segments are only checked against the
 * calendar (a segment cannot end after it was written, nor be written after the week locked): what
 * bills is the timesheet as the provider recorded it at the lock, on its own clock.
 */
import { weekEscrowAccount, type Transfer } from './ledger';
import { ZERO_MINOR, addMinor, type Minor } from '../money/minor';
import { activeFor } from './ending';
import { matureDue } from './payouts';
import type { RecordSubject } from './record';
import { moneyText, reject, type Rejection } from './rejections';
import type { RuleContext, RuleSet } from './rule';
import type { AttestedKind } from './schema';
import { isRejection, settleable } from './settlement';
import { DAY_MS, type ContractState, type EvOf, type Intent } from './state';
import {
	amountFor,
	carryTarget,
	disputeAnswerDeadline,
	emptyHourly,
	heldIn,
	hourlyTermsOf,
	isHourly,
	limitFor,
	limitStepFrom,
	lockAt,
	nominalLockAt,
	openWeekBook,
	recordedAnswer,
	recordedTimesheet,
	reviewEndsAt,
	slotsAllowed,
	stoppedAt,
	timesheetDeadline,
	unbillableReason,
	weekBook,
	weekFigures,
	type Segment
} from './timesheet';
import { SEGMENT_MINUTES, SEGMENT_MS, hoursText, isSlotStart, isWeekKey, utcTime, weekOf } from './weeks';

const notHourly = (): Rejection => reject('invalid-state', 'This is not an hourly contract.');

/** Set up the hourly state when an hourly proposal is folded (proposal.ts builds the rest). */
export function startHourly(s: ContractState): void {
	if (s.terms?.kind === 'hourly' && !s.hourly) s.hourly = emptyHourly();
}

function weekRefusal(s: ContractState, week: string): Rejection | null {
	if (!isHourly(s)) return notHourly();
	if (!isWeekKey(week)) return reject('invalid-state', `${week} is not a week: weeks are named by their Monday.`);
	return null;
}

// —— segments ——————————————————————————————————————————————————————————————————————————

/**
 * What the segment's own content allows, whatever else the log holds: an hourly contract, a slot on
 * the 10-minute grid that ended by the time it was written, manual time only if the terms allow it,
 * written before the week's edits lock, and an edit only of a segment of this contract.
 */
function segmentContentRefusal(s: ContractState, ev: EvOf<'hourly.segment'>): Rejection | null {
	if (!isHourly(s)) return notHourly();
	const { start, source, replaces } = ev.payload;
	if (!isSlotStart(start)) return reject('invalid-state', 'A segment starts on a whole ten minutes (:00, :10 … :50 UTC).');
	if (start + SEGMENT_MS > ev.at) return reject('invalid-state', 'The segment ends after the time it was written: time in the future cannot be logged.');
	if (source === 'manual' && !hourlyTermsOf(s).manualTime) return reject('invalid-state', 'The terms do not allow manual time.');
	const week = weekOf(start);
	if (ev.at >= nominalLockAt(s, week)) return reject('invalid-state', `Edits to the week of ${week} locked ${utcTime(nominalLockAt(s, week))}.`);
	if (replaces !== undefined) {
		const old = s.hourly!.segments.get(replaces);
		if (!old) return reject('invalid-state', 'It edits a segment this contract does not have.');
		if (ev.at >= nominalLockAt(s, old.week)) return reject('invalid-state', `Edits to the week of ${old.week} locked ${utcTime(nominalLockAt(s, old.week))}.`);
		const altered = trackedEditRefusal(old, ev.payload);
		if (altered) return altered;
	}
	return null;
}

/**
 * Tracked time is what the tracker saw: its slot, its activity count and its screenshot are the
 * evidence the client reads, so an edit may change a tracked segment's memo and nothing else. The
 * source never changes either way: manual time edited into "tracked" would pass as evidence it is
 * not (to move tracked time, delete it and add manual time, which is labelled as such).
 */
function trackedEditRefusal(old: Segment, edit: EvOf<'hourly.segment'>['payload']): Rejection | null {
	if (old.source === 'manual' && edit.source === 'tracked') return reject('tracked-time-altered', 'Manual time cannot become tracked time: only the time tracker logs tracked time.');
	if (old.source === 'tracked' && edit.source === 'manual') return reject('tracked-time-altered', 'Tracked time cannot be relabelled as manual: delete it and add manual time instead.');
	if (old.source !== 'tracked') return null;
	if (edit.start !== old.start) return reject('tracked-time-altered', `Tracked time stays at the time it was tracked (${utcTime(old.start)}): delete it and add manual time instead.`);
	if (edit.activity !== old.activity) return reject('tracked-time-altered', `The activity the tracker counted (${old.activity} of 10 minutes) cannot be changed.`);
	if (edit.screenshot !== old.screenshot) return reject('tracked-time-altered', 'A tracked segment keeps its screenshot: to discard the screenshot, delete its segment.');
	return null;
}

/** What other segments on this replica allow (it may depend on which of two concurrent events folds first). */
function segmentConflictRefusal(s: ContractState, ev: EvOf<'hourly.segment'>): Rejection | null {
	const h = s.hourly!;
	const { start, replaces } = ev.payload;
	if (replaces !== undefined && h.segments.get(replaces)!.status !== 'live') return reject('invalid-state', 'That segment was already edited or deleted.');
	for (const week of new Set([weekOf(start), ...(replaces !== undefined ? [h.segments.get(replaces)!.week] : [])]))
		if (recordedTimesheet(s, week)) return reject('invalid-state', `The week of ${week} is locked: the provider recorded its timesheet.`);
	const occupant = h.slots.get(start);
	if (occupant !== undefined && occupant !== replaces) return reject('invalid-state', `Another segment already covers ${utcTime(start)}: edit that one instead.`);
	return null;
}

function segmentOf(s: ContractState, ev: EvOf<'hourly.segment'>, status: Segment['status']): Segment {
	const { start, source, memo, activity, screenshot, replaces } = ev.payload;
	const root = replaces === undefined ? ev.id : s.hourly!.segments.get(replaces)!.root;
	return {
		id: ev.id,
		start,
		week: weekOf(start),
		source,
		memo,
		activity,
		...(screenshot !== undefined ? { screenshot } : {}),
		at: ev.at,
		...(replaces !== undefined ? { replaces } : {}),
		root,
		status
	};
}

/**
 * A segment refused only for a conflict with another segment on this replica (the same slot, an
 * edit of a segment already edited) is kept as "refused": a timesheet written on a device that had
 * not seen the other one may name it, and the timesheet's validity must not depend on fold order.
 * The fold calls this for every refused event.
 */
export function keepRefusedSegment(s: ContractState, ev: { type: string }): void {
	if (ev.type !== 'hourly.segment') return;
	const seg = ev as EvOf<'hourly.segment'>;
	if (!s.hourly || s.hourly.segments.has(seg.id) || segmentContentRefusal(s, seg)) return;
	s.hourly.segments.set(seg.id, segmentOf(s, seg, 'refused'));
}

/** A timesheet the freelancer may sign for `week` on this replica: every live billable segment (memo written), earliest first, up to the limit. */
export function timesheetDraft(s: ContractState, week: string): { segments: string[]; minutes: number; amount: number; overLimit: string[]; unbilled: string[] } {
	const live = [...s.hourly!.segments.values()].filter((x) => x.status === 'live' && x.week === week).sort((a, b) => a.start - b.start);
	const limit = limitFor(s, week);
	const cap = limit === undefined ? Infinity : slotsAllowed(limit);
	const segments: string[] = [];
	const overLimit: string[] = [];
	const unbilled: string[] = [];
	for (const x of live) {
		if (!x.memo || unbillableReason(s, x)) unbilled.push(x.id);
		else if (segments.length < cap) segments.push(x.id);
		else overLimit.push(x.id);
	}
	const minutes = segments.length * SEGMENT_MINUTES;
	return { segments, minutes, amount: amountFor(minutes, hourlyTermsOf(s).rate), overLimit, unbilled };
}

// —— the provider's record of hourly events (record.ts asks these) ——————————————————————————

/** What the provider may record for `event` among the hourly events. */
export function hourlyRecordSubject(s: ContractState, event: string): RecordSubject | undefined {
	const h = s.hourly;
	if (!h) return undefined;
	const sheet = h.timesheets.get(event);
	if (sheet) return { kind: 'timesheet', week: sheet.week };
	const dispute = h.disputes.get(event);
	if (dispute) return { kind: 'dispute', week: dispute.week };
	const answered = h.answers.get(event);
	if (answered !== undefined) return { kind: 'dispute-answer', week: h.disputes.get(answered)!.week };
	if (h.limitChanges.has(event)) return { kind: 'limit-change' };
	const pause = h.pauses.get(event);
	if (pause) return { kind: pause };
	return undefined;
}

const HOURLY_KINDS = new Set<AttestedKind>(['timesheet', 'limit-change', 'dispute', 'dispute-answer', 'pause', 'resume']);

/** Is this a kind of record only hourly contracts have? */
export const isHourlyKind = (kind: AttestedKind): boolean => HOURLY_KINDS.has(kind);

/**
 * May the provider record this hourly event at its time `at`? The provider asks before it signs,
 * and every replica asks again of the receipt, on the same record: a timesheet only from the week's
 * lock until its deadline, once per week, naming only time that may bill, within the week's limit;
 * a dispute only in the review window, of segments the recorded timesheet bills; one answer per
 * dispute, within its answer window; pause and resume in turn.
 */
export function hourlyRecordRefusal(s: ContractState, subject: RecordSubject, event: string, at: number, ctx?: RuleContext): Rejection | null {
	if (!HOURLY_KINDS.has(subject.kind)) return null;
	const h = s.hourly!;
	switch (subject.kind) {
		case 'timesheet': {
			const sheet = h.timesheets.get(event)!;
			if (recordedTimesheet(s, sheet.week)) return reject('invalid-state', `The provider has already recorded the timesheet of the week of ${sheet.week}.`);
			const lock = lockAt(s, sheet.week);
			if (at < lock) return reject('too-early', `Edits to the week lock ${utcTime(lock)}; its timesheet is recorded from then.`);
			const deadline = timesheetDeadline(s, sheet.week);
			if (at >= deadline) return reject('invalid-state', `The week's timesheet had to be recorded by ${utcTime(deadline)}.`);
			for (const id of sheet.segments) {
				const why = unbillableReason(s, h.segments.get(id)!);
				if (why) return reject('invalid-state', `A segment it bills cannot bill: ${why}.`);
			}
			const limit = limitFor(s, sheet.week);
			if (limit !== undefined && sheet.segments.length > slotsAllowed(limit))
				return reject('invalid-state', `It bills ${hoursText(sheet.minutes)}; the week's limit is ${limit} h.`);
			return null;
		}
		case 'dispute': {
			const d = h.disputes.get(event)!;
			const sheet = recordedTimesheet(s, d.week);
			if (!sheet) return reject('invalid-state', 'The week has no recorded timesheet to dispute.');
			const end = reviewEndsAt(s, d.week)!;
			if (at >= end) return reject('invalid-state', `The review window ended ${utcTime(end)}.`);
			const named = new Set(sheet.segments);
			if (d.segments.some((x) => !named.has(x))) return reject('invalid-state', 'It disputes segments the recorded timesheet does not bill.');
			return null;
		}
		case 'dispute-answer': {
			const d = h.disputes.get(h.answers.get(event)!)!;
			if (!s.recorded.has(d.id)) return reject('invalid-state', 'The provider has not recorded the dispute yet.');
			if (recordedAnswer(s, d)) return reject('invalid-state', 'The provider has already recorded an answer to this dispute.');
			const deadline = disputeAnswerDeadline(s, d)!;
			if (at >= deadline) return reject('invalid-state', `The answer window ended ${utcTime(deadline)}: the dispute counts as accepted.`);
			return null;
		}
		case 'limit-change':
			return !activeFor(s, event, ctx) ? reject('invalid-state', 'The contract has ended.') : null;
		case 'pause':
			if (!activeFor(s, event, ctx)) return reject('invalid-state', 'Only an active contract can be paused.');
			return stoppedAt(s, at) !== undefined ? reject('invalid-state', 'The contract is already paused.') : null;
		case 'resume':
			if (!activeFor(s, event, ctx)) return reject('invalid-state', 'Only an active contract can be resumed.');
			return stoppedAt(s, at) === undefined ? reject('invalid-state', 'The contract is not paused.') : null;
		default:
			return null;
	}
}

/** The fold applies a recorded hourly event (record.ts, after `s.recorded` has it). */
export function applyHourlyRecord(s: ContractState, subject: RecordSubject, event: string, at: number): void {
	const h = s.hourly;
	if (!h) return;
	if (subject.kind === 'timesheet') {
		const b = openWeekBook(s, subject.week!);
		b.timesheet = event;
		b.recordedAt = at;
	} else if (subject.kind === 'limit-change') {
		const c = h.limitChanges.get(event)!;
		h.limits.push({ event, hours: c.hours, from: limitStepFrom(s, c.hours, at), recordedAt: at });
	}
}

// —— money ——————————————————————————————————————————————————————————————————————————————

/**
 * The freelancer's claim on a week at provider time `at`: the review window of its recorded
 * timesheet has passed, and there is something to pay or unused escrow to carry on.
 */
export function weekReleaseRefusal(s: ContractState, week: string, at: number): Rejection | null {
	if (!recordedTimesheet(s, week)) return reject('invalid-state', 'The provider has not recorded the week’s timesheet.');
	const end = reviewEndsAt(s, week)!;
	if (at < end) return reject('too-early', `The client's review ends ${utcTime(end)}.`);
	const f = weekFigures(s, week, at);
	if (f.releasable === 0 && carriedOnRelease(s, week, at) === 0)
		return reject('invalid-state', f.owedNotInEscrow > 0 ? `${moneyText(f.owedNotInEscrow, s.terms!.currency)} is owed but not in escrow.` : 'Nothing is left to pay for this week.');
	return null;
}

/** What a week's release carries on at `at`: its unused escrow, unless the contract is paused or ended (then the client takes it back). */
export function carriedOnRelease(s: ContractState, week: string, at: number): Minor {
	return stoppedAt(s, at) === undefined ? weekFigures(s, week, at).unused : ZERO_MINOR;
}

/** The client's reclaim of a week's unused escrow at `at`: to the client once paused or ended, else on to a later week. */
export function reclaimRefusal(s: ContractState, week: string, at: number): Rejection | null {
	if (weekFigures(s, week, at).unused === 0) return reject('invalid-state', 'The week holds no unused escrow now: it may still be owed.');
	return null;
}

/** The receipt a provider signs for a week's release at `at` (the mock and every replica compute the same). */
export function weekReleaseTerms(s: ContractState, week: string, at: number): { amount: Minor; carried: Minor; carriedTo?: string } {
	const amount = weekFigures(s, week, at).releasable;
	const carried = carriedOnRelease(s, week, at);
	return { amount, carried, ...(carried > 0 ? { carriedTo: carryTarget(week, at) } : {}) };
}

export function weekReclaimTerms(s: ContractState, week: string, at: number): { amount: Minor; to: 'client' | 'carry'; carriedTo?: string } {
	const amount = weekFigures(s, week, at).unused;
	return stoppedAt(s, at) !== undefined ? { amount, to: 'client' } : { amount, to: 'carry', carriedTo: carryTarget(week, at) };
}

/** Hourly intents judged on the provider's clock: the week's release and the reclaim of unused escrow. */
export function isHourlyClockJudged(intent: Pick<Intent, 'type'>): boolean {
	return intent.type === 'hourly.release' || intent.type === 'hourly.reclaim';
}

export function hourlyClockRefusal(s: ContractState, intent: Intent, at: number): Rejection | null {
	if (intent.type === 'hourly.release') return weekReleaseRefusal(s, intent.week!, at);
	if (intent.type === 'hourly.reclaim') return reclaimRefusal(s, intent.week!, at);
	return null;
}

function postCarry(s: ContractState, receipt: string, from: string, to: string, amount: Minor, at: number, batch: Transfer[]): void {
	batch.push({ receipt, kind: 'carry', from: weekEscrowAccount(from), to: weekEscrowAccount(to), amount, week: from, at });
	const out = openWeekBook(s, from);
	out.carriedOut = addMinor(out.carriedOut, amount);
	const into = openWeekBook(s, to);
	into.carriedIn = addMinor(into.carriedIn, amount);
}

function pushLot(s: ContractState, receipt: string, amount: Minor, at: number, tag: { week: string } | { bonus: string }): void {
	s.releases.push({
		receipt,
		milestone: 'week' in tag ? `week:${tag.week}` : 'bonus',
		amount,
		releasedAt: at,
		maturesAt: at + s.terms!.securityPeriodDays * DAY_MS,
		matured: false,
		...tag
	});
	matureDue(s, receipt);
}

export const hourlyRuleSet: RuleSet = {
	'hourly.segment': {
		who: ['freelancer'],
		check: (s, ev) => segmentContentRefusal(s, ev) ?? segmentConflictRefusal(s, ev),
		apply(s, ev) {
			const h = s.hourly!;
			const seg = segmentOf(s, ev, 'live');
			const old = seg.replaces === undefined ? undefined : h.segments.get(seg.replaces)!;
			if (old) {
				old.status = 'replaced';
				if (h.slots.get(old.start) === old.id) h.slots.delete(old.start);
			}
			h.segments.set(seg.id, seg);
			h.slots.set(seg.start, seg.id);
		}
	},
	'hourly.segmentsDeleted': {
		who: ['freelancer'],
		check(s, ev) {
			if (!isHourly(s)) return notHourly();
			for (const id of ev.payload.segments) {
				const seg = s.hourly!.segments.get(id);
				if (!seg || seg.status !== 'live') return reject('invalid-state', 'It deletes a segment that is not on the diary.');
				if (ev.at >= nominalLockAt(s, seg.week)) return reject('invalid-state', `Edits to the week of ${seg.week} locked ${utcTime(nominalLockAt(s, seg.week))}.`);
				if (recordedTimesheet(s, seg.week)) return reject('invalid-state', `The week of ${seg.week} is locked: the provider recorded its timesheet.`);
			}
			return null;
		},
		apply(s, ev) {
			const h = s.hourly!;
			for (const id of ev.payload.segments) {
				const seg = h.segments.get(id)!;
				seg.status = 'deleted';
				if (h.slots.get(seg.start) === id) h.slots.delete(seg.start);
			}
		}
	},
	/**
	 * Checked on its content alone (the segments it names, which are in its causal past): which week,
	 * distinct slots, each edit chain once, memos written, and minutes and amount that add up. When
	 * it may be recorded, and whether it fits the limit, is the provider's record to judge.
	 */
	'hourly.timesheet': {
		who: ['freelancer'],
		check(s, ev) {
			const { week, segments, minutes, amount, currency } = ev.payload;
			const bad = weekRefusal(s, week);
			if (bad) return bad;
			if (currency !== s.terms!.currency) return reject('currency-mismatch');
			const slots = new Set<number>();
			const roots = new Set<string>();
			for (const id of segments) {
				const seg = s.hourly!.segments.get(id);
				if (!seg) return reject('invalid-state', 'It bills a segment this contract does not have.');
				if (seg.week !== week) return reject('invalid-state', `It bills a segment of the week of ${seg.week}.`);
				if (!seg.memo) return reject('invalid-state', 'It bills a segment without a memo.');
				if (slots.has(seg.start) || roots.has(seg.root)) return reject('invalid-state', 'It bills the same time twice.');
				slots.add(seg.start);
				roots.add(seg.root);
			}
			if (minutes !== segments.length * SEGMENT_MINUTES) return reject('amount-mismatch', `${segments.length} segments are ${segments.length * SEGMENT_MINUTES} minutes.`);
			if (amount !== amountFor(minutes, hourlyTermsOf(s).rate)) return reject('amount-mismatch', `${minutes} minutes bill ${moneyText(amountFor(minutes, hourlyTermsOf(s).rate), currency)}.`);
			return null;
		},
		apply(s, ev) {
			const { week, segments, minutes, amount } = ev.payload;
			s.hourly!.timesheets.set(ev.id, { id: ev.id, week, segments: [...segments], minutes, amount, at: ev.at });
		}
	},
	'hourly.limitChanged': {
		who: ['client'],
		check: (s, ev, ctx) => (!isHourly(s) ? notHourly() : !activeFor(s, ev.id, ctx) ? reject('invalid-state', 'The limit changes on an active contract.') : null),
		apply(s, ev) {
			s.hourly!.limitChanges.set(ev.id, { id: ev.id, hours: ev.payload.hours, at: ev.at });
		}
	},
	'hourly.disputed': {
		who: ['client'],
		check(s, ev) {
			const bad = weekRefusal(s, ev.payload.week);
			if (bad) return bad;
			const sheet = recordedTimesheet(s, ev.payload.week);
			if (!sheet) return reject('invalid-state', 'The week has no recorded timesheet to dispute.');
			const named = new Set(sheet.segments);
			if (new Set(ev.payload.segments).size !== ev.payload.segments.length) return reject('invalid-state', 'It names a segment twice.');
			if (ev.payload.segments.some((x) => !named.has(x))) return reject('invalid-state', 'It disputes segments the recorded timesheet does not bill.');
			return null;
		},
		apply(s, ev) {
			const { week, segments, reason } = ev.payload;
			s.hourly!.disputes.set(ev.id, { id: ev.id, week, segments: [...segments], reason, at: ev.at, answers: [] });
		}
	},
	'hourly.disputeAnswered': {
		who: ['freelancer'],
		check(s, ev) {
			if (!isHourly(s)) return notHourly();
			if (!s.hourly!.disputes.has(ev.payload.dispute)) return reject('invalid-state', 'It answers a dispute this contract does not have.');
			return null;
		},
		apply(s, ev) {
			s.hourly!.disputes.get(ev.payload.dispute)!.answers.push({ id: ev.id, accept: ev.payload.accept, at: ev.at });
			s.hourly!.answers.set(ev.id, ev.payload.dispute);
		}
	},
	'hourly.paused': {
		who: ['client'],
		check: (s, ev, ctx) => (!isHourly(s) ? notHourly() : !activeFor(s, ev.id, ctx) ? reject('invalid-state', 'Only an active contract can be paused.') : null),
		apply(s, ev) {
			s.hourly!.pauses.set(ev.id, 'pause');
		}
	},
	'hourly.resumed': {
		who: ['client'],
		check: (s, ev, ctx) => (!isHourly(s) ? notHourly() : !activeFor(s, ev.id, ctx) ? reject('invalid-state', 'Only an active contract can be resumed.') : null),
		apply(s, ev) {
			s.hourly!.pauses.set(ev.id, 'resume');
		}
	},
	'hourly.fund': {
		who: ['client'],
		check(s, ev, ctx) {
			const { week, amount, currency } = ev.payload;
			const bad = weekRefusal(s, week);
			if (bad) return bad;
			if (!activeFor(s, ev.id, ctx)) return reject('invalid-state', 'Weeks are funded on an active contract.');
			if (currency !== s.terms!.currency) return reject('currency-mismatch');
			// No "already pending" refusal here or on claims: an intent the provider refused stays in its record
			// and would block every later one. A second funding finds nothing due; a second claim nothing to pay.
			const due = weekFigures(s, week, ev.at).due;
			if (due === 0) return reject('invalid-state', limitFor(s, week) === undefined && !recordedTimesheet(s, week) ? 'Without a weekly limit a week is paid after its timesheet (not protected by escrow).' : 'The week is funded.');
			if (amount !== due) return reject('amount-mismatch', `The week needs ${moneyText(due, currency)}, the intent says ${moneyText(amount, currency)}.`);
			return null;
		},
		apply() {}
	},
	'receipt.weekFunded': {
		who: ['provider'],
		check(s, ev) {
			const r = settleable(s, ev, 'hourly.fund');
			if (isRejection(r)) return r;
			if (ev.payload.week !== r.intent.week) return reject('receipt-mismatch', 'The receipt is for another week than its intent.');
			if (ev.payload.amount !== r.intent.amount) return reject('amount-mismatch', 'The receipt does not match its intent.');
			return null;
		},
		apply(s, ev) {
			const { week, amount, fee, intent } = ev.payload;
			const batch: Transfer[] = [{ receipt: ev.id, kind: 'fund', from: 'client:source', to: weekEscrowAccount(week), amount, week, at: ev.at }];
			if (fee > 0) batch.push({ receipt: ev.id, kind: 'fee', from: 'client:source', to: 'provider:fees', amount: fee, week, at: ev.at });
			s.ledger.post(batch);
			const b = openWeekBook(s, week);
			b.funded = addMinor(b.funded, amount);
			s.intents.get(intent)!.settledBy = ev.id;
		}
	},
	'hourly.release': {
		who: ['freelancer'],
		check(s, ev) {
			const bad = weekRefusal(s, ev.payload.week);
			if (bad) return bad;
			if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
			if (!recordedTimesheet(s, ev.payload.week)) return reject('invalid-state', 'The provider has not recorded the week’s timesheet.');
			return null;
		},
		apply() {}
	},
	'receipt.weekReleased': {
		who: ['provider'],
		check(s, ev) {
			const r = settleable(s, ev, 'hourly.release');
			if (isRejection(r)) return r;
			const { week, amount, carried, carriedTo } = ev.payload;
			if (week !== r.intent.week) return reject('receipt-mismatch', 'The receipt is for another week than its intent.');
			// Judged on the provider's record and this receipt's provider time, exactly as the provider judged it.
			const refusal = weekReleaseRefusal(s, week, ev.at);
			if (refusal) return refusal;
			const want = weekReleaseTerms(s, week, ev.at);
			if (amount !== want.amount || carried !== want.carried || carriedTo !== want.carriedTo)
				return reject('amount-mismatch', `The week pays ${moneyText(want.amount, s.terms!.currency)} and carries ${moneyText(want.carried, s.terms!.currency)} on now.`);
			return null;
		},
		apply(s, ev) {
			const { week, amount, carried, carriedTo, intent } = ev.payload;
			const batch: Transfer[] = [];
			if (amount > 0) batch.push({ receipt: ev.id, kind: 'release', from: weekEscrowAccount(week), to: 'freelancer:pending', amount, week, at: ev.at });
			if (carried > 0) postCarry(s, ev.id, week, carriedTo!, carried, ev.at, batch);
			s.ledger.post(batch);
			const b = openWeekBook(s, week);
			b.released = addMinor(b.released, amount);
			if (amount > 0) pushLot(s, ev.id, amount, ev.at, { week });
			s.intents.get(intent)!.settledBy = ev.id;
		}
	},
	'hourly.reclaim': {
		who: ['client'],
		check(s, ev) {
			const bad = weekRefusal(s, ev.payload.week);
			if (bad) return bad;
			if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
			if (heldIn(weekBook(s, ev.payload.week)) === 0) return reject('unfunded', 'The week holds no escrow.');
			return null;
		},
		apply() {}
	},
	'receipt.weekReclaimed': {
		who: ['provider'],
		check(s, ev) {
			const r = settleable(s, ev, 'hourly.reclaim');
			if (isRejection(r)) return r;
			const { week, amount, to, carriedTo } = ev.payload;
			if (week !== r.intent.week) return reject('receipt-mismatch', 'The receipt is for another week than its intent.');
			const refusal = reclaimRefusal(s, week, ev.at);
			if (refusal) return refusal;
			const want = weekReclaimTerms(s, week, ev.at);
			if (amount !== want.amount || to !== want.to || carriedTo !== want.carriedTo)
				return reject('amount-mismatch', `${moneyText(want.amount, s.terms!.currency)} of the week's escrow is unused now.`);
			return null;
		},
		apply(s, ev) {
			const { week, amount, to, carriedTo, intent } = ev.payload;
			const batch: Transfer[] = [];
			if (to === 'client') {
				batch.push({ receipt: ev.id, kind: 'refund', from: weekEscrowAccount(week), to: 'client:source', amount, week, at: ev.at });
				const b = openWeekBook(s, week);
				b.refunded = addMinor(b.refunded, amount);
			} else postCarry(s, ev.id, week, carriedTo!, amount, ev.at, batch);
			s.ledger.post(batch);
			s.intents.get(intent)!.settledBy = ev.id;
		}
	},
	'bonus.paid': {
		who: ['client'],
		check(s, ev) {
			if (s.status !== 'active' && s.status !== 'ended') return reject('invalid-state', 'A bonus is paid on an accepted contract.');
			if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
			return null;
		},
		apply(s, ev) {
			s.bonuses.push({ intent: ev.id, amount: ev.payload.amount, note: ev.payload.note, at: ev.at });
		}
	},
	'receipt.bonusPaid': {
		who: ['provider'],
		check(s, ev) {
			const r = settleable(s, ev, 'bonus.paid');
			if (isRejection(r)) return r;
			if (ev.payload.amount !== r.intent.amount) return reject('amount-mismatch', 'The receipt does not match its intent.');
			return null;
		},
		apply(s, ev) {
			const { amount, fee, intent } = ev.payload;
			const batch: Transfer[] = [{ receipt: ev.id, kind: 'bonus', from: 'client:source', to: 'freelancer:pending', amount, at: ev.at }];
			if (fee > 0) batch.push({ receipt: ev.id, kind: 'fee', from: 'client:source', to: 'provider:fees', amount: fee, at: ev.at });
			s.ledger.post(batch);
			pushLot(s, ev.id, amount, ev.at, { bonus: intent });
			const b = s.bonuses.find((x) => x.intent === intent);
			if (b) Object.assign(b, { receipt: ev.id, fee, paidAt: ev.at });
			s.intents.get(intent)!.settledBy = ev.id;
		}
	}
};

/** The hourly invariants, asserted with the contract's (fold.ts): each week's escrow account equals its counters, and no week pays more than its timesheet or bills more than its limit. */
export function hourlyInvariantProblems(s: ContractState): string[] {
	const out: string[] = [];
	if (!s.hourly) return out;
	for (const b of s.hourly.weeks.values()) {
		if (s.ledger.balance(weekEscrowAccount(b.week)) !== heldIn(b)) out.push(`week ${b.week}: escrow account disagrees with its counters`);
		const sheet = recordedTimesheet(s, b.week);
		if (b.released > (sheet?.amount ?? 0)) out.push(`week ${b.week}: released ${b.released} > billed ${sheet?.amount ?? 0}`);
		const limit = limitFor(s, b.week);
		if (sheet && limit !== undefined && sheet.amount > limit * hourlyTermsOf(s).rate) out.push(`week ${b.week}: billed ${sheet.amount} > limit ${limit} h × rate`);
	}
	return out;
}
