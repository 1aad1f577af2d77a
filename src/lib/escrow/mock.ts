/**
 * The mock escrow provider: the default, TEST MODE, no setup. It behaves like a real provider where
 * it matters to the app: it checks each intent against the contract's own rules, keeps its own books
 * (so it refuses over-release, double release and releasing unfunded escrow even if a log lies),
 * charges the fee table, holds released money for the security period on its own clock, is
 * idempotent per intent id (asking again for an executed intent returns the very same receipt), can
 * keep a bank debit processing until its processing time has passed on its clock, and can be told
 * to fail — before executing, or after executing with the answer lost. Its signing key is published on purpose:
 * receipts signed with it prove nothing outside a test, and the app labels them TEST MODE.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ContractLog } from '../contract/log';
import { toBase64url, utf8 } from '../contract/encoding';
import { releaseAmount } from '../contract/release';
import { DISPUTE_INTENTS, isDisputeIntent, subjectOf } from '../contract/dispute';
import type { EventType, Payload } from '../contract/schema';
import { DAY_MS, milestone, roleOf, type ContractState, type Intent } from '../contract/state';
import { authenticate } from '../identity/authenticate';
import { publicKeyFromSeed, verifySync, type DeviceKey } from '../identity/ed25519';
import { recordRequestMessage } from './protocol';
import type { CurrencyCode } from '../money/currency';
import { quoteFunding, quoteWithdrawal, type FundingMethod, type PayoutMethod } from '../money/fees';
import { ZERO_MINOR, addMinor, type Minor } from '../money/minor';
import {
	EscrowError,
	type EscrowAdapter,
	type EscrowErrorCode,
	type EscrowRequest,
	type FundingQuote,
	type ProviderInfo,
	type Receipt,
	type WithdrawalQuote, type RecordRequest } from './adapter';
import type { CompletionRequest } from './attestation';
import type { SignedStatement } from '../identity/statement';
import { attestationKind, clockRefusal, disputeHold, disputeSplit, executableIntent, isClockJudged, loadContract, overRelease, overWithdrawal, quoted, signReceipt, weekFundingCheck, weekOverRelease, weekReclaim, weekRelease } from './provider-core';

/** Published on purpose — see the module comment. Anyone can sign "receipts" with it. */
export const TEST_MODE_SEED = toBase64url(sha256(utf8.encode('milestone mock escrow provider - TEST MODE - not a secret')));
export const TEST_MODE_KEY: DeviceKey = { seed: TEST_MODE_SEED, publicKey: publicKeyFromSeed(TEST_MODE_SEED) };

/** How far a record request's time may be from the provider's clock. */
const RECORD_PROOF_WINDOW_MS = 5 * 60_000;

export interface MockOptions {
	/** Provider clock; tests inject a controllable one. */
	now?: () => number;
	/** Simulated network latency per call, in ms (0 in tests). */
	latencyMs?: number;
	key?: DeviceKey;
	/**
	 * Bank debits take time: a bank_transfer funding answers 'processing' (with `expectedAt`) until
	 * its processing time has passed on this provider's clock; asking again then returns the receipt.
	 * The amount counts in its books from the first answer, so the milestone cannot be funded twice.
	 */
	bankDebitsProcess?: boolean;
}

type Failure = { code: Extract<EscrowErrorCode, 'declined' | 'unavailable' | 'timeout'>; message?: string; afterExecuting?: boolean };

/** Minor units, like the ledger the receipts post to. */
interface MilestoneBook {
	funded: Minor;
	released: Minor;
	refunded: Minor;
}

/** An hourly week's escrow in the mock's books: in (funded, carried in) and out (released, carried out, refunded). */
export interface WeekCounters {
	funded: Minor;
	carriedIn: Minor;
	released: Minor;
	carriedOut: Minor;
	refunded: Minor;
	/** Paid out by Resolution Center splits of the week's disputed segments. */
	settled: Minor;
}

