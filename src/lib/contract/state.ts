/**
 * The derived state of one contract: what the fold of its verified events produces.
 * Nothing here is stored or synced; every replica recomputes it from the event log.
 */
import type { AttestedKind, DisputeReason, EventBody, EventType, SettleBasis, SignedMilestoneChange, SignedTerms } from './schema';
import type { Rejection } from './rejections';
import type { Minor } from '../money/minor';
import type { EventId, PublicKey } from './ids';
import { Ledger } from './ledger';
import type { Bonus, HourlyState } from './timesheet';
import type { DeviceState } from './devices';

export type Role = 'client' | 'freelancer';
export type AuthorRole = Role | 'provider' | 'none';
export type ContractStatus = 'empty' | 'proposed' | 'active' | 'withdrawn' | 'ended';

/**
 * A verified event as the fold sees it. Signed by a certified device (devices.ts), the fold sees it
 * with `author` = the identity the certificate names, `device` = the key that signed it and
 * `certificate` = the certificate it named.
 */
export type Ev = EventBody & { id: EventId } & Attribution;
export type EvOf<T extends EventType> = Extract<EventBody, { type: T }> & { id: EventId } & Attribution;
type Attribution = { device?: PublicKey; certificate?: EventId };

/** Where a milestone's work stands; money is tracked separately in amounts and the ledger. */
export type WorkPhase = 'in_progress' | 'submitted' | 'changes_requested' | 'disputed';

export interface Submission {
	id: string;
	at: number;
	message: string;
	links: string[];
	/** Provider-signed time the submission was attested; the review clock runs from here. */
	attestedAt?: number;
}

export interface EndProposal {
	id: string;
	author: string;
	at: number;
}

export interface MilestoneState {
	id: string;
	title: string;
	amount: Minor;
	due?: string;
	description?: string;
	revisionCap?: number;
	removed: boolean;
	/** Settled by receipts, minor units. */
	funded: Minor;
	released: Minor;
	refunded: Minor;
	phase: WorkPhase;
	submission?: Submission;
	/** True from a submission until the client acts on it: the auto-release clock runs only then. */
	reviewOpen: boolean;
	changeRequests: number;
	/** The latest change request, and when the provider timestamped it (a provider needs it to judge auto-release). */
	lastChangeRequest?: { id: string; at: number; attestedAt?: number };
	/** Paid out of its escrow to mediators of its disputes (dispute.ts); absent while none was. */
	mediationFees?: Minor;
	/**
	 * Its amounts as agreed, oldest first: the terms' (no `by`), then each accepted change that set
	 * one (`by`: the acceptance). Absent while the terms' amount stands. Replaced, never mutated.
	 * What an event's author knew of the amount is judged on it (amendments.ts `agreedAmount`).
	 */
	amounts?: readonly { by?: string; amount: Minor }[];
}

export interface Intent {
	id: EventId;
	type:
		| 'milestone.fund'
		| 'milestone.release'
		| 'milestone.autoRelease'
		| 'milestone.refund'
		| 'withdrawal.requested'
		| 'hourly.fund'
		| 'hourly.release'
		| 'hourly.reclaim'
		| 'bonus.paid'
		| 'dispute.accept'
		| 'dispute.acceptMidpoint'
		| 'dispute.settle'
		| 'dispute.rule';
	author: PublicKey;
	at: number;
	milestone?: string;
	/** Absent for auto-release, whose amount is whatever escrow holds when the provider executes it. */
	amount?: Minor;
	method?: string;
	/** For auto-release: the submission whose review window it claims has passed. */
	submission?: string;
	/** For refunds: on what basis, and which request. */
	refund?: { basis: 'freelancer' | 'approved-request' | 'unanswered-request' | 'ended-by-agreement'; request?: string };
	/** The receipt that settled it. */
	settledBy?: EventId;
	/** The certified device that signed it, when not the identity key itself (devices.ts). */
	device?: PublicKey;
	/** Hourly intents: the week they fund, release or reclaim. */
	week?: string;
	/** Dispute intents (dispute.ts): the dispute they settle, and what they name. */
	dispute?: DisputeIntent;
	/** Set when the intent was authorised but not valid at its position; it is then never executable. */
	rejection?: Rejection;
}

export interface RefundRequest {
	id: EventId;
	milestone: string;
	amount: Minor;
	reason: string;
	at: number;
	attestedAt?: number;
	status: 'open' | 'approved' | 'declined' | 'refunded';
	declineReason?: string;
	/** The freelancer's answer (approval or decline): it stops the answer clock once the provider recorded it. */
	answer?: string;
}

/** What a dispute intent names: the offer accepted or ruled for, the two offers of a midpoint, or the deadline outcome asked. */
export interface DisputeIntent {
	id: string;
	offer?: string;
	midpoint?: { client: string; freelancer: string };
	basis?: SettleBasis;
	/** A deadline outcome: the freelancer's share (before any fee) the intent asks for. */
	share?: Minor;
}

