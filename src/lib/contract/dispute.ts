/**
 * The Resolution Center: a dispute on a milestone's escrow, from its opening to the split that ends
 * it. Every rule and deadline is here; pages ask it what to offer and what happens if nobody acts.
 *
 * 1. Opening. Either party opens a dispute on escrow still held: the client because the work was
 *    not delivered as agreed or its refund request was declined; the freelancer because the client
 *    keeps requesting changes, or stays silent while a submission stands. The opener names the
 *    amount in dispute (up to what escrow holds), a reason and an opening offer: how much of the
 *    disputed amount goes to the freelancer (the rest goes back to the client). Once the provider
 *    recorded the opening, the money clocks on that escrow stop (no auto-release, no unanswered
 *    refund) and the disputed amount moves only by the dispute's split.
 *    On an hourly contract either party opens one on a segment dispute the freelancer declined:
 *    its subject is those segments, the amount exactly what they bill, held in their week's escrow.
 *    From the recorded opening those segments wait for the split alone (a later segment dispute on
 *    them refunds nothing: timesheet.ts); the rest of the week is released as before.
 * 2. Negotiation (`disputeDays`, default 5, from the recorded opening). Each party may make offers,
 *    accept the other's last offer, accept the midpoint of the two last offers (the odd minor unit
 *    to the freelancer), or reject the other's last offer. A new offer gives the other party at
 *    least 48 hours: the answer deadline is the later of the end of negotiation and 48 hours after
 *    the last offer. After negotiation ends no new offer counts. Silence: whoever faces the last
 *    offer and has neither accepted nor rejected it by the answer deadline is taken to accept it.
 * 3. A rejection ends negotiation. Below the small-dispute limit (terms, else the currency's table
 *    value) the escrow splits at the midpoint at once. Otherwise mediation: within 3 days of the
 *    rejection both parties accept the same mediator and fee (the one the terms name, or one a
 *    party proposes by accepting it). With a mediator named in the terms, a party that does not
 *    accept it loses to the one that did (the escrow splits at the signer's last offer); if neither
 *    accepts, or no mediator is agreed, it splits at the midpoint. The accepted mediator has
 *    `mediatorDays` (default 7) to sign a final-offer ruling that picks one of the two parties' last
 *    offers — never a number of its own; past that, the midpoint applies and no fee is paid. The
 *    fee (default 5 %, at least the currency's minimum, never more than the disputed amount) comes
 *    out of the disputed escrow, half from each share, the rest from the other share when one is
 *    too small.
 * 4. Settlement. Every outcome is a money intent a party's app (or the mediator, for its ruling)
 *    submits; the provider judges it on its own record and clock (content decides, never order:
 *    offers, rejections and acceptances count in the order the provider recorded them, with its
 *    times) and executes it as a split: `receipt.split` releases the freelancer's share (which then
 *    waits the security period like any release), refunds the client's and pays the mediator.
 *    The provider never moves money unasked.
 */
import { DEFAULT_MEDIATION_FEE_BPS, SMALL_DISPUTE_LIMIT, feeShares, mediationFee, midpoint } from '../money/mediation';
import { ZERO_MINOR, addMinor, subMinor, sumMinor, type Minor } from '../money/minor';
import { activeFor } from './ending';
import type { PublicKey } from './ids';
import { escrowAccount, mediatorAccount, weekEscrowAccount, type Transfer } from './ledger';
import { matureDue } from './payouts';
import type { RecordSubject } from './record';
import { moneyText, reject, utcTime, type Rejection } from './rejections';
import type { RuleContext, RuleSet } from './rule';
import type { AttestedKind, DisputeReason, SettleBasis } from './schema';
import { isRejection, settleable } from './settlement';
import { amountFor, disputeStatus as segmentDisputeStatus, hourlyTermsOf, isDeclined, isHourly, openWeekBook, weekBook, heldIn, weekFigures } from './timesheet';
import { SEGMENT_MINUTES } from './weeks';
import {
	DAY_MS,
	escrowOf,
	milestone,
	roleOf,
	type ContractState,
	type Dispute,
	type DisputeIntent,
	type DisputeStep,
	type Ev,
	type Intent,
	type Role
} from './state';

export const HOUR_MS = 3_600_000;

/** The clocks the issue names; negotiation and the mediator's time are terms with these defaults. */
export const DISPUTE_DEFAULTS = {
	negotiationDays: 5,
	/** A new offer gives the other party at least this long to answer, whatever the negotiation deadline. */
	answerHours: 48,
	/** After a rejection: the time to accept a mediator. */
	mediatorSetupDays: 3,
	mediatorDays: 7
} as const;

/** How a dispute ended: a deadline outcome (`dispute.settle`), an accepted offer or midpoint, or a ruling. */
export type SplitBasis = SettleBasis | 'accepted' | 'midpoint' | 'ruling';

export const DISPUTE_INTENTS = ['dispute.accept', 'dispute.acceptMidpoint', 'dispute.settle', 'dispute.rule'] as const satisfies readonly Intent['type'][];
export const isDisputeIntent = (intent: Pick<Intent, 'type'>): boolean => (DISPUTE_INTENTS as readonly string[]).includes(intent.type);

/** The subject's fields for a dispute's intents and split: its milestone, or its week (hourly). */
export function subjectOf(d: Dispute): { milestone: string } | { week: string } {
	return d.segments ? { week: d.segments.week } : { milestone: d.milestone! };
}

/** Does an intent or a receipt name dispute `d`'s subject? */
function namesSubject(d: Dispute, p: { milestone?: string; week?: string }): boolean {
	return d.segments ? p.milestone === undefined && p.week === d.segments.week : p.week === undefined && p.milestone === d.milestone;
}

const DISPUTE_KINDS = new Set<AttestedKind>(['milestone-dispute', 'dispute-offer', 'dispute-rejection', 'mediator-acceptance']);
export const isDisputeKind = (kind: AttestedKind): boolean => DISPUTE_KINDS.has(kind);

