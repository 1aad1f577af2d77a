/**
 * The money operations of the Stripe escrow function: separate charges and transfers.
 *   fund     → a PaymentIntent on the platform (escrow + fee), transfer_group = contract:milestone
 *   release  → Transfer(s) to the freelancer's connected account, source_transaction = the charge
 *   refund   → Refund(s) of escrow still held on the platform
 *   withdraw → a Payout on the freelancer's connected account
 *   attest   → a signed timestamp, recorded on the milestone's PaymentIntent metadata
 * Each one checks the intent with the same rules as the mock (provider-core), checks Stripe's own
 * books (books.ts), and is idempotent per intent: Stripe idempotency key = intent id, and the
 * receipt's time and chain link are stored on the Stripe object so a retry gets the same receipt.
 */
import type Stripe from 'stripe';
import { refundAnswerDeadline, reviewDeadline } from '../lib/contract/clocks';
import { ContractLog } from '../lib/contract/log';
import { DAY_MS, milestone, type ContractState, type Intent } from '../lib/contract/state';
import { EscrowError, type Receipt } from '../lib/escrow/adapter';
import type { EscrowRequestBody } from '../lib/escrow/protocol';
import { attestationKind, executableIntent, loadContract, quoted, signReceipt } from '../lib/escrow/provider-core';
import type { DeviceKey } from '../lib/identity/ed25519';
import type { CurrencyCode } from '../lib/money/currency';
import { quoteFunding, quoteWithdrawal, type FundingMethod, type PayoutMethod } from '../lib/money/fees';
import { accountOf, payableAccount } from './accounts';
import {
	int,
	META,
	milestoneBooks,
	receiptMeta,
	remainingOn,
	storedReceipt,
	transferGroup,
	type EscrowCharge,
	type MilestoneBooks
} from './books';
import { PaymentRequired } from './failures';

export interface EscrowDeps {
	stripe: Stripe;
	key: DeviceKey;
	/** The function's clock: the provider time receipts carry and deadlines are judged on. */
	now: () => number;
}

interface Opened {
	s: ContractState;
	/** The provider's latest receipt the requester holds: the new receipt's prev. */
	prev: string | null;
}

async function open(d: EscrowDeps, body: EscrowRequestBody): Promise<Opened> {
	const log = new ContractLog(body.contract);
	const { s, held } = await loadContract(log, { contract: body.contract, log: body.log, event: body.event }, d.key.publicKey);
	return { s, prev: log.lastOf(d.key.publicKey, held) };
}

const lower = (c: CurrencyCode): string => c.toLowerCase();

/** Stripe payment method types per funding method; bank debits exist only in some currencies. */
function paymentMethodTypes(method: FundingMethod, currency: CurrencyCode): string[] {
	if (method === 'card') return ['card'];
	if (method === 'paypal') return ['paypal'];
	const debit: Partial<Record<CurrencyCode, string>> = { USD: 'us_bank_account', EUR: 'sepa_debit', GBP: 'bacs_debit', CAD: 'acss_debit', AUD: 'au_becs_debit' };
	const type = debit[currency];
	if (!type) throw new EscrowError('invalid-request', `Bank debit is not available for ${currency} with Stripe; pay by card.`);
	return [type];
}

/** The intent as the fold knows it, settled or not: a retry of a settled intent still gets its receipt. */
function knownIntent(s: ContractState, id: string, types: readonly Intent['type'][]): Intent | undefined {
	const i = s.intents.get(id);
	return i && types.includes(i.type) ? i : undefined;
}

// ———————————————————————————————————————————————— fund

export async function fund(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	const { s, prev } = await open(d, body);
	const known = knownIntent(s, body.event, ['milestone.fund']);
	if (known?.milestone) {
		const books = await milestoneBooks(d.stripe, s.contract, known.milestone);
		const prior = books.charges.find((c) => c.intent.metadata[META.intent] === body.event);
		if (prior) return fundedReceipt(d, s, prior.intent, prev);
	}
	const intent = executableIntent(s, body.event, ['milestone.fund']);
	const m = milestone(s, intent.milestone!)!;
	const currency = s.terms!.currency;
	const method = intent.method as FundingMethod;
	const q = quoted(() => quoteFunding(intent.amount!, method, currency, d.now()));
	const books = await milestoneBooks(d.stripe, s.contract, m.id);
	// Stripe's books, not only the log: never hold more than the milestone is worth.
	if (books.funded - books.refunded + intent.amount! > m.amount) throw new EscrowError('already-settled', 'This milestone is already funded.');
	let pi = await d.stripe.paymentIntents.create(
		{
			amount: q.total,
			currency: lower(currency),
			allowed_payment_method_types: paymentMethodTypes(method, currency),
			transfer_group: transferGroup(s.contract, m.id),
			description: `Escrow for milestone "${m.title}"`,
			metadata: {
				[META.contract]: s.contract,
				[META.milestone]: m.id,
				[META.intent]: intent.id,
				[META.escrow]: String(intent.amount!),
				[META.fee]: String(q.fee),
				[META.method]: method
			}
		},
		{ idempotencyKey: intent.id }
	);
	// A declined attempt leaves the PaymentIntent waiting for another payment method: confirm again.
	if (body.paymentMethod && (pi.status === 'requires_payment_method' || pi.status === 'requires_confirmation'))
		pi = await d.stripe.paymentIntents.confirm(pi.id, { payment_method: body.paymentMethod });
	if (pi.status === 'succeeded') return fundedReceipt(d, s, pi, prev);
	if (pi.status === 'processing')
		throw new EscrowError('unavailable', 'The payment is processing (bank debits take a few days). Ask again once it has cleared.');
	if (pi.status === 'canceled') throw new EscrowError('declined', 'The payment was canceled.');
	throw new PaymentRequired('The payment needs the client to complete it in the browser.', pi.client_secret ?? '');
}

