/**
 * One device acting on one contract: it composes an event on top of what it has, asks the rules
 * whether the event is allowed *before* writing anything, signs it, and appends it. Money-moving
 * intents go to the escrow provider first; only when the provider answers with a receipt are the
 * intent and its receipt written together. A refusal writes nothing: the contract stays exactly as
 * it was and the error says why.
 *
 * Between signing and the receipt, the intent lives in this device's outbox (outbox.ts), stored
 * before the provider hears of it. A call that ends without an answer (timeout, outage, a bank debit
 * still processing) keeps it there, and it is asked about again — with the same intent id, the
 * provider's idempotency key — until the receipt is in hand (`resume`, which the app runs when it
 * opens a contract). So a device that dies after the provider moved money still writes the receipt,
 * and asking again never moves the money twice.
 *
 * Everything it signs goes through its contract store (contract-store.ts: the contract's document in
 * the app), the one place it writes: the store verifies and folds the events once, by the path a
 * peer's events take. The outbox is device-local and never part of that document.
 */
import { compose } from '../contract/compose';
import { toBase64url, utf8 } from '../contract/encoding';
import { recordRequestMessage } from '../escrow/protocol';
import { sign } from '../identity/ed25519';
import { encodeBody, idOf, withDerivedContract, type Draft } from '../contract/envelope';
import { check } from '../contract/fold';
import { ContractLog, type DerivedContract } from '../contract/log';
import { needsRecord, unrecordedOf } from '../contract/record';
import { reasonOf, reject, type Rejection } from '../contract/rejections';
import { longestTextPath, sizeRefusal } from '../contract/size';
import { PAYLOADS, type EventType, type Payload } from '../contract/schema';
import type { Ev } from '../contract/state';
import { EscrowError, isTransient, type EscrowAdapter, type EscrowErrorCode, type Receipt } from '../escrow/adapter';
import { authenticate } from '../identity/authenticate';
import type { DeviceKey } from '../identity/ed25519';
import { signEvent, type SignedEvent } from '../identity/sign-event';
import { readCertificate, type CertificateInfo } from '../identity/certificate';
import type { ContractStore } from './contract-store';
import { MemoryContract } from './memory-contract';
import { MemoryOutboxStorage, Outbox, executedElsewhere, type OutboxEntry, type OutboxStorage, type ProviderCall } from './outbox';
import { fieldErrors, type FieldContext, type SchemaIssue } from '../ui/field-errors';

export class ActionRefused extends Error {
	readonly rejection: Rejection;
	/** Field path → message, when the payload failed its schema: what a form shows next to each field. */
	readonly fields: Record<string, string>;
	constructor(rejection: Rejection, fields: Record<string, string> = {}) {
		super(rejection.message);
		this.name = 'ActionRefused';
		this.rejection = rejection;
		this.fields = fields;
	}
}

/**
 * The provider has not answered with a receipt yet — a timeout, an outage, or a bank debit still
 * processing. The money may already have moved: the signed intent stays in this device's outbox and
 * is asked about again with the same id, so it is never executed twice. Nothing is written yet.
 */
export class PendingIntent extends EscrowError {
	/** The intent's id (the provider's idempotency key). */
	readonly intent: string;
	constructor(entry: OutboxEntry, cause: { code: EscrowErrorCode; message: string; expectedAt?: number }) {
		super(cause.code, cause.message, { expectedAt: cause.expectedAt });
		this.name = 'PendingIntent';
		this.intent = entry.id;
	}
}

/** What `resume` did with each pending intent. */
export interface Resumed {
	settled: { intent: SignedEvent; receipt: Receipt }[];
	/** Still waiting for the provider. */
	pending: PendingIntent[];
	/** Refused for good by the provider: removed, nothing written. */
	refused: { entry: OutboxEntry; error: EscrowError }[];
}

/** How `Party.propose` makes the store for the contract its proposal creates (in memory by default). */
export interface ProposeOptions {
	clock?: () => number;
	/** Propose for the identity that certified this device. */
	certificate?: CertificateInfo;
	store?: (contract: string) => ContractStore;
}