interface ContractBook {
	log: ContractLog;
	milestones: Map<string, MilestoneBook>;
	/** Hourly contracts: each week's escrow, by week (its Monday). */
	weeks: Map<string, WeekCounters>;
	/** Bonuses paid, in total. */
	bonuses: number;
	/** Disputes: what each milestone's escrow paid mediators, and what each mediator (by key) was paid. */
	mediationFees: Map<string, number>;
	mediators: Map<string, number>;
	/** Released money by receipt id, held until the security period has passed on this provider's clock. */
	lots: Map<string, { amount: Minor; availableAt: number }>;
	paidOut: number;
	/** intent or attested event id → the receipt issued for it: retries get the same receipt. */
	issued: Map<string, Receipt>;
	/** The ids in `issued` that are attestations, not money. */
	attested: Set<string>;
	/** Bank debits under way, by intent id: the receipt is issued once `expectedAt` has passed. */
	processing: Map<string, { expectedAt: number; issue: () => Receipt }>;
	/** The last receipt this mock signed for the contract: the next one's prev (one chain per contract). */
	tip?: string;
}

/** What the mock's own books say about a contract: what a test compares with the log's ledger. */
export interface MockStatement {
	milestones: Record<string, MilestoneBook>;
	paidOut: number;
	/** Money intents executed, intent id → receipt id (attestations are not money). */
	executed: Record<string, string>;
	/** Bank debits started and not cleared yet, intent id → expected time. */
	processing: Record<string, number>;
	/** Hourly weeks, by week. */
	weeks: Record<string, WeekCounters>;
	bonuses: number;
	/** Paid to mediators out of each milestone's escrow, by milestone; and to each mediator, by key. */
	mediationFees: Record<string, number>;
	mediators: Record<string, number>;
}

// Never "nothing was charged" for a failure without an answer: the request may have been executed
// with only the answer lost. The intent's id makes asking again safe.
const FAILURE_TEXT: Record<Failure['code'], string> = {
	declined: 'The card was declined by the issuer (TEST MODE simulated decline).',
	unavailable: 'The escrow provider could not be reached (TEST MODE simulated outage).',
	timeout: 'The escrow provider did not answer in time (TEST MODE simulated timeout); the payment may or may not have gone through.'
};

export class MockEscrowProvider implements EscrowAdapter {
	private readonly key: DeviceKey;
	private readonly clock: () => number;
	private readonly latencyMs: number;
	private readonly bankDebitsProcess: boolean;
	private readonly books = new Map<string, ContractBook>();
	private readonly failures: Failure[] = [];
	private down = false;
	/**
	 * The receipt being issued chains to the latest receipt the requesting device already holds:
	 * a per-author chain like the parties' (one signature check per head), and the device never
	 * waits for a receipt it does not have.
	 */

	constructor(opts: MockOptions = {}) {
		this.key = opts.key ?? TEST_MODE_KEY;
		this.clock = opts.now ?? (() => Date.now());
		this.latencyMs = opts.latencyMs ?? 0;
		this.bankDebitsProcess = opts.bankDebitsProcess ?? false;
	}

	/** Make the next call fail once with this error (a declined card, an outage, a timeout). */
	failNext(code: Failure['code'], message?: string): void {
		this.failures.push({ code, message });
	}

	/**
	 * The next money call is executed — the money moves, the receipt is issued and kept — but its
	 * answer is lost on the way: the caller sees `code` (a timeout by default) instead of the receipt.
	 */
	loseNextAnswer(code: 'timeout' | 'unavailable' = 'timeout'): void {
		this.failures.push({ code, afterExecuting: true });
	}

	/** Its books for one contract (see MockStatement). */
	statement(contract: string): MockStatement {
		const book = this.books.get(contract);
		const out: MockStatement = { milestones: {}, paidOut: book?.paidOut ?? 0, executed: {}, processing: {}, weeks: {}, bonuses: book?.bonuses ?? 0, mediationFees: {}, mediators: {} };
		if (!book) return out;
		out.mediationFees = Object.fromEntries(book.mediationFees);
		out.mediators = Object.fromEntries(book.mediators);
		for (const [week, w] of book.weeks) out.weeks[week] = { ...w };
		for (const [id, mb] of book.milestones) out.milestones[id] = { ...mb };
		for (const [event, r] of book.issued) if (!book.attested.has(event)) out.executed[event] = r.id;
		for (const [id, p] of book.processing) out.processing[id] = p.expectedAt;
		return out;
	}

