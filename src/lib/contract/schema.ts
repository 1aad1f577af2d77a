/**
 * zod schemas for the signed envelope, the signed body, and every event type's payload.
 * The body is the exact JSON string that was signed; these schemas validate what it decodes to.
 */
import { z } from 'zod';
import { CURRENCY_CODES } from '../money/currency';
import { FUNDING_METHODS, PAYOUT_METHODS } from '../money/fees';
import { MAX_AMOUNT_MINOR } from '../money/amount';
import { MAX_MEDIATION_FEE_BPS } from '../money/mediation';
import type { Minor } from '../money/minor';
import { CONTRACT_ID, EVENT_ID, PUBLIC_KEY, type ContractId as ContractIdT, type EventId, type PublicKey as PublicKeyT } from './ids';

/** An envelope larger than this is rejected unread: it bounds memory per event and the sync batch size. */
export const MAX_ENVELOPE_BYTES = 32 * 1024;

/**
 * Types what a schema returns as a brand (ids.ts, money/minor.ts). A cast, not a transform: zod
 * checks and returns exactly what it did, the compiler just knows more. Inputs stay plain (z.input),
 * so a draft is written with plain strings and numbers and becomes branded once it is decoded.
 */
const brandAs =
	<B>() =>
	<S extends z.ZodType>(schema: S) =>
		schema as unknown as z.ZodType<B, z.input<S>>;

/** sha256 digest, base64url: 43 characters. */
export const Id = brandAs<EventId>()(z.string().regex(EVENT_ID, 'expected a 43-character base64url id'));
/** Raw 32-byte Ed25519 public key, base64url. */
export const PublicKey = brandAs<PublicKeyT>()(z.string().regex(PUBLIC_KEY, 'expected a 43-character base64url key'));
/** The sha256 of the contract's proposal (see envelope.ts), base64url. Older shapes pass here and are refused with a clear reason there. */
export const ContractId = brandAs<ContractIdT>()(z.string().regex(CONTRACT_ID, 'expected a base64url contract id'));
export const MilestoneId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a short lowercase milestone id');
/** A positive amount in minor units. */
export const Amount = brandAs<Minor>()(z.number().int().positive().max(MAX_AMOUNT_MINOR));
/** An amount in minor units that may be zero (fees, shares, offers). */
export const FeeAmount = brandAs<Minor>()(z.number().int().nonnegative().max(MAX_AMOUNT_MINOR));
export const Currency = z.enum(CURRENCY_CODES);
export const FundingMethod = z.enum(FUNDING_METHODS);
export const PayoutMethod = z.enum(PAYOUT_METHODS);
/** Milliseconds since the epoch. */
export const Timestamp = z.number().int().nonnegative().max(8.64e15);
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');
const Name = z.string().trim().min(1).max(80);
const Text = (max: number) => z.string().trim().min(1).max(max);
const Url = z.url({ protocol: /^https?$/ }).max(2000);

/** TEST MODE clock (testclock.ts): one step forward at most a year, the whole offset at most ten years. */
export const TEST_CLOCK_MAX_ADVANCE_MS = 365 * 86_400_000;
export const TEST_CLOCK_MAX_OFFSET_MS = 3650 * 86_400_000;

/** The stored form of an event (validated by hand in envelope.ts: it runs once per event). */
export type Envelope = { id: string; body: string; sig: string };

export const MilestoneTerms = z
	.object({
		id: MilestoneId,
		title: Text(200),
		amount: Amount,
		due: IsoDate.optional(),
		description: z.string().max(5000).optional(),
		/** How many change requests the client may make before further changes need an amendment. */
		revisionCap: z.number().int().min(0).max(50).optional()
	})
	.strict();
/** Terms types are what a proposer writes (plain); `SignedTerms` is what a decoded proposal carries (branded). */
export type MilestoneTerms = z.input<typeof MilestoneTerms>;

export const ProviderTerms = z
	.object({
		/** 'mock' or 'stripe'; the key is what receipts are verified against. */
		id: z.string().min(1).max(40),
		publicKey: PublicKey,
		testMode: z.boolean()
	})
	.strict();