const CALL_FOR: Partial<Record<EventType, ProviderCall>> = {
	'milestone.fund': 'fund',
	'milestone.release': 'release',
	'milestone.autoRelease': 'release',
	'milestone.refund': 'refund',
	'withdrawal.requested': 'withdraw',
	'hourly.fund': 'fund',
	'hourly.release': 'release',
	'hourly.reclaim': 'refund',
	'bonus.paid': 'fund',
	// A dispute's settlement or ruling: a release of part with a refund of the rest (contract/dispute.ts).
	'dispute.accept': 'release',
	'dispute.acceptMidpoint': 'release',
	'dispute.settle': 'release',
	'dispute.rule': 'release'
};

/** What one pending money action is about, for "one at a time": a milestone, an hourly week, or a bonus. */
function subjectOf(type: EventType, payload: unknown): string | undefined {
	const p = payload as { milestone?: string; week?: string };
	if (p.milestone !== undefined) return p.milestone;
	if (p.week !== undefined) return `week:${p.week}`;
	return type === 'bonus.paid' ? 'bonus' : undefined;
}

/** Every field's issue in words (ui/field-errors.ts), so any form can show them next to its fields. */
function refusedBySchema(error: { issues: SchemaIssue[] }, ctx: FieldContext): ActionRefused {
	const fields = fieldErrors(error.issues, ctx);
	return new ActionRefused(reject('bad-schema', Object.values(fields)[0] ?? ''), fields);
}

export class Party {
	/** Money intents signed here and not yet written with their receipt (device-local, never shared). */
	readonly outbox: Outbox;
	/** Provider calls under way, by intent id: a second request for the same intent joins the first. */
	private readonly inFlight = new Map<string, Promise<{ intent: SignedEvent; receipt: Receipt }>>();
	/** The certificate this device acts under (contract/devices.ts); absent: its key is its own identity. */
	private certificate?: CertificateInfo;

	constructor(
		readonly key: DeviceKey,
		/** The one place this device writes the contract: its document in the app (contract-store.ts). */
		readonly store: ContractStore,
		readonly escrow: EscrowAdapter,
		private readonly clock: () => number = () => Date.now(),
		/** Device-local storage for the outbox: IndexedDB in the app; in memory by default (tests). */
		outboxStorage: OutboxStorage = new MemoryOutboxStorage()
	) {
		this.outbox = new Outbox(outboxStorage, store.contract);
	}

	/** The store's log, to read (what this device composes on and asks the rules about). */
	get log(): ContractLog {
		return this.store.log;
	}

	/**
	 * Propose a new contract. Its id is the hash of this proposal (contract/envelope.ts), so the log
	 * and the Party are made here, around the signed proposal; a fresh random nonce makes the id new.
	 * With `certificate`, this device proposes for the identity that certified it.
	 */
	static async propose(
		key: DeviceKey,
		escrow: EscrowAdapter,
		payload: Omit<Payload<'contract.proposed'>, 'nonce'>,
		{ clock = () => Date.now(), certificate, store = (c) => new MemoryContract(c) }: ProposeOptions = {}
	): Promise<{ party: Party; proposal: SignedEvent }> {
		const proposal = await Party.signProposal(key, payload, clock(), certificate);
		const party = new Party(key, store(proposal.contract), escrow, clock);
		if (certificate) await party.actAs(certificate);
		await party.write([proposal]);
		return { party, proposal };
	}

	/** The signed proposal alone, with the id of the contract it creates (for callers that make their own log). */
	static async signProposal(
		key: DeviceKey,
		payload: Omit<Payload<'contract.proposed'>, 'nonce'>,
		at: number,
		certificate?: CertificateInfo
	): Promise<SignedEvent & { contract: string }> {
		const parsed = PAYLOADS['contract.proposed'].safeParse({ ...payload, nonce: toBase64url(crypto.getRandomValues(new Uint8Array(16))) });
		if (!parsed.success) throw refusedBySchema(parsed.error, { type: 'contract.proposed', currency: payload.terms?.currency });
		// A certified device's proposal names its certificate: the one dep a proposal may have.
		const deps = certificate ? [readCertificate(certificate.envelope, key.publicKey).id] : [];
		const draft = withDerivedContract<Draft>({ contract: '', author: key.publicKey, prev: null, deps, at, type: 'contract.proposed', payload: parsed.data });
		const before = new ContractLog(draft.contract);
		if (certificate) {
			before.add(certificate.id, certificate.envelope);
			await authenticate(before);
		}
		const rejection = check(before.derive().state, { ...draft, id: encodeBody(draft).id } as unknown as Ev);
		if (rejection) throw new ActionRefused(rejection);
		return { ...(await signWithinLimit(key, draft)), contract: draft.contract };
	}

