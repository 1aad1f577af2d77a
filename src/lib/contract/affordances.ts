/**
 * What a role may do now, per milestone and for the contract: each action with the amounts involved,
 * or the reason it is not possible. Built on `check` (the rules every replica folds with): a page
 * renders these and decides nothing about money. Provider time (`providerNow`) judges deadlines.
 */
import { newMilestoneId } from './amendments';
import { endProposalFor, escrowHeld } from './ending';
import { check } from './fold';
import { fundingOffer } from './funding';
import { partsOf, type KindParts } from './kind';
import { hourlyEndingConsequence, isHourly } from './timesheet';
import { parseAmount } from '../money/amount';
import type { CurrencyCode } from '../money/currency';
import type { FundingMethod } from '../money/fees';
import { unansweredRefundRefusal } from './refund';
import { moneyText, reasonOf, reject, type Rejection, type RejectionCode } from './rejections';
import { refundAnswerDeadline } from './clocks';
import { autoReleaseDecision } from './release';
import type { EventType, Payload } from './schema';
import { escrowOf, outstandingOf, roleOf, type ContractState, type Ev, type MilestoneState, type RefundRequest, type Role } from './state';

export type Affordance<D extends object = object> = D & ({ allowed: true } | { allowed: false; reason: string; code: RejectionCode });

export interface MilestoneAffordances {
	milestone: string;
	/** What escrow holds for it now. */
	held: number;
	fund: Affordance<{ amount: number }>;
	requestPayment: Affordance;
	/** `used` of `cap` change requests (no cap when the terms set none). */
	requestChanges: Affordance<{ used: number; cap?: number }>;
	/** Release a chosen amount, at most `max`, paid from escrow funded by `method`. */
	release: Affordance<{ max: number; method: FundingMethod }>;
	/** Release all that escrow holds: its own choice, never what an empty amount means. */
	releaseEverything: Affordance<{ amount: number; method: FundingMethod }>;
	/** The freelancer's claim once the review window passed with nobody acting (the app makes it when it opens). */
	claimAutoRelease: Affordance<{ amount: number; submission?: string; deadline?: number }>;
	requestRefund: Affordance<{ max: number }>;
	/** After the contract ended by agreement, the client takes back what escrow still holds. */
	refundOnEnd: Affordance<{ amount: number }>;
}

export interface RefundAffordances {
	request: RefundRequest;
	approve: Affordance;
	decline: Affordance;
	/** The client has the refund paid: approved, or unanswered past the answer window. */
	receive: Affordance<{ amount: number; basis: 'approved-request' | 'unanswered-request'; deadline?: number }>;
}

export interface ChangeAffordances {
	id: string;
	/** This role proposed it: declining it is withdrawing it. */
	mine: boolean;
	accept: Affordance;
	decline: Affordance;
}

export interface ContractAffordances {
	/** Escrow held across the contract's milestones. */
	escrow: number;
	/** End now (nothing in escrow) or propose to end (escrow held: the other party must agree). */
	end: Affordance<{ mode: 'end' | 'propose'; escrow: number; consequence: string }>;
	acceptEnd: Affordance<{ proposal?: string; escrow: number; consequence: string }>;
	proposeMilestone: Affordance<{ id: string }>;
	changes: ChangeAffordances[];
	refunds: RefundAffordances[];
	message: Affordance;
	feedback: Affordance;
}

export interface Affordances {
	role?: Role;
	/** Which parts of a contract apply to its kind (milestones or weeks): what a page renders at all. */
	parts: KindParts;
	contract: ContractAffordances;
	milestones: MilestoneAffordances[];
}

/** The role a key plays in this contract, if it is one of its two parties. */
export function partyRole(s: ContractState, key: string | undefined): Role | undefined {
	if (!key) return undefined;
	const r = roleOf(s, key);
	return r === 'client' || r === 'freelancer' ? r : undefined;
}

const NOT_A_PARTY = reject('not-party', 'Only the client and the freelancer of this contract can act on it.');

