/**
 * What every escrow provider does the same way, whoever keeps its books (the in-browser mock or
 * the Stripe edge function): load the requester's log and fold it with the rules every peer runs,
 * check that the intent is one this provider may execute, and sign the receipt event.
 * Keeping it in one place means the mock and the real provider cannot drift apart on the rules.
 */
import { formatAmount } from '../money/amount';
import { ContractLog } from '../contract/log';
import { idOf, type Draft } from '../contract/envelope';
import { hourlyClockRefusal, hourlyRecordRefusal, isHourlyClockJudged, isHourlyKind, weekReclaimTerms, weekReleaseTerms } from '../contract/hourly';
import { weekFigures } from '../contract/timesheet';
import { recordSubject, staleReviewEvent } from '../contract/record';
import { deviceRefusal } from '../contract/devices';
import { disputeRecordRefusal, heldRefusal, isDisputeIntent, isDisputeKind, splitDecision, type Split } from '../contract/dispute';
import { deadlineRefusal, isDeadlineJudged } from '../contract/release';
import type { AttestedKind, EventType, Payload } from '../contract/schema';
import type { RuleContext } from '../contract/rule';
import type { ContractState, Dispute, Intent } from '../contract/state';
import { authenticate } from '../identity/authenticate';
import type { DeviceKey } from '../identity/ed25519';
import { signEventSync } from '../identity/sign-event';
import { MoneyError } from '../money/errors';
import { EscrowError, type EscrowRequest, type Receipt } from './adapter';

export interface LoadedContract {
	s: ContractState;
	/** Ids of the envelopes the requester sent: the receipt chains only to events it holds. */
	held: Set<string>;
}

/**
 * Add the request's envelopes to `log` (a fresh log, or one the provider keeps), authenticate and
 * fold, then refuse contracts that name another provider or are not accepted by both parties.
 * `recorded` is the provider's own record of the contract (what it attested or executed, with their
 * causal past): merged in first, so a requester who leaves a recorded event out changes nothing.
 */
export async function loadContract(
	log: ContractLog,
	req: EscrowRequest,
	providerKey: string,
	recorded: readonly string[] = [],
	/** The provider's clock: with it, nothing a revoked or expired device signed is acted on (`refuseDevice`). */
	now?: number
): Promise<LoadedContract> {
	for (const envelope of recorded) {
		const id = idOf(envelope);
		if (id) log.add(id, envelope);
	}
	const held = new Set<string>();
	for (const envelope of req.log) {
		const id = idOf(envelope);
		if (!id) continue;
		log.add(id, envelope);
		held.add(id);
	}
	await authenticate(log);
	const s = log.derive().state;
	if (!s.terms) throw new EscrowError('invalid-request', 'The log holds no contract terms.');
	if (s.terms.provider.publicKey !== providerKey)
		throw new EscrowError('not-authorised', 'This contract names another escrow provider.');
	// Before the binding the only thing the provider does is record the countersign that makes it.
	if ((s.status === 'proposed' || s.status === 'withdrawn') && !s.binding && s.countersigns.has(req.event)) return { s, held };
	if (!s.binding) throw new EscrowError('not-authorised', 'The contract is not bound yet: the proposer has not countersigned an acceptance the provider recorded.');
	if (now !== undefined) refuseDevice(s, req.event, now);
	return { s, held };
}

/**
 * The provider executes no money intent and records no event that a certified device signed once, on
 * its own clock, the device's certificate has expired or its revocation was recorded (devices.ts):
 * every replica refuses such a receipt too. A retry of what it already did still gets its receipt.
 */
export function refuseDevice(s: ContractState, event: string, now: number): void {
	if (s.intents.get(event)?.settledBy || s.recorded.has(event)) return;
	const r = deviceRefusal(s, event, now);
	if (r) throw new EscrowError('not-authorised', r.message);
}

/** The intent `id` as the fold sees it, if it is of one of `types`, authorised and not settled yet. */
export function executableIntent(s: ContractState, id: string, types: readonly Intent['type'][]): Intent {
	const intent = s.intents.get(id);
	if (!intent || !types.includes(intent.type))
		throw new EscrowError('invalid-request', 'The intent is not in the contract log, or is of another kind.');
	if (intent.rejection) throw new EscrowError('not-authorised', intent.rejection.message);
	if (intent.settledBy) throw new EscrowError('already-settled', 'This intent has already been settled.');
	return intent;
}

/**
 * What `attest` may record (contract/record.ts says which events count): the countersign, a current
 * submission, the latest change request, a refund request or its answer, the end of the contract.
 */
