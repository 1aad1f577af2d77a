/**
 * What every operation of the escrow function starts from: its dependencies, the contract loaded
 * with the provider's own RECORD merged into the log the requester sent (so leaving a recorded
 * event out changes nothing), the binding check, one operation per milestone at a time, and how
 * an amount is drawn from the milestone's charges (releases and refunds may span several charges).
 */
import type Stripe from 'stripe';
import { decodeEnvelope } from '../../lib/contract/envelope';
import { ContractLog } from '../../lib/contract/log';
import type { ContractState, Intent } from '../../lib/contract/state';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { clockRefusal, isClockJudged, loadContract, signReceipt } from '../../lib/escrow/provider-core';
import { noRecordRefusal } from '../failures';
import { bindingMismatch, bindingOf, causalPast } from '../../lib/escrow/record';
import type { DeviceKey } from '../../lib/identity/ed25519';
import type { CurrencyCode } from '../../lib/money/currency';
import { remainingOn, type EscrowCharge, type MilestoneBooks } from '../books';
import { KeyedQueue, RECEIPT_ROOM, type AccountStore, type ContractRecord, type InFlight, type RecordStore } from '../store';

export interface EscrowDeps {
	stripe: Stripe;
	key: DeviceKey;
	/** The function's clock: the provider time receipts carry and deadlines are judged on. */
	now: () => number;
	/**
	 * The provider's record of each contract. Without one (the Deno entry) nothing is recorded and
	 * the clock-judged operations (auto-release, refund of an unanswered request) are refused.
	 */
	records?: RecordStore;
	/** Party key → connected account, and onboarding rate limits. */
	accounts: AccountStore;
	/** Where failures are reported; gets codes and paths only, never bodies or secrets. */
	log?: (line: string) => void;
}

export interface Opened {
	/** The fold of the provider's record ∪ the sent log. */
	s: ContractState;
	log: ContractLog;
	/**
	 * The new receipt's prev as the request found it: with a record, the latest receipt in it (the
	 * receipt is linked again to the record's tip when it is recorded); without one (Deno), the
	 * latest the requester holds.
	 */
	prev: string | null;
	rec?: ContractRecord;
	/** Ids the record already holds. */
	recorded: Set<string>;
	/** The queue this operation runs in: `m:<milestone>`, or '*' for contract-wide ones. */
	lane: string;
}

/** Per-isolate queues when there is no store (Deno): serialises within one isolate only. */
const isolateQueues = new WeakMap<EscrowDeps, KeyedQueue>();

/**
 * Load the contract and run `fn` in its milestone's queue: the record is read, the fold made and
 * every check and Stripe call done while no other operation on the same milestone runs.
 */
export async function withContract<T>(d: EscrowDeps, body: EscrowRequestBody, fn: (o: Opened) => Promise<T>): Promise<T> {
	const lane = laneOf(body);
	const rec = d.records ? await d.records.open(body.contract) : undefined;
	// Retention, checked on access: an expired record is forgotten while nothing else runs on it.
	const expiresAt = await rec?.expiresAt();
	if (rec && expiresAt !== undefined && d.now() >= expiresAt) await rec.exclusive('*', () => rec.expire(d.now()));
	const run = async () => fn(await load(d, body, rec, lane));
	if (rec) return rec.exclusive(lane, run);
	let q = isolateQueues.get(d);
	if (!q) isolateQueues.set(d, (q = new KeyedQueue()));
	return q.run(`${body.contract}|${lane}`, run);
}

async function load(d: EscrowDeps, body: EscrowRequestBody, rec: ContractRecord | undefined, lane: string): Promise<Opened> {
	const recordedEnvelopes = rec ? await rec.envelopes() : [];
	const log = new ContractLog(body.contract);
	// With the function's clock: nothing a revoked or expired device signed is acted on (devices.ts).
	const { s, held } = await loadContract(log, { contract: body.contract, log: body.log, event: body.event }, d.key.publicKey, recordedEnvelopes, d.now());
	const recorded = rec ? await rec.ids() : new Set<string>();
	if (rec) {
		const bound = await rec.binding();
		const folded = bindingOf(s);
		const differs = bound && folded && bindingMismatch(bound, folded);
		if (differs) throw new EscrowError('not-authorised', `The provider's record binds this contract to another ${differs}; it refuses this request.`);
	}
	return { s, log, prev: log.lastOf(d.key.publicKey, rec ? undefined : held), rec, recorded, lane };
}

/**
 * The queue an event's operation runs in, from the event itself (its id is the hash of its body, so
 * the milestone it names is the one the fold will use): `m:<milestone>` for anything about one
 * milestone (a refund answer through its request), '*' otherwise.
 */
export function laneOf(body: EscrowRequestBody): string {
	const payload = (id: string): Record<string, unknown> | undefined => {
		const prefix = `{"id":${JSON.stringify(id)}`;
		for (const env of body.log) {
			if (!env.startsWith(prefix)) continue;
			const d = decodeEnvelope(id, env, body.contract);
			if (d.ok) return d.body.payload as Record<string, unknown>;
		}
		return undefined;
	};
	const p = payload(body.event);
	if (typeof p?.milestone === 'string') return `m:${p.milestone}`;
	if (typeof p?.request === 'string') {
		const r = payload(p.request);
		if (typeof r?.milestone === 'string') return `m:${r.milestone}`;
	}
	return '*';
}