function allow<D extends object>(r: Rejection | null, d: D): Affordance<D> {
	return r ? { ...d, allowed: false, reason: reasonOf(r), code: r.code } : { ...d, allowed: true };
}

/** Ask the rules about an event this role would write now, without writing anything. */
function probe<T extends EventType>(s: ContractState, role: Role | undefined, type: T, payload: Payload<T>, at: number): Rejection | null {
	const author = role && s.parties[role];
	if (!author) return NOT_A_PARTY;
	const ev = { id: '', v: 1, contract: s.contract, author, prev: null, deps: [], at, type, payload } as unknown as Ev;
	return check(s, ev);
}

/** The method the milestone's escrow was funded with: a release is paid from it. */
function fundedWith(s: ContractState, m: MilestoneState): FundingMethod {
	for (const i of s.intents.values())
		if (i.type === 'milestone.fund' && i.milestone === m.id && i.settledBy) return i.method as FundingMethod;
	return 'card';
}

function milestoneAffordances(s: ContractState, role: Role | undefined, m: MilestoneState, now: number): MilestoneAffordances {
	const currency = s.terms!.currency;
	const held = escrowOf(m);
	const offer = fundingOffer(m);
	const fund = probe(s, role, 'milestone.fund', { milestone: m.id, amount: Math.max(1, outstandingOf(m)), currency, method: 'card' }, now) ?? (offer.refusal ? reject('invalid-state', offer.refusal) : null);
	const some = Math.max(1, held);
	const method = fundedWith(s, m);
	const release = probe(s, role, 'milestone.release', { milestone: m.id, amount: some, currency, method }, now);

	let claim: Rejection | null = probe(s, role, 'milestone.autoRelease', { milestone: m.id, submission: m.submission?.id ?? '' }, now);
	const decision = autoReleaseDecision(s, m.id, now);
	if (!claim && !decision.due) claim = decision.refusal;
	const claimDetails = { amount: held, submission: decision.submission, deadline: decision.deadline };

	return {
		milestone: m.id,
		held,
		fund: allow(fund, { amount: offer.amount }),
		requestPayment: allow(probe(s, role, 'milestone.submitted', { milestone: m.id, message: '-', links: [] }, now), {}),
		requestChanges: allow(probe(s, role, 'milestone.changesRequested', { milestone: m.id, reason: '-' }, now), {
			used: m.changeRequests,
			...(m.revisionCap !== undefined ? { cap: m.revisionCap } : {})
		}),
		release: allow(release, { max: held, method }),
		releaseEverything: allow(release, { amount: held, method }),
		claimAutoRelease: allow(claim, claimDetails),
		requestRefund: allow(probe(s, role, 'refund.requested', { milestone: m.id, amount: some, currency, reason: '-' }, now), { max: held }),
		refundOnEnd: allow(probe(s, role, 'milestone.refund', { milestone: m.id, amount: some, currency, basis: 'ended-by-agreement' }, now), { amount: held })
	};
}

/** What ending means for the money, in words with amounts: what a confirmation shows. */
export function endingConsequence(s: ContractState): string {
	const currency = s.terms?.currency ?? 'USD';
	const held = escrowHeld(s);
	if (held === 0) return 'No money is held in escrow. Payments already released stay with the freelancer; nothing more can be funded, submitted or released on this contract.';
	const parts = s.milestones
		.filter((m) => !m.removed && escrowOf(m) > 0)
		.map((m) => `${m.title} ${moneyText(escrowOf(m), currency)}`)
		.join(', ');
	return `Escrow holds ${moneyText(held, currency)} (${parts}). Ending needs both parties: once the other party agrees, the client can take that back as a refund (or still release it). Payments already released stay with the freelancer.`;
}