/** Which reasons belong to whom. */
export const REASONS_OF: Record<Role, readonly DisputeReason[]> = {
	client: ['not-delivered', 'refund-declined'],
	freelancer: ['changes-requested', 'client-silent']
};

/** On an hourly contract's declined segment dispute, either party's one reason. */
export const SEGMENTS_REASON: DisputeReason = 'segments-declined';

export const REASON_TEXT: Record<DisputeReason, string> = {
	'not-delivered': 'The work was not delivered as agreed.',
	'refund-declined': 'The refund request was declined.',
	'changes-requested': 'The client keeps requesting changes.',
	'client-silent': 'The client does not answer while the work waits for review.',
	'segments-declined': 'The freelancer declined the client’s dispute of these Work Diary segments.'
};

export const otherRole = (r: Role): Role => (r === 'client' ? 'freelancer' : 'client');

// —— terms and clocks ——

export function negotiationDays(s: ContractState): number {
	return s.terms?.disputeDays ?? DISPUTE_DEFAULTS.negotiationDays;
}

export function mediatorDays(s: ContractState): number {
	return s.terms?.mediatorDays ?? DISPUTE_DEFAULTS.mediatorDays;
}

/** Disputes below this amount split at the midpoint on a rejection. */
export function smallDisputeLimit(s: ContractState): number {
	return s.terms!.smallDisputeLimit ?? SMALL_DISPUTE_LIMIT[s.terms!.currency];
}

export const isSmall = (s: ContractState, d: Dispute): boolean => d.amount < smallDisputeLimit(s);

/** The fee a mediator charging `feeBps` takes on this dispute (shown to both before they accept). */
export function mediatorFee(s: ContractState, d: Dispute, feeBps = s.terms?.mediator?.feeBps ?? DEFAULT_MEDIATION_FEE_BPS): number {
	return mediationFee(d.amount, feeBps, s.terms!.currency);
}

/** No new offer counts from here (provider time). */
export function negotiationEnd(s: ContractState, d: Dispute): number | undefined {
	return d.openedAt === undefined ? undefined : d.openedAt + negotiationDays(s) * DAY_MS;
}

/** By when the party facing the last offer must accept or reject it; silence accepts it then. */
export function answerDeadline(s: ContractState, d: Dispute): number | undefined {
	const end = negotiationEnd(s, d);
	const last = d.last && d.offers[d.last];
	if (end === undefined || !last) return undefined;
	return Math.max(end, last.at + DISPUTE_DEFAULTS.answerHours * HOUR_MS);
}

/** After a rejection: by when both parties must have accepted the same mediator. */
export function mediatorSetupDeadline(d: Dispute): number | undefined {
	return d.rejection ? d.rejection.at + DISPUTE_DEFAULTS.mediatorSetupDays * DAY_MS : undefined;
}

/** By when the accepted mediator must rule. */
export function rulingDeadline(s: ContractState, d: Dispute): number | undefined {
	return d.mediator ? d.mediator.acceptedAt + mediatorDays(s) * DAY_MS : undefined;
}

/** The party that faces the last recorded offer. */
export const facing = (d: Dispute): Role | undefined => (d.last ? otherRole(d.last) : undefined);

/** The midpoint of the two parties' last offers, when both have one. */
export function disputeMidpoint(d: Dispute): Minor | undefined {
	const c = d.offers.client;
	const f = d.offers.freelancer;
	return c && f ? midpoint(c.amount, f.amount) : undefined;
}

/** The milestone's dispute the provider recorded and that is not settled yet: at most one. */
export function openDispute(s: ContractState, milestoneId: string): Dispute | undefined {
	for (const d of s.disputes.values()) if (d.milestone === milestoneId && d.openedAt !== undefined && !d.settlement) return d;
	return undefined;
}

/** A step of one of the contract's disputes, by its event id. */
function stepOf(s: ContractState, id: string): { d: Dispute; step: DisputeStep } | undefined {
	for (const d of s.disputes.values()) {
		const step = d.steps.get(id);
		if (step) return { d, step };
	}
	return undefined;
}

/** The mediator both parties accepted for the dispute `ev` names: the only author of its ruling. */
export function isMediatorOf(s: ContractState, ev: Ev): boolean {
	const id = (ev.payload as { dispute?: unknown }).dispute;
	const d = typeof id === 'string' ? s.disputes.get(id) : undefined;
	return d?.mediator?.publicKey === ev.author;
}

// —— outcomes ——

/** A dispute's outcome as money: the freelancer's share before the fee, and what each side and the mediator get. */
export interface Split {
	basis: SplitBasis;
	/** The offer the outcome takes, when it takes one. */
	offer?: string;
	/** The freelancer's share of the disputed amount, before its part of the fee. */
	share: Minor;
	/** Paid to each party and to the mediator: together exactly the disputed amount. */
	freelancer: Minor;
	client: Minor;
	fee: Minor;
	mediator?: PublicKey;
}

function splitOf(d: Dispute, basis: SplitBasis, share: Minor, fee = ZERO_MINOR, mediator?: PublicKey, offer?: string): Split {
	const paid = feeShares(share, d.amount - share, fee);
	return { basis, share, freelancer: subMinor(share, paid.freelancer), client: (d.amount - share - paid.client) as Minor, fee, ...(mediator ? { mediator } : {}), ...(offer ? { offer } : {}) };
}

export type SettleDecision = { due: true; split: Split } | { due: false; refusal: Rejection; deadline?: number };

/**
 * THE deadline outcome of dispute `d` at provider time `at`, judged on the provider's record: what
 * `dispute.settle` may ask for now, or why nothing is due yet. Pages ask it what happens if nobody
 * acts; the provider asks it before it splits; every replica asks it again of the receipt.
 */