/** A mediator both parties agree to in advance (dispute.ts): its key, its name and its fee rule. */
export const MediatorTerms = z
	.object({
		publicKey: PublicKey,
		name: Name,
		/** The fee as a share of the disputed amount, in basis points (500 = 5 %); the currency's minimum applies. */
		feeBps: z.number().int().min(0).max(MAX_MEDIATION_FEE_BPS)
	})
	.strict();
export type MediatorTerms = z.input<typeof MediatorTerms>;

/** Fixed-price terms: paid per milestone. `kind` is absent on proposals made before hourly contracts existed. */
export const Terms = z
	.object({
		kind: z.literal('fixed').optional(),
		title: Text(200),
		scope: z.string().max(20_000),
		currency: Currency,
		milestones: z
			.array(MilestoneTerms)
			.min(1)
			.max(100)
			.refine((ms) => new Set(ms.map((m) => m.id)).size === ms.length, 'milestone ids must be unique'),
		provider: ProviderTerms,
		reviewWindowDays: z.number().int().min(1).max(60),
		securityPeriodDays: z.number().int().min(0).max(30),
		refundAnswerDays: z.number().int().min(1).max(30),
		// —— Resolution Center (dispute.ts); absent on older proposals, and then the defaults apply ——
		/** Days the parties negotiate a dispute before no new offers can be made. Absent: 5. */
		disputeDays: z.number().int().min(1).max(30).optional(),
		/** A mediator named in advance; absent: the parties name one by agreement after a rejection. */
		mediator: MediatorTerms.optional(),
		/** Days a mediator has to rule once both parties accepted it. Absent: 7. */
		mediatorDays: z.number().int().min(1).max(30).optional(),
		/** Disputes below this amount split at the midpoint on a rejection. Absent: the currency's table value (money/mediation.ts). */
		smallDisputeLimit: FeeAmount.optional()
	})
	.strict();
export type FixedPriceTerms = z.input<typeof Terms>;

/**
 * The most hours one week can bill. A week's timesheet names every billed segment by id (43
 * characters each), so 80 h = 480 ids keeps the signed timesheet well under MAX_ENVELOPE_BYTES.
 */
export const MAX_WEEK_HOURS = 80;
/** Weeks are named by their Monday (weeks.ts). */
export const WeekKey = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a week as the date of its Monday, YYYY-MM-DD');

/** Hourly terms (hourly.ts): the rate, the weekly limit and the week's clocks, as offsets from the week's end. */
export const HourlyRules = z
	.object({
		/** Minor units per hour. */
		rate: Amount,
		/** Hours the client funds into escrow each week, and the most a week bills. Absent: not protected by escrow. */
		weeklyLimitHours: z.number().int().min(1).max(MAX_WEEK_HOURS).optional(),
		/** May the freelancer log time by hand (never protected)? */
		manualTime: z.boolean(),
		/** Edits lock this long after the week's end (provider time). */
		lockHours: z.number().int().min(0).max(72),
		/** The client's review ends this long after the week's end. */
		reviewDays: z.number().int().min(1).max(14),
		/** The freelancer answers a dispute within this. */
		disputeAnswerDays: z.number().int().min(1).max(14)
	})
	.strict()
	.refine((r) => r.lockHours < r.reviewDays * 24, { path: ['lockHours'], message: 'The edit lock must come before the review ends.' });

export const HourlyTerms = Terms.omit({ kind: true, milestones: true })
	.extend({
		kind: z.literal('hourly'),
		/** Always empty: an hourly contract bills weeks, not milestones (kept so every contract has the field). */
		milestones: z.array(MilestoneTerms).max(0, 'An hourly contract has no milestones.'),
		hourly: HourlyRules
	})
	.strict();
export type HourlyTerms = z.input<typeof HourlyTerms>;

/** What a proposal carries: fixed-price (with or without `kind`) or hourly. */
export const ContractTerms = z.discriminatedUnion('kind', [Terms, HourlyTerms]);
/** Either kind of terms. (The schema named `Terms` is the fixed-price form the new-contract page edits.) */
export type Terms = FixedPriceTerms | HourlyTerms;
/** Terms as a verified proposal carries them: amounts are Minor, keys PublicKey. */
export type SignedTerms = z.output<typeof ContractTerms>;