function refundAffordances(s: ContractState, role: Role | undefined, r: RefundRequest, now: number): RefundAffordances {
	const currency = s.terms!.currency;
	const basis = r.status === 'approved' ? 'approved-request' : 'unanswered-request';
	let receive = probe(s, role, 'milestone.refund', { milestone: r.milestone, amount: r.amount, currency, basis, request: r.id }, now);
	if (!receive && basis === 'unanswered-request') receive = unansweredRefundRefusal(s, r.id, now);
	const deadline = refundAnswerDeadline(s, r);
	return {
		request: r,
		approve: allow(probe(s, role, 'refund.approved', { request: r.id }, now), {}),
		decline: allow(probe(s, role, 'refund.declined', { request: r.id, reason: '-' }, now), {}),
		receive: allow(receive, { amount: r.amount, basis, ...(deadline !== undefined ? { deadline } : {}) })
	};
}

export function affordances(s: ContractState, role: Role | undefined, providerNow: number): Affordances {
	const now = providerNow;
	const milestones = s.terms ? s.milestones.filter((m) => !m.removed).map((m) => milestoneAffordances(s, role, m, now)) : [];
	const escrow = s.terms ? escrowHeld(s) : 0;
	const consequence = isHourly(s) ? hourlyEndingConsequence(s) : endingConsequence(s);
	const mode = escrow === 0 ? 'end' : 'propose';
	const end = mode === 'end' ? probe(s, role, 'contract.ended', {}, now) : probe(s, role, 'contract.endProposed', { reason: 'Ending by agreement' }, now);
	const me = role && s.parties[role];
	const proposal = endProposalFor(s, me)?.proposal.id;
	const acceptEnd = proposal
		? probe(s, role, 'contract.endAccepted', { proposal }, now)
		: reject('invalid-state', 'Nobody has proposed to end the contract.');
	const changes = [...s.changes.values()]
		.filter((c) => c.status === 'open')
		.map((c) => ({
			id: c.id,
			mine: c.author === me,
			accept: allow(probe(s, role, 'milestone.changeAccepted', { proposal: c.id }, now), {}),
			decline: allow(probe(s, role, 'milestone.changeDeclined', { proposal: c.id }, now), {})
		}));
	const id = newMilestoneId(s);
	const add = s.terms
		? probe(s, role, 'milestone.changeProposed', { change: { kind: 'add', milestone: { id, title: '-', amount: 1 } } }, now)
		: reject('invalid-state', 'The contract terms have not arrived yet.');
	return {
		...(role ? { role } : {}),
		parts: partsOf(s),
		milestones,
		contract: {
			escrow,
			end: allow(end, { mode, escrow, consequence }),
			acceptEnd: allow(acceptEnd, { ...(proposal ? { proposal } : {}), escrow, consequence }),
			proposeMilestone: allow(add, { id }),
			changes,
			refunds: s.terms ? [...s.refundRequests.values()].filter((r) => r.status !== 'refunded').map((r) => refundAffordances(s, role, r, now)) : [],
			message: allow(probe(s, role, 'message.posted', { text: '-' }, now), {}),
			feedback: allow(probe(s, role, 'feedback.left', { rating: 5, text: '' }, now), {})
		}
	};
}

export type AmountCheck = { ok: true; minor: number } | { ok: false; message: string };

/**
 * An amount a person typed: a number above zero and, for a part of escrow (a release, a refund
 * request), at most what escrow holds. Empty or zero never means "everything".
 */
export function amountWithin(text: string, max: number, currency: CurrencyCode, what: 'release' | 'refund' | 'milestone'): AmountCheck {
	const all = what === 'release' ? ' To release all of it, choose “Release everything”.' : '';
	if (text.trim() === '') return { ok: false, message: what === 'milestone' ? 'Enter the amount of the new milestone.' : `Enter the amount to ${what}.${all}` };
	const parsed = parseAmount(text, currency);
	if (!parsed.ok) return { ok: false, message: parsed.message };
	if (parsed.minor === 0) return { ok: false, message: `Enter an amount above ${moneyText(0, currency)}.${all}` };
	if (parsed.minor > max) return { ok: false, message: `Escrow holds ${moneyText(max, currency)} for this milestone: enter at most that.` };
	return { ok: true, minor: parsed.minor };
}