	/** While down, every call fails with 'unavailable'. */
	setDown(down: boolean): void {
		this.down = down;
	}

	async info(): Promise<ProviderInfo> {
		return { id: 'mock', name: 'Mock escrow (TEST MODE)', publicKey: this.key.publicKey, testMode: true };
	}

	async now(): Promise<number> {
		return this.clock();
	}

	async quoteFunding(amount: number, currency: CurrencyCode, method: FundingMethod): Promise<FundingQuote> {
		const q = quoteFunding(amount, method, currency, this.clock());
		return { amount: q.amount, fee: q.fee, total: q.total, currency, method, processingMs: q.processingMs, availableAt: q.availableAt };
	}

	async quoteWithdrawal(amount: number, currency: CurrencyCode, method: PayoutMethod): Promise<WithdrawalQuote> {
		const q = quoteWithdrawal(amount, method, currency, this.clock());
		return { amount: q.amount, fee: q.fee, net: q.net, currency, method, processingMs: q.processingMs, availableAt: q.availableAt };
	}

	async fund(req: EscrowRequest): Promise<Receipt> {
		return this.settle(req, ['milestone.fund', 'hourly.fund', 'bonus.paid'], (s, intent, book) => {
			if (intent.type !== 'milestone.fund') return this.chargeHourly(s, intent, book);
			const m = milestone(s, intent.milestone!)!;
			const method = intent.method as FundingMethod;
			const q = quoted(() => quoteFunding(intent.amount!, method, s.terms!.currency, this.clock()));
			const mb = this.milestoneBook(book, m.id);
			// Its own books, not only the log: never hold more than the milestone is worth.
			if (mb.funded - mb.refunded + intent.amount! > m.amount)
				throw new EscrowError('already-settled', 'This milestone is already funded.');
			mb.funded = addMinor(mb.funded, intent.amount!);
			const issue = () =>
				this.receipt(s, book, intent.id, 'receipt.funded', {
					intent: intent.id,
					milestone: m.id,
					amount: intent.amount!,
					fee: q.fee,
					currency: s.terms!.currency,
					method,
					clearsAt: q.availableAt
				});
			if (!this.bankDebitsProcess || method !== 'bank_transfer' || q.availableAt <= this.clock()) return issue();
			// The debit has started: the money is the client's no longer, but it has not cleared yet.
			book.processing.set(intent.id, { expectedAt: q.availableAt, issue });
			throw processing(q.availableAt);
		});
	}

	async release(req: EscrowRequest): Promise<Receipt> {
		// A dispute's settlement or ruling is a release of part with a refund of the rest: one split.
		return this.settle(req, ['milestone.release', 'milestone.autoRelease', 'hourly.release', ...DISPUTE_INTENTS], (s, intent, book) => {
			if (intent.type === 'hourly.release') return this.releaseWeek(s, intent, book);
			if (isDisputeIntent(intent)) return this.split(s, intent, book);
			const m = milestone(s, intent.milestone!)!;
			const mb = this.milestoneBook(book, m.id);
			const held = heldIn(book, m.id);
			if (held === 0) throw new EscrowError('unfunded', 'There is no money in escrow for this milestone.');
			const auto = intent.type === 'milestone.autoRelease';
			const amount = releaseAmount(intent, held);
			if (amount > held) throw overRelease(s, held, amount, 'release');
			disputeHold(s, m.id, auto ? Infinity : amount);
			// Judged on this provider's record (every log it was ever sent) and clock, as every replica judges the receipt.
			if (auto) clockRefusal(s, intent, this.clock());
			mb.released = addMinor(mb.released, amount);
			const receipt = this.receipt(s, book, intent.id, 'receipt.released', { intent: intent.id, milestone: m.id, amount, currency: s.terms!.currency, auto });
			book.lots.set(receipt.id, { amount, availableAt: this.clock() + s.terms!.securityPeriodDays * DAY_MS });
			return receipt;
		});
	}