	/**
	 * Act as a certified device of an identity (contract/devices.ts): the certificate goes into this
	 * contract's log (and out to the peers), and every event this device signs names it in `deps`.
	 * Throws CertificateError if it is not a certificate of this device's key signed by its identity.
	 */
	async actAs(certificate: CertificateInfo | string): Promise<this> {
		this.certificate = readCertificate(typeof certificate === 'string' ? certificate : certificate.envelope, this.key.publicKey);
		if (!this.log.has(this.certificate.id)) await this.write([this.certificate]);
		return this;
	}

	/** The identity this device acts for: its certificate's, or its own key's. */
	get identity(): string {
		return this.certificate?.identity ?? this.key.publicKey;
	}

	/**
	 * The proposer binds the counterparty: countersign the acceptance it saw, then have the provider
	 * record it (only a recorded countersign makes the contract active). If the provider cannot be
	 * reached the countersign stays written and `recordPending()` retries.
	 */
	async countersign(acceptance: string): Promise<{ countersign: SignedEvent; recorded: boolean }> {
		// A second countersign would be equivocation: this device never writes one.
		if (this.log.derive().state.countersigns.size) throw new ActionRefused(reject('invalid-state', 'You have already countersigned an acceptance.'));
		const countersign = await this.act('contract.countersigned', { acceptance });
		return { countersign, recorded: this.log.derive().state.recorded.has(countersign.id) };
	}

	/**
	 * Have the provider record every event of this device's author that must be recorded to count
	 * (record.ts): what an app does when it opens, and after writing such an event. Returns how many
	 * are still unrecorded (the provider could not be reached, or refused).
	 */
	async recordPending(): Promise<number> {
		let left = 0;
		for (const id of unrecordedOf(this.log.derive().state, this.identity)) {
			await this.attest(id).catch(() => left++);
		}
		return left;
	}

	/**
	 * Take in the provider's record of this contract: an event the other party recorded with the
	 * provider but never shared (a submission, a change request, an answer) reaches this side here,
	 * and goes out to the peers through the store. Returns how many events were new.
	 */
	async fetchRecord(): Promise<number> {
		const s = this.log.derive().state;
		// Signed by this device's key: the provider maps a certified device to its identity.
		const me = this.key.publicKey;
		if (!this.escrow.record || !s.binding || (s.parties.client !== this.identity && s.parties.freelancer !== this.identity)) return 0;
		const at = this.clock();
		const nonce = toBase64url(crypto.getRandomValues(new Uint8Array(16)));
		const signature = await sign(this.key, utf8.encode(recordRequestMessage(this.log.contract, me, at, nonce)));
		const certificate = this.certificate?.envelope;
		const envelopes = await this.escrow.record({ contract: this.log.contract, publicKey: me, at, nonce, signature, ...(certificate ? { certificate } : {}) });
		const fresh: SignedEvent[] = [];
		for (const envelope of envelopes) {
			const id = idOf(envelope);
			if (id && !this.log.has(id)) fresh.push({ id, envelope });
		}
		if (fresh.length) await this.write(fresh);
		return fresh.length;
	}

	/**
	 * What the app does when it opens a contract or comes back online: have the provider record what
	 * this device wrote and it has not recorded yet, then take in the provider's record. Best effort:
	 * an unreachable provider leaves both for the next time.
	 */
	async catchUp(): Promise<void> {
		await this.recordPending();
		await this.fetchRecord().catch(() => 0);
	}

	/** Write events this device signed before the log existed (a proposal from `signProposal`). */
	publish(events: SignedEvent[]): Promise<DerivedContract> {
		return this.write(events);
	}

	derived(): DerivedContract {
		return this.log.derive();
	}

	/** Take events from elsewhere (a peer, storage) into the store, which verifies and folds them. */
	receive(entries: Iterable<[string, string]>): Promise<DerivedContract> {
		return this.store.receive(entries);
	}

	/** This device's clock: what the events it signs are dated with, unless a call names its own time. */
	now(): number {
		return this.clock();
	}