/** The marketplace's hourly clocks: edits lock Monday 12:00 UTC, review ends Friday 23:59 UTC, 3 days to answer a dispute. */
export const DEFAULT_HOURLY = { manualTime: true, lockHours: 12, reviewDays: 5, disputeAnswerDays: 3 } as const;

/** The marketplace defaults the issue names: 14-day review, 5-day security period, 7 days to answer a refund. */
export const DEFAULT_CLOCKS = { reviewWindowDays: 14, securityPeriodDays: 5, refundAnswerDays: 7 } as const;

const MilestoneChange = z.discriminatedUnion('kind', [
	z.object({ kind: z.literal('add'), milestone: MilestoneTerms }).strict(),
	z
		.object({
			kind: z.literal('amend'),
			milestone: MilestoneId,
			title: Text(200).optional(),
			amount: Amount.optional(),
			due: IsoDate.optional(),
			description: z.string().max(5000).optional(),
			revisionCap: z.number().int().min(0).max(50).optional()
		})
		.strict(),
	z.object({ kind: z.literal('remove'), milestone: MilestoneId }).strict()
]);
export type MilestoneChange = z.input<typeof MilestoneChange>;
export type SignedMilestoneChange = z.output<typeof MilestoneChange>;

const ref = <K extends string>(key: K) => z.object({ [key]: Id } as { [P in K]: typeof Id }).strict();

/**
 * What the provider records and timestamps: every event that starts or stops a money clock, and the
 * countersign that binds the parties. Such an event counts for money once the provider recorded it.
 */
export const ATTESTED_KINDS = [
	'countersign',
	'submission',
	'change-request',
	'refund-request',
	'refund-answer',
	'end',
	// hourly contracts (hourly.ts): the week's timesheet at the lock, the client's limit changes,
	// disputes and their answers, pausing and resuming
	'timesheet',
	'limit-change',
	'dispute',
	'dispute-answer',
	'pause',
	'resume',
	// milestone disputes in the Resolution Center (dispute.ts): the opening, offers, the rejection
	// that ends negotiation, and each party's acceptance of a mediator
	'milestone-dispute',
	'dispute-offer',
	'dispute-rejection',
	'mediator-acceptance',
	// a device revoked by its identity (devices.ts): once recorded, only its events the record reaches count
	'revocation'
] as const;
export type AttestedKind = (typeof ATTESTED_KINDS)[number];

/** Why a milestone dispute is opened: the client's two reasons, then the freelancer's two. */
export const DISPUTE_REASONS = ['not-delivered', 'refund-declined', 'changes-requested', 'client-silent', 'segments-declined'] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];

/** On what a `dispute.settle` intent asks the provider to split the escrow (dispute.ts says when each applies). */
export const SETTLE_BASES = ['silence', 'small-amount', 'no-mediator', 'mediator-unsigned', 'mediator-late'] as const;
export type SettleBasis = (typeof SETTLE_BASES)[number];

/**
 * Event types that were renamed, old name → new: a log written before the rename still decodes
 * (the signed body keeps its old name; only the fold sees the new one).
 */
export const TYPE_ALIASES: Readonly<Record<string, EventType>> = { 'refund.disputed': 'refund.declined' };

/** What a dispute's money intents and its split name: the milestone, or (hourly) the week whose escrow holds the disputed segments. */
const DisputeSubject = { milestone: MilestoneId.optional(), week: WeekKey.optional() };
const oneSubject = (p: { milestone?: string; week?: string }) => (p.milestone === undefined) !== (p.week === undefined);
const SUBJECT_TEXT = 'it names a milestone or a week';

