/**
 * What the escrow function keeps itself, besides Stripe (which stays the source of truth for money):
 *
 *  - per contract, a RECORD: every envelope it attested or executed (intents, recorded events, its
 *    own receipts) with their causal past, the contract's binding (proposal, parties, provider key,
 *    currency), the receipt it issued per intent or recorded event, the Stripe object an intent
 *    created (the "outbox": looked up before anything is created again), an "in flight" row per
 *    money operation under way, and the nonces of record requests;
 *  - for onboarding, a party key → connected account index and rate-limit counters.
 *
 * A store is an interface with two implementations: in memory (Node tests, one process) and
 * Cloudflare Durable Objects (durable.ts: one SQLite-backed object per contract, one for accounts).
 * Both run the same `StoredContractRecord` logic over a few synchronous primitives (`RecordData`),
 * so what the in-process tests exercise is what runs in the object.
 */
import { EscrowError, type Receipt } from '../lib/escrow/adapter';
import { envelopeBytes, type Binding } from '../lib/escrow/record';

export const DAY = 86_400_000;

/** A contract's record is bounded; an operation that would pass a bound is refused, never half-recorded. */
export interface RecordLimits {
	maxEnvelopes: number;
	maxBytes: number;
	/** Kept while escrow is held; then this long after the last money operation (or last write). */
	retentionMs: number;
}

export const RECORD_LIMITS: RecordLimits = { maxEnvelopes: 20_000, maxBytes: 5 * 1024 * 1024, retentionMs: 400 * DAY };

/** Room kept for the receipt an operation is about to sign (receipts are well under 2 KB). */
export const RECEIPT_ROOM = { envelopes: 1, bytes: 4 * 1024 };

/** A money operation under way: written before the Stripe call, cleared after it. */
export interface InFlight {
	op: 'fund' | 'release' | 'refund' | 'withdraw';
	intent: string;
	milestone?: string;
	at: number;
}

export interface ContractRecord {
	readonly contract: string;
	/** Every recorded envelope, in the order it was recorded. */
	envelopes(): Promise<string[]>;
	ids(): Promise<Set<string>>;
	size(): Promise<{ envelopes: number; bytes: number }>;
	/** Refuses (RecordFull) when `entries` not yet recorded, plus `reserve`, would pass a bound. */
	assertRoom(entries: readonly [string, string][], reserve?: { envelopes: number; bytes: number }): Promise<void>;
	/**
	 * Record the provider's receipt for `answers`, linked to the chain: `link` gets the receipt the
	 * record holds as the latest (its tip, or null) and returns the receipt signed on it with the
	 * entries to record; read, sign and write happen in one synchronous step, so two operations
	 * running at once (different milestones) can never sign on the same tip. Envelopes already
	 * recorded are skipped; all or none is written.
	 */
	appendReceipt(now: number, answers: string, link: (tip: string | null) => { receipt: Receipt; entries: readonly [string, string][] }): Promise<Receipt>;
	receiptFor(event: string): Promise<Receipt | undefined>;
	binding(): Promise<Binding | undefined>;
	bind(b: Binding): Promise<void>;
	inFlight(key: string): Promise<InFlight | undefined>;
	setInFlight(key: string, row: InFlight | undefined): Promise<void>;
	/** The Stripe object (PaymentIntent id) an intent created: the outbox looked up before any create. */
	stripeObject(intent: string): Promise<string | undefined>;
	noteStripeObject(intent: string, id: string): Promise<void>;
	/** False when the nonce was used already (and has not expired): a replayed request. */
	useNonce(nonce: string, expiresAt: number, now: number): Promise<boolean>;
	/** After a money operation: what the milestone still holds (from Stripe's books) and when. */
	noteMoney(milestone: string | undefined, held: number | undefined, now: number): Promise<void>;
	/** Retention: forget the record once no escrow is held and the retention period has passed. */
	expire(now: number): Promise<boolean>;
	/** When the record may next expire (for a Durable Object alarm); undefined while escrow is held. */
	expiresAt(): Promise<number | undefined>;
	/** Run `fn` after every earlier call with the same key (and with '*') has finished. */
	exclusive<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export interface RecordStore {
	open(contract: string): Promise<ContractRecord>;
}

export interface AccountStore {
	lookup(partyKey: string): Promise<string | undefined>;
	remember(partyKey: string, account: string): Promise<void>;
	/** Count one use of `bucket`; false (nothing counted) when `limit` uses fell within the last `windowMs`. */
	take(bucket: string, limit: number, windowMs: number, now: number): Promise<boolean>;
}

export class RecordFull extends EscrowError {
	constructor(what: string) {
		super(
			'invalid-request',
			`The escrow provider's record of this contract is full (${what}). Nothing was executed or recorded; the contract cannot take further provider operations.`
		);
	}
}

/**
 * A promise chain per key: one operation per milestone at a time. '*' waits for every key and
 * every key waits for '*' (contract-wide operations: countersign, end, withdrawals).
 */
export class KeyedQueue {
	private readonly tails = new Map<string, Promise<unknown>>();

