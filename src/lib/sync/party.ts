/**
 * One device acting on one contract: it composes an event on top of what it has, asks the rules
 * whether the event is allowed *before* writing anything, signs it, and appends it. Money-moving
 * intents go to the escrow provider first; only when the provider answers with a receipt are the
 * intent and its receipt written together. A refusal or a failed call writes nothing: the contract
 * stays exactly as it was and the error says why.
 */
import { compose } from '../contract/compose';
import { encodeBody, type Draft } from '../contract/envelope';
import { check } from '../contract/fold';
import type { ContractLog, DerivedContract } from '../contract/log';
import { reject, type Rejection } from '../contract/rejections';
import { PAYLOADS, type EventType, type Payload } from '../contract/schema';
import type { Ev } from '../contract/state';
import type { EscrowAdapter, Receipt } from '../escrow/adapter';
import { authenticate } from '../identity/authenticate';
import type { DeviceKey } from '../identity/ed25519';
import { signEvent, type SignedEvent } from '../identity/sign-event';

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

/** Where written events go besides the local log: the Yjs map in the app, a test network in simulations. */
export type Sink = (id: string, envelope: string) => void;

type ProviderCall = 'fund' | 'release' | 'refund' | 'withdraw';
const CALL_FOR: Partial<Record<EventType, ProviderCall>> = {
	'milestone.fund': 'fund',
	'milestone.release': 'release',
	'milestone.autoRelease': 'release',
	'milestone.refund': 'refund',
	'withdrawal.requested': 'withdraw'
};

export class Party {
	constructor(
		readonly key: DeviceKey,
		readonly log: ContractLog,
		readonly escrow: EscrowAdapter,
		private readonly sink: Sink = () => {},
		private readonly clock: () => number = () => Date.now()
	) {}

	derived(): DerivedContract {
		return this.log.derive();
	}

	/** Take events from elsewhere (a peer, storage), verify and fold them. */
	async receive(entries: Iterable<[string, string]>): Promise<DerivedContract> {
		for (const [id, envelope] of entries) this.log.add(id, envelope);
		await authenticate(this.log);
		return this.log.derive();
	}

	/** Would this action be accepted right now? What a page asks before it shows a button. */
	ask<T extends EventType>(type: T, payload: Payload<T>): ActionRefused | null {
		return this.draft(type, payload).refused;
	}

	/** Sign and write a non-money event (message, proposal, submission…). Throws ActionRefused. */
	async act<T extends EventType>(type: T, payload: Payload<T>): Promise<SignedEvent> {
		if (CALL_FOR[type]) throw new Error(`${type} moves money: use settle().`);
		const signed = await this.prepare(type, payload);
		await this.write([signed]);
		return signed;
	}

	/**
	 * Sign a money intent, have the provider execute it, then write intent and receipt together.
	 * Throws ActionRefused (the rules said no) or EscrowError (the provider said no); nothing is written then.
	 */
	async settle<T extends EventType>(type: T, payload: Payload<T>): Promise<{ intent: SignedEvent; receipt: Receipt }> {
		const call = CALL_FOR[type];
		if (!call) throw new Error(`${type} is not a money intent.`);
		const intent = await this.prepare(type, payload);
		const log = [...this.log.envelopes().map(([, e]) => e), intent.envelope];
		const receipt = await this.escrow[call]({ contract: this.log.contract, log, event: intent.id });
		await this.write([intent, receipt]);
		return { intent, receipt };
	}

	/** Ask the provider to timestamp a submission or refund request, and write its receipt. */
	async attest(event: string): Promise<Receipt> {
		const log = this.log.envelopes().map(([, e]) => e);
		const receipt = await this.escrow.attest({ contract: this.log.contract, log, event });
		await this.write([receipt]);
		return receipt;
	}

	/** Compose on top of this device's log and run the same schema and rules every peer will run. */
	private draft<T extends EventType>(type: T, payload: Payload<T>): { draft: Draft<T>; refused: ActionRefused | null } {
		const parsed = PAYLOADS[type].safeParse(payload);
		if (!parsed.success) {
			const fields: Record<string, string> = {};
			for (const issue of parsed.error.issues) fields[issue.path.join('.')] ??= issue.message;
			const first = Object.entries(fields)[0];
			return { draft: undefined as never, refused: new ActionRefused(reject('bad-schema', first ? `${first[0]}: ${first[1]}.` : ''), fields) };
		}
		const draft = compose(this.log, this.key.publicKey, type, parsed.data as Payload<T>, this.clock());
		const { id } = encodeBody(draft);
		const rejection = check(this.log.derive().state, { ...draft, id } as unknown as Ev);
		return { draft, refused: rejection && new ActionRefused(rejection) };
	}

	private async prepare<T extends EventType>(type: T, payload: Payload<T>): Promise<SignedEvent> {
		const { draft, refused } = this.draft(type, payload);
		if (refused) throw refused;
		return signEvent(this.key, draft);
	}

	private async write(events: SignedEvent[]): Promise<void> {
		for (const e of events) {
			this.log.add(e.id, e.envelope);
			this.sink(e.id, e.envelope);
		}
		await authenticate(this.log);
		this.log.derive();
	}
}
