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
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';

export function keyFrom(label: string): DeviceKey {
	const seed = sha256(utf8.encode(label));
	return { seed: toBase64url(seed), publicKey: toBase64url(ed25519.getPublicKey(seed)) };
}

export const CLIENT = keyFrom('client');
export const FREELANCER = keyFrom('freelancer');
export const PROVIDER = keyFrom('provider');
export const STRANGER = keyFrom('stranger');
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
		if (type === 'contract.proposed') {
			const p = { nonce: `n0nce-${String(++this.nonces).padStart(18, '0')}`, ...(payload as object) };
			const d: Draft = { contract: '', author: key.publicKey, prev: o.prev ?? null, deps: o.deps ?? [], at: o.at ?? this.now, type, payload: p };
			if (o.contract !== undefined) return { ...d, contract: o.contract };
			const derived = withDerivedContract(d);
			if (this.log.size === 0) {
				this.contract = derived.contract;
				this.log = new ContractLog(derived.contract);
			}
			return derived;
		}
		return {
			contract: o.contract ?? this.contract,
			author: key.publicKey,
			// The provider's receipts form one linear chain per contract, like every other author's events.
			prev: o.prev !== undefined ? o.prev : this.log.lastOf(key.publicKey),
			deps: o.deps ?? (isReceipt ? [(payload as { intent?: string; event?: string }).intent ?? (payload as { event: string }).event] : this.log.heads()),
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

	async release(milestone: string, amount: number): Promise<{ intent: string; receipt: string }> {
		const intent = await this.emit(CLIENT, 'milestone.release', { milestone, amount, currency: 'USD', method: 'card' });
		const receipt = await this.emit(PROVIDER, 'receipt.released', { intent, milestone, amount, currency: 'USD', auto: false });
		return { intent, receipt };
	}
}