async function fundedReceipt(d: EscrowDeps, s: ContractState, pi: Stripe.PaymentIntent, prev: string | null): Promise<Receipt> {
	let stored = storedReceipt(pi.metadata);
	if (!stored) {
		// First time this success is seen: fix the receipt's time and link on the PaymentIntent.
		stored = { at: d.now(), prev };
		await d.stripe.paymentIntents.update(pi.id, { metadata: receiptMeta(stored.at, stored.prev) });
	}
	const method = pi.metadata[META.method] as FundingMethod;
	const amount = int(pi.metadata[META.escrow]);
	const currency = s.terms!.currency;
	const clearsAt = quoteFunding(amount, method, currency, stored.at).availableAt;
	return signReceipt(d.key, {
		contract: s.contract,
		prev: stored.prev,
		dep: pi.metadata[META.intent]!,
		at: stored.at,
		type: 'receipt.funded',
		payload: { intent: pi.metadata[META.intent]!, milestone: pi.metadata[META.milestone]!, amount, fee: int(pi.metadata[META.fee]), currency, method, clearsAt }
	});
}

// ———————————————————————————————————————————————— release and refund draw on the milestone's charges

interface Part {
	charge: EscrowCharge;
	amount: number;
}

/** Split `amount` across the charges that still hold money, richest first. */
function draw(books: MilestoneBooks, amount: number): Part[] {
	const parts: Part[] = [];
	let left = amount;
	const byRemaining = [...books.charges].sort((a, b) => remainingOn(books, b) - remainingOn(books, a));
	for (const c of byRemaining) {
		const take = Math.min(remainingOn(books, c), left);
		if (take <= 0) break;
		parts.push({ charge: c, amount: take });
		left -= take;
	}
	if (left > 0) throw new EscrowError('over-release', 'Stripe holds less for this milestone than the intent asks for.');
	return parts;
}

const partKey = (intent: string, i: number): string => (i === 0 ? intent : `${intent}:${i}`);

export async function release(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	const { s, prev } = await open(d, body);
	const types = ['milestone.release', 'milestone.autoRelease'] as const;
	const known = knownIntent(s, body.event, types);
	const books = known?.milestone ? await milestoneBooks(d.stripe, s.contract, known.milestone) : undefined;
	const done = books?.transfers.filter((t) => t.metadata[META.intent] === body.event) ?? [];
	const stored = done[0] && storedReceipt(done[0].metadata);
	if (stored && done.reduce((sum, t) => sum + t.amount, 0) === int(done[0]!.metadata[META.escrow])) return releasedReceipt(d, s, done, stored);

	const intent = executableIntent(s, body.event, types);
	const m = milestone(s, intent.milestone!)!;
	const b = books ?? (await milestoneBooks(d.stripe, s.contract, m.id));
	const already = done.reduce((sum, t) => sum + t.amount, 0);
	const held = b.funded - b.released - b.refunded + already;
	if (held <= 0) throw new EscrowError('unfunded', 'There is no money in escrow for this milestone.');
	const auto = intent.type === 'milestone.autoRelease';
	const total = stored ? int(done[0]!.metadata[META.escrow]) : auto ? held : intent.amount!;
	if (total > held) throw new EscrowError('over-release', `Escrow holds ${held}; the release asks for ${total}.`);
	if (auto) {
		const deadline = reviewDeadline(s, m);
		if (!m.reviewOpen || deadline === undefined) throw new EscrowError('not-authorised', 'The client acted on the submission.');
		if (d.now() < deadline) throw new EscrowError('too-early', `The review window ends ${new Date(deadline).toISOString()}.`);
	}
	if (b.disputed) throw new EscrowError('not-authorised', 'A chargeback dispute is open on this milestone’s payment; nothing is released until it closes.');
	const account = await payableAccount(d.stripe, s.parties.freelancer!);
	// A retry after a partial failure keeps the first attempt's time and link, so its parameters match.
	const r = stored ?? { at: d.now(), prev };
	const transfers = [...done];
	for (const [i, part] of draw(b, total - already).entries()) {
		const t = await d.stripe.transfers.create(
			{
				amount: part.amount,
				currency: lower(s.terms!.currency),
				destination: account.id,
				transfer_group: transferGroup(s.contract, m.id),
				source_transaction: part.charge.charge.id,
				metadata: {
					[META.contract]: s.contract,
					[META.milestone]: m.id,
					[META.intent]: intent.id,
					[META.escrow]: String(total),
					[META.auto]: auto ? '1' : '0',
					...receiptMeta(r.at, r.prev)
				}
			},
			{ idempotencyKey: partKey(intent.id, done.length + i) }
		);
		transfers.push(t);
	}
	return releasedReceipt(d, s, transfers, r);
}

