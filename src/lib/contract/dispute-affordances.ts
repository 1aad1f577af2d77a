/**
 * What a role may do in the Resolution Center now (dispute.ts), per milestone (or, on an hourly
 * contract, per declined segment dispute): open a dispute, and
 * on the open one make an offer, accept the other's last offer or the midpoint, reject and go to
 * mediation, accept the mediator, or have the outcome that is due executed. Built on the rules'
 * own checks (`check`, `splitDecision`, `settleDecision`, the record's deadlines), judged at
 * provider time, so a page renders these and decides nothing about money.
 */
import { check } from './fold';
import {
	REASONS_OF,
	SEGMENTS_REASON,
	disputeMidpoint,
	disputeStatus,
	isSmall,
	mediatorFee,
	mediatorSetupDeadline,
	negotiationEnd,
	rulingDeadline,
	openDispute,
	otherRole,
	segmentsAmount,
	settleDecision,
	splitDecision,
	subjectOf,
	type DisputeStatus,
	type Split
} from './dispute';
import { reasonOf, reject, utcTime, type Rejection } from './rejections';
import type { Affordance } from './affordances';
import type { DisputeReason, EventType, Payload } from './schema';
import { isDeclined } from './timesheet';
import type { EventId, PublicKey } from './ids';
import { escrowOf, type ContractState, type Dispute, type DisputeOffer, type Ev, type Intent, type Role } from './state';

/** A mediator one party may accept: the one the terms name, or one the other party accepted (proposed), else its own proposal. */
export interface MediatorChoice {
	publicKey: string;
	name: string;
	feeBps: number;
	/** What its fee rule comes to on this dispute. */
	fee: number;
}

export interface DisputeView {
	dispute: Dispute;
	status: DisputeStatus;
	/**
	 * Copies of what changes on the dispute as steps are recorded (the fold updates it in place): a
	 * page that compares by reference sees a new value each time.
	 */
	offers: Dispute['offers'];
	mediator?: Dispute['mediator'];
	/** This role's and the other party's last recorded offers (to the freelancer). */
	mine?: DisputeOffer;
	theirs?: DisputeOffer;
	midpoint?: number;
	offer: Affordance<{ max: number }>;
	accept: Affordance<{ offer?: string; split?: Split }>;
	acceptMidpoint: Affordance<{ client?: string; freelancer?: string; split?: Split }>;
	/** Reject the other's last offer: mediation, or the midpoint at once below the small-dispute limit. */
	reject: Affordance<{ offer?: string; needsFinal: boolean; small: boolean }>;
	acceptMediator: Affordance<{ mediator?: MediatorChoice; acceptedByMe: boolean }>;
	/** Name a mediator and its fee rule by accepting it (the terms name none): the other party then accepts it or not. */
	proposeMediator: Affordance;
	/** The outcome the rules say is due now (a deadline passed): either party's app submits it. */
	settle: Affordance<{ split?: Split }>;
}

/** The disputes on one subject: a milestone's escrow, or (hourly) the segments of one declined segment dispute. */
export interface MilestoneDisputes {
	milestone?: string;
	/** Hourly: the declined segment dispute, its week and its segments. */
	segments?: { dispute: string; week: string; ids: string[] };
	/**
	 * Open a dispute on escrow still held: up to `max`, for one of `reasons` (this role's that the
	 * rules allow now). On segments the amount is exactly `max`, what they bill.
	 */
	open: Affordance<{ max: number; reasons: DisputeReason[] }>;
	/** The milestone's dispute that is not settled (recorded or waiting for the provider's record). */
	current?: DisputeView;
	/** Its settled disputes, oldest first. */
	past: Dispute[];
}

function allow<D extends object>(r: Rejection | null, d: D): Affordance<D> {
	return r ? { ...d, allowed: false, reason: reasonOf(r), code: r.code } : { ...d, allowed: true };
}

