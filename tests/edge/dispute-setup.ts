/**
 * A disputed milestone on an escrow provider, driven the way the apps drive it (sync/
 * dispute-actions.ts on real Parties): $1,000.00 funded on milestone 'a', the work submitted, the
 * client opens a dispute on $600.00 offering $100.00 to the freelancer. On the Stripe function the
 * freelancer and the mediator are onboarded first (the mediator like a freelancer: its own key).
 * The same set-up runs against the TEST MODE mock, to compare what both providers sign.
 */
import { expect } from 'vitest';
import { milestoneDisputes, mediatorRuling } from '../../src/lib/contract/dispute-affordances';
import { encodeBody, encodeEnvelope, signingBytes } from '../../src/lib/contract/envelope';
import type { ContractLog } from '../../src/lib/contract/log';
import { DEFAULT_CLOCKS, type EventType, type Payload } from '../../src/lib/contract/schema';
import type { Dispute } from '../../src/lib/contract/state';
import type { EscrowAdapter, Receipt } from '../../src/lib/escrow/adapter';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import * as disputes from '../../src/lib/sync/dispute-actions';
import type { Party } from '../../src/lib/sync/party';
import { activePair, type Pair } from '../support/parties';
import { MEDIATOR } from '../support/world';

export type Who = 'client' | 'freelancer';

export const FORM = { amount: '600', reason: 'not-delivered', details: 'The pages are missing.', offer: '100' };

export interface Disputed {
	pair: Pair;
	clock: { now: number };
	party(who: Who): Party;
	sync(): Promise<void>;
	/** The milestone's current dispute as `who` sees it (at its clock, `ahead` ms past the provider's). */
	view(who: Who, ahead?: number): NonNullable<ReturnType<typeof milestoneDisputes>['current']>;
	dispute(): Dispute;
	session(who: Who): { party: Party };
	/** The mediator's device, caught up with both parties. */
	mediator(): Promise<Party>;
}

export async function disputed(escrow: EscrowAdapter, clock: { now: number }, o: { mediator?: boolean; open?: boolean; offer?: string } = {}): Promise<Disputed> {
	const info = await escrow.info();
	const pair = await activePair({
		escrow,
		clock: () => clock.now,
		terms: {
			title: 'Disputed',
			scope: '',
			currency: 'USD',
			milestones: [{ id: 'a', title: 'A', amount: 100_000 }],
			provider: { id: info.id, publicKey: info.publicKey, testMode: info.testMode },
			...DEFAULT_CLOCKS,
			...(o.mediator ? { mediator: { publicKey: MEDIATOR.publicKey, name: 'Mo Mediator', feeBps: 500 } } : {})
		}
	});
	const party = (who: Who) => (who === 'client' ? pair.client : pair.freelancer);
	const sync = async () => {
		await pair.freelancer.receive(pair.client.log.envelopes());
		await pair.client.receive(pair.freelancer.log.envelopes());
	};
	const view = (who: Who, ahead = 0) => milestoneDisputes(party(who).derived().state, who, 'a', clock.now + ahead).current!;
	const session = (who: Who) => ({ party: party(who) });
	await pair.client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
	await sync();
	await pair.freelancer.act('milestone.submitted', { milestone: 'a', message: 'Done.', links: [] });
	await sync();
	if (o.open !== false) {
		expect(await disputes.openDispute(session('client'), milestoneDisputes(pair.client.derived().state, 'client', 'a', clock.now), { ...FORM, offer: o.offer ?? FORM.offer }, 'USD')).toEqual({ ok: true });
		await sync();
		expect(view('freelancer').status.stage).toBe('negotiating');
	}
	const dispute = () => [...pair.client.derived().state.disputes.values()].at(-1)!;
	const mediator = async () => {
		const mo = await pair.device(MEDIATOR);
		await mo.receive(pair.freelancer.log.envelopes());
		await mo.receive(pair.client.log.envelopes());
		return mo;
	};
	return { pair, clock, party, sync, view, dispute, session, mediator };
}

/** Both parties reject and accept the mediator the terms name: the mediator may rule from here. */
export async function toMediation(c: Disputed): Promise<void> {
	expect(await disputes.rejectOffer(c.session('freelancer'), c.view('freelancer'), '500', 'USD')).toEqual({ ok: true });
	await c.sync();
	expect(await disputes.acceptMediator(c.session('client'), c.view('client'))).toEqual({ ok: true });
	await c.sync();
	expect(await disputes.acceptMediator(c.session('freelancer'), c.view('freelancer'))).toEqual({ ok: true });
	await c.sync();
	expect(c.view('client').status.stage).toBe('mediation');
}

/** The mediator rules for `by`'s last offer through the app's action. */
export async function rule(c: Disputed, by: Who): Promise<Party> {
	const mo = await c.mediator();
	const d = [...mo.derived().state.disputes.values()].at(-1)!;
	const ruling = mediatorRuling(mo.derived().state, d, MEDIATOR.publicKey, c.clock.now);
	const offer = ruling.choices.find((x) => x.by === by)!.offer;
	expect(await disputes.ruleDispute({ party: mo }, { dispute: d }, ruling, offer, 'USD')).toEqual({ ok: true });
	return mo;
}

/**
 * An intent an app would never sign (the rules refuse it, or its signer is no party), signed by
 * `key` on top of `log` at `at` and sent straight to the provider's release call: what an attacker's
 * own client does.
 */
export async function forged<T extends EventType>(
	escrow: EscrowAdapter,
	log: ContractLog,
	key: DeviceKey,
	type: T,
	payload: Payload<T>,
	at: number
): Promise<{ id: string; envelope: string; receipt: Promise<Receipt>; again(): Promise<Receipt> }> {
	const { id, body } = encodeBody({ contract: log.contract, author: key.publicKey, prev: log.lastOf(key.publicKey), deps: log.heads(), at, type, payload });
	const envelope = encodeEnvelope(id, body, signSync(key, signingBytes(id)));
	const send = () => escrow.release({ contract: log.contract, log: [...log.envelopes().map(([, e]) => e), envelope], event: id });
	const receipt = send();
	receipt.catch(() => undefined);
	return { id, envelope, receipt, again: send };
}

/** A receipt's payload. */
export const payloadOf = (r: Receipt): Record<string, unknown> => JSON.parse(JSON.parse(r.envelope).body).payload;