	/** Would this action be accepted right now (or dated `at`)? What a page asks before it shows a button. */
	ask<T extends EventType>(type: T, payload: Payload<T>, at?: number): ActionRefused | null {
		return this.draft(type, payload, at).refused;
	}

	/**
	 * Sign and write a non-money event (message, proposal, submission…), dated now by this device's
	 * clock or at `at` (an hourly segment in TEST MODE is dated on the contract's test clock). Throws ActionRefused.
	 */
	async act<T extends EventType>(type: T, payload: Payload<T>, at?: number): Promise<SignedEvent> {
		if (CALL_FOR[type]) throw new Error(`${type} moves money: use settle().`);
		if (type === 'contract.proposed') throw new Error('A proposal creates its contract: use Party.propose().');
		const signed = await this.prepare(type, payload, at);
		await this.write([signed]);
		// An event that starts or stops a money clock counts once the provider recorded it (record.ts).
		// Unreachable now, it stays written and `recordPending()` asks again when the app opens.
		if (needsRecord(this.log.derive().state, signed.id)) await this.attest(signed.id).catch(() => {});
		return signed;
	}

	/**
	 * Sign a money intent, store it in the outbox, have the provider execute it, then write intent and
	 * receipt together and clear the outbox entry. Throws ActionRefused (the rules said no, or the same
	 * action is already pending with other details) or EscrowError (the provider said no); nothing is
	 * written then. Throws PendingIntent when the provider has not answered with a receipt yet: the
	 * intent stays in the outbox for `resume`. Asking for the very action that is pending asks the
	 * provider about that intent again instead of signing a second one.
	 */
	async settle<T extends EventType>(type: T, payload: Payload<T>, at?: number): Promise<{ intent: SignedEvent; receipt: Receipt }> {
		const call = CALL_FOR[type];
		if (!call) throw new Error(`${type} is not a money intent.`);
		await this.outbox.load();
		const subject = subjectOf(type, payload);
		const same = this.samePending(call, subject, type, payload);
		if (same) return this.attempt(same);
		// Dated `at` when given (weekly funding is worked out on the provider's clock), else now.
		const intent = await this.prepare(type, payload, at);
		// Checked again after signing (which awaits): a second click meanwhile sees the first entry.
		const again = this.samePending(call, subject, type, payload);
		if (again) return this.attempt(again);
		const entry: OutboxEntry = {
			id: intent.id,
			contract: this.log.contract,
			call,
			type,
			...(subject !== undefined ? { milestone: subject } : {}),
			envelope: intent.envelope,
			payload: { ...(payload as Record<string, unknown>) },
			createdAt: this.clock(),
			attempts: 0
		};
		// Durable before the provider hears of it: if storage fails, nothing is sent.
		await this.outbox.put(entry);
		return this.attempt(entry, true);
	}

	/** The money intents this device signed and is still waiting on, for the page to show. */
	pending(): OutboxEntry[] {
		return this.outbox.entries();
	}

	/**
	 * Ask the provider again about every pending intent of this contract (the app calls this when it
	 * opens the contract, and on a timer while anything is pending). Never throws for one intent: the
	 * result says what was settled, what still waits and what the provider refused.
	 */
	async resume(): Promise<Resumed> {
		await this.outbox.load();
		const out: Resumed = { settled: [], pending: [], refused: [] };
		// Receipts already in hand are written first, oldest intent first: what the provider is asked
		// next then chains to them, as it would have without the interruption.
		const held = (e: OutboxEntry) => (e.receipt || this.receiptInLog(e.id) ? 0 : 1);
		const order = this.outbox.entries().sort((x, y) => held(x) - held(y) || x.createdAt - y.createdAt);
		for (const entry of order) {
			try {
				out.settled.push(await this.attempt(entry));
			} catch (e) {
				if (e instanceof PendingIntent) out.pending.push(e);
				else if (e instanceof EscrowError) out.refused.push({ entry, error: e });
				else out.refused.push({ entry, error: new EscrowError('invalid-request', e instanceof Error ? e.message : String(e)) });
			}
		}
		return out;
	}