function releasedReceipt(d: EscrowDeps, s: ContractState, transfers: Stripe.Transfer[], r: { at: number; prev: string | null }): Receipt {
	const first = transfers[0]!;
	return signReceipt(d.key, {
		contract: s.contract,
		prev: r.prev,
		dep: first.metadata[META.intent]!,
		at: r.at,
		type: 'receipt.released',
		payload: {
			intent: first.metadata[META.intent]!,
			milestone: first.metadata[META.milestone]!,
			amount: int(first.metadata[META.escrow]),
			currency: s.terms!.currency,
			auto: first.metadata[META.auto] === '1'
		}
	});
}

export async function refund(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	const { s, prev } = await open(d, body);
	const known = knownIntent(s, body.event, ['milestone.refund']);
	const books = known?.milestone ? await milestoneBooks(d.stripe, s.contract, known.milestone) : undefined;
	const done = books?.charges.flatMap((c) => c.refunds.filter((r) => r.metadata?.[META.intent] === body.event)) ?? [];
	const stored = done[0] && storedReceipt(done[0].metadata ?? {});
	const total = done[0] ? int(done[0].metadata?.[META.escrow]) : 0;
	if (stored && done.reduce((sum, r) => sum + r.amount, 0) === total) return refundedReceipt(d, s, done[0]!, stored);

	const intent = executableIntent(s, body.event, ['milestone.refund']);
	const m = milestone(s, intent.milestone!)!;
	const b = books ?? (await milestoneBooks(d.stripe, s.contract, m.id));
	const already = done.reduce((sum, r) => sum + r.amount, 0);
	const held = b.funded - b.released - b.refunded + already;
	if (held <= 0) throw new EscrowError('unfunded', 'There is no money in escrow for this milestone.');
	if (intent.amount! > held) throw new EscrowError('over-release', `Escrow holds ${held}; the refund asks for ${intent.amount}.`);
	if (intent.refund?.basis === 'unanswered-request') {
		const deadline = refundAnswerDeadline(s, s.refundRequests.get(intent.refund.request!)!)!;
		if (d.now() < deadline) throw new EscrowError('too-early', `The freelancer can answer until ${new Date(deadline).toISOString()}.`);
	}
	const r = stored ?? { at: d.now(), prev };
	// Released money has left the platform; a refund draws only on what is still held here, so
	// no transfer reversal is needed while the rules refund held escrow only.
	let first: Stripe.Refund | undefined = done[0];
	for (const [i, part] of draw(b, intent.amount! - already).entries()) {
		const created = await d.stripe.refunds.create(
			{
				charge: part.charge.charge.id,
				amount: part.amount,
				metadata: {
					[META.contract]: s.contract,
					[META.milestone]: m.id,
					[META.intent]: intent.id,
					[META.escrow]: String(intent.amount!),
					...receiptMeta(r.at, r.prev)
				}
			},
			{ idempotencyKey: partKey(intent.id, done.length + i) }
		);
		first ??= created;
	}
	return refundedReceipt(d, s, first!, r);
}

function refundedReceipt(d: EscrowDeps, s: ContractState, first: Stripe.Refund, r: { at: number; prev: string | null }): Receipt {
	const meta = first.metadata ?? {};
	return signReceipt(d.key, {
		contract: s.contract,
		prev: r.prev,
		dep: meta[META.intent]!,
		at: r.at,
		type: 'receipt.refunded',
		payload: { intent: meta[META.intent]!, milestone: meta[META.milestone]!, amount: int(meta[META.escrow]), currency: s.terms!.currency }
	});
}

// ———————————————————————————————————————————————— withdraw