export function settleDecision(s: ContractState, d: Dispute, at: number): SettleDecision {
	if (d.settlement) return { due: false, refusal: reject('already-settled', 'The dispute is settled.') };
	if (d.openedAt === undefined) return { due: false, refusal: reject('invalid-state', 'The provider has not recorded the dispute yet.') };
	if (!d.rejection) {
		const deadline = answerDeadline(s, d)!;
		const last = d.offers[d.last!]!;
		if (at < deadline)
			return { due: false, deadline, refusal: reject('too-early', `The ${facing(d)} has until ${utcTime(deadline)} to answer the last offer; silence accepts it then.`) };
		return { due: true, split: splitOf(d, 'silence', last.amount, ZERO_MINOR, undefined, last.id) };
	}
	const mid = disputeMidpoint(d)!;
	if (isSmall(s, d)) return { due: true, split: splitOf(d, 'small-amount', mid) };
	if (d.mediator) {
		const deadline = rulingDeadline(s, d)!;
		if (at < deadline) return { due: false, deadline, refusal: reject('too-early', `The mediator has until ${utcTime(deadline)} to rule.`) };
		return { due: true, split: splitOf(d, 'mediator-late', mid) };
	}
	const deadline = mediatorSetupDeadline(d)!;
	if (at < deadline) return { due: false, deadline, refusal: reject('too-early', `The parties have until ${utcTime(deadline)} to accept a mediator.`) };
	const named = s.terms!.mediator;
	if (named) {
		// The terms named the mediator: a party that did not accept it loses to the one that did.
		const signed = (['client', 'freelancer'] as const).filter((r) => acceptedBy(d, r, named.publicKey, named.feeBps));
		if (signed.length === 1) {
			const winner = d.offers[signed[0]!]!;
			return { due: true, split: splitOf(d, 'mediator-unsigned', winner.amount, ZERO_MINOR, undefined, winner.id) };
		}
	}
	return { due: true, split: splitOf(d, 'no-mediator', mid) };
}

/** Has `role`'s acceptance of this mediator and fee rule been recorded? */
function acceptedBy(d: Dispute, role: Role, key: string, feeBps: number): boolean {
	for (const st of d.steps.values())
		if (st.kind === 'mediator-acceptance' && st.by === role && st.recordedAt !== undefined && st.mediator!.publicKey === key && st.mediator!.feeBps === feeBps) return true;
	return false;
}

/** Still negotiating on the record at provider time `at`: opened, nothing rejected or settled, the answer deadline ahead. */
function negotiationRefusal(s: ContractState, d: Dispute, at: number): Rejection | null {
	if (d.settlement) return reject('already-settled', 'The dispute is settled.');
	if (d.openedAt === undefined) return reject('invalid-state', 'The provider has not recorded the dispute yet.');
	if (d.rejection) return reject('invalid-state', 'An offer was rejected: negotiation is over.');
	const deadline = answerDeadline(s, d)!;
	if (at >= deadline) return reject('invalid-state', `The answer window ended ${utcTime(deadline)}: silence accepted the last offer.`);
	return null;
}

/**
 * What a dispute intent splits, judged at provider time `at` on the provider's record: an accepted
 * offer must be the other party's last one, a midpoint the two last ones, a ruling one of the two
 * last offers signed by the accepted mediator in time, a deadline outcome what `settleDecision` says.
 */
export function splitDecision(s: ContractState, intent: Intent, at: number): { split: Split } | Rejection {
	const di = intent.dispute;
	const d = di ? s.disputes.get(di.id) : undefined;
	if (!di || !d) return reject('invalid-state', 'It names no dispute of this contract.');
	if (!namesSubject(d, intent)) return reject('wrong-milestone', d.segments ? `The dispute is on segments of the week of ${d.segments.week}.` : 'The dispute is on another milestone.');
	switch (intent.type) {
		case 'dispute.settle': {
			const dec = settleDecision(s, d, at);
			if (!dec.due) return dec.refusal;
			if (dec.split.basis !== di.basis || dec.split.share !== di.share)
				return reject('amount-mismatch', `The dispute's outcome is now "${dec.split.basis}" with ${moneyText(dec.split.share, s.terms!.currency)} to the freelancer.`);
			return { split: dec.split };
		}
		case 'dispute.accept': {
			const refused = negotiationRefusal(s, d, at);
			if (refused) return refused;
			const role = roleOf(s, intent.author);
			const theirs = role === 'client' || role === 'freelancer' ? d.offers[otherRole(role)] : undefined;
			if (!theirs || theirs.id !== di.offer) return reject('invalid-state', "It accepts an offer that is not the other party's last one, as the provider recorded.");
			return { split: splitOf(d, 'accepted', theirs.amount, ZERO_MINOR, undefined, theirs.id) };
		}
		case 'dispute.acceptMidpoint': {
			const refused = negotiationRefusal(s, d, at);
			if (refused) return refused;
			if (d.offers.client?.id !== di.midpoint?.client || d.offers.freelancer?.id !== di.midpoint?.freelancer)
				return reject('invalid-state', "It takes the midpoint of offers that are not both parties' last ones, as the provider recorded.");
			return { split: splitOf(d, 'midpoint', disputeMidpoint(d)!) };
		}
		case 'dispute.rule': {
			if (d.settlement) return reject('already-settled', 'The dispute is settled.');
			if (!d.mediator || d.mediator.publicKey !== intent.author) return reject('wrong-role', 'Only the mediator both parties accepted rules on this dispute.');
			const deadline = rulingDeadline(s, d)!;
			if (at >= deadline) return reject('invalid-state', `The mediator's time to rule ended ${utcTime(deadline)}: the midpoint applies, with no fee.`);
			const picked = [d.offers.client, d.offers.freelancer].find((o) => o?.id === di.offer);
			if (!picked) return reject('invalid-state', "A ruling picks one of the two parties' last offers: this one is not.");
			return { split: splitOf(d, 'ruling', picked.amount, d.mediator.fee, d.mediator.publicKey, picked.id) };
		}
		default:
			return reject('unknown-intent');
	}
}

