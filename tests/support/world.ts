/**
 * A deterministic test world: fixed keys for client, freelancer and the provider, one contract,
 * and helpers to write signed events (valid or deliberately bad) into a log and derive its state.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { toBase64url, utf8 } from '../../src/lib/contract/encoding';
import { encodeBody, encodeEnvelope, signingBytes, withDerivedContract, type Draft } from '../../src/lib/contract/envelope';
import { ContractLog, type DerivedContract } from '../../src/lib/contract/log';
import { DEFAULT_CLOCKS, DEFAULT_HOURLY, type AttestedKind, type EventType, type FixedPriceTerms, type HourlyTerms, type Payload, type Terms } from '../../src/lib/contract/schema';
import { DAY_MS } from '../../src/lib/contract/state';
import { authenticate } from '../../src/lib/identity/authenticate';
import { EscrowError, type EscrowAdapter } from '../../src/lib/escrow/adapter';
import { disputeMidpoint, openDispute, otherRole, settleDecision } from '../../src/lib/contract/dispute';
import { mediationFee } from '../../src/lib/money/mediation';
import { escrowOf, milestone as milestoneOf, type Dispute } from '../../src/lib/contract/state';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';

export function keyFrom(label: string): DeviceKey {
	const seed = sha256(utf8.encode(label));
	return { seed: toBase64url(seed), publicKey: toBase64url(ed25519.getPublicKey(seed)) };
}

export const CLIENT = keyFrom('client');
export const FREELANCER = keyFrom('freelancer');
export const PROVIDER = keyFrom('provider');
export const STRANGER = keyFrom('stranger');
/** Devices of the client's and the freelancer's identities (CLIENT and FREELANCER are the identity keys). */
export const CLIENT_LAPTOP = keyFrom('client laptop');
export const CLIENT_PHONE = keyFrom('client phone');
export const FREELANCER_PHONE = keyFrom('freelancer phone');
/** A dispute's mediator (dispute.ts): no party, no provider. */
export const MEDIATOR = keyFrom('mediator');
export const T0 = Date.UTC(2026, 10, 2, 9, 0);

export function terms(over: Partial<FixedPriceTerms> = {}): FixedPriceTerms {
	return {
		title: 'Website',
		scope: 'Design and build.',
		currency: 'USD',
		milestones: [
			{ id: 'design', title: 'Design', amount: 100_000 },
			{ id: 'build', title: 'Build', amount: 200_000, revisionCap: 1 }
		],
		provider: { id: 'mock', publicKey: PROVIDER.publicKey, testMode: true },
		...DEFAULT_CLOCKS,
		...over
	};
}

/** Hourly terms: $50.00 an hour, 10 h a week, the marketplace's clocks; `over` changes the hourly rules. */
export function hourlyTerms(over: Partial<HourlyTerms['hourly']> = {}): HourlyTerms {
	const { milestones: _none, kind: _fixed, ...base } = terms();
	return { ...base, kind: 'hourly', milestones: [], hourly: { rate: 5_000, weeklyLimitHours: 10, ...DEFAULT_HOURLY, ...over } };
}

export interface EmitOptions {
	prev?: string | null;
	deps?: string[];
	at?: number;
	/** Sign with this key instead of the author's (a forgery). */
	signWith?: DeviceKey;
	contract?: string;
	/** A device certificate to name in deps (the event's author acts as a device: devices.ts). */
	certificate?: string;
}

/** A proposal payload in tests: the nonce is filled in when left out. */
type PayloadIn<T extends EventType> = T extends 'contract.proposed' ? Omit<Payload<T>, 'nonce'> & { nonce?: string } : Payload<T>;

export class World {
	log: ContractLog;
	/**
	 * Until a proposal is emitted the id is a placeholder; emitting the proposal derives the real id
	 * from it (as the app does) and starts a fresh log under that id.
	 */
	contract: string;
	private nonces = 0;
	constructor(contract = 'c0ntract-id-0000000001') {
		this.contract = contract;
		this.log = new ContractLog(contract);
	}
	now = T0;
	readonly written: [string, string][] = [];