export function attestationKind(s: ContractState, event: string, now?: number, ctx?: RuleContext): AttestedKind {
	const subject = recordSubject(s, event);
	if (!subject) throw new EscrowError('invalid-request', 'Only a countersign, a current submission, change request, refund request or answer, or the end of the contract can be recorded.');
	if (subject.kind === 'countersign' && s.binding && s.binding.countersign !== event)
		throw new EscrowError('not-authorised', 'The provider has already recorded another countersign for this contract.');
	// A newer one the provider knows of replaced it: recording it now could stop the current review clock.
	if (staleReviewEvent(s, subject, event)) throw new EscrowError('not-authorised', `A newer ${subject.kind} was written: only the current one is recorded.`);
	// Hourly events are recorded only when the provider's clock allows (a timesheet from the week's
	// lock, a dispute within the review window, …): the rule every replica applies to the receipt.
	// A provider that cannot say its time (`now` absent) records no hourly event.
	if (isHourlyKind(subject.kind)) {
		if (now === undefined) throw new EscrowError('invalid-request', 'This provider does not record hourly events yet.');
		const refusal = hourlyRecordRefusal(s, subject, event, now, ctx);
		if (refusal) throw new EscrowError(refusal.code === 'too-early' ? 'too-early' : 'not-authorised', refusal.message);
	}
	// Dispute steps count in the order and at the times of this provider's record (contract/dispute.ts).
	if (isDisputeKind(subject.kind)) {
		if (now === undefined) throw new EscrowError('invalid-request', 'This provider does not record disputes yet.');
		const refusal = disputeRecordRefusal(s, subject, event, now, ctx);
		if (refusal) throw new EscrowError('not-authorised', refusal.message);
	}
	return subject.kind;
}

/**
 * A clock-judged intent (auto-release, unanswered refund) checked on the provider's record and
 * clock with the one rule every replica applies to the receipt (contract/release.ts): the provider
 * refuses what the replicas would refuse.
 */
export function clockRefusal(s: ContractState, intent: Intent, now: number): void {
	const r = isHourlyClockJudged(intent) ? hourlyClockRefusal(s, intent, now) : deadlineRefusal(s, intent, now);
	if (r) throw new EscrowError(r.code === 'too-early' ? 'too-early' : 'not-authorised', r.message);
}

/** Is this intent judged on a clock (and so on the provider's record)? Every dispute intent is. */
export const isClockJudged = (intent: Intent): boolean => isDeadlineJudged(intent) || isHourlyClockJudged(intent) || isDisputeIntent(intent);

/**
 * A dispute intent judged on the provider's record and clock with the rule every replica applies to
 * its `receipt.split` (contract/dispute.ts): what the split pays, or the provider's refusal.
 */
export function disputeSplit(s: ContractState, intent: Intent, now: number): Split {
	const r = splitDecision(s, intent, now);
	if ('split' in r) return r.split;
	throw new EscrowError(r.code === 'too-early' ? 'too-early' : r.code === 'already-settled' ? 'already-settled' : 'not-authorised', r.message);
}

/**
 * A dispute intent as a provider executes it, the mock and the Stripe function alike: judged at
 * provider time `at` on the provider's record (`disputeSplit`), refused when its own books hold less
 * than the disputed amount (`held`), and the `receipt.split` payload it then signs.
 */
export function disputeExecution(s: ContractState, intent: Intent, at: number, held: number): { dispute: Dispute; split: Split; payload: Payload<'receipt.split'> } {
	const split = disputeSplit(s, intent, at);
	const d = s.disputes.get(intent.dispute!.id)!;
	if (held <= 0) throw new EscrowError('unfunded', 'There is no money in escrow for this milestone.');
	if (d.amount > held) throw overRelease(s, held, d.amount, 'release');
	const payload: Payload<'receipt.split'> = {
		intent: intent.id,
		dispute: d.id,
		milestone: d.milestone,
		freelancer: split.freelancer,
		client: split.client,
		fee: split.fee,
		...(split.mediator ? { mediator: split.mediator } : {}),
		currency: s.terms!.currency
	};
	return { dispute: d, split, payload };
}

/**
 * A dispute on an hourly week's segments as a provider executes it (the Stripe function; the mock
 * keeps its own week counters): judged like `disputeExecution`, but bounded by what the week's escrow
 * holds for those segments — `held` (the provider's books for the week) less what the rest of the
 * week still owes on the record and the week's other open disputes — so a short week never pays a
 * split out of the freelancer's undisputed time. The payload names the week, as the mock's does.
 */