/** What a dispute intent names, kept on the intent (fold.ts) so the provider and the receipt judge it. */
export function disputeIntentOf(ev: Ev): DisputeIntent | undefined {
	switch (ev.type) {
		case 'dispute.accept':
		case 'dispute.rule':
			return { id: ev.payload.dispute, offer: ev.payload.offer };
		case 'dispute.acceptMidpoint':
			return { id: ev.payload.dispute, midpoint: { client: ev.payload.client, freelancer: ev.payload.freelancer } };
		case 'dispute.settle':
			return { id: ev.payload.dispute, basis: ev.payload.basis, share: ev.payload.freelancer };
		default:
			return undefined;
	}
}

// —— the provider's record ——

export function disputeRecordSubject(s: ContractState, event: string): RecordSubject | undefined {
	const d = s.disputes.get(event);
	if (d) return { kind: 'milestone-dispute', ...subjectOf(d) };
	const found = stepOf(s, event);
	if (!found) return undefined;
	const kind = found.step.kind === 'offer' ? 'dispute-offer' : found.step.kind === 'rejection' ? 'dispute-rejection' : 'mediator-acceptance';
	return { kind, ...subjectOf(found.d) };
}

/**
 * May the provider record this dispute event at provider time `at`? The one rule the provider
 * applies before recording and every replica applies to the record: this is where an offer, a
 * rejection or a mediator acceptance counts or not, judged on what was recorded before it.
 */
export function disputeRecordRefusal(s: ContractState, subject: RecordSubject, event: string, at: number, ctx?: RuleContext): Rejection | null {
	if (!isDisputeKind(subject.kind)) return null;
	if (subject.kind === 'milestone-dispute') {
		const d = s.disputes.get(event)!;
		// The end counts if the dispute's author had seen it, or if the provider recorded the end first:
		// an author names its own causal past, and a party that agreed to end must not hold back the
		// escrow the end returns by claiming it had not seen the end.
		if (!activeFor(s, event, ctx)) return reject('invalid-state', 'Disputes are opened on an active contract.');
		if (s.endEvent !== undefined && s.recorded.has(s.endEvent))
			return reject('invalid-state', 'The provider recorded the end of the contract first: the escrow goes back as the end says.');
		if (d.segments) return segmentsOpenRefusal(s, d.segments.dispute, d.amount, at, d.id);
		const m = milestone(s, d.milestone!);
		if (!m) return reject('unknown-milestone');
		if (openDispute(s, m.id)) return reject('invalid-state', 'A dispute is already open on this milestone.');
		if (d.amount > escrowOf(m)) return reject('exceeds-escrow', `Escrow holds ${moneyText(escrowOf(m), s.terms!.currency)}.`);
		return null;
	}
	const { d, step } = stepOf(s, event)!;
	if (d.settlement) return reject('already-settled', 'The dispute is settled.');
	if (d.openedAt === undefined) return reject('invalid-state', 'The provider has not recorded the dispute yet.');
	switch (step.kind) {
		case 'offer': {
			if (d.rejection) return reject('invalid-state', 'An offer was rejected: negotiation is over.');
			const end = negotiationEnd(s, d)!;
			if (at >= end) return reject('invalid-state', `Negotiation ended ${utcTime(end)}: no new offers. The party facing the last offer accepts it, takes the midpoint, or rejects it.`);
			return null;
		}
		case 'rejection': {
			const refused = negotiationRefusal(s, d, at);
			if (refused) return refused;
			const theirs = d.offers[otherRole(step.by)];
			if (!theirs || theirs.id !== step.offer) return reject('invalid-state', "It rejects an offer that is not the other party's last one, as the provider recorded.");
			const mine = d.offers[step.by];
			if (!mine && step.amount === undefined) return reject('invalid-state', 'Name your final offer with the rejection: you have none on record, and the mediator chooses between two.');
			if (mine && step.amount !== undefined) return reject('invalid-state', 'You have an offer on record already: the mediator chooses between the two last offers.');
			return null;
		}
		case 'mediator-acceptance': {
			if (!d.rejection) return reject('invalid-state', 'No offer has been rejected: there is nothing to mediate.');
			if (isSmall(s, d)) return reject('invalid-state', 'A dispute below the small-dispute limit splits at the midpoint, with no mediator.');
			if (d.mediator) return reject('invalid-state', 'A mediator has already been accepted by both parties.');
			const deadline = mediatorSetupDeadline(d)!;
			if (at >= deadline) return reject('invalid-state', `The time to accept a mediator ended ${utcTime(deadline)}.`);
			return null;
		}
	}
}

/** The provider recorded a dispute event: it counts from here, with the provider's time. */
export function applyDisputeRecord(s: ContractState, subject: RecordSubject, event: string, at: number): void {
	if (subject.kind === 'milestone-dispute') {
		const d = s.disputes.get(event)!;
		const opening = d.steps.get(d.id)!;
		d.openedAt = at;
		opening.recordedAt = at;
		d.offers[d.opener] = { id: d.id, by: d.opener, amount: opening.amount!, at };
		d.last = d.opener;
		if (d.segments) return;
		const m = milestone(s, d.milestone!)!;
		m.phase = 'disputed';
		m.reviewOpen = false;
		return;
	}
	const { d, step } = stepOf(s, event)!;
	step.recordedAt = at;
	if (step.kind === 'offer') {
		d.offers[step.by] = { id: step.id, by: step.by, amount: step.amount!, at };
		d.last = step.by;
	} else if (step.kind === 'rejection') {
		if (step.amount !== undefined) d.offers[step.by] = { id: step.id, by: step.by, amount: step.amount, at };
		d.rejection = { id: step.id, by: step.by, at };
	} else {
		const med = step.mediator!;
		// Accepted once both parties' acceptances of the same mediator and fee rule are recorded.
		if (acceptedBy(d, otherRole(step.by), med.publicKey, med.feeBps)) d.mediator = { ...med, acceptedAt: at };
	}
}

// —— money held while a dispute is open ——

