/**
 * zod schemas for the signed envelope, the signed body, and every event type's payload.
 * The body is the exact JSON string that was signed; these schemas validate what it decodes to.
 */
import { z } from 'zod';
import { CURRENCY_CODES } from '../money/currency';
import { FUNDING_METHODS, PAYOUT_METHODS } from '../money/fees';
import { MAX_AMOUNT_MINOR } from '../money/amount';

/** An envelope larger than this is rejected unread: it bounds memory per event and the sync batch size. */
export const MAX_ENVELOPE_BYTES = 32 * 1024;

/** sha256 digest, base64url: 43 characters. */
export const Id = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected a 43-character base64url id');
/** Raw 32-byte Ed25519 public key, base64url. */
export const PublicKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected a 43-character base64url key');
/** The sha256 of the contract's proposal (see envelope.ts), base64url. Older shapes pass here and are refused with a clear reason there. */
export const ContractId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'expected a base64url contract id');
export const MilestoneId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a short lowercase milestone id');
export const Amount = z.number().int().positive().max(MAX_AMOUNT_MINOR);
export const FeeAmount = z.number().int().nonnegative().max(MAX_AMOUNT_MINOR);
export const Currency = z.enum(CURRENCY_CODES);
export const FundingMethod = z.enum(FUNDING_METHODS);
export const PayoutMethod = z.enum(PAYOUT_METHODS);
/** Milliseconds since the epoch. */
export const Timestamp = z.number().int().nonnegative().max(8.64e15);
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');
const Name = z.string().trim().min(1).max(80);
const Text = (max: number) => z.string().trim().min(1).max(max);
const Url = z.url({ protocol: /^https?$/ }).max(2000);

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
export type MilestoneTerms = z.infer<typeof MilestoneTerms>;

export const ProviderTerms = z
	.object({
		/** 'mock' or 'stripe'; the key is what receipts are verified against. */
		id: z.string().min(1).max(40),
		publicKey: PublicKey,
		testMode: z.boolean()
	})
	.strict();

export const Terms = z
	.object({
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
		refundAnswerDays: z.number().int().min(1).max(30)
	})
	.strict();
export type Terms = z.infer<typeof Terms>;

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
export type MilestoneChange = z.infer<typeof MilestoneChange>;

const ref = <K extends string>(key: K) => z.object({ [key]: Id } as { [P in K]: typeof Id }).strict();

/**
 * What the provider records and timestamps: every event that starts or stops a money clock, and the
 * countersign that binds the parties. Such an event counts for money once the provider recorded it.
 */
export const ATTESTED_KINDS = ['countersign', 'submission', 'change-request', 'refund-request', 'refund-answer', 'end'] as const;
export type AttestedKind = (typeof ATTESTED_KINDS)[number];

/** Payload schema per event type. Party events first, then the provider's receipts. */
export const PAYLOADS = {
	'contract.proposed': z
		.object({
			role: z.enum(['client', 'freelancer']),
			name: Name,
			terms: Terms,
			/** Random, so two proposals with equal terms create different contracts (the id is the proposal's hash). */
			nonce: z.string().regex(/^[A-Za-z0-9_-]{22,43}$/, 'expected a random base64url nonce')
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
	'refund.disputed': z.object({ request: Id, reason: Text(5000) }).strict(),
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
	'receipt.paidOut': z
		.object({ intent: Id, amount: Amount, fee: FeeAmount, currency: Currency, method: PayoutMethod, arrivesAt: Timestamp })
		.strict()
} as const;

export type EventType = keyof typeof PAYLOADS;
export type Payload<T extends EventType> = z.infer<(typeof PAYLOADS)[T]>;
export const EVENT_TYPES = Object.keys(PAYLOADS) as EventType[];
export const INTENT_TYPES = [
	'milestone.fund',
	'milestone.release',
	'milestone.autoRelease',
	'milestone.refund',
	'withdrawal.requested'
] as const satisfies readonly EventType[];
export type IntentType = (typeof INTENT_TYPES)[number];

export const Body = z
	.object({
		v: z.literal(1),
		contract: ContractId,
		author: PublicKey,
		/** The same author's previous event in this contract: a per-author hash chain. */
		prev: Id.nullable(),
		/** The heads the author had seen: causal order. */
		deps: z.array(Id).max(64),
		/** The author's claimed time. Trusted only for the provider. */
		at: Timestamp,
		type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
		payload: z.unknown()
	})
	.strict();

/** A body whose payload has been validated against its type. */
export type EventBody = {
	[T in EventType]: Omit<z.infer<typeof Body>, 'type' | 'payload'> & { type: T; payload: Payload<T> };
}[EventType];
export type EventOf<T extends EventType> = Extract<EventBody, { type: T }>;