	async refund(req: EscrowRequest): Promise<Receipt> {
		return this.settle(req, ['milestone.refund', 'hourly.reclaim'], (s, intent, book) => {
			if (intent.type === 'hourly.reclaim') return this.reclaimWeek(s, intent, book);
			const m = milestone(s, intent.milestone!)!;
			const mb = this.milestoneBook(book, m.id);
			const held = heldIn(book, m.id);
			if (held === 0) throw new EscrowError('unfunded', 'There is no money in escrow for this milestone.');
			if (intent.amount! > held) throw overRelease(s, held, intent.amount!, 'refund');
			disputeHold(s, m.id, intent.amount!);
			if (isClockJudged(intent)) clockRefusal(s, intent, this.clock());
			mb.refunded = addMinor(mb.refunded, intent.amount!);
			return this.receipt(s, book, intent.id, 'receipt.refunded', { intent: intent.id, milestone: m.id, amount: intent.amount!, currency: s.terms!.currency });
		});
	}

	async withdraw(req: EscrowRequest): Promise<Receipt> {
		return this.settle(req, ['withdrawal.requested'], (s, intent, book) => {
			const now = this.clock();
			let matured = 0;
			for (const l of book.lots.values()) if (l.availableAt <= now) matured += l.amount;
			const available = matured - book.paidOut;
			if (intent.amount! > available)
				throw overWithdrawal(s, available);
			const method = intent.method as PayoutMethod;
			const q = quoted(() => quoteWithdrawal(intent.amount!, method, s.terms!.currency, now));
			book.paidOut += intent.amount!;
			return this.receipt(s, book, intent.id, 'receipt.paidOut', {
				intent: intent.id,
				amount: intent.amount!,
				fee: q.fee,
				currency: s.terms!.currency,
				method,
				arrivesAt: q.availableAt
			});
		});
	}

	/**
	 * This mock's record of a contract: the receipts it issued and their causal past, authentic events only.
	 * One mock runs per browser, so it holds what this browser's devices sent, no more (TEST MODE).
	 */
	async record(req: RecordRequest): Promise<string[]> {
		const book = this.books.get(req.contract);
		if (book) await authenticate(book.log);
		const s = book?.log.derive().state;
		if (!book || !s?.binding) throw new EscrowError('invalid-request', 'This provider holds no record of that contract.');
		// A party's identity key, or a device it certified and did not revoke (devices.ts).
		const role = roleOf(s, req.publicKey);
		if (role !== 'client' && role !== 'freelancer') throw new EscrowError('not-authorised', 'Only a party of the contract may read its record.');
		if (Math.abs(this.clock() - req.at) > RECORD_PROOF_WINDOW_MS) throw new EscrowError('not-authorised', 'The record request is too old; sign a fresh one.');
		if (!verifySync(req.publicKey, utf8.encode(recordRequestMessage(req.contract, req.publicKey, req.at, req.nonce)), req.signature))
			throw new EscrowError('not-authorised', 'The record request is not signed by that party.');
		// What it recorded or executed, with their causal past: never an intent it refused.
		return book.log.causalPast(...[...book.issued.values()].map((r) => r.id));
	}

	async attest(req: EscrowRequest): Promise<Receipt> {
		const lost = await this.gate();
		const { s, book } = await this.load(req);
		const prior = book.issued.get(req.event);
		if (prior) return answer(prior, lost);
		const kind = attestationKind(s, req.event, this.clock(), book.log.ruleContext);
		const r = this.receipt(s, book, req.event, 'receipt.attested', { event: req.event, kind });
		issue(book, req.event, r);
		book.attested.add(req.event);
		return answer(r, lost);
	}

	// —— internals ——