/**
 * Money on a milestone with an open dispute moves only by the dispute's split: any other release or
 * refund (and its receipt) may take only what escrow holds beyond the disputed amount, and an
 * auto-release (which takes everything) waits. Checked by the fold for every such event.
 */
export function disputeHoldRefusal(s: ContractState, ev: Ev): Rejection | null {
	let id: string;
	let amount: number;
	switch (ev.type) {
		case 'milestone.release':
		case 'milestone.refund':
		case 'receipt.released':
		case 'receipt.refunded':
			id = ev.payload.milestone;
			amount = ev.payload.amount;
			break;
		case 'milestone.autoRelease':
			id = ev.payload.milestone;
			amount = Infinity;
			break;
		default:
			return null;
	}
	return heldRefusal(s, id, amount);
}

/** May `amount` leave milestone `id`'s escrow other than by its dispute's split? (Infinity: all of it, an auto-release.) */
export function heldRefusal(s: ContractState, id: string, amount: number): Rejection | null {
	const d = openDispute(s, id);
	const m = milestone(s, id);
	if (!d || !m) return null;
	const free = escrowOf(m) - d.amount;
	if (amount <= free) return null;
	const c = s.terms!.currency;
	return reject('invalid-state', `${moneyText(d.amount, c)} of this milestone's escrow is in dispute in the Resolution Center${free > 0 ? `; ${moneyText(free, c)} can still move` : ''}.`);
}

/** What dispute `d` is on, in words: the milestone's title, or its Work Diary segments and their week. */
export function subjectText(s: ContractState, d: Dispute): string {
	if (!d.segments) return milestone(s, d.milestone!)?.title ?? d.milestone!;
	const n = d.segments.ids.length;
	return `${n} Work Diary segment${n === 1 ? '' : 's'} of the week of ${d.segments.week}`;
}

/** What the escrow holding dispute `d`'s amount holds now: its milestone's, or its week's. */
export function subjectHeld(s: ContractState, d: Dispute): number {
	if (d.segments) return heldIn(weekBook(s, d.segments.week));
	const m = milestone(s, d.milestone!);
	return m ? escrowOf(m) : 0;
}

/** What the segments of an hourly segment dispute bill, all together (floor(minutes × rate / 60), as the timesheet bills). */
export function segmentsAmount(s: ContractState, segmentDispute: string): number | undefined {
	const sd = s.hourly?.disputes.get(segmentDispute);
	return sd ? amountFor(sd.segments.length * SEGMENT_MINUTES, hourlyTermsOf(s).rate) : undefined;
}

/** The recorded Resolution Center dispute that holds or held one of these segments, other than `except`. */
export function segmentsTaken(s: ContractState, ids: readonly string[], except?: string): Dispute | undefined {
	const wanted = new Set(ids);
	for (const d of s.disputes.values())
		if (d.id !== except && d.segments && d.openedAt !== undefined && d.segments.ids.some((x) => wanted.has(x))) return d;
	return undefined;
}

/**
 * May a dispute of amount `amount` be opened on hourly segment dispute `id` at provider time `at`
 * (the fold asks at the opening's claimed time, the provider at its record)? Only on a segment
 * dispute the freelancer declined, none of whose segments another dispute refunded or a Resolution
 * Center dispute holds or settled; the amount is exactly what those segments bill, and the week's
 * escrow holds it beyond what the rest of the week may still release and its other open disputes.
 */
export function segmentsOpenRefusal(s: ContractState, id: string, amount: number, at: number, self?: string): Rejection | null {
	if (!isHourly(s)) return reject('invalid-state', 'Segments are disputed on an hourly contract.');
	const sd = s.hourly!.disputes.get(id);
	if (!sd) return reject('invalid-state', 'It names no dispute of Work Diary segments of this contract.');
	if (!isDeclined(s, sd)) {
		const status = segmentDisputeStatus(s, sd, at);
		const why =
			status === 'accepted' || status === 'lapsed'
				? 'it was accepted: those segments are not paid'
				: status === 'open'
					? sd.answers.length
						? 'the freelancer’s answer waits for the escrow provider to record it'
						: 'the freelancer has not answered it yet'
					: 'the provider has not recorded it';
		return reject('invalid-state', `Only a segment dispute the freelancer declined goes to the Resolution Center; ${why}.`);
	}
	const c = s.terms!.currency;
	const billed = segmentsAmount(s, id)!;
	if (amount !== billed) return reject('amount-mismatch', `These ${sd.segments.length} segments bill ${moneyText(billed, c)}: that is the amount in dispute.`);
	const taken = segmentsTaken(s, sd.segments, self);
	if (taken) return reject('invalid-state', taken.settlement ? 'These segments were already settled in the Resolution Center.' : 'A dispute on these segments is already open in the Resolution Center.');
	for (const other of s.hourly!.disputes.values()) {
		if (other.week !== sd.week || other.id === sd.id) continue;
		const status = segmentDisputeStatus(s, other, at);
		if ((status === 'accepted' || status === 'lapsed') && other.segments.some((x) => sd.segments.includes(x)))
			return reject('invalid-state', 'Some of these segments were refunded by another segment dispute.');
	}
	const f = weekFigures(s, sd.week, at);
	let others = 0;
	for (const d of s.disputes.values()) if (d.id !== self && d.segments?.week === sd.week && d.openedAt !== undefined && !d.settlement) others += d.amount;
	const free = f.held - Math.max(0, f.payable - f.released) - others;
	if (amount > free) return reject('exceeds-escrow', `The week's escrow holds ${moneyText(Math.max(0, free), c)} for these segments; fund the week first.`);
	return null;
}

// —— where a dispute stands, for pages ——

export type DisputeStage = 'unrecorded' | 'negotiating' | 'answering' | 'mediator-setup' | 'mediation' | 'due' | 'settled';