	run<T>(key: string, fn: () => Promise<T>): Promise<T> {
		const before = key === '*' ? [...this.tails.values()] : [this.tails.get(key), this.tails.get('*')].filter((p): p is Promise<unknown> => !!p);
		const result = Promise.allSettled(before).then(fn);
		const tail = result.then(
			() => undefined,
			() => undefined
		);
		this.tails.set(key, tail);
		void tail.then(() => {
			if (this.tails.get(key) === tail) this.tails.delete(key);
		});
		return result;
	}
}

/** The synchronous primitives a record is kept in: Maps in memory, SQLite tables in a Durable Object. */
export interface RecordData {
	envelopes(): string[];
	ids(): string[];
	envelope(id: string): string | undefined;
	hasEnvelope(id: string): boolean;
	/** Insert rows not yet present. */
	putEnvelopes(rows: readonly { id: string; envelope: string; bytes: number }[]): void;
	counts(): { envelopes: number; bytes: number };
	get(ns: string, k: string): string | undefined;
	set(ns: string, k: string, v: string | undefined): void;
	entries(ns: string): [string, string][];
	/** Forget everything. */
	clear(): void;
	/** Run `fn` atomically. */
	atomic<T>(fn: () => T): T;
}

const NS = { meta: 'meta', receipt: 'receipt', inFlight: 'inflight', outbox: 'outbox', nonce: 'nonce', held: 'held' } as const;

export class StoredContractRecord implements ContractRecord {
	private readonly queue = new KeyedQueue();

	constructor(
		readonly contract: string,
		private readonly data: RecordData,
		private readonly limits: RecordLimits = RECORD_LIMITS
	) {}

	async envelopes(): Promise<string[]> {
		return this.data.envelopes();
	}

	async ids(): Promise<Set<string>> {
		return new Set(this.data.ids());
	}

	async size(): Promise<{ envelopes: number; bytes: number }> {
		return this.data.counts();
	}

	async assertRoom(entries: readonly [string, string][], reserve = { envelopes: 0, bytes: 0 }): Promise<void> {
		this.room(this.fresh(entries), reserve);
	}

	async appendReceipt(now: number, answers: string, link: (tip: string | null) => { receipt: Receipt; entries: readonly [string, string][] }): Promise<Receipt> {
		return this.data.atomic(() => {
			const { receipt, entries } = link(this.data.get(NS.meta, 'tip') ?? null);
			const rows = this.fresh(entries);
			this.room(rows);
			this.data.putEnvelopes(rows);
			this.data.set(NS.receipt, answers, receipt.id);
			this.data.set(NS.meta, 'tip', receipt.id);
			this.data.set(NS.meta, 'contract', this.contract);
			this.data.set(NS.meta, 'lastWriteAt', String(now));
			return receipt;
		});
	}

	async receiptFor(event: string): Promise<Receipt | undefined> {
		const id = this.data.get(NS.receipt, event);
		if (!id) return undefined;
		const envelope = this.data.envelope(id);
		return envelope === undefined ? undefined : { id, envelope };
	}

	async binding(): Promise<Binding | undefined> {
		const b = this.data.get(NS.meta, 'binding');
		return b ? (JSON.parse(b) as Binding) : undefined;
	}

	async bind(b: Binding): Promise<void> {
		this.data.atomic(() => {
			if (this.data.get(NS.meta, 'binding')) return;
			this.data.set(NS.meta, 'binding', JSON.stringify(b));
			this.data.set(NS.meta, 'contract', this.contract);
		});
	}

	async inFlight(key: string): Promise<InFlight | undefined> {
		const row = this.data.get(NS.inFlight, key);
		return row ? (JSON.parse(row) as InFlight) : undefined;
	}

	async setInFlight(key: string, row: InFlight | undefined): Promise<void> {
		this.data.set(NS.inFlight, key, row && JSON.stringify(row));
	}

	async stripeObject(intent: string): Promise<string | undefined> {
		return this.data.get(NS.outbox, intent);
	}

	async noteStripeObject(intent: string, id: string): Promise<void> {
		this.data.set(NS.outbox, intent, id);
	}

	async useNonce(nonce: string, expiresAt: number, now: number): Promise<boolean> {
		return this.data.atomic(() => {
			for (const [k, v] of this.data.entries(NS.nonce)) if (Number(v) < now) this.data.set(NS.nonce, k, undefined);
			if (this.data.get(NS.nonce, nonce) !== undefined) return false;
			this.data.set(NS.nonce, nonce, String(expiresAt));
			return true;
		});
	}

	async noteMoney(milestone: string | undefined, held: number | undefined, now: number): Promise<void> {
		this.data.atomic(() => {
			if (milestone !== undefined && held !== undefined) this.data.set(NS.held, milestone, String(held));
			this.data.set(NS.meta, 'lastMoneyAt', String(now));
		});
	}

