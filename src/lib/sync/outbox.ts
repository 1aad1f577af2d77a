/**
 * The outbox: money intents this device has signed and not yet written to the contract, kept in
 * device-local storage — never in the shared log, where a refused intent must leave no trace.
 *
 * An entry is stored before the provider hears of the intent and removed only once the intent and
 * its receipt are in the log (or the provider refused it for good). If the device dies meanwhile —
 * after the provider moved money, before the receipt was written — the entry is still here when the
 * app opens again, and asking the provider again with the same intent id (its idempotency key)
 * returns the same receipt: money is neither lost from the record nor moved twice.
 *
 * Storage is a tiny interface (get/put/delete/list): IndexedDB in the app (device-db.ts), a Map in
 * tests. The Outbox adds a per-contract cache the page can read synchronously, and listeners.
 */
import type { EscrowErrorCode, Receipt } from '../escrow/adapter';
import type { EventType } from '../contract/schema';
import type { ContractState } from '../contract/state';

export type ProviderCall = 'fund' | 'release' | 'refund' | 'withdraw';

export interface OutboxEntry {
	/** The intent's id: also the provider's idempotency key. */
	id: string;
	contract: string;
	call: ProviderCall;
	type: EventType;
	/** What it moves money on: a milestone id, `week:<week>` for an hourly week, `bonus`; none for a withdrawal. */
	milestone?: string;
	/** The signed intent, exactly as it will be written. */
	envelope: string;
	/** The intent's payload, for the page (amount, method) and to recognise the same action again. */
	payload: Record<string, unknown>;
	/** Device time the intent was signed. */
	createdAt: number;
	/** Provider calls made for it so far that ended without a receipt. */
	attempts: number;
	/** Why the last call ended without a receipt. */
	lastError?: { code: EscrowErrorCode | 'unknown'; message: string; at: number };
	/** With a 'processing' answer: when the provider expects the money to have cleared. */
	expectedAt?: number;
	/** The provider's answer, kept as soon as it arrives: the write can then happen without asking again. */
	receipt?: Receipt;
}

/** Where entries are kept, keyed by intent id. Every write must be durable when its promise resolves. */
export interface OutboxStorage {
	get(id: string): Promise<OutboxEntry | undefined>;
	put(entry: OutboxEntry): Promise<void>;
	delete(id: string): Promise<void>;
	/** Every entry, or those of one contract. */
	list(contract?: string): Promise<OutboxEntry[]>;
}

const copy = <T>(v: T): T => structuredClone(v);

/** In memory: for tests and simulations (a "device" that dies keeps this object, as it would keep IndexedDB). */
export class MemoryOutboxStorage implements OutboxStorage {
	private readonly entries = new Map<string, OutboxEntry>();

	async get(id: string): Promise<OutboxEntry | undefined> {
		const e = this.entries.get(id);
		return e && copy(e);
	}

	async put(entry: OutboxEntry): Promise<void> {
		this.entries.set(entry.id, copy(entry));
	}

	async delete(id: string): Promise<void> {
		this.entries.delete(id);
	}

	async list(contract?: string): Promise<OutboxEntry[]> {
		return [...this.entries.values()].filter((e) => contract === undefined || e.contract === contract).map(copy);
	}

	get size(): number {
		return this.entries.size;
	}
}

/**
 * Two intents are the same action when they would move the same money: a funding, release or refund
 * of one milestone, or a withdrawal. While one is pending, this device does not sign another.
 */
export function actionKey(call: ProviderCall, milestone: string | undefined): string {
	return call === 'withdraw' ? 'withdraw' : `${call}:${milestone ?? ''}`;
}

/**
 * Is the outcome this intent asks for already executed by another intent's receipt in the log?
 * In TEST MODE each browser runs its own mock provider, so two devices paying out the same due
 * dispute outcome can each get a split; the log counts the first. The other device's request then
 * has nothing left to settle: it is dropped before it is written (its receipt would be refused and
 * the intent would wait forever), with a note saying why. Returns that note, or undefined.
 */