/** Payload schema per event type. Party events first, then the provider's receipts. */
export const PAYLOADS = {
	'contract.proposed': z
		.object({
			role: z.enum(['client', 'freelancer']),
			name: Name,
			terms: ContractTerms,
			/** Random, so two proposals with equal terms create different contracts (the id is the proposal's hash). */
			nonce: z.string().regex(/^[A-Za-z0-9_-]{22,43}$/, 'expected a random base64url nonce'),
			/** The proposer's profile file (identity/profile.ts), optional and size-capped: verified by whoever opens it, never by the rules. */
			profile: z.string().max(12 * 1024).optional()
		})
		.strict(),
	'contract.accepted': z.object({ proposal: Id, name: Name }).strict(),
	/** The proposer binds the counterparty: it names the one acceptance it saw (after comparing fingerprints). */
	'contract.countersigned': z.object({ acceptance: Id }).strict(),
	'contract.declined': z.object({ proposal: Id, reason: z.string().max(2000).optional() }).strict(),
	'contract.withdrawn': ref('proposal'),
	'milestone.changeProposed': z.object({ change: MilestoneChange }).strict(),
	'milestone.changeAccepted': ref('proposal'),
	'milestone.changeDeclined': z.object({ proposal: Id, reason: z.string().max(2000).optional() }).strict(),
	'milestone.fund': z.object({ milestone: MilestoneId, amount: Amount, currency: Currency, method: FundingMethod }).strict(),
	'milestone.submitted': z.object({ milestone: MilestoneId, message: Text(5000), links: z.array(Url).max(20) }).strict(),
	'milestone.changesRequested': z.object({ milestone: MilestoneId, reason: Text(5000) }).strict(),
	'milestone.release': z
		.object({ milestone: MilestoneId, amount: Amount, currency: Currency, method: FundingMethod })
		.strict(),
	'milestone.autoRelease': z.object({ milestone: MilestoneId, submission: Id }).strict(),
	'refund.requested': z.object({ milestone: MilestoneId, amount: Amount, currency: Currency, reason: Text(5000) }).strict(),
	'refund.approved': ref('request'),
	/** The freelancer declines a refund request (called `refund.disputed` before the Resolution Center: see TYPE_ALIASES). */
	'refund.declined': z.object({ request: Id, reason: Text(5000) }).strict(),
	'milestone.refund': z
		.object({
			milestone: MilestoneId,
			amount: Amount,
			currency: Currency,
			basis: z.enum(['freelancer', 'approved-request', 'unanswered-request', 'ended-by-agreement']),
			request: Id.optional()
		})
		.strict(),
	'withdrawal.requested': z.object({ amount: Amount, currency: Currency, method: PayoutMethod }).strict(),
	'message.posted': z.object({ text: Text(10_000) }).strict(),
	'contract.endProposed': z.object({ reason: z.string().max(2000).optional() }).strict(),
	'contract.endAccepted': ref('proposal'),
	'contract.ended': z.object({ reason: z.string().max(2000).optional() }).strict(),
	'feedback.left': z.object({ rating: z.number().int().min(1).max(5), text: z.string().max(5000) }).strict(),
	// —— hourly contracts (hourly.ts) ——
	/** One 10-minute segment; with `replaces`, an edit of an earlier one. */
	'hourly.segment': z
		.object({
			start: Timestamp,
			source: z.enum(['tracked', 'manual']),
			/** Required for billing: a segment without a memo is logged but not billed. */
			memo: z.string().trim().max(500),
			/** Minutes with keyboard or pointer input in the app's tracker window. */
			activity: z.number().int().min(0).max(10),
			/** sha256 of the screenshot thumbnail (synced beside the log, never sent to a provider). */
			screenshot: Id.optional(),
			replaces: Id.optional()
		})
		.strict(),
	'hourly.segmentsDeleted': z.object({ segments: z.array(Id).min(1).max(200) }).strict(),
	/** The week's timesheet as the freelancer closes it: the billed segments, their minutes and amount. */
	'hourly.timesheet': z
		.object({
			week: WeekKey,
			segments: z.array(Id).max(MAX_WEEK_HOURS * 6),
			minutes: z.number().int().min(0).max(MAX_WEEK_HOURS * 60),
			amount: FeeAmount,
			currency: Currency
		})
		.strict(),
	'hourly.limitChanged': z.object({ hours: z.number().int().min(1).max(MAX_WEEK_HOURS) }).strict(),
	'hourly.disputed': z.object({ week: WeekKey, segments: z.array(Id).min(1).max(MAX_WEEK_HOURS * 6), reason: Text(2000) }).strict(),
	'hourly.disputeAnswered': z.object({ dispute: Id, accept: z.boolean() }).strict(),
	'hourly.paused': z.object({ reason: z.string().max(2000).optional() }).strict(),
	'hourly.resumed': z.object({}).strict(),
	'hourly.fund': z.object({ week: WeekKey, amount: Amount, currency: Currency, method: FundingMethod }).strict(),
	'hourly.release': z.object({ week: WeekKey, currency: Currency }).strict(),
	'hourly.reclaim': z.object({ week: WeekKey, currency: Currency }).strict(),
	/** A one-off payment with a note, on either kind of contract: no review, only the security period. */
	'bonus.paid': z.object({ amount: Amount, currency: Currency, method: FundingMethod, note: Text(2000) }).strict(),
	// —— the Resolution Center (dispute.ts): amounts are the part of the disputed amount that goes to the freelancer ——
	/** On a milestone's escrow, or (hourly) on the segments of a declined segment dispute (`segmentDispute`): exactly one. */
	'dispute.opened': z
		.object({ milestone: MilestoneId.optional(), segmentDispute: Id.optional(), amount: Amount, currency: Currency, reason: z.enum(DISPUTE_REASONS), details: Text(5000), offer: FeeAmount })
		.strict()
		.refine((p) => (p.milestone === undefined) !== (p.segmentDispute === undefined), 'a dispute names a milestone or a segment dispute'),
	'dispute.offered': z.object({ dispute: Id, amount: FeeAmount }).strict(),
	/** Rejects the other party's last offer (`offer`): mediation, or the midpoint for a small amount. `final`: the rejecting party's offer when it has made none. */
	'dispute.rejected': z.object({ dispute: Id, offer: Id, final: FeeAmount.optional() }).strict(),
	/** Accepts a mediator and its fee: the one the terms name, or one this party proposes or the other proposed. */
	'dispute.mediatorAccepted': z
		.object({ dispute: Id, mediator: PublicKey, name: Name, feeBps: z.number().int().min(0).max(MAX_MEDIATION_FEE_BPS), fee: FeeAmount })
		.strict(),
	/** Money intents: accept the other's last offer, accept the midpoint of the two last offers, have a deadline outcome executed, or rule (the mediator). */
	'dispute.accept': z.object({ dispute: Id, ...DisputeSubject, offer: Id, currency: Currency }).strict().refine(oneSubject, SUBJECT_TEXT),
	'dispute.acceptMidpoint': z.object({ dispute: Id, ...DisputeSubject, client: Id, freelancer: Id, currency: Currency }).strict().refine(oneSubject, SUBJECT_TEXT),
	'dispute.settle': z.object({ dispute: Id, ...DisputeSubject, basis: z.enum(SETTLE_BASES), freelancer: FeeAmount, currency: Currency }).strict().refine(oneSubject, SUBJECT_TEXT),
	'dispute.rule': z.object({ dispute: Id, ...DisputeSubject, offer: Id, currency: Currency }).strict().refine(oneSubject, SUBJECT_TEXT),
	// —— one person, several devices (devices.ts) ——
	/**
	 * Signed by the identity key: `device` acts for this identity. Written once for every contract
	 * (its `contract` is the identity key itself, see envelope.ts) and named in `deps` by each of the
	 * device's events. `created` and `expires` are milliseconds; expiry is judged on the provider's clock.
	 */
	'device.certified': z
		.object({ device: PublicKey, name: Name, created: Timestamp, expires: Timestamp.optional() })
		.strict()
		.refine((c) => c.expires === undefined || c.expires > c.created, { path: ['expires'], message: 'A certificate expires after it was made.' }),
	/** Signed by the identity key, in one contract: `device` (certified by `certificate`, named in `deps`) no longer acts for it. */
	'device.revoked': z.object({ device: PublicKey, certificate: Id }).strict(),
	/** TEST MODE only (testclock.ts): move the mock provider's clock for this contract forward, or back to real time. */
	'testmode.clockAdvanced': z.object({ ms: z.number().int().positive().max(TEST_CLOCK_MAX_ADVANCE_MS) }).strict(),
	'testmode.clockReset': z.object({}).strict(),

	'receipt.funded': z
		.object({
			intent: Id,
			milestone: MilestoneId,
			amount: Amount,
			fee: FeeAmount,
			currency: Currency,
			method: FundingMethod,
			clearsAt: Timestamp
		})
		.strict(),
	'receipt.attested': z.object({ event: Id, kind: z.enum(ATTESTED_KINDS) }).strict(),
	'receipt.released': z
		.object({ intent: Id, milestone: MilestoneId, amount: Amount, currency: Currency, auto: z.boolean() })
		.strict(),
	'receipt.refunded': z.object({ intent: Id, milestone: MilestoneId, amount: Amount, currency: Currency }).strict(),
	'receipt.weekFunded': z
		.object({ intent: Id, week: WeekKey, amount: Amount, fee: FeeAmount, currency: Currency, method: FundingMethod, clearsAt: Timestamp })
		.strict(),
	/** Pays what the week owes now; `carried` is unused escrow moved on to `carriedTo`. */
	'receipt.weekReleased': z
		.object({ intent: Id, week: WeekKey, amount: FeeAmount, carried: FeeAmount, carriedTo: WeekKey.optional(), currency: Currency })
		.strict(),
	'receipt.weekReclaimed': z
		.object({ intent: Id, week: WeekKey, amount: Amount, to: z.enum(['client', 'carry']), carriedTo: WeekKey.optional(), currency: Currency })
		.strict(),
	'receipt.bonusPaid': z.object({ intent: Id, amount: Amount, fee: FeeAmount, currency: Currency, method: FundingMethod }).strict(),
	/** A dispute's outcome: the freelancer's share released (net of its part of the fee), the client's refunded, the mediator's fee paid. */
	'receipt.split': z
		.object({
			intent: Id,
			dispute: Id,
			...DisputeSubject,
			freelancer: FeeAmount,
			client: FeeAmount,
			fee: FeeAmount,
			mediator: PublicKey.optional(),
			currency: Currency
		})
		.strict()
		.refine(oneSubject, SUBJECT_TEXT),
	'receipt.paidOut': z
		.object({ intent: Id, amount: Amount, fee: FeeAmount, currency: Currency, method: PayoutMethod, arrivesAt: Timestamp })
		.strict()
} as const;

