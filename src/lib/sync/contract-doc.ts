/**
 * One contract as a Yjs document: `doc.getMap('events')` maps event id → envelope string. Updates
 * from storage or peers flow into the grow-only ContractLog, which verifies and folds them; the
 * derived state is published to subscribers. Content addressing makes a duplicate arrival one entry.
 *
 * A peer can delete or overwrite map entries (a CRDT lets anyone holding the doc write anything).
 * The log never forgets a verified event, and this class writes it back, so a hostile peer can
 * neither take an event away from this device nor corrupt what it stores.
 *
 * Once the document has been idle for a moment, the log builds the fold snapshot its open skipped
 * (see `ContractLog.prepareSnapshots`). With a checkpoint store attached to the document
 * (checkpoint.ts), the log starts from the checkpoint it was loaded with, if that one is good, so
 * only what is new is verified and folded, and idle time writes a new one when anything was folded
 * since the last.
 */
import * as Y from 'yjs';
import { ContractLog, type DerivedContract } from '../contract/log';
import { authenticate } from '../identity/authenticate';
import { verifyMany } from '../identity/ed25519';
import { CheckpointUnsupported, checkpointStoreOf, encodeCheckpoint, type CheckpointStore } from './checkpoint';
import type { ContractStore } from './contract-store';
import type { SignedEvent } from '../identity/sign-event';

/**
 * Rounds of verification one refresh takes in before it folds and tells its listeners, and rounds of
 * signature checks in each (an honest log needs one; a forged signature one more per envelope tried).
 * Bounded, so a peer that writes whenever this device verifies cannot keep the page from what is folded.
 */
const REFRESH_ROUNDS = 4;
const VERIFY_ROUNDS = 8;

/** Quiet time before the idle work (snapshot, checkpoint): after a burst of changes, not during it. */
const IDLE_MS = 1500;

/**
 * Whether to write a new checkpoint now, `folded` events in and `checkpointed` in the last one, `age`
 * ms after this document last wrote one. Encoding one costs the main thread about 10–20 ms per 1,000
 * events (tests/bench, `checkpointEncodeMs`), while a reopen verifies and folds a few new events in
 * well under that: so a big contract rewrites it once a twentieth more is folded, or a minute after the
 * last write, not after every message.
 */
export function checkpointWorthIt(folded: number, checkpointed: number, age: number): boolean {
	const fresh = folded - checkpointed;
	if (fresh <= 0) return false;
	return checkpointed === 0 || fresh * 20 >= checkpointed || age >= 60_000;
}

export type Listener = (derived: DerivedContract) => void;

/** Transaction origin of this device's own writes (`write`): local, so peers and relays take them on. */
export const LOCAL_WRITE = Symbol('local write');

export class ContractDoc implements ContractStore {
	readonly events: Y.Map<string>;
	readonly log: ContractLog;
	derived: DerivedContract;
	private readonly listeners = new Set<Listener>();
	private refreshing: Promise<void> | null = null;
	private dirty = false;
	/** Ids a peer overwrote or deleted in the map: written back with the log's envelope after the next verification. */
	private readonly overwritten = new Set<string>();
	private readonly store: CheckpointStore | undefined;
	/** Events folded when the last checkpoint was written (or restored). */
	private checkpointed = 0;
	/** When this document last wrote one (0: never). */
	private checkpointedAt = 0;
	private idle: ReturnType<typeof setTimeout> | undefined;
	/** How many events the open took from a checkpoint instead of verifying and folding them. */
	readonly restored: number = 0;

	constructor(
		readonly contract: string,
		readonly doc: Y.Doc = new Y.Doc()
	) {
		this.log = new ContractLog(contract);
		this.store = checkpointStoreOf(doc);
		const cp = this.store?.loaded;
		if (this.store) this.store.loaded = null;
		if (cp) {
			try {
				this.log.restoreCheckpoint(cp);
				this.restored = this.checkpointed = cp.events.length;
				this.checkpointedAt = Date.now();
				performance.mark?.('sync:checkpoint-restored', { detail: { contract, events: this.restored } });
			} catch {
				// Not well formed: verify and fold everything, as on a first open.
				this.log = new ContractLog(contract);
			}
		}
		this.events = doc.getMap<string>('events');
		this.events.forEach((envelope, id) => this.log.add(id, envelope));
		this.derived = this.log.derive();
		this.events.observe((e) => this.take(e.keysChanged));
		void this.refresh();
	}