	/** Compose, sign and add one event; returns its id. Receipts get deps = [what they answer]. */
	draft<T extends EventType>(key: DeviceKey, type: T, payload: PayloadIn<T>, o: EmitOptions = {}): Draft {
		const isReceipt = type.startsWith('receipt.');
		if (type === 'device.certified')
			return { contract: o.contract ?? key.publicKey, author: key.publicKey, prev: o.prev ?? null, deps: o.deps ?? [], at: o.at ?? this.now, type, payload };
		if (type === 'contract.proposed') {
			const p = { nonce: `n0nce-${String(++this.nonces).padStart(18, '0')}`, ...(payload as object) };
			const deps = o.deps ?? (o.certificate ? [o.certificate] : []);
			const d: Draft = { contract: '', author: key.publicKey, prev: o.prev ?? null, deps, at: o.at ?? this.now, type, payload: p };
			if (o.contract !== undefined) return { ...d, contract: o.contract };
			const derived = withDerivedContract(d);
			if (this.log.size === 0) {
				this.contract = derived.contract;
				this.log = new ContractLog(derived.contract);
			}
			return derived;
		}
		const deps = o.deps ?? (isReceipt ? [(payload as { intent?: string; event?: string }).intent ?? (payload as { event: string }).event] : this.log.heads());
		return {
			contract: o.contract ?? this.contract,
			author: key.publicKey,
			// The provider's receipts form one linear chain per contract, like every other author's events.
			prev: o.prev !== undefined ? o.prev : this.log.lastOf(key.publicKey),
			deps: o.certificate && !deps.includes(o.certificate) ? [...deps, o.certificate] : deps,
			at: o.at ?? this.now,
			type,
			payload
		};
	}

	envelope(key: DeviceKey, d: Draft, signWith?: DeviceKey): [string, string] {
		const { id, body } = encodeBody(d);
		return [id, encodeEnvelope(id, body, signSync(signWith ?? key, signingBytes(id)))];
	}

	async emit<T extends EventType>(key: DeviceKey, type: T, payload: PayloadIn<T>, o: EmitOptions = {}): Promise<string> {
		const [id, env] = this.envelope(key, this.draft(key, type, payload, o), o.signWith);
		await this.put(id, env);
		return id;
	}

	async put(id: string, envelope: unknown): Promise<DerivedContract> {
		this.log.add(id, envelope);
		if (typeof envelope === 'string') this.written.push([id, envelope]);
		await authenticate(this.log);
		return this.log.derive();
	}

	derived(): DerivedContract {
		return this.log.derive();
	}

	get state() {
		return this.log.derive().state;
	}

	/** The rejection recorded for an event id, if any. */
	rejection(id: string) {
		return this.log.derive().rejected.find((r) => r.id === id);
	}

	advance(days: number): void {
		this.now += days * DAY_MS;
	}

	/** `identity` certifies `device` (a portable certificate, devices.ts) and the log takes it in; returns its id. */
	async certify(identity: DeviceKey, device: DeviceKey, o: { name?: string; expires?: number; created?: number } & EmitOptions = {}): Promise<string> {
		const { name = 'Laptop', expires, created = this.now, ...emit } = o;
		return this.emit(identity, 'device.certified', { device: device.publicKey, name, created, ...(expires !== undefined ? { expires } : {}) }, { at: created, ...emit });
	}