export type EventType = keyof typeof PAYLOADS;
/** What an author writes for an event of type T: plain strings and numbers (a draft, a test fixture). */
export type Payload<T extends EventType> = z.input<(typeof PAYLOADS)[T]>;
/** What a decoded, schema-checked event of type T carries: ids, keys and amounts branded. */
export type SignedPayload<T extends EventType> = z.output<(typeof PAYLOADS)[T]>;
export const EVENT_TYPES = Object.keys(PAYLOADS) as EventType[];
export const INTENT_TYPES = [
	'milestone.fund',
	'milestone.release',
	'milestone.autoRelease',
	'milestone.refund',
	'withdrawal.requested',
	'hourly.fund',
	'hourly.release',
	'hourly.reclaim',
	'bonus.paid',
	'dispute.accept',
	'dispute.acceptMidpoint',
	'dispute.settle',
	'dispute.rule'
] as const satisfies readonly EventType[];
export type IntentType = (typeof INTENT_TYPES)[number];

/** The same check as `Id`, unbranded: for `prev` and `deps`. */
const DepId = z.string().regex(EVENT_ID, 'expected a 43-character base64url id');

export const Body = z
	.object({
		v: z.literal(1),
		contract: ContractId,
		author: PublicKey,
		/** The same author's previous event in this contract: a per-author hash chain. (Plain strings: the log matches them against ids of any origin.) */
		prev: DepId.nullable(),
		/** The heads the author had seen: causal order. */
		deps: z.array(DepId).max(64),
		/** The author's claimed time. Trusted only for the provider. */
		at: Timestamp,
		type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
		payload: z.unknown()
	})
	.strict();

/** A body whose payload has been validated against its type. */
export type EventBody = {
	[T in EventType]: Omit<z.infer<typeof Body>, 'type' | 'payload'> & { type: T; payload: SignedPayload<T> };
}[EventType];
export type EventOf<T extends EventType> = Extract<EventBody, { type: T }>;