	private async settle(
		req: EscrowRequest,
		types: Intent['type'][],
		execute: (s: ContractState, intent: Intent, book: ContractBook) => Receipt
	): Promise<Receipt> {
		const lost = await this.gate();
		const { s, book } = await this.load(req);
		const prior = book.issued.get(req.event);
		if (prior) return answer(prior, lost); // idempotent: a retry of the same intent gets the same receipt
		const started = book.processing.get(req.event);
		if (started) {
			// A bank debit already under way: the same intent, never a second debit.
			if (this.clock() < started.expectedAt) throw lost ?? processing(started.expectedAt);
			const receipt = started.issue();
			book.processing.delete(req.event);
			issue(book, req.event, receipt);
			return answer(receipt, lost);
		}
		const intent = executableIntent(s, req.event, types);
		let receipt: Receipt;
		try {
			receipt = execute(s, intent, book);
		} catch (e) {
			// Executed, answer lost: the caller hears the lost answer, not 'processing'.
			throw lost && e instanceof EscrowError && e.code === 'processing' ? lost : e;
		}
		issue(book, intent.id, receipt);
		return answer(receipt, lost);
	}

	/** An armed failure before executing throws here; one armed after executing is returned, to throw then. */
	private async gate(): Promise<EscrowError | undefined> {
		if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
		if (this.down) throw new EscrowError('unavailable', FAILURE_TEXT.unavailable);
		const f = this.failures.shift();
		if (!f) return undefined;
		const err = new EscrowError(f.code, f.message ?? FAILURE_TEXT[f.code]);
		if (!f.afterExecuting) throw err;
		return err;
	}

	private async load(req: EscrowRequest): Promise<{ s: ContractState; book: ContractBook }> {
		let book = this.books.get(req.contract);
		if (!book) {
			book = { log: new ContractLog(req.contract), milestones: new Map(), weeks: new Map(), bonuses: 0, mediationFees: new Map(), mediators: new Map(), lots: new Map(), paidOut: 0, issued: new Map(), attested: new Set(), processing: new Map() };
			this.books.set(req.contract, book);
		}
		const { s } = await loadContract(book.log, req, this.key.publicKey, [], this.clock());
		this.reconcile(book, s);
		return { s, book };
	}

	/**
	 * Every browser runs its own mock, so the other party's mock may have issued receipts this one
	 * never saw. Receipts signed with this key are this provider's records: take in what they add.
	 * (Counters only grow, so the larger of the two is the better record; where two offline mocks
	 * both moved the same money, the fold refuses the second receipt.)
	 */
	private reconcile(book: ContractBook, s: ContractState): void {
		for (const m of s.milestones) {
			const mb = this.milestoneBook(book, m.id);
			mb.funded = Math.max(mb.funded, m.funded) as Minor;
			mb.released = Math.max(mb.released, m.released) as Minor;
			mb.refunded = Math.max(mb.refunded, m.refunded) as Minor;
			book.mediationFees.set(m.id, Math.max(book.mediationFees.get(m.id) ?? 0, m.mediationFees ?? 0));
		}
		for (const [account, paid] of s.ledger.balances) {
			if (!account.startsWith('mediator:')) continue;
			const key = account.slice('mediator:'.length);
			book.mediators.set(key, Math.max(book.mediators.get(key) ?? 0, paid));
		}
		for (const lot of s.releases) if (!book.lots.has(lot.receipt)) book.lots.set(lot.receipt, { amount: lot.amount, availableAt: lot.maturesAt });
		book.paidOut = Math.max(book.paidOut, s.payouts.reduce((sum, p) => sum + p.amount, 0));
		for (const w of s.hourly?.weeks.values() ?? []) {
			const wb = this.weekBook(book, w.week);
			for (const k of ['funded', 'carriedIn', 'released', 'carriedOut', 'refunded'] as const) wb[k] = Math.max(wb[k], w[k]) as Minor;
			wb.settled = Math.max(wb.settled, w.settled ?? 0) as Minor;
		}
		book.bonuses = Math.max(book.bonuses, s.bonuses.reduce((sum, b) => sum + (b.receipt ? b.amount : 0), 0));
	}

	// —— disputes (contract/dispute.ts) ——