	// —— common steps ——
	/** Proposed by the client, accepted by the freelancer, countersigned, and recorded by the provider. */
	async active(t: Terms = terms()): Promise<{ proposal: string; accept: string; countersign: string }> {
		const proposal = await this.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: t });
		const accept = await this.emit(FREELANCER, 'contract.accepted', { proposal, name: 'Grace' });
		const countersign = await this.emit(CLIENT, 'contract.countersigned', { acceptance: accept });
		await this.emit(PROVIDER, 'receipt.attested', { event: countersign, kind: 'countersign' });
		return { proposal, accept, countersign };
	}

	async fund(milestone: string, amount: number, fee = 0): Promise<{ intent: string; receipt: string }> {
		const intent = await this.emit(CLIENT, 'milestone.fund', { milestone, amount, currency: 'USD', method: 'card' });
		const receipt = await this.emit(PROVIDER, 'receipt.funded', {
			intent,
			milestone,
			amount,
			fee,
			currency: 'USD',
			method: 'card',
			clearsAt: this.now
		});
		return { intent, receipt };
	}

	/** The provider records `event` (receipt.attested) at the world's time. */
	async record(event: string, kind: AttestedKind, o: EmitOptions = {}): Promise<string> {
		return this.emit(PROVIDER, 'receipt.attested', { event, kind }, o);
	}

	async submit(milestone: string, attest = true): Promise<string> {
		const sub = await this.emit(FREELANCER, 'milestone.submitted', { milestone, message: 'Done.', links: ['https://example.com/x'] });
		if (attest) await this.emit(PROVIDER, 'receipt.attested', { event: sub, kind: 'submission' });
		return sub;
	}

	// —— the Resolution Center (dispute.ts): events, and the provider recording them at the world's time ——

	/** Open a dispute on `milestone` and have the provider record it; returns the dispute's id. */
	async openDispute(
		key: DeviceKey,
		o: { milestone: string; amount: number; offer: number; reason?: Payload<'dispute.opened'>['reason']; record?: boolean }
	): Promise<string> {
		const reason = o.reason ?? (key === FREELANCER ? 'client-silent' : 'not-delivered');
		const id = await this.emit(key, 'dispute.opened', { milestone: o.milestone, amount: o.amount, currency: 'USD', reason, details: 'Not what we agreed.', offer: o.offer });
		if (o.record !== false) await this.record(id, 'milestone-dispute');
		return id;
	}

	/** A new offer, recorded by the provider (unless `record` is false); returns the offer's id. */
	async offer(key: DeviceKey, dispute: string, amount: number, record = true): Promise<string> {
		const id = await this.emit(key, 'dispute.offered', { dispute, amount });
		if (record) await this.record(id, 'dispute-offer');
		return id;
	}

	/** Reject the other party's last offer `offer` (naming a final offer when the rejecting party has none), recorded. */
	async rejectOffer(key: DeviceKey, dispute: string, offer: string, final?: number): Promise<string> {
		const id = await this.emit(key, 'dispute.rejected', { dispute, offer, ...(final !== undefined ? { final } : {}) });
		await this.record(id, 'dispute-rejection');
		return id;
	}

	/** Accept `mediator` and its fee rule for the dispute, recorded. */
	async acceptMediator(key: DeviceKey, dispute: string, fee: number, o: { mediator?: DeviceKey; feeBps?: number; name?: string } = {}): Promise<string> {
		const id = await this.emit(key, 'dispute.mediatorAccepted', { dispute, mediator: (o.mediator ?? MEDIATOR).publicKey, name: o.name ?? 'Mo Mediator', feeBps: o.feeBps ?? 500, fee });
		await this.record(id, 'mediator-acceptance');
		return id;
	}

	/** The provider's split for a dispute intent, as the test expects it; returns the receipt id (check `rejection`). */
	async split(intent: string, dispute: string, milestone: string, x: { freelancer: number; client: number; fee?: number; mediator?: string }): Promise<string> {
		return this.emit(PROVIDER, 'receipt.split', { intent, dispute, milestone, freelancer: x.freelancer, client: x.client, fee: x.fee ?? 0, ...(x.mediator ? { mediator: x.mediator } : {}), currency: 'USD' });
	}

	// —— a real provider (the mock) answering at the world's time ——

	/** Have `provider` record `event` (already in the log); its receipt is written. */
	async attestWith(provider: EscrowAdapter, event: string): Promise<{ receipt?: string; refused?: EscrowError }> {
		try {
			const r = await provider.attest({ contract: this.contract, log: this.written.map(([, e]) => e), event });
			await this.put(r.id, r.envelope);
			return { receipt: r.id };
		} catch (e) {
			if (e instanceof EscrowError) return { refused: e };
			throw e;
		}
	}

	/** Sign an intent (kept off the log), have `provider` execute it; intent and receipt are written together. */
	async settleWith<T extends EventType>(
		provider: EscrowAdapter,
		call: 'fund' | 'release' | 'refund' | 'withdraw',
		key: DeviceKey,
		type: T,
		payload: Payload<T>
	): Promise<{ intent: string; receipt?: string; refused?: EscrowError }> {
		const [intent, envelope] = this.envelope(key, this.draft(key, type, payload as never));
		try {
			const r = await provider[call]({ contract: this.contract, log: [...this.written.map(([, e]) => e), envelope], event: intent });
			await this.put(intent, envelope);
			await this.put(r.id, r.envelope);
			return { intent, receipt: r.id };
		} catch (e) {
			if (e instanceof EscrowError) return { intent, refused: e };
			throw e;
		}
	}

	async release(milestone: string, amount: number): Promise<{ intent: string; receipt: string }> {
		const intent = await this.emit(CLIENT, 'milestone.release', { milestone, amount, currency: 'USD', method: 'card' });
		const receipt = await this.emit(PROVIDER, 'receipt.released', { intent, milestone, amount, currency: 'USD', auto: false });
		return { intent, receipt };
	}
}