	/** Ask the provider to timestamp a submission or refund request, and write its receipt. */
	async attest(event: string): Promise<Receipt> {
		// Only the event's authentic causal past: junk a peer wrote into the map never reaches the provider.
		const log = this.log.causalPast(event);
		const receipt = await this.escrow.attest({ contract: this.log.contract, log, event });
		await this.write([receipt]);
		await this.linkReceipt(receipt);
		return receipt;
	}

	/**
	 * The pending entry for the same action (same kind of call on the same milestone, or a withdrawal):
	 * returned when it is this very request; otherwise signing another is refused.
	 */
	private samePending(call: ProviderCall, milestone: string | undefined, type: EventType, payload: unknown): OutboxEntry | undefined {
		const e = this.outbox.pendingFor(call, milestone);
		if (!e) return undefined;
		if (e.type === type && sameJson(e.payload, payload)) return e;
		throw new ActionRefused(
			reject('invalid-state', 'A payment for this is already waiting for the escrow provider on this device; it is retried until the provider answers.')
		);
	}

	/**
	 * One provider call for a stored entry; a call already under way for it is joined, not repeated.
	 * `fresh`: the entry was stored by this very call, so no earlier call can have reached the provider.
	 */
	private attempt(entry: OutboxEntry, fresh = false): Promise<{ intent: SignedEvent; receipt: Receipt }> {
		let p = this.inFlight.get(entry.id);
		if (!p) {
			p = this.complete(entry, fresh).finally(() => this.inFlight.delete(entry.id));
			this.inFlight.set(entry.id, p);
		}
		return p;
	}

	/**
	 * What the provider is sent for an intent: the intent and its authentic causal past only, so junk
	 * a peer wrote into the shared map never reaches the provider (and cannot make requests too large).
	 */
	private pastOf(entry: OutboxEntry): string[] {
		if (this.log.has(entry.id)) return this.log.causalPast(entry.id);
		const body = JSON.parse((JSON.parse(entry.envelope) as { body: string }).body) as { prev: string | null; deps: string[] };
		return [...this.log.causalPast(...(body.prev ? [body.prev, ...body.deps] : body.deps)), entry.envelope];
	}

	private async complete(stored: OutboxEntry, fresh: boolean): Promise<{ intent: SignedEvent; receipt: Receipt }> {
		// The latest copy: another call may have recorded the receipt or a failure meanwhile.
		const entry = this.outbox.get(stored.id) ?? stored;
		const intent: SignedEvent = { id: entry.id, envelope: entry.envelope };
		let receipt = entry.receipt ?? this.receiptInLog(entry.id);
		await this.droppedIfExecuted(entry, receipt);
		if (!receipt) {
			const log = this.pastOf(entry);
			try {
				receipt = await this.escrow[entry.call]({ contract: this.log.contract, log, event: entry.id, ...(fresh ? {} : { resumed: true }) });
			} catch (e) {
				// A refusal: nothing moved. Forget the intent; the log never saw it.
				if (e instanceof EscrowError && !isTransient(e.code)) {
					await this.outbox.delete(entry.id).catch(() => {});
					throw e;
				}
				// An adapter throws only EscrowError once a request may have reached the provider, so any
				// other error on the first call means it was never sent (say, the card form was incomplete).
				// An entry that was stored earlier may have been sent before the device died: keep it.
				if (!(e instanceof EscrowError) && fresh) {
					await this.outbox.delete(entry.id).catch(() => {});
					throw e;
				}
				const cause =
					e instanceof EscrowError
						? { code: e.code, message: e.message, expectedAt: e.expectedAt }
						: { code: 'unavailable' as const, message: `The escrow provider's answer could not be read (${e instanceof Error ? e.message : String(e)}).` };
				const next: OutboxEntry = {
					...entry,
					attempts: entry.attempts + 1,
					lastError: { code: cause.code, message: cause.message, at: this.clock() }
				};
				if (cause.expectedAt !== undefined) next.expectedAt = cause.expectedAt;
				else delete next.expectedAt;
				// If storage fails here, the entry stays as it was: still pending, which is what matters.
				await this.outbox.put(next).catch(() => {});
				throw new PendingIntent(next, cause);
			}
			// Keep the answer before anything else (best effort: the log write below is the record).
			await this.outbox.put({ ...entry, receipt }).catch(() => {});
			// Another device's request may have been executed meanwhile (two TEST MODE mocks): then this one is not written.
			await this.droppedIfExecuted(entry, undefined);
		}
		await this.write([intent, receipt]);
		await this.linkReceipt(receipt);
		// Should this fail, the next resume finds the receipt in the log and removes the entry then.
		await this.outbox.delete(entry.id).catch(() => {});
		return { intent, receipt };
	}