	/**
	 * A dispute's outcome, judged on this provider's record and clock with the rule every replica
	 * applies to the receipt: the freelancer's share released (it waits the security period), the
	 * client's refunded, the mediator paid (its own account in these books), all from the one escrow.
	 */
	private split(s: ContractState, intent: Intent, book: ContractBook): Receipt {
		const now = this.clock();
		const x = disputeSplit(s, intent, now);
		const d = s.disputes.get(intent.dispute!.id)!;
		if (d.segments) {
			// Segments of an hourly week: the split comes out of that week's escrow, beside what the week still releases.
			const wb = this.weekBook(book, d.segments.week);
			const held = weekHeld(wb);
			if (d.amount > held) throw weekOverRelease(s, held, d.amount, 'release');
			wb.settled = addMinor(wb.settled, d.amount);
		} else {
			const mb = this.milestoneBook(book, d.milestone!);
			const held = heldIn(book, d.milestone!);
			if (d.amount > held) throw overRelease(s, held, d.amount, 'release');
			mb.released = addMinor(mb.released, x.freelancer);
			mb.refunded = addMinor(mb.refunded, x.client);
			if (x.fee > 0) book.mediationFees.set(d.milestone!, (book.mediationFees.get(d.milestone!) ?? 0) + x.fee);
		}
		if (x.fee > 0) book.mediators.set(x.mediator!, (book.mediators.get(x.mediator!) ?? 0) + x.fee);
		const receipt = this.receipt(s, book, intent.id, 'receipt.split', {
			intent: intent.id,
			dispute: d.id,
			...subjectOf(d),
			freelancer: x.freelancer,
			client: x.client,
			fee: x.fee,
			...(x.mediator ? { mediator: x.mediator } : {}),
			currency: s.terms!.currency
		});
		if (x.freelancer > 0) book.lots.set(receipt.id, { amount: x.freelancer, availableAt: now + s.terms!.securityPeriodDays * DAY_MS });
		return receipt;
	}

	// —— hourly contracts and bonuses ——

	/** A week's funding (limit × rate, or what it owes) or a bonus: charged like a milestone's funding, fee included. */
	private chargeHourly(s: ContractState, intent: Intent, book: ContractBook): Receipt {
		const method = intent.method as FundingMethod;
		const q = quoted(() => quoteFunding(intent.amount!, method, s.terms!.currency, this.clock()));
		if (intent.type === 'bonus.paid') {
			book.bonuses += intent.amount!;
			const receipt = this.receipt(s, book, intent.id, 'receipt.bonusPaid', { intent: intent.id, amount: intent.amount!, fee: q.fee, currency: s.terms!.currency, method });
			// A bonus skips review: it waits only the security period.
			book.lots.set(receipt.id, { amount: intent.amount!, availableAt: this.clock() + s.terms!.securityPeriodDays * DAY_MS });
			return receipt;
		}
		const week = intent.week!;
		// Never hold more for a week than it may need (its own books agree with the log after reconcile).
		weekFundingCheck(s, intent, this.clock());
		const fb = this.weekBook(book, week);
		fb.funded = addMinor(fb.funded, intent.amount!);
		return this.receipt(s, book, intent.id, 'receipt.weekFunded', {
			intent: intent.id,
			week,
			amount: intent.amount!,
			fee: q.fee,
			currency: s.terms!.currency,
			method,
			clearsAt: q.availableAt
		});
	}

	/** The freelancer's claim on a week after its review window: pays what it owes now and carries unused escrow on. */
	private releaseWeek(s: ContractState, intent: Intent, book: ContractBook): Receipt {
		const now = this.clock();
		const week = intent.week!;
		const t = weekRelease(s, intent, now);
		const wb = this.weekBook(book, week);
		const held = weekHeld(wb);
		if (t.amount + t.carried > held) throw weekOverRelease(s, held, t.amount + t.carried, 'release');
		wb.released = addMinor(wb.released, t.amount);
		if (t.carried > 0) this.carry(book, week, t.carriedTo!, t.carried);
		const receipt = this.receipt(s, book, intent.id, 'receipt.weekReleased', { intent: intent.id, week, ...t, currency: s.terms!.currency });
		if (t.amount > 0) book.lots.set(receipt.id, { amount: t.amount, availableAt: now + s.terms!.securityPeriodDays * DAY_MS });
		return receipt;
	}