export function weekDisputeExecution(s: ContractState, intent: Intent, at: number, held: number): { dispute: Dispute; split: Split; payload: Payload<'receipt.split'> } {
	const split = disputeSplit(s, intent, at);
	const d = s.disputes.get(intent.dispute!.id)!;
	const week = d.segments!.week;
	const f = weekFigures(s, week, at);
	let others = 0;
	for (const o of s.disputes.values()) if (o.id !== d.id && o.segments?.week === week && o.openedAt !== undefined && !o.settlement) others += o.amount;
	const free = held - Math.max(0, f.payable - f.released) - others;
	const c = s.terms!.currency;
	if (d.amount > free)
		throw new EscrowError('over-release', `The week's escrow holds ${formatAmount(Math.max(0, free), c)} for these segments; the split moves ${formatAmount(d.amount, c)}.`);
	const payload: Payload<'receipt.split'> = {
		intent: intent.id,
		dispute: d.id,
		week,
		freelancer: split.freelancer,
		client: split.client,
		fee: split.fee,
		...(split.mediator ? { mediator: split.mediator } : {}),
		currency: c
	};
	return { dispute: d, split, payload };
}

/** Money of a milestone with an open dispute moves only by the dispute's split (`amount` Infinity: all of it). */
export function disputeHold(s: ContractState, milestone: string, amount: number): void {
	const r = heldRefusal(s, milestone, amount);
	if (r) throw new EscrowError('not-authorised', r.message);
}

export interface ReceiptDraft<T extends EventType> {
	contract: string;
	/** The provider's latest receipt the requester holds (per-author chain), or null. */
	prev: string | null;
	/** The intent or event the receipt answers. */
	dep: string;
	/** Provider time: the only clock money moves on. */
	at: number;
	type: T;
	payload: Payload<T>;
}

export function signReceipt<T extends EventType>(key: DeviceKey, r: ReceiptDraft<T>): Receipt {
	const draft: Draft = { contract: r.contract, author: key.publicKey, prev: r.prev, deps: [r.dep], at: r.at, type: r.type, payload: r.payload };
	return signEventSync(key, draft);
}

/** A fee table refusal (say, a fee larger than the amount) is the provider refusing the request. */
export function quoted<Q>(quote: () => Q): Q {
	try {
		return quote();
	} catch (e) {
		if (e instanceof MoneyError) throw new EscrowError('invalid-request', e.message);
		throw e;
	}
}

export { idOf };

/** A release or refund asking for more than the escrow holds, in words with money formatted. */
export function overRelease(s: ContractState, held: number, asked: number, what: 'release' | 'refund'): EscrowError {
	const c = s.terms!.currency;
	return new EscrowError('over-release', `Escrow holds ${formatAmount(held, c)}; the ${what} asks for ${formatAmount(asked, c)}.`);
}

/** A withdrawal above what has matured. */
export function overWithdrawal(s: ContractState, available: number): EscrowError {
	return new EscrowError(
		'insufficient-balance',
		`Available to withdraw: ${formatAmount(available, s.terms!.currency)}. Released payments become available after the security period.`
	);
}

// —— hourly weeks: the one decision the mock and the Stripe function both make ——

/**
 * A week's funding: never more than the week may still need on this provider's record and clock.
 * `unreceipted` is escrow the provider already charged for the week without a receipt in that record
 * yet (the Stripe function's processing bank debits, another device's funding): it counts too.
 */
export function weekFundingCheck(s: ContractState, intent: Intent, now: number, unreceipted = 0): void {
	if (intent.amount! + unreceipted > weekFigures(s, intent.week!, now).due) throw new EscrowError('already-settled', 'This week is already funded.');
}

/** A week's release judged on the provider's record (its recorded timesheet, disputes, answers) and clock: what it pays and carries on. */
export function weekRelease(s: ContractState, intent: Intent, now: number): ReturnType<typeof weekReleaseTerms> {
	clockRefusal(s, intent, now);
	return weekReleaseTerms(s, intent.week!, now);
}

/** The client's reclaim of a week's unused escrow, judged the same way: refunded once paused or ended, else carried on. */
export function weekReclaim(s: ContractState, intent: Intent, now: number): ReturnType<typeof weekReclaimTerms> {
	clockRefusal(s, intent, now);
	return weekReclaimTerms(s, intent.week!, now);
}

/** A week's release or reclaim moving more than the week's escrow holds in the provider's books. */
export function weekOverRelease(s: ContractState, held: number, moved: number, what: 'release' | 'reclaim'): EscrowError {
	const c = s.terms!.currency;
	return new EscrowError('over-release', `The week's escrow holds ${formatAmount(held, c)}; the ${what} ${what === 'release' ? 'moves' : 'asks for'} ${formatAmount(moved, c)}.`);
}