export interface DisputeStatus {
	stage: DisputeStage;
	/** Whose move it is, when it is one party's. */
	turn?: Role | 'mediator';
	deadline?: number;
	/** What happens if nobody acts by the deadline, in words. */
	ifNothing?: string;
	/** The outcome that can be executed now (either party's app submits it). */
	due?: Split;
}

/** Where dispute `d` stands at provider time `now`, and what happens if nobody acts. */
export function disputeStatus(s: ContractState, d: Dispute, now: number): DisputeStatus {
	if (d.settlement) return { stage: 'settled' };
	if (d.openedAt === undefined) return { stage: 'unrecorded' };
	const dec = settleDecision(s, d, now);
	if (dec.due) return { stage: 'due', due: dec.split };
	const c = s.terms!.currency;
	if (!d.rejection) {
		const last = d.offers[d.last!]!;
		const turn = facing(d)!;
		const stage = now < negotiationEnd(s, d)! ? 'negotiating' : 'answering';
		return { stage, turn, deadline: dec.deadline, ifNothing: `If the ${turn} neither accepts nor rejects the last offer by then, it is taken as accepted: ${moneyText(last.amount, c)} to the freelancer, ${moneyText(d.amount - last.amount, c)} back to the client.` };
	}
	if (d.mediator) return { stage: 'mediation', turn: 'mediator', deadline: dec.deadline, ifNothing: 'If the mediator does not rule by then, the escrow splits at the midpoint of the two last offers and no fee is paid.' };
	return {
		stage: 'mediator-setup',
		deadline: dec.deadline,
		ifNothing: s.terms!.mediator
			? 'A party that has not accepted the mediator by then loses the dispute to the one that did; if neither accepts, the escrow splits at the midpoint of the two last offers.'
			: 'If no mediator is accepted by both by then, the escrow splits at the midpoint of the two last offers.'
	};
}

// —— the rules ——

/** Common to every event about an existing dispute: it exists, and its milestone and currency match. */
function disputeNamed(s: ContractState, p: { dispute: string; milestone?: string; week?: string; currency?: string }): Dispute | Rejection {
	const d = s.disputes.get(p.dispute);
	if (!d) return reject('invalid-state', 'There is no dispute with that id.');
	if ((p.milestone !== undefined || p.week !== undefined) && !namesSubject(d, p))
		return reject('wrong-milestone', d.segments ? `The dispute is on segments of the week of ${d.segments.week}.` : 'The dispute is on another milestone.');
	if (p.currency !== undefined && p.currency !== s.terms!.currency) return reject('currency-mismatch');
	if (d.settlement) return reject('already-settled', 'The dispute is settled.');
	return d;
}

const isDispute = (x: Dispute | Rejection): x is Dispute => 'steps' in x;

/** Is `id` an offer `role` made in this dispute (the opening, an offer, or a rejection's final offer)? */
function offerOf(d: Dispute, id: string, role?: Role): DisputeStep | undefined {
	const st = d.steps.get(id);
	const isOffer = st?.kind === 'offer' || (st?.kind === 'rejection' && st.amount !== undefined);
	return st && isOffer && (role === undefined || st.by === role) ? st : undefined;
}

function party(s: ContractState, author: string): Role {
	return roleOf(s, author) as Role;
}

function addStep(s: ContractState, ev: Ev & { payload: { dispute: string } }, step: Omit<DisputeStep, 'id' | 'by' | 'at'>): void {
	s.disputes.get(ev.payload.dispute)!.steps.set(ev.id, { id: ev.id, by: party(s, ev.author), at: ev.at, ...step });
}

/**
 * TEST MODE runs one mock provider per browser, so two devices paying out the same due outcome at
 * once can each get a split from their own mock. The log counts the first; a second receipt with
 * exactly the same split settles its own intent and moves nothing, so no request waits forever.
 * Only for the TEST MODE mock: a real provider refuses a second split (already settled), and a
 * second one from it stays refused, in sight.
 */
function isDuplicateSplit(s: ContractState, d: Dispute | undefined, p: { freelancer: number; client: number; fee: number; mediator?: string }): boolean {
	const settled = d?.settlement;
	const provider = s.terms!.provider;
	if (!settled || provider.id !== 'mock' || !provider.testMode) return false;
	return p.freelancer === settled.freelancer && p.client === settled.client && p.fee === settled.fee && p.mediator === (settled.fee > 0 ? d.mediator?.publicKey : undefined);
}

/** The split a receipt must carry equals the one judged at its provider time. */
function sameSplit(p: { freelancer: number; client: number; fee: number; mediator?: string }, x: Split): boolean {
	return p.freelancer === x.freelancer && p.client === x.client && p.fee === x.fee && p.mediator === x.mediator;
}