	/**
	 * Where a Party writes (contract-store.ts): one transaction into the shared map, and the observer
	 * takes the events into the log like any peer's, so each is verified and folded once. Resolves
	 * once they are; a peer overwriting them meanwhile changes nothing (`take` writes them back).
	 */
	write(events: readonly SignedEvent[]): Promise<DerivedContract> {
		this.put(events.map((e): [string, string] => [e.id, e.envelope]), LOCAL_WRITE);
		return this.settled();
	}

	/** Events from elsewhere into the document (marked as the document's own, like a restore: not queued for relays as this device's writes). */
	receive(entries: Iterable<[string, string]>): Promise<DerivedContract> {
		this.put([...entries], this);
		return this.settled();
	}

	private put(entries: [string, string][], origin: unknown): void {
		const fresh = entries.filter(([id, envelope]) => this.events.get(id) !== envelope);
		if (fresh.length) this.doc.transact(() => fresh.forEach(([id, envelope]) => this.events.set(id, envelope)), origin);
	}

	subscribe(fn: Listener): () => void {
		this.listeners.add(fn);
		fn(this.derived);
		return () => this.listeners.delete(fn);
	}

	/** Resolves once every change seen so far is verified and folded. */
	async settled(): Promise<DerivedContract> {
		while (this.refreshing) await this.refreshing;
		return this.derived;
	}

	private take(keys: Set<string>): void {
		for (const id of keys) {
			const value = this.events.get(id);
			// Every value goes to the log, which keeps a decoded event over junk and a second signature
			// for the same body until one verifies (log.ts). Restoring what the log held first without
			// asking it would let a forged copy that came first keep the real envelope out for good.
			if (value !== undefined) this.log.add(id, value);
			const kept = this.log.envelope(id);
			if (kept !== undefined && value !== kept) this.overwritten.add(id);
		}
		void this.refresh();
	}

	/** Write back, over what a peer overwrote or deleted, the envelope the log keeps once verified. */
	private restoreOverwritten(): void {
		if (!this.overwritten.size) return;
		const restore: [string, string][] = [];
		for (const id of this.overwritten) {
			const kept = this.log.envelope(id);
			if (kept !== undefined && this.events.get(id) !== kept) restore.push([id, kept]);
		}
		this.overwritten.clear();
		if (restore.length) this.doc.transact(() => restore.forEach(([id, env]) => this.events.set(id, env)), this);
	}

	private refresh(): Promise<void> {
		if (this.refreshing) {
			this.dirty = true;
			return this.refreshing;
		}
		this.refreshing = (async () => {
			for (let round = 1; ; round++) {
				this.dirty = false;
				let rounds = 0;
				await authenticate(this.log, (items) => (rounds++, verifyMany(items)), VERIFY_ROUNDS);
				// It may have stopped with checks left (a peer writing as fast as this device verifies): go on after this.
				if (rounds >= VERIFY_ROUNDS) this.dirty = true;
				// More arrived meanwhile (a catch-up's next batch): verify it too, then fold once; each
				// fold of a batch costs a pass. But only for a few rounds: a peer that writes whenever
				// this device verifies must not keep it from folding and telling the page.
				const last = round >= REFRESH_ROUNDS;
				if (this.dirty && !last) continue;
				this.derived = this.log.derive();
				// After verifying, so the envelope written back is the one that verified.
				this.restoreOverwritten();
				if (!this.dirty || last) break;
			}
			this.refreshing = null;
			for (const fn of this.listeners) fn(this.derived);
			// Still more: go on once the page has what is folded so far.
			if (this.dirty) void this.refresh();
			else this.whenIdle();
		})();
		return this.refreshing;
	}

	private whenIdle(): void {
		clearTimeout(this.idle);
		this.idle = setTimeout(() => void this.idleWork(), IDLE_MS);
		(this.idle as { unref?: () => void }).unref?.();
	}

	/** The snapshot the open skipped, and a checkpoint if anything was folded since the last one. */
	private async idleWork(): Promise<void> {
		if (this.refreshing) return;
		this.log.prepareSnapshots();
		const folded = this.log.folded;
		if (!this.store || !checkpointWorthIt(folded, this.checkpointed, Date.now() - this.checkpointedAt)) return;
		try {
			// Encoded synchronously (the state is live), then hashed and written.
			const stored = await encodeCheckpoint(this.log.checkpoint(), this.store.rules, this.events);
			await this.store.save(stored);
			this.checkpointed = folded;
			this.checkpointedAt = Date.now();
		} catch (e) {
			// A state the encoding does not support, an envelope not written back yet, or storage failing: the next open verifies everything.
			if (!(e instanceof CheckpointUnsupported)) console.warn('Could not write the contract checkpoint:', e);
		}
	}
}