const NOT_A_PARTY = reject('not-party', 'Only the client and the freelancer of this contract take part in its disputes.');

/** The rules' verdict on an event this role would write now, without writing anything. */
function probe<T extends EventType>(s: ContractState, role: Role | undefined, type: T, payload: Payload<T>, at: number): Rejection | null {
	const author = role && s.parties[role];
	if (!author) return NOT_A_PARTY;
	const ev = { id: '', v: 1, contract: s.contract, author, prev: null, deps: [], at, type, payload } as unknown as Ev;
	return check(s, ev);
}

/** The provider's verdict on a dispute money intent this role would sign now (what it would split). */
function judge(s: ContractState, role: Role, type: Intent['type'], d: Dispute, named: Intent['dispute'], at: number): { split: Split } | Rejection {
	const intent: Intent = { id: '' as EventId, type, author: s.parties[role]!, at, ...subjectOf(d), dispute: named };
	return splitDecision(s, intent, at);
}

const refusal = (x: { split: Split } | Rejection): Rejection | null => ('split' in x ? null : x);

/** The mediator this role may accept on `d`, if there is one to accept. */
function mediatorChoice(s: ContractState, d: Dispute, role: Role): MediatorChoice | undefined {
	const named = s.terms!.mediator;
	if (named) return { ...named, fee: mediatorFee(s, d, named.feeBps) };
	// The other party's latest proposal is the one to accept; else this role's own (it waits for the other).
	let theirs: MediatorChoice | undefined;
	let mine: MediatorChoice | undefined;
	for (const st of d.steps.values()) {
		if (st.kind !== 'mediator-acceptance' || st.recordedAt === undefined || !st.mediator) continue;
		if (st.by === role) mine = { ...st.mediator };
		else theirs = { ...st.mediator };
	}
	return theirs ?? mine;
}

function acceptedByRole(d: Dispute, role: Role, m: MediatorChoice): boolean {
	for (const st of d.steps.values())
		if (st.kind === 'mediator-acceptance' && st.by === role && st.mediator?.publicKey === m.publicKey && st.mediator.feeBps === m.feeBps) return true;
	return false;
}