export const disputeRules: RuleSet = {
	'dispute.opened': {
		who: ['client', 'freelancer'],
		check(s, ev, ctx) {
			if (!activeFor(s, ev.id, ctx)) return reject('invalid-state', 'Disputes are opened on an active contract.');
			const { milestone: id, segmentDispute, amount, offer, reason } = ev.payload;
			if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
			if (offer > amount) return reject('amount-mismatch', `An offer is part of the ${moneyText(amount, s.terms!.currency)} in dispute.`);
			if (segmentDispute !== undefined) {
				if (reason !== SEGMENTS_REASON) return reject('invalid-state', 'A dispute of Work Diary segments is opened because the freelancer declined the segment dispute.');
				return segmentsOpenRefusal(s, segmentDispute, amount, ev.at);
			}
			if (reason === SEGMENTS_REASON) return reject('invalid-state', 'That reason is for a declined dispute of Work Diary segments.');
			const m = milestone(s, id!);
			if (!m) return reject('unknown-milestone');
			if (ev.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
			const c = s.terms!.currency;
			if (escrowOf(m) === 0) return reject('unfunded', 'Only escrow still held can be disputed.');
			if (amount > escrowOf(m)) return reject('exceeds-escrow', `Escrow holds ${moneyText(escrowOf(m), c)}.`);
			if (offer > amount) return reject('amount-mismatch', `An offer is part of the ${moneyText(amount, c)} in dispute.`);
			if (openDispute(s, m.id)) return reject('invalid-state', 'A dispute is already open on this milestone.');
			const role = party(s, ev.author);
			if (!REASONS_OF[role].includes(reason)) return reject('wrong-role', `That reason is the ${otherRole(role)}'s.`);
			if (reason === 'refund-declined' && ![...s.refundRequests.values()].some((r) => r.milestone === m.id && r.status === 'declined'))
				return reject('invalid-state', 'No refund request on this milestone was declined.');
			if (reason === 'changes-requested' && (m.changeRequests === 0 || !m.submission)) return reject('invalid-state', 'The client has not requested changes to submitted work.');
			if (reason === 'client-silent' && (!m.submission || m.phase !== 'submitted')) return reject('invalid-state', 'No submission is waiting for the client.');
			return null;
		},
		apply(s, ev) {
			const { milestone: id, segmentDispute, amount, offer, reason, details } = ev.payload;
			const opener = party(s, ev.author);
			const steps = new Map<string, DisputeStep>([[ev.id, { id: ev.id, kind: 'offer', by: opener, at: ev.at, amount: offer }]]);
			const sd = segmentDispute === undefined ? undefined : s.hourly!.disputes.get(segmentDispute)!;
			const subject = sd ? { segments: { week: sd.week, dispute: sd.id, ids: [...sd.segments] } } : { milestone: id! };
			s.disputes.set(ev.id, { id: ev.id, ...subject, opener, reason, details, amount, at: ev.at, steps, offers: {} });
		}
	},
	'dispute.offered': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			const d = disputeNamed(s, ev.payload);
			if (!isDispute(d)) return d;
			if (d.rejection) return reject('invalid-state', 'An offer was rejected: negotiation is over.');
			if (ev.payload.amount > d.amount) return reject('amount-mismatch', `An offer is part of the ${moneyText(d.amount, s.terms!.currency)} in dispute.`);
			return null;
		},
		apply(s, ev) {
			addStep(s, ev, { kind: 'offer', amount: ev.payload.amount });
		}
	},
	'dispute.rejected': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			const d = disputeNamed(s, ev.payload);
			if (!isDispute(d)) return d;
			if (d.rejection) return reject('invalid-state', 'An offer was already rejected.');
			const role = party(s, ev.author);
			if (!offerOf(d, ev.payload.offer, otherRole(role))) return reject('invalid-state', `It rejects no offer the ${otherRole(role)} made in this dispute.`);
			const { final } = ev.payload;
			if (final !== undefined && final > d.amount) return reject('amount-mismatch', `An offer is part of the ${moneyText(d.amount, s.terms!.currency)} in dispute.`);
			if (final === undefined && !d.offers[role]) return reject('invalid-state', 'Name your final offer with the rejection: you have none on record.');
			if (final !== undefined && d.offers[role]) return reject('invalid-state', 'You have an offer on record already: the mediator chooses between the two last offers.');
			return null;
		},
		apply(s, ev) {
			addStep(s, ev, { kind: 'rejection', offer: ev.payload.offer, ...(ev.payload.final !== undefined ? { amount: ev.payload.final } : {}) });
		}
	},
	'dispute.mediatorAccepted': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			const d = disputeNamed(s, ev.payload);
			if (!isDispute(d)) return d;
			const { mediator, feeBps, fee } = ev.payload;
			if (!d.rejection) return reject('invalid-state', 'No offer has been rejected: there is nothing to mediate.');
			if (isSmall(s, d)) return reject('invalid-state', 'A dispute below the small-dispute limit splits at the midpoint, with no mediator.');
			if (d.mediator) return reject('invalid-state', 'A mediator has already been accepted by both parties.');
			if (roleOf(s, mediator) !== 'none') return reject('invalid-state', 'The mediator cannot be a party or the escrow provider.');
			const named = s.terms!.mediator;
			if (named && (named.publicKey !== mediator || named.feeBps !== feeBps)) return reject('invalid-state', `The terms name the mediator ${named.name} and its fee rule: only that one can be accepted.`);
			const due = mediationFee(d.amount, feeBps, s.terms!.currency);
			if (fee !== due) return reject('amount-mismatch', `That fee rule comes to ${moneyText(due, s.terms!.currency)} on this dispute.`);
			return null;
		},
		apply(s, ev) {
			const { mediator, name, feeBps, fee } = ev.payload;
			addStep(s, ev, { kind: 'mediator-acceptance', mediator: { publicKey: mediator, name, feeBps, fee } });
		}
	},
	'dispute.accept': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			const d = disputeNamed(s, ev.payload);
			if (!isDispute(d)) return d;
			const other = otherRole(party(s, ev.author));
			return offerOf(d, ev.payload.offer, other) ? null : reject('invalid-state', `It accepts no offer the ${other} made in this dispute.`);
		},
		apply() {}
	},
	'dispute.acceptMidpoint': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			const d = disputeNamed(s, ev.payload);
			if (!isDispute(d)) return d;
			if (!offerOf(d, ev.payload.client, 'client') || !offerOf(d, ev.payload.freelancer, 'freelancer'))
				return reject('invalid-state', "A midpoint is taken between an offer of the client's and one of the freelancer's in this dispute.");
			return null;
		},
		apply() {}
	},
	'dispute.settle': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			const d = disputeNamed(s, ev.payload);
			if (!isDispute(d)) return d;
			if (ev.payload.freelancer > d.amount) return reject('amount-mismatch', `The freelancer's share is part of the ${moneyText(d.amount, s.terms!.currency)} in dispute.`);
			return null;
		},
		apply() {}
	},
	'dispute.rule': {
		who: ['mediator'],
		check(s, ev) {
			const d = disputeNamed(s, ev.payload);
			if (!isDispute(d)) return d;
			if (!offerOf(d, ev.payload.offer)) return reject('invalid-state', 'The ruling names an offer that was never made in this dispute.');
			return null;
		},
		apply() {}
	},
	'receipt.split': {
		who: ['provider'],
		check(s, ev) {
			const r = settleable(s, ev, DISPUTE_INTENTS);
			if (isRejection(r)) return r;
			const { intent } = r;
			if (ev.payload.dispute !== intent.dispute?.id || ev.payload.milestone !== intent.milestone || ev.payload.week !== intent.week)
				return reject('receipt-mismatch', 'The receipt is for another dispute than its intent.');
			// Never for an intent refused at its position (written after the settlement): that one is never executable.
			if (!intent.rejection && isDuplicateSplit(s, s.disputes.get(ev.payload.dispute), ev.payload)) return null;
			if (ev.payload.milestone !== undefined && !milestone(s, ev.payload.milestone)) return reject('unknown-milestone');
			// Judged at the receipt's provider time on the provider's record, exactly as the provider judged it.
			const decided = splitDecision(s, intent, ev.at);
			if (!('split' in decided)) return decided;
			if (!sameSplit(ev.payload, decided.split)) return reject('receipt-mismatch', 'The split does not match the dispute’s outcome.');
			const d = s.disputes.get(ev.payload.dispute)!;
			const held = subjectHeld(s, d);
			if (d.amount > held) return reject('exceeds-escrow', `Escrow holds ${moneyText(held, s.terms!.currency)}.`);
			return null;
		},
		apply(s, ev) {
			const { freelancer, client, fee, mediator } = ev.payload;
			const intent = s.intents.get(ev.payload.intent)!;
			const d = s.disputes.get(ev.payload.dispute)!;
			if (d.settlement) {
				// A second TEST MODE mock executed the same outcome (isDuplicateSplit): its intent is settled, nothing moves.
				(d.duplicates ??= []).push({ intent: intent.id, receipt: ev.id });
				intent.settledBy = ev.id;
				return;
			}
			const split = (splitDecision(s, intent, ev.at) as { split: Split }).split;
			const week = d.segments?.week;
			const from = week ? weekEscrowAccount(week) : escrowAccount(d.milestone!);
			const tag = week ? { week } : { milestone: d.milestone! };
			const batch: Transfer[] = [];
			if (freelancer > 0) batch.push({ receipt: ev.id, kind: 'release', from, to: 'freelancer:pending', amount: freelancer, ...tag, at: ev.at });
			if (client > 0) batch.push({ receipt: ev.id, kind: 'refund', from, to: 'client:source', amount: client, ...tag, at: ev.at });
			if (fee > 0) batch.push({ receipt: ev.id, kind: 'mediation-fee', from, to: mediatorAccount(mediator!), amount: fee, ...tag, at: ev.at });
			if (batch.length) s.ledger.post(batch);
			if (week) {
				const b = openWeekBook(s, week);
				b.settled = sumMinor([b.settled ?? ZERO_MINOR, freelancer, client, fee]);
			} else {
				const m = milestone(s, d.milestone!)!;
				m.released = addMinor(m.released, freelancer);
				m.refunded = addMinor(m.refunded, client);
				if (fee > 0) m.mediationFees = addMinor(m.mediationFees ?? ZERO_MINOR, fee);
				m.phase = 'in_progress';
				m.reviewOpen = false;
			}
			// Released money waits the usual security period.
			if (freelancer > 0)
				s.releases.push({
					receipt: ev.id,
					milestone: week ? `week:${week}` : d.milestone!,
					amount: freelancer,
					releasedAt: ev.at,
					maturesAt: ev.at + s.terms!.securityPeriodDays * DAY_MS,
					matured: false,
					...(week ? { week } : {})
				});
			matureDue(s, ev.id);
			d.settlement = { intent: intent.id, receipt: ev.id, basis: split.basis, freelancer, client, fee, at: ev.at };
			intent.settledBy = ev.id;
		}
	}
};