	async expiresAt(): Promise<number | undefined> {
		if (this.data.entries(NS.held).some(([, v]) => Number(v) > 0)) return undefined;
		const base = Number(this.data.get(NS.meta, 'lastMoneyAt') ?? this.data.get(NS.meta, 'lastWriteAt') ?? NaN);
		return Number.isFinite(base) ? base + this.limits.retentionMs : undefined;
	}

	async expire(now: number): Promise<boolean> {
		const at = await this.expiresAt();
		if (at === undefined || now < at) return false;
		this.data.clear();
		return true;
	}

	exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
		return this.queue.run(key, fn);
	}

	/** Rows of `entries` the record does not hold yet, one per id. */
	private fresh(entries: readonly [string, string][]): { id: string; envelope: string; bytes: number }[] {
		const seen = new Set<string>();
		const rows: { id: string; envelope: string; bytes: number }[] = [];
		for (const [id, envelope] of entries) {
			if (seen.has(id) || this.data.hasEnvelope(id)) continue;
			seen.add(id);
			rows.push({ id, envelope, bytes: envelopeBytes(envelope) });
		}
		return rows;
	}

	private room(rows: readonly { bytes: number }[], reserve = { envelopes: 0, bytes: 0 }): void {
		const now = this.data.counts();
		const n = now.envelopes + rows.length + reserve.envelopes;
		const b = now.bytes + rows.reduce((sum, r) => sum + r.bytes, 0) + reserve.bytes;
		if (n > this.limits.maxEnvelopes) throw new RecordFull(`${now.envelopes} of ${this.limits.maxEnvelopes} envelopes; this operation needs ${n - now.envelopes} more`);
		if (b > this.limits.maxBytes) throw new RecordFull(`${now.bytes} of ${this.limits.maxBytes} bytes; this operation needs ${b - now.bytes} more`);
	}
}

// ————————————————————————————————————————— in memory

class MemoryData implements RecordData {
	private rows = new Map<string, { envelope: string; bytes: number }>();
	private bytes = 0;
	private kv = new Map<string, Map<string, string>>();

	envelopes(): string[] {
		return [...this.rows.values()].map((r) => r.envelope);
	}
	ids(): string[] {
		return [...this.rows.keys()];
	}
	envelope(id: string): string | undefined {
		return this.rows.get(id)?.envelope;
	}
	hasEnvelope(id: string): boolean {
		return this.rows.has(id);
	}
	putEnvelopes(rows: readonly { id: string; envelope: string; bytes: number }[]): void {
		for (const r of rows) {
			if (this.rows.has(r.id)) continue;
			this.rows.set(r.id, { envelope: r.envelope, bytes: r.bytes });
			this.bytes += r.bytes;
		}
	}
	counts(): { envelopes: number; bytes: number } {
		return { envelopes: this.rows.size, bytes: this.bytes };
	}
	get(ns: string, k: string): string | undefined {
		return this.kv.get(ns)?.get(k);
	}
	set(ns: string, k: string, v: string | undefined): void {
		let m = this.kv.get(ns);
		if (!m) this.kv.set(ns, (m = new Map()));
		if (v === undefined) m.delete(k);
		else m.set(k, v);
	}
	entries(ns: string): [string, string][] {
		return [...(this.kv.get(ns) ?? new Map<string, string>()).entries()];
	}
	clear(): void {
		this.rows = new Map();
		this.bytes = 0;
		this.kv = new Map();
	}
	atomic<T>(fn: () => T): T {
		// Synchronous: nothing else runs in between. A throw leaves earlier writes of `fn`, so the
		// record's own methods check everything before they write.
		return fn();
	}
}

/** One process's records (Node tests, a single long-lived server). */
export class MemoryRecordStore implements RecordStore {
	private readonly records = new Map<string, StoredContractRecord>();
	constructor(private readonly limits: Partial<RecordLimits> = {}) {}

	async open(contract: string): Promise<ContractRecord> {
		let r = this.records.get(contract);
		if (!r) this.records.set(contract, (r = new StoredContractRecord(contract, new MemoryData(), { ...RECORD_LIMITS, ...this.limits })));
		return r;
	}
}

export class MemoryAccountStore implements AccountStore {
	private readonly accounts = new Map<string, string>();
	private readonly hits = new Map<string, number[]>();

	async lookup(partyKey: string): Promise<string | undefined> {
		return this.accounts.get(partyKey);
	}
	async remember(partyKey: string, account: string): Promise<void> {
		if (!this.accounts.has(partyKey)) this.accounts.set(partyKey, account);
	}
	async take(bucket: string, limit: number, windowMs: number, now: number): Promise<boolean> {
		const recent = (this.hits.get(bucket) ?? []).filter((t) => t > now - windowMs);
		if (recent.length >= limit) {
			this.hits.set(bucket, recent);
			return false;
		}
		recent.push(now);
		this.hits.set(bucket, recent);
		return true;
	}
}