function viewOf(s: ContractState, d: Dispute, role: Role | undefined, now: number): DisputeView {
	const status = disputeStatus(s, d, now);
	const waiting = d.openedAt === undefined ? reject('invalid-state', 'Waiting for the escrow provider to record the dispute.') : null;
	if (!role || !s.parties[role]) {
		const no = { allowed: false as const, reason: reasonOf(NOT_A_PARTY), code: NOT_A_PARTY.code };
		return {
			dispute: d,
			status,
			offers: { ...d.offers },
			...(d.mediator ? { mediator: { ...d.mediator } } : {}),
			midpoint: disputeMidpoint(d),
			offer: { ...no, max: d.amount },
			accept: no,
			acceptMidpoint: no,
			reject: { ...no, needsFinal: false, small: isSmall(s, d) },
			acceptMediator: { ...no, acceptedByMe: false },
			proposeMediator: no,
			settle: no
		};
	}
	const mine = d.offers[role];
	const theirs = d.offers[otherRole(role)];
	const small = isSmall(s, d);

	// An offer counts once the provider records it before negotiation ends (dispute.ts, the record).
	let offer = waiting ?? probe(s, role, 'dispute.offered', { dispute: d.id, amount: 0 }, now);
	const end = negotiationEnd(s, d);
	if (!offer && end !== undefined && now >= end) offer = reject('invalid-state', `Negotiation ended ${utcTime(end)}: no new offers. Accept the last offer, take the midpoint, or reject it.`);

	const c = s.terms!.currency;
	const acceptJudged = theirs
		? judge(s, role, 'dispute.accept', d, { id: d.id, offer: theirs.id }, now)
		: reject('invalid-state', `The ${otherRole(role)} has made no offer yet.`);
	const accept = waiting ?? refusal(acceptJudged);
	const both = d.offers.client && d.offers.freelancer ? { client: d.offers.client.id, freelancer: d.offers.freelancer.id } : undefined;
	const midJudged = both
		? judge(s, role, 'dispute.acceptMidpoint', d, { id: d.id, midpoint: both }, now)
		: reject('invalid-state', 'A midpoint needs an offer from each party.');
	const mid = waiting ?? refusal(midJudged);
	// Rejecting is answering the other's last offer: allowed exactly when accepting it is.
	const rejected = accept ?? probe(s, role, 'dispute.rejected', { dispute: d.id, offer: theirs!.id, ...(mine ? {} : { final: 0 }) }, now);

	const choice = mediatorChoice(s, d, role);
	const acceptedByMe = !!choice && acceptedByRole(d, role, choice);
	let med: Rejection | null = waiting;
	if (!med && !d.rejection) med = reject('invalid-state', 'No offer has been rejected: there is nothing to mediate.');
	if (!med && small) med = reject('invalid-state', 'A dispute below the small-dispute limit splits at the midpoint, with no mediator.');
	if (!med && d.mediator) med = reject('invalid-state', 'Both parties have accepted the mediator.');
	const setup = mediatorSetupDeadline(d);
	if (!med && setup !== undefined && now >= setup) med = reject('invalid-state', `The time to accept a mediator ended ${utcTime(setup)}.`);
	if (!med && !choice) med = reject('invalid-state', 'No mediator has been named yet: the terms name none and the other party has proposed none.');
	if (!med && acceptedByMe) med = reject('invalid-state', `You accepted ${choice!.name}: waiting for the ${otherRole(role)}.`);
	if (!med && choice) med = probe(s, role, 'dispute.mediatorAccepted', { dispute: d.id, mediator: choice.publicKey, name: choice.name, feeBps: choice.feeBps, fee: choice.fee }, now);

	// Proposing: the same checks as accepting, for a mediator of this role's choosing, when the terms name none.
	let propose: Rejection | null = waiting;
	if (!propose && !d.rejection) propose = reject('invalid-state', 'No offer has been rejected: there is nothing to mediate.');
	if (!propose && small) propose = reject('invalid-state', 'A dispute below the small-dispute limit splits at the midpoint, with no mediator.');
	if (!propose && d.mediator) propose = reject('invalid-state', 'Both parties have accepted the mediator.');
	if (!propose && s.terms!.mediator) propose = reject('invalid-state', `The terms name the mediator ${s.terms!.mediator.name}: only that one can be accepted.`);
	if (!propose && setup !== undefined && now >= setup) propose = reject('invalid-state', `The time to accept a mediator ended ${utcTime(setup)}.`);
	if (!propose) propose = probe(s, role, 'dispute.mediatorAccepted', { dispute: d.id, mediator: '-', name: '-', feeBps: 0, fee: mediatorFee(s, d, 0) }, now);

	const dec = settleDecision(s, d, now);
	const settle = dec.due ? probe(s, role, 'dispute.settle', { dispute: d.id, ...subjectOf(d), basis: dec.split.basis as Payload<'dispute.settle'>['basis'], freelancer: dec.split.share, currency: c }, now) : dec.refusal;

	return {
		dispute: d,
		status,
		offers: { ...d.offers },
		...(d.mediator ? { mediator: { ...d.mediator } } : {}),
		...(mine ? { mine } : {}),
		...(theirs ? { theirs } : {}),
		midpoint: disputeMidpoint(d),
		offer: allow(offer, { max: d.amount }),
		accept: allow(accept, theirs && 'split' in acceptJudged ? { offer: theirs.id, split: acceptJudged.split } : {}),
		acceptMidpoint: allow(mid, both && 'split' in midJudged ? { ...both, split: midJudged.split } : {}),
		reject: allow(rejected, { ...(theirs ? { offer: theirs.id } : {}), needsFinal: !mine, small }),
		acceptMediator: allow(med, { ...(choice ? { mediator: choice } : {}), acceptedByMe }),
		proposeMediator: allow(propose, {}),
		settle: allow(settle, dec.due ? { split: dec.split } : {})
	};
}