/** An offer in a dispute: how much of the disputed amount goes to the freelancer (the rest to the client). */
export interface DisputeOffer {
	/** The event that made it: the opening, an offer, or a rejection naming the rejecting party's final offer. */
	id: string;
	by: Role;
	amount: Minor;
	/** Provider time it was recorded. */
	at: number;
}

/** A step of a dispute a party wrote; it counts once the provider recorded it (`recordedAt`). */
export interface DisputeStep {
	id: string;
	kind: 'offer' | 'rejection' | 'mediator-acceptance';
	by: Role;
	at: number;
	recordedAt?: number;
	/** An offer's amount, or a rejection's final offer. */
	amount?: Minor;
	/** A rejection: the offer it rejects. */
	offer?: string;
	/** A mediator acceptance: the mediator and its fee. */
	mediator?: { publicKey: PublicKey; name: string; feeBps: number; fee: Minor };
}

/**
 * A dispute on a milestone's escrow (dispute.ts). Only what the provider recorded moves it on:
 * `offers`, `last`, `rejection` and `mediator` are set from recorded steps, in the order of the
 * provider's record.
 */
export interface Dispute {
	id: EventId;
	/** What it is on: a milestone's escrow, or (hourly) the segments of a declined segment dispute, held in their week's escrow. */
	milestone?: string;
	segments?: { week: string; dispute: string; ids: string[] };
	opener: Role;
	reason: DisputeReason;
	details: string;
	/** The amount in dispute (minor units). */
	amount: Minor;
	/** The opener's claimed time; `openedAt` is the provider's. */
	at: number;
	openedAt?: number;
	/** Every step written for it, by event id. */
	steps: Map<string, DisputeStep>;
	/** Each party's last recorded offer. */
	offers: Partial<Record<Role, DisputeOffer>>;
	/** Whose recorded offer is the latest: the other party faces it. */
	last?: Role;
	rejection?: { id: string; by: Role; at: number };
	/** The mediator both parties accepted, and the provider time the second acceptance was recorded. */
	mediator?: { publicKey: PublicKey; name: string; feeBps: number; fee: Minor; acceptedAt: number };
	settlement?: { intent: string; receipt: string; basis: SettleBasis | 'accepted' | 'midpoint' | 'ruling'; freelancer: Minor; client: Minor; fee: Minor; at: number };
	/** TEST MODE: receipts of a second mock that executed the same outcome again; they settle their intents and move nothing (dispute.ts). */
	duplicates?: { intent: string; receipt: string }[];
}

/** Someone holding the link accepted the proposal: a candidate until the proposer countersigns it. */
export interface Acceptance {
	id: EventId;
	author: PublicKey;
	name: string;
	at: number;
}

export interface Countersign {
	id: EventId;
	acceptance: EventId;
	at: number;
}

export interface Decline {
	id: EventId;
	author: PublicKey;
	at: number;
	reason?: string;
}

/** An event the provider recorded (receipt.attested): its provider time and what it is. */
export interface RecordedEvent {
	at: number;
	kind: AttestedKind;
	/** The milestone whose clock it starts or stops (absent for the countersign and the end). */
	milestone?: string;
	/** Hourly contracts: the week whose clock it starts or stops (a timesheet, a dispute or its answer). */
	week?: string;
}

export interface ChangeProposal {
	id: string;
	author: string;
	at: number;
	change: SignedMilestoneChange;
	status: 'open' | 'accepted' | 'declined';
}

export interface ReleaseLot {
	receipt: string;
	milestone: string;
	amount: Minor;
	releasedAt: number;
	maturesAt: number;
	matured: boolean;
	/** Set on an hourly week's release (then `milestone` is "week:<week>"). */
	week?: string;
	/** Set on a bonus (then `milestone` is "bonus"): the intent that paid it. */
	bonus?: string;
}

export interface Payout {
	receipt: EventId;
	intent: EventId;
	amount: Minor;
	fee: Minor;
	method: string;
	at: number;
	arrivesAt: number;
}

export interface Message {
	id: string;
	author: string;
	role: Role;
	at: number;
	text: string;
}

export interface Feedback {
	rating: number;
	text: string;
	at: number;
}

export interface RejectedEvent {
	id: string;
	code: Rejection['code'];
	message: string;
	type?: string;
	author?: string;
	at?: number;
}

/** TEST MODE's shared clock (testclock.ts): the mock provider's offset from real time. */
export interface TestClock {
	offsetMs: number;
	/** The provider signed something while an offset stood: a reset is refused from then on. */
	signedUnder: boolean;
}