/** A party of the play. */
export type Side = 'client' | 'freelancer';
export const keyOf = (side: Side): DeviceKey => (side === 'client' ? CLIENT : FREELANCER);
/** Another mediator a party may propose (dispute.ts): the parties agree only when both accept the same one. */
export const OTHER_MEDIATOR = keyFrom('other mediator');

/** One named step of a dispute on the milestone "design"; percentages are of what the step is about. */
export type DisputeAction =
	| { kind: 'open'; by: Side; pct: number; offerPct: number }
	| { kind: 'offer'; by: Side; pct: number }
	| { kind: 'accept'; by: Side }
	| { kind: 'midpoint'; by: Side }
	| { kind: 'reject'; by: Side; finalPct: number }
	| { kind: 'mediator'; by: Side; other: boolean }
	| { kind: 'rule'; forClient: boolean; stale: boolean }
	| { kind: 'settle'; by: Side; evenIfEarly: boolean }
	| { kind: 'release'; pct: number }
	| { kind: 'tick'; hours: number };

/**
 * Disputes played against a provider at the world's time: each step writes what a party's app
 * would (checked or not by the rules: a hostile or stale app writes what the rules refuse too),
 * asks the provider to record or execute it, and says what happened. Simulations override `record`
 * and `money` to add provider faults.
 */
export class DisputePlay {
	readonly counts: Record<string, number> = {};
	constructor(
		readonly w: World,
		readonly provider: EscrowAdapter
	) {}

	protected count(what: string): void {
		this.counts[what] = (this.counts[what] ?? 0) + 1;
	}

	/** Have the provider record `id` (in the log already). */
	protected async record(id: string): Promise<string> {
		const r = await this.w.attestWith(this.provider, id);
		if (r.refused) return `record refused (${r.refused.code}): ${r.refused.message}`;
		return this.w.rejection(r.receipt!) ? `recorded, refused by the fold: ${this.w.rejection(r.receipt!)!.message}` : 'recorded';
	}

	/** Have the provider execute a dispute intent (or a release) signed by `key`. */
	protected async money<T extends EventType>(key: DeviceKey, type: T, payload: Payload<T>): Promise<string> {
		const r = await this.w.settleWith(this.provider, 'release', key, type, payload);
		if (r.refused) return `refused (${r.refused.code}): ${r.refused.message}`;
		const refused = this.w.rejection(r.receipt!);
		if (refused) throw new Error(`the fold refuses the provider's receipt for ${type}: ${refused.message}`);
		this.count(type);
		return 'executed';
	}

	/** The dispute steps are about: the open one on "design", else the latest. */
	dispute(): Dispute | undefined {
		const s = this.w.state;
		return openDispute(s, 'design') ?? [...s.disputes.values()].at(-1);
	}