	/**
	 * The provider links each receipt to the one it signed before for this contract (one chain), which
	 * may be a receipt another device asked for and this one has not seen: then the new receipt waits
	 * for it, and the provider's record, read at once, brings it. Best effort: peers bring it too.
	 */
	private async linkReceipt(receipt: Receipt): Promise<void> {
		if (this.log.derive().waiting.includes(receipt.id)) await this.fetchRecord().catch(() => 0);
	}

	/** Drop an entry whose outcome a receipt for another intent already executed (outbox.ts), and say so. */
	private async droppedIfExecuted(entry: OutboxEntry, own: Receipt | undefined): Promise<void> {
		const note = own ? undefined : executedElsewhere(entry, this.log.derive().state);
		if (!note) return;
		await this.outbox.drop(entry, note, this.clock());
		throw new EscrowError('already-settled', note);
	}

	/** The receipt this device's log already holds for an intent (a write that finished before the device died). */
	private receiptInLog(intent: string): Receipt | undefined {
		const by = this.log.derive().state.intents.get(intent)?.settledBy;
		const envelope = by ? this.log.envelope(by) : undefined;
		return by && envelope ? { id: by, envelope } : undefined;
	}

	/** Compose on top of this device's log and run the same schema and rules every peer will run. */
	private draft<T extends EventType>(type: T, payload: Payload<T>, at = this.clock()): { draft: Draft<T>; refused: ActionRefused | null } {
		const parsed = PAYLOADS[type].safeParse(payload);
		if (!parsed.success) return { draft: undefined as never, refused: refusedBySchema(parsed.error, { type, currency: this.log.derive().state.terms?.currency }) };
		const draft = compose(this.log, this.key.publicKey, type, parsed.data as Payload<T>, at);
		// A certified device names its certificate in every event (contract/devices.ts), and never a
		// certificate someone else wrote for its key (a head like any other, which would make it theirs).
		const cert = this.certificate?.id;
		const certificates = this.log.derive().state.devices.certificates;
		draft.deps = draft.deps.filter((d) => d === cert || certificates.get(d)?.device !== this.key.publicKey);
		if (cert && !draft.deps.includes(cert)) draft.deps.push(cert);
		const { id } = encodeBody(draft);
		const rejection = check(this.log.derive().state, { ...draft, id } as unknown as Ev);
		return { draft, refused: rejection && new ActionRefused(rejection) };
	}

	private async prepare<T extends EventType>(type: T, payload: Payload<T>, at?: number): Promise<SignedEvent> {
		const { draft, refused } = this.draft(type, payload, at);
		if (refused) throw refused;
		return signWithinLimit(this.key, draft);
	}

	/** Write through the store only: it verifies and folds the events once, as it does a peer's. */
	private write(events: SignedEvent[]): Promise<DerivedContract> {
		return this.store.write(events);
	}
}

/**
 * Sign a draft, refused before anything is written if the signed event is over the size limit that
 * every peer (this device included) enforces on intake: a person learns which text to shorten, and no
 * event is written that its own contract would refuse. The limit is on the signed bytes, which the
 * schema's character limits cannot bound (escaping, multi-byte letters, an attached profile).
 */
async function signWithinLimit(key: DeviceKey, draft: Draft): Promise<SignedEvent> {
	const signed = await signEvent(key, draft);
	const tooLarge = sizeRefusal(signed.envelope);
	if (!tooLarge) return signed;
	const field = longestTextPath(draft.payload);
	throw new ActionRefused(tooLarge, field ? { [field]: reasonOf(tooLarge) } : {});
}

/** Equal as JSON values, whatever the key order. */
function sameJson(a: unknown, b: unknown): boolean {
	return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
	if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
	if (v && typeof v === 'object')
		return `{${Object.keys(v)
			.filter((k) => (v as Record<string, unknown>)[k] !== undefined)
			.sort()
			.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
			.join(',')}}`;
	return JSON.stringify(v);
}