export async function withdraw(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	const { s, prev } = await open(d, body);
	const account = s.parties.freelancer ? await accountOf(d.stripe, s.parties.freelancer) : undefined;
	if (!account) throw new EscrowError('insufficient-balance', 'Nothing has been released to a Stripe account for this contract yet.');
	const opts = { stripeAccount: account.id };
	const payouts: Stripe.Payout[] = [];
	for await (const p of d.stripe.payouts.list({ limit: 100 }, opts)) if (p.metadata?.[META.contract] === s.contract) payouts.push(p);
	const prior = payouts.find((p) => p.metadata?.[META.intent] === body.event);
	if (prior) return paidOutReceipt(d, s, prior);

	const intent = executableIntent(s, body.event, ['withdrawal.requested']);
	const now = d.now();
	// Released money matures after the security period, counted on this function's clock.
	let matured = 0;
	for await (const t of d.stripe.transfers.list({ destination: account.id, limit: 100 })) {
		const r = t.metadata[META.contract] === s.contract ? storedReceipt(t.metadata) : undefined;
		if (r && r.at + s.terms!.securityPeriodDays * DAY_MS <= now) matured += t.amount - t.amount_reversed;
	}
	const paidOut = payouts.filter((p) => p.status !== 'failed' && p.status !== 'canceled').reduce((sum, p) => sum + int(p.metadata?.[META.gross]), 0);
	const available = matured - paidOut;
	if (intent.amount! > available)
		throw new EscrowError('insufficient-balance', `Available to withdraw: ${available}. Released payments become available after the security period.`);
	const method = intent.method as PayoutMethod;
	const q = quoted(() => quoteWithdrawal(intent.amount!, method, s.terms!.currency, now));
	if (method !== 'bank') throw new EscrowError('invalid-request', 'Stripe pays out to the bank account on file: choose the bank method.');
	const payout = await d.stripe.payouts.create(
		{
			// The freelancer bears the fee: the payout is the net; the gross leaves the contract's balance.
			amount: q.net,
			currency: lower(s.terms!.currency),
			metadata: {
				[META.contract]: s.contract,
				[META.intent]: intent.id,
				[META.gross]: String(intent.amount!),
				[META.fee]: String(q.fee),
				[META.method]: method,
				...receiptMeta(now, prev)
			}
		},
		{ ...opts, idempotencyKey: intent.id }
	);
	return paidOutReceipt(d, s, payout);
}

function paidOutReceipt(d: EscrowDeps, s: ContractState, p: Stripe.Payout): Receipt {
	const meta = p.metadata ?? {};
	const r = storedReceipt(meta);
	if (!r) throw new EscrowError('invalid-request', 'A payout for this intent exists but was not made by this function.');
	const method = meta[META.method] as PayoutMethod;
	const amount = int(meta[META.gross]);
	return signReceipt(d.key, {
		contract: s.contract,
		prev: r.prev,
		dep: meta[META.intent]!,
		at: r.at,
		type: 'receipt.paidOut',
		payload: {
			intent: meta[META.intent]!,
			amount,
			fee: int(meta[META.fee]),
			currency: s.terms!.currency,
			method,
			arrivesAt: quoteWithdrawal(amount, method, s.terms!.currency, r.at).availableAt
		}
	});
}

// ———————————————————————————————————————————————— attest

/** Metadata key for one attestation on the milestone's PaymentIntent (Stripe keys: ≤ 40 characters). */
const attestKey = (event: string): string => `att_${event.slice(0, 36)}`;
/** Stripe allows 50 metadata keys; leave room for the function's own. */
const MAX_ATTESTATIONS_KEYS = 45;

export async function attest(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	const { s, prev } = await open(d, body);
	const kind = attestationKind(s, body.event);
	const milestoneId =
		kind === 'submission' ? s.milestones.find((m) => m.submission?.id === body.event)!.id : s.refundRequests.get(body.event)!.milestone;
	const books = await milestoneBooks(d.stripe, s.contract, milestoneId);
	// Recorded on the newest funding PaymentIntent, so Stripe holds the review clock's start too.
	const pi = books.charges.map((c) => c.intent).sort((a, b) => b.created - a.created)[0];
	const recorded = pi?.metadata[attestKey(body.event)]?.match(/^(\d{1,16}):([A-Za-z0-9_-]{43})?$/);
	let at: number;
	let link: string | null;
	if (recorded) {
		at = Number(recorded[1]);
		link = recorded[2] ?? null;
	} else {
		at = d.now();
		link = prev;
		if (pi && Object.keys(pi.metadata).length < MAX_ATTESTATIONS_KEYS)
			await d.stripe.paymentIntents.update(pi.id, { metadata: { [attestKey(body.event)]: `${at}:${link ?? ''}` } });
	}
	return signReceipt(d.key, { contract: s.contract, prev: link, dep: body.event, at, type: 'receipt.attested', payload: { event: body.event, kind } });
}