/** The milestone's dispute that is not settled: the recorded one, else the newest still waiting for the provider's record. */
function currentDispute(s: ContractState, milestoneId: string): Dispute | undefined {
	const open = openDispute(s, milestoneId);
	if (open) return open;
	let waiting: Dispute | undefined;
	for (const d of s.disputes.values()) if (d.milestone === milestoneId && d.openedAt === undefined && !d.settlement) waiting = d;
	return waiting;
}

export function milestoneDisputes(s: ContractState, role: Role | undefined, milestoneId: string, providerNow: number): MilestoneDisputes {
	const m = s.milestones.find((x) => x.id === milestoneId)!;
	const current = currentDispute(s, milestoneId);
	const past = [...s.disputes.values()].filter((d) => d.milestone === milestoneId && d.settlement);
	const max = escrowOf(m);
	let open: Rejection | null = null;
	const reasons: DisputeReason[] = [];
	if (current) open = reject('invalid-state', current.openedAt === undefined ? 'A dispute on this milestone is waiting for the escrow provider to record it.' : 'A dispute is already open on this milestone.');
	else if (!role || !s.parties[role]) open = NOT_A_PARTY;
	else {
		let first: Rejection | null = null;
		for (const reason of REASONS_OF[role]) {
			const r = probe(s, role, 'dispute.opened', { milestone: m.id, amount: Math.max(1, max), currency: s.terms!.currency, reason, details: '-', offer: 0 }, providerNow);
			if (r) first ??= r;
			else reasons.push(reason);
		}
		if (!reasons.length) open = first;
	}
	return {
		milestone: milestoneId,
		open: allow(open, { max, reasons }),
		...(current ? { current: viewOf(s, current, role, providerNow) } : {}),
		past
	};
}

/** The disputes on a segment dispute's segments: the current one, past ones, and whether one may be opened (only once it was declined). */
export function segmentDisputes(s: ContractState, role: Role | undefined, segmentDispute: string, providerNow: number): MilestoneDisputes | undefined {
	const sd = s.hourly?.disputes.get(segmentDispute);
	if (!sd) return undefined;
	const mine = [...s.disputes.values()].filter((d) => d.segments?.dispute === segmentDispute);
	const current = mine.find((d) => !d.settlement && d.openedAt !== undefined) ?? mine.filter((d) => !d.settlement).at(-1);
	const past = mine.filter((d) => d.settlement);
	const max = segmentsAmount(s, segmentDispute)!;
	let open: Rejection | null = null;
	if (current) open = reject('invalid-state', current.openedAt === undefined ? 'A dispute on these segments is waiting for the escrow provider to record it.' : 'A dispute on these segments is already open.');
	else if (!role || !s.parties[role]) open = NOT_A_PARTY;
	else open = probe(s, role, 'dispute.opened', { segmentDispute, amount: Math.max(1, max), currency: s.terms!.currency, reason: SEGMENTS_REASON, details: '-', offer: 0 }, providerNow);
	return {
		segments: { dispute: sd.id, week: sd.week, ids: [...sd.segments] },
		open: allow(open, { max, reasons: open ? [] : [SEGMENTS_REASON] }),
		...(current ? { current: viewOf(s, current, role, providerNow) } : {}),
		past
	};
}