export function executedElsewhere(entry: Pick<OutboxEntry, 'id' | 'type' | 'payload'>, s: ContractState): string | undefined {
	if (!entry.type.startsWith('dispute.')) return undefined;
	const settled = s.disputes.get(String(entry.payload.dispute))?.settlement;
	if (!settled || settled.intent === entry.id) return undefined;
	return 'This outcome was already paid out by the other request that reached the escrow provider first; this device’s request for it was dropped and nothing more moves.';
}

/** An entry dropped because its outcome was executed by another request: what the page tells the person. */
export interface DroppedNote {
	id: string;
	type: EventType;
	payload: Record<string, unknown>;
	note: string;
	at: number;
}

export type OutboxListener = (entries: OutboxEntry[]) => void;

/** One contract's entries: a synchronous cache over the storage, loaded once, written through. */
export class Outbox {
	private readonly cache = new Map<string, OutboxEntry>();
	private loading: Promise<void> | undefined;
	private readonly listeners = new Set<OutboxListener>();
	/** Entries dropped this session because another request executed their outcome (see executedElsewhere). */
	readonly dropped: DroppedNote[] = [];

	constructor(
		readonly storage: OutboxStorage,
		readonly contract: string
	) {}

	/** Read what storage holds for this contract, once (again after a failure). Writes wait for it (see Party). */
	load(): Promise<void> {
		this.loading ??= this.storage.list(this.contract).then(
			(stored) => {
				for (const e of stored) if (!this.cache.has(e.id)) this.cache.set(e.id, e);
				this.emit();
			},
			(e: unknown) => {
				this.loading = undefined;
				throw e;
			}
		);
		return this.loading;
	}

	entries(): OutboxEntry[] {
		return [...this.cache.values()];
	}

	get(id: string): OutboxEntry | undefined {
		return this.cache.get(id);
	}

	/** The pending entry for the same action, if any (see actionKey). */
	pendingFor(call: ProviderCall, milestone: string | undefined): OutboxEntry | undefined {
		const key = actionKey(call, milestone);
		for (const e of this.cache.values()) if (actionKey(e.call, e.milestone) === key) return e;
		return undefined;
	}

	/**
	 * Write an entry: the cache at once (so a second click sees it before storage answers), storage
	 * durably. If storage fails, the cache is put back as it was and the promise rejects.
	 */
	async put(entry: OutboxEntry): Promise<void> {
		const before = this.cache.get(entry.id);
		this.cache.set(entry.id, entry);
		this.emit();
		try {
			await this.storage.put(entry);
		} catch (e) {
			if (before) this.cache.set(entry.id, before);
			else this.cache.delete(entry.id);
			this.emit();
			throw e;
		}
	}

	async delete(id: string): Promise<void> {
		await this.storage.delete(id);
		this.cache.delete(id);
		this.emit();
	}

	/** Remove an entry whose outcome another request executed, keeping the note for the page. */
	async drop(entry: OutboxEntry, note: string, at: number): Promise<void> {
		this.dropped.push({ id: entry.id, type: entry.type, payload: entry.payload, note, at });
		await this.delete(entry.id).catch(() => {});
	}

	subscribe(fn: OutboxListener): () => void {
		this.listeners.add(fn);
		fn(this.entries());
		return () => this.listeners.delete(fn);
	}

	private emit(): void {
		const list = this.entries();
		for (const fn of this.listeners) fn(list);
	}
}

/**
 * How long to wait before asking again about an entry, from its attempts so far: 5 s doubling to
 * 5 minutes. A bank debit still processing is asked about again once its expected time has passed.
 */
export function retryDelay(entry: Pick<OutboxEntry, 'attempts' | 'expectedAt'>, now: number): number {
	const backoff = Math.min(5 * 60_000, 5_000 * 2 ** Math.max(0, entry.attempts - 1));
	if (entry.expectedAt !== undefined && entry.expectedAt > now) return Math.max(backoff, Math.min(entry.expectedAt - now, 60 * 60_000));
	return backoff;
}