export interface ContractState {
	contract: string;
	status: ContractStatus;
	terms?: SignedTerms;
	proposal?: { id: EventId; author: PublicKey; role: Role; at: number };
	parties: { client?: PublicKey; freelancer?: PublicKey };
	names: Record<string, string>;
	acceptances: Map<string, Acceptance>;
	countersigns: Map<string, Countersign>;
	declines: Map<string, Decline>;
	/** Set when the provider recorded a countersign: the parties are fixed from here on. */
	binding?: { countersign: string; acceptance: string; at: number };
	/**
	 * What the provider recorded, by event id. Money clocks (auto-release, unanswered refunds) are
	 * judged on these alone, with provider times: a party cannot stop or start one by what it leaves
	 * out of the log it sends, and every replica judges as the provider did.
	 */
	recorded: Map<string, RecordedEvent>;
	milestones: MilestoneState[];
	changes: Map<string, ChangeProposal>;
	intents: Map<string, Intent>;
	refundRequests: Map<string, RefundRequest>;
	releases: ReleaseLot[];
	payouts: Payout[];
	ledger: Ledger;
	/** The latest provider-signed time seen: the only clock money moves on. */
	providerNow: number;
	/**
	 * Every submission and change request, by id: the provider may record one after a newer one
	 * (written without seeing the record) sorts first, and that record counts (record.ts).
	 */
	reviewEvents: Map<string, { kind: 'submission' | 'change-request'; milestone: string }>;
	/** Open proposals to end the contract, by id: both parties may propose at once, each then accepts the other's (ending.ts). */
	endProposals: Map<string, EndProposal>;
	endedByAgreement: boolean;
	endedAt?: number;
	/** The event that ended the contract: the provider records it, which stops every money clock. */
	endEvent?: string;
	messages: Message[];
	feedback: Partial<Record<Role, Feedback>>;
	testClock: TestClock;
	/** Hourly contracts only (hourly.ts): segments, timesheets, disputes, limits and weekly escrow. */
	hourly?: HourlyState;
	/** One-off payments with a note, on either kind of contract (hourly.ts). */
	bonuses: Bonus[];
	/** Milestone disputes in the Resolution Center, by the id of the event that opened them (dispute.ts). */
	disputes: Map<string, Dispute>;
	/** One person, several devices (devices.ts): certificates, revocations, which device signed what. */
	devices: DeviceState;
	/** Applied events in fold order: the activity timeline. */
	applied: Ev[];
	rejected: RejectedEvent[];
}

export function emptyState(contract: string): ContractState {
	return {
		contract,
		status: 'empty',
		parties: {},
		names: {},
		acceptances: new Map(),
		countersigns: new Map(),
		declines: new Map(),
		recorded: new Map(),
		milestones: [],
		changes: new Map(),
		intents: new Map(),
		refundRequests: new Map(),
		releases: [],
		payouts: [],
		ledger: new Ledger(),
		providerNow: 0,
		endProposals: new Map(),
		reviewEvents: new Map(),
		endedByAgreement: false,
		messages: [],
		feedback: {},
		testClock: { offsetMs: 0, signedUnder: false },
		bonuses: [],
		disputes: new Map(),
		devices: { certificates: new Map(), revocations: new Map(), signedBy: new Map(), escrowConflicts: [] },
		applied: [],
		rejected: []
	};
}

/**
 * The role of a key: a party's identity key, the provider's key, or a device certified by exactly one
 * party's identity and not revoked as the provider recorded (devices.ts). What pages ask about "me";
 * the fold judges an event by the identity its certificate names (`partyRole`), never by this mapping.
 */
export function roleOf(s: ContractState, author: string): AuthorRole {
	const role = partyRole(s, author);
	if (role !== 'none') return role;
	let found: AuthorRole = 'none';
	for (const c of s.devices.certificates.values()) {
		if (c.device !== author || c.revokedAt !== undefined) continue;
		const r = partyRole(s, c.identity);
		if (r === 'client' || r === 'freelancer') {
			if (found !== 'none' && found !== r) return 'none';
			found = r;
		}
	}
	return found;
}

/** The role of a key itself: a party's identity key or the provider's key, no device mapping. */
export function partyRole(s: ContractState, author: string): AuthorRole {
	if (s.parties.client === author) return 'client';
	if (s.parties.freelancer === author) return 'freelancer';
	if (s.terms && s.terms.provider.publicKey === author) return 'provider';
	return 'none';
}

export function milestone(s: ContractState, id: string): MilestoneState | undefined {
	return s.milestones.find((m) => m.id === id && !m.removed);
}

/** Money currently held in escrow for a milestone. */
export function escrowOf(m: MilestoneState): Minor {
	return (m.funded - m.released - m.refunded - (m.mediationFees ?? 0)) as Minor;
}

/** What the client still has to pay in to cover the milestone's amount (or `amount`, as someone knew it). */
export function outstandingOf(m: MilestoneState, amount: number = m.amount): Minor {
	return Math.max(0, amount - (m.funded - m.refunded)) as Minor;
}

/** Money went in and all of it came out again: nothing more can happen to this milestone's escrow. */
export function isClosed(m: MilestoneState): boolean {
	return m.funded > 0 && escrowOf(m) === 0;
}

export const DAY_MS = 86_400_000;