/** Every declined segment dispute of an hourly contract (or one with Resolution Center disputes), oldest first. */
export function hourlyDisputes(s: ContractState, role: Role | undefined, providerNow: number): MilestoneDisputes[] {
	if (!s.hourly) return [];
	const withDisputes = new Set([...s.disputes.values()].map((d) => d.segments?.dispute));
	return [...s.hourly.disputes.values()]
		.filter((sd) => withDisputes.has(sd.id) || isDeclined(s, sd))
		.sort((a, b) => (a.week < b.week ? -1 : a.week > b.week ? 1 : a.at - b.at))
		.map((sd) => segmentDisputes(s, role, sd.id, providerNow)!);
}

/** Every milestone's disputes for this role, in the order of the milestones; on an hourly contract, every declined segment dispute's. */
export function disputeAffordances(s: ContractState, role: Role | undefined, providerNow: number): MilestoneDisputes[] {
	if (!s.terms) return [];
	if (s.hourly) return hourlyDisputes(s, role, providerNow);
	return s.milestones.filter((m) => !m.removed).map((m) => milestoneDisputes(s, role, m.id, providerNow));
}

/** Where a subject's dispute is, in words for a line: "milestone 2", or "the week of 2026-11-02". */
function subjectLine(s: ContractState, md: MilestoneDisputes): string {
	if (md.segments) return `the Work Diary week of ${md.segments.week}`;
	return `milestone ${s.milestones.findIndex((m) => m.id === md.milestone) + 1}`;
}

/**
 * What happens if this role does nothing by the deadline, from its side, with the date as the page
 * writes it: "If you do nothing by Fri, 11 Dec, 14:00, you accept $300.00 to the freelancer."
 */
export function ifYouDoNothing(s: ContractState, v: DisputeView, role: Role | undefined, when: (ms: number) => string, money: (minor: number) => string): string | undefined {
	const { status, dispute: d } = v;
	if (status.deadline === undefined) return undefined;
	const by = when(status.deadline);
	if ((status.stage === 'negotiating' || status.stage === 'answering') && d.last) {
		const last = d.offers[d.last]!;
		const split = `${money(last.amount)} to the freelancer and ${money(d.amount - last.amount)} back to the client`;
		if (role && status.turn === role) return `If you do nothing by ${by}, you accept the ${otherRole(role)}'s last offer: ${split}.`;
		return `If the ${status.turn} does nothing by ${by}, the ${status.turn} accepts ${role ? 'your' : 'the'} last offer: ${split}.`;
	}
	if (status.stage === 'mediator-setup') return `By ${by}: ${status.ifNothing}`;
	if (status.stage === 'mediation') return `The mediator rules by ${by}. ${status.ifNothing}`;
	return status.ifNothing ? `By ${by}: ${status.ifNothing}` : undefined;
}

/** A stage as the Resolution Center names it. */
export const DISPUTE_STAGE_LABEL: Record<DisputeStatus['stage'], string> = {
	unrecorded: 'Waiting for the escrow provider to record it',
	negotiating: 'Negotiating',
	answering: 'Negotiation ended: an answer is due',
	'mediator-setup': 'Choosing a mediator',
	mediation: 'With the mediator',
	due: 'Outcome due: the app pays it out now (either party’s app may)',
	settled: 'Settled'
};

/** How a settled dispute ended, in words. */
export const SETTLEMENT_BASIS_TEXT: Record<Split['basis'], string> = {
	accepted: 'an offer was accepted',
	midpoint: 'the midpoint was accepted',
	ruling: "the mediator's ruling",
	silence: 'silence accepted the last offer',
	'small-amount': 'a rejection split a small amount at the midpoint',
	'no-mediator': 'no mediator was accepted: split at the midpoint',
	'mediator-unsigned': 'one party did not accept the mediator',
	'mediator-late': 'the mediator did not rule in time: split at the midpoint'
};

/** Whose move it is, from `role`'s side: "Your move", "The client's move", "The mediator's move", or none. */
export function whoseMove(status: DisputeStatus, role: Role | 'mediator' | undefined): string | undefined {
	if (status.stage === 'due') return 'Either party';
	if (status.stage === 'mediator-setup') return 'Both parties: accept the mediator';
	if (!status.turn) return undefined;
	if (status.turn === role) return 'Your move';
	return `The ${status.turn}'s move`;
}