	/** The client takes back a week's unused escrow: refunded once paused or ended, else carried on. */
	private reclaimWeek(s: ContractState, intent: Intent, book: ContractBook): Receipt {
		const now = this.clock();
		const week = intent.week!;
		const t = weekReclaim(s, intent, now);
		const wb = this.weekBook(book, week);
		if (t.amount > weekHeld(wb)) throw weekOverRelease(s, weekHeld(wb), t.amount, 'reclaim');
		if (t.to === 'client') wb.refunded = addMinor(wb.refunded, t.amount);
		else this.carry(book, week, t.carriedTo!, t.amount);
		return this.receipt(s, book, intent.id, 'receipt.weekReclaimed', { intent: intent.id, week, ...t, currency: s.terms!.currency });
	}

	private carry(book: ContractBook, from: string, to: string, amount: Minor): void {
		const out = this.weekBook(book, from);
		out.carriedOut = addMinor(out.carriedOut, amount);
		const into = this.weekBook(book, to);
		into.carriedIn = addMinor(into.carriedIn, amount);
	}

	private weekBook(book: ContractBook, week: string): WeekCounters {
		let wb = book.weeks.get(week);
		if (!wb) book.weeks.set(week, (wb = { funded: ZERO_MINOR, carriedIn: ZERO_MINOR, released: ZERO_MINOR, carriedOut: ZERO_MINOR, refunded: ZERO_MINOR, settled: ZERO_MINOR }));
		return wb;
	}

	private milestoneBook(book: ContractBook, id: string): MilestoneBook {
		let mb = book.milestones.get(id);
		if (!mb) book.milestones.set(id, (mb = { funded: ZERO_MINOR, released: ZERO_MINOR, refunded: ZERO_MINOR }));
		return mb;
	}

	/**
	 * Signed when issued, on the last receipt this mock signed for the contract, so its receipts form
	 * one chain (after a reload, on the latest one the requester's log shows). Two browsers run two
	 * mocks, which may fork that chain: TEST MODE only.
	 */
	private receipt<T extends EventType>(s: ContractState, book: ContractBook, dep: string, type: T, payload: Payload<T>): Receipt {
		return signReceipt(this.key, { contract: s.contract, prev: book.tip ?? book.log.lastOf(this.key.publicKey), dep, at: this.clock(), type, payload });
	}

	/** A completion attestation (escrow/attestation.ts) from this mock's record: TEST MODE, since its key is public. */
	async completion(req: CompletionRequest): Promise<SignedStatement> {
		const { s } = await this.load({ contract: req.contract, log: req.log ?? [], event: '' });
		// Loaded when asked: attestations are rare, and the mock is on every page's first load.
		const { attestCompletion } = await import('./attestation');
		return attestCompletion(this.key, s, req, this.clock());
	}
}

/**
 * Keep an issued receipt: retries get it again, and it joins this provider's record (its log), so
 * later requests are judged with it even if the requester leaves it out.
 */
function issue(book: ContractBook, event: string, receipt: Receipt): void {
	book.issued.set(event, receipt);
	book.log.add(receipt.id, receipt.envelope);
	book.tip = receipt.id;
}

/** What a milestone's escrow holds in these books: in, less released, refunded and mediators' fees. */
function heldIn(book: ContractBook, milestone: string): Minor {
	const mb = book.milestones.get(milestone);
	return (mb ? mb.funded - mb.released - mb.refunded - (book.mediationFees.get(milestone) ?? 0) : 0) as Minor;
}

function weekHeld(w: WeekCounters): Minor {
	return (w.funded + w.carriedIn - w.released - w.carriedOut - w.refunded - w.settled) as Minor;
}

/** The receipt, or — when its answer was to be lost — the error the caller sees instead. */
function answer(receipt: Receipt, lost: EscrowError | undefined): Receipt {
	if (lost) throw lost;
	return receipt;
}

function processing(expectedAt: number): EscrowError {
	return new EscrowError(
		'processing',
		`The bank debit is processing (TEST MODE); it is expected to clear by ${new Date(expectedAt).toISOString()}.`,
		{ expectedAt }
	);
}