	async run(a: DisputeAction): Promise<string> {
		const s = this.w.state;
		const d = this.dispute();
		const base = d ? { dispute: d.id, milestone: d.milestone, currency: 'USD' as const } : undefined;
		switch (a.kind) {
			case 'open': {
				const m = milestoneOf(s, 'design')!;
				const held = escrowOf(m);
				if (held === 0) return 'nothing held';
				const amount = Math.max(1, Math.floor((held * a.pct) / 100));
				const offer = Math.floor((amount * a.offerPct) / 100);
				const reason = a.by === 'client' ? 'not-delivered' : m.changeRequests > 0 && m.submission ? 'changes-requested' : 'client-silent';
				const id = await this.w.emit(keyOf(a.by), 'dispute.opened', { milestone: 'design', amount, currency: 'USD', reason, details: 'Not as agreed.', offer });
				if (this.w.rejection(id)) return `not written: ${this.w.rejection(id)!.message}`;
				this.count('opened');
				return `${amount} in dispute, offer ${offer} → ${await this.record(id)}`;
			}
			case 'offer': {
				if (!d) return 'no dispute';
				const id = await this.w.emit(keyOf(a.by), 'dispute.offered', { dispute: d.id, amount: Math.floor((d.amount * a.pct) / 100) });
				return this.w.rejection(id) ? `not written: ${this.w.rejection(id)!.message}` : `offer → ${await this.record(id)}`;
			}
			case 'accept': {
				const theirs = d?.offers[otherRole(a.by)];
				if (!base || !theirs) return 'nothing to accept';
				return `accept ${theirs.amount} → ${await this.money(keyOf(a.by), 'dispute.accept', { ...base, offer: theirs.id })}`;
			}
			case 'midpoint': {
				if (!base || !d!.offers.client || !d!.offers.freelancer) return 'no midpoint';
				return `midpoint ${disputeMidpoint(d!)} → ${await this.money(keyOf(a.by), 'dispute.acceptMidpoint', { ...base, client: d!.offers.client.id, freelancer: d!.offers.freelancer.id })}`;
			}
			case 'reject': {
				const theirs = d?.offers[otherRole(a.by)];
				if (!d || !theirs) return 'nothing to reject';
				const final = d.offers[a.by] ? undefined : Math.floor((d.amount * a.finalPct) / 100);
				const id = await this.w.emit(keyOf(a.by), 'dispute.rejected', { dispute: d.id, offer: theirs.id, ...(final !== undefined ? { final } : {}) });
				if (this.w.rejection(id)) return `not written: ${this.w.rejection(id)!.message}`;
				const out = await this.record(id);
				if (out === 'recorded') this.count('rejected');
				return `reject → ${out}`;
			}
			case 'mediator': {
				if (!d) return 'no dispute';
				const key = a.other ? OTHER_MEDIATOR : MEDIATOR;
				const named = s.terms!.mediator;
				const feeBps = named && !a.other ? named.feeBps : 500;
				const id = await this.w.emit(keyOf(a.by), 'dispute.mediatorAccepted', { dispute: d.id, mediator: key.publicKey, name: 'Mo', feeBps, fee: mediationFee(d.amount, feeBps, 'USD') });
				if (this.w.rejection(id)) return `not written: ${this.w.rejection(id)!.message}`;
				const out = await this.record(id);
				if (this.w.state.disputes.get(d.id)?.mediator) this.count('mediator accepted');
				return `mediator ${a.other ? 'other' : 'named'} → ${out}`;
			}
			case 'rule': {
				if (!base) return 'no dispute';
				// A ruling must pick a last offer; `stale` picks an older one (or the opening), which the provider refuses.
				const pick = a.forClient ? d!.offers.client : d!.offers.freelancer;
				const stale = [...d!.steps.values()].find((st) => st.id !== pick?.id && (st.kind === 'offer' || st.amount !== undefined));
				const offer = a.stale ? stale?.id : pick?.id;
				if (!offer) return 'no offer to rule for';
				const key = d!.mediator ? (d!.mediator.publicKey === MEDIATOR.publicKey ? MEDIATOR : OTHER_MEDIATOR) : MEDIATOR;
				const out = await this.money(key, 'dispute.rule', { ...base, offer });
				if (out === 'executed') this.count('ruled');
				return `ruling${a.stale ? ' (stale offer)' : ''} → ${out}`;
			}
			case 'settle': {
				if (!d || !base) return 'no dispute';
				const dec = settleDecision(s, d, this.w.now);
				if (!dec.due && !a.evenIfEarly) return 'nothing due';
				const basis = dec.due ? dec.split.basis : 'silence';
				const share = dec.due ? dec.split.share : (d.offers[d.last ?? 'client']?.amount ?? 0);
				const out = await this.money(keyOf(a.by), 'dispute.settle', { ...base, basis: basis as Payload<'dispute.settle'>['basis'], freelancer: share });
				if (!dec.due && out === 'executed') throw new Error(`the provider settled ${d.id} early, which the rules refuse: ${dec.refusal.message}`);
				if (!dec.due) this.count('early settle refused');
				return `settle ${basis} ${share} → ${out}`;
			}
			case 'release': {
				const m = milestoneOf(s, 'design')!;
				if (escrowOf(m) === 0) return 'nothing held';
				const amount = Math.max(1, Math.floor((escrowOf(m) * a.pct) / 100));
				return `release ${amount} → ${await this.money(CLIENT, 'milestone.release', { milestone: 'design', amount, currency: 'USD', method: 'card' })}`;
			}
			case 'tick':
				this.w.now += a.hours * 3_600_000;
				return `now +${a.hours} h`;
		}
	}
}