/** Does this dispute wait for something only `role` can do now (what the Inbox lists)? */
export function needsMe(v: DisputeView, role: Role | undefined): boolean {
	if (!role || v.dispute.settlement || v.dispute.openedAt === undefined) return false;
	return v.settle.allowed || v.acceptMediator.allowed || (v.status.turn === role && (v.accept.allowed || v.reject.allowed));
}

const inDays = (ms: number) => {
	const days = Math.max(0, Math.ceil(ms / 86_400_000));
	return days === 0 ? 'today' : `in ${days} day${days === 1 ? '' : 's'}`;
};

/** The dispute step that needs `role` now, as the Inbox line: the first milestone's (or hourly week's), if any. */
export function disputeAttention(s: ContractState, role: Role, now: number): string | undefined {
	if (!s.terms) return undefined;
	if (![...s.disputes.values()].some((d) => !d.settlement)) return declinedTimeAttention(s, role, now);
	for (const md of disputeAffordances(s, role, now)) {
		const v = md.current;
		if (!v || !needsMe(v, role)) continue;
		const n = subjectLine(s, md);
		const left = v.status.deadline !== undefined ? inDays(v.status.deadline - now) : undefined;
		if (v.settle.allowed) return `Have the dispute's outcome on ${n} paid out (Resolution Center)`;
		if (v.acceptMediator.allowed) return `Accept the mediator for the dispute on ${n} (Resolution Center)${left ? ` — the time to accept ends ${left}` : ''}`;
		return `Answer the ${otherRole(role)}'s offer on ${n} (Resolution Center)${left ? ` — if you do nothing, you accept it ${left}` : ''}`;
	}
	return declinedTimeAttention(s, role, now);
}

/** Declined Work Diary time has no clock of its own: it waits in escrow until either party opens a dispute on it. */
function declinedTimeAttention(s: ContractState, role: Role, now: number): string | undefined {
	const md = hourlyDisputes(s, role, now).find((x) => !x.current && !x.past.length && x.open.allowed);
	return md && `The declined time of ${subjectLine(s, md)} stays in escrow until one of you opens a dispute on it (Resolution Center)`;
}

/** One of the two last offers a mediator's ruling may pick, and the split it makes (fee included). */
export interface RulingChoice {
	by: Role;
	offer: string;
	split: Split;
}

/**
 * What the mediator with key `key` may rule on dispute `d` at provider time `now`: one of the two
 * parties' last offers, never a number of its own (splitDecision on a `dispute.rule` it would sign).
 */
export function mediatorRuling(s: ContractState, d: Dispute, key: string | undefined, now: number): Affordance<{ choices: RulingChoice[]; deadline?: number }> {
	const deadline = rulingDeadline(s, d);
	const extra = { choices: [] as RulingChoice[], ...(deadline !== undefined ? { deadline } : {}) };
	if (!key || d.mediator?.publicKey !== key) return allow(reject('wrong-role', 'Only the mediator both parties accepted rules on this dispute.'), extra);
	for (const by of ['client', 'freelancer'] as const) {
		const o = d.offers[by];
		if (!o) continue;
		const intent: Intent = { id: '' as EventId, type: 'dispute.rule', author: key as PublicKey, at: now, ...subjectOf(d), dispute: { id: d.id, offer: o.id } };
		const judged = splitDecision(s, intent, now);
		if (!('split' in judged)) return allow(judged, extra);
		extra.choices.push({ by, offer: o.id, split: judged.split });
	}
	const ev = { id: '', v: 1, contract: s.contract, author: key, prev: null, deps: [], at: now, type: 'dispute.rule', payload: { dispute: d.id, ...subjectOf(d), offer: extra.choices[0]?.offer ?? '', currency: s.terms!.currency } } as unknown as Ev;
	return allow(check(s, ev), extra);
}