/**
 * The record's binding: written by the countersign being recorded (`countersign`) or by the first
 * money operation; once written, anything that folds to other values is refused.
 */
export async function bindIfNeeded(o: Opened, countersign?: string): Promise<void> {
	if (!o.rec) return;
	const folded = bindingOf(o.s, countersign);
	const bound = await o.rec.binding();
	const differs = bound && folded && bindingMismatch(bound, folded);
	if (differs) throw new EscrowError('not-authorised', `The provider's record binds this contract to another ${differs}; it refuses this request.`);
	if (!bound && folded) await o.rec.bind(folded);
}

/** Refuse, before anything is executed, an operation whose event and receipt the record has no room for. */
export async function assertRoom(o: Opened, event: string): Promise<void> {
	if (o.rec) await o.rec.assertRoom(causalPast(o.log, o.prev ? [event, o.prev] : [event], o.recorded), RECEIPT_ROOM);
}

/** The receipt the record holds for this intent or event: a retry gets the very same one. */
export async function recordedReceipt(o: Opened, event: string): Promise<Receipt | undefined> {
	return o.rec?.receiptFor(event);
}

/**
 * Record the event, its causal past and the receipt that answers it, the receipt linked to the one
 * the provider signed just before for this contract: one linear chain per contract, so two receipts
 * on one prev are the provider equivocating (equivocation.ts), never two operations that overlapped.
 */
export async function record(d: EscrowDeps, o: Opened, event: string, receipt: Receipt): Promise<Receipt> {
	if (!o.rec) return receipt;
	const linked = await o.rec.appendReceipt(d.now(), event, (tip) => {
		const r = linkedTo(d, receipt, tip ?? o.prev);
		o.log.add(r.id, r.envelope);
		return { receipt: r, entries: causalPast(o.log, [event, r.id], o.recorded) };
	});
	for (const [id] of causalPast(o.log, [event, linked.id], o.recorded)) o.recorded.add(id);
	return linked;
}

/** The receipt signed again on `prev` when it names another one (same time, answer and payload). */
function linkedTo(d: EscrowDeps, receipt: Receipt, prev: string | null): Receipt {
	const body = JSON.parse((JSON.parse(receipt.envelope) as { body: string }).body) as ReceiptBody;
	if (body.prev === prev) return receipt;
	return signReceipt(d.key, { contract: body.contract, prev, dep: body.deps[0]!, at: body.at, type: body.type, payload: body.payload });
}

type ReceiptBody = { contract: string; prev: string | null; deps: string[]; at: number; type: Parameters<typeof signReceipt>[1]['type']; payload: never };

/**
 * Run a Stripe call with an "in flight" row around it. If the function dies in between, the row
 * stays: the next operation on the milestone finds it and re-reads the books before anything else.
 * A Stripe error with an unknown outcome (timeout, connection) leaves the row for the same reason.
 */
export async function inFlight<T>(o: Opened, row: InFlight, fn: () => Promise<T>): Promise<T> {
	if (!o.rec) return fn();
	await o.rec.setInFlight(o.lane, row);
	let known = true;
	try {
		return await fn();
	} catch (e) {
		const type = (e as { type?: unknown }).type;
		known = type !== 'StripeConnectionError' && type !== 'StripeAPIError';
		throw e;
	} finally {
		if (known) await o.rec.setInFlight(o.lane, undefined);
	}
}

/** A row left by an operation that never finished: hand it to `repair` (which re-reads the books), then clear it. */
export async function recoverInFlight(d: EscrowDeps, o: Opened, repair: (row: InFlight) => Promise<void>): Promise<void> {
	const row = await o.rec?.inFlight(o.lane);
	if (!row) return;
	d.log?.(`recovering an interrupted ${row.op}`);
	await repair(row);
	await o.rec!.setInFlight(o.lane, undefined);
}

/**
 * A clock-judged intent (auto-release, unanswered refund) is judged on the record and the function's
 * clock; a deployment with no record refuses it rather than judge it from the log a party sent.
 */
export function judgeClock(d: EscrowDeps, o: Opened, intent: Intent): void {
	if (!isClockJudged(intent)) return;
	if (!o.rec) throw noRecordRefusal();
	clockRefusal(o.s, intent, d.now());
}

export const lower = (c: CurrencyCode): string => c.toLowerCase();

/** The intent as the fold knows it, settled or not: a retry of a settled intent still gets its receipt. */
export function knownIntent(s: ContractState, id: string, types: readonly Intent['type'][]): Intent | undefined {
	const i = s.intents.get(id);
	return i && types.includes(i.type) ? i : undefined;
}

export interface Part {
	charge: EscrowCharge;
	amount: number;
}

/**
 * Split `amount` across the charges that still hold money, richest first. `holder` names what the
 * books are of, for the refusal: a milestone's, or the contract's hourly pool.
 */
export function draw(books: MilestoneBooks, amount: number, holder = 'this milestone'): Part[] {
	const parts: Part[] = [];
	let left = amount;
	const byRemaining = [...books.charges].sort((a, b) => remainingOn(books, b) - remainingOn(books, a));
	for (const c of byRemaining) {
		const take = Math.min(remainingOn(books, c), left);
		if (take <= 0) break;
		parts.push({ charge: c, amount: take });
		left -= take;
	}
	if (left > 0) throw new EscrowError('over-release', `Stripe holds less for ${holder} than the intent asks for.`);
	return parts;
}

export const partKey = (intent: string, i: number): string => (i === 0 ? intent : `${intent}:${i}`);