/** Dispute invariants for assertContractInvariants (fold.ts): returned as sentences, empty when they hold. */
export function disputeInvariantProblems(s: ContractState): string[] {
	const out: string[] = [];
	const open = new Set<string>();
	/** Segments in recorded disputes (open or settled): each is decided by one dispute only. */
	const segments = new Set<string>();
	/** Per week: the amounts of its open disputes, all of which its escrow must hold. */
	const weekOpen = new Map<string, number>();
	let fees = 0;
	for (const d of s.disputes.values()) {
		if (d.segments && d.openedAt !== undefined) {
			for (const id of d.segments.ids) {
				if (segments.has(id)) out.push(`segment ${id}: in two disputes`);
				segments.add(id);
			}
			if (d.settlement) fees += d.settlement.fee;
		}
		if (d.settlement) {
			const { freelancer, client, fee } = d.settlement;
			if (freelancer + client + fee !== d.amount) out.push(`dispute ${d.id}: split ${freelancer} + ${client} + ${fee} ≠ disputed ${d.amount}`);
		} else if (d.openedAt !== undefined && d.segments) {
			weekOpen.set(d.segments.week, (weekOpen.get(d.segments.week) ?? 0) + d.amount);
		} else if (d.openedAt !== undefined) {
			if (open.has(d.milestone!)) out.push(`milestone ${d.milestone}: two disputes open at once`);
			open.add(d.milestone!);
			const m = s.milestones.find((x) => x.id === d.milestone);
			if (m && escrowOf(m) < d.amount) out.push(`dispute ${d.id}: escrow ${escrowOf(m)} < disputed ${d.amount}`);
		}
	}
	for (const [week, amount] of weekOpen) {
		const held = heldIn(weekBook(s, week));
		if (held < amount) out.push(`week ${week}: escrow ${held} < disputed ${amount}`);
	}
	for (const m of s.milestones) fees += m.mediationFees ?? 0;
	let paid = 0;
	for (const [a, v] of s.ledger.balances) if (a.startsWith('mediator:')) paid += v;
	if (paid !== fees) out.push(`mediators hold ${paid}, milestones paid ${fees} in fees`);
	return out;
}