/** A mediator's fee on one dispute, and where it stands (what Payments shows a mediator). */
export interface MediatorFeeRow {
	dispute: Dispute;
	/** What the fee comes to under the fee rule this key was named with. */
	fee: number;
	status: 'proposed' | 'awaiting-ruling' | 'paid' | 'not-paid';
	/** Paid: when; awaiting a ruling: by when it must come. */
	at?: number;
	/** Why no fee was paid (a settlement that was not this mediator's ruling). */
	reason?: string;
}

/**
 * Every dispute of this contract in which `key` was named mediator (proposed by one party, or
 * accepted by both), with its fee and where it stands: paid with the ruling; due if it rules by its
 * deadline; not paid when the dispute ended otherwise (a late ruling pays nothing).
 */
export function mediatorFees(s: ContractState, key: string | undefined): MediatorFeeRow[] {
	if (!key || !s.terms) return [];
	const out: MediatorFeeRow[] = [];
	for (const d of s.disputes.values()) {
		const named = [...d.steps.values()].find((st) => st.kind === 'mediator-acceptance' && st.recordedAt !== undefined && st.mediator?.publicKey === key);
		if (d.mediator?.publicKey !== key && !named) continue;
		const fee = d.mediator?.publicKey === key ? d.mediator.fee : named!.mediator!.fee;
		const st = d.settlement;
		if (st && st.fee > 0 && d.mediator?.publicKey === key) out.push({ dispute: d, fee: st.fee, status: 'paid', at: st.at });
		else if (st) out.push({ dispute: d, fee, status: 'not-paid', reason: SETTLEMENT_BASIS_TEXT[st.basis] });
		else if (d.mediator?.publicKey === key) out.push({ dispute: d, fee, status: 'awaiting-ruling', ...(rulingDeadline(s, d) !== undefined ? { at: rulingDeadline(s, d) } : {}) });
		else out.push({ dispute: d, fee, status: 'proposed' });
	}
	return out;
}

/** The disputes this key mediates (accepted by both parties), settled or not. */
export function mediatedBy(s: ContractState, key: string | undefined): Dispute[] {
	return key ? [...s.disputes.values()].filter((d) => d.mediator?.publicKey === key) : [];
}

// —— outcomes the app pays out on its own (issue 12: "the accepting party's app submits") ——

/** The bases only a deadline (or the small-dispute rule) decides: what the app submits unasked. */
const DEADLINE_BASES = new Set<Split['basis']>(['silence', 'small-amount', 'no-mediator', 'mediator-unsigned', 'mediator-late']);

/** Was this settlement a deadline outcome the app paid out on its own (a `dispute.settle`), not a person's choice? */
export const paidOutAutomatically = (settlement: NonNullable<Dispute['settlement']>): boolean => DEADLINE_BASES.has(settlement.basis);

/** The disputes whose deadline outcome `role` may have executed now, judged at provider time `now`. */
export function dueSettlements(s: ContractState, role: Role | undefined, now: number): DisputeView[] {
	if (!role || !s.terms || ![...s.disputes.values()].some((d) => !d.settlement)) return [];
	const out: DisputeView[] = [];
	for (const md of disputeAffordances(s, role, now)) if (md.current?.settle.allowed && md.current.settle.split) out.push(md.current);
	return out;
}

/** The next dispute deadline after `now` (provider time): when an outcome may fall due without anyone acting. */
export function nextDisputeDeadline(s: ContractState, now: number): number | undefined {
	let next: number | undefined;
	for (const d of s.disputes.values()) {
		if (d.settlement || d.openedAt === undefined) continue;
		const dec = settleDecision(s, d, now);
		if (!dec.due && dec.deadline !== undefined && dec.deadline > now && (next === undefined || dec.deadline < next)) next = dec.deadline;
	}
	return next;
}
