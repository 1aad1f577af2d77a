/**
 * Ended contracts for work-history tests: two parties on a mock escrow provider (signing with a key of
 * the test's choice), funded, paid, ended, feedback left by both; and the provider's attestation.
 */
import { utf8 } from '../../src/lib/contract/encoding';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import { issueReference, type ReferenceEntry } from '../../src/lib/identity/reference';
import type { SignedStatement } from '../../src/lib/identity/statement';
import { completionRequestMessage } from '../../src/lib/escrow/attestation';
import { MockEscrowProvider, TEST_MODE_KEY } from '../../src/lib/escrow/mock';
import type { Party } from '../../src/lib/sync/party';
import { activePair } from './parties';
import { CLIENT, FREELANCER, T0, terms } from './world';

export interface Ended {
	contract: string;
	client: Party;
	freelancer: Party;
	mock: MockEscrowProvider;
	clock: { now: number };
}

/** A contract on a mock signing with `key`: funded, `released` of 250,000 released (the rest refunded), ended, feedback left by both. */
export async function ended(o: { key?: DeviceKey; released?: number; clientDevice?: { key: DeviceKey; cert: string } } = {}): Promise<Ended> {
	const clock = { now: T0 };
	const mock = new MockEscrowProvider({ key: o.key ?? TEST_MODE_KEY, now: () => clock.now });
	const info = await mock.info();
	const { contract, client, freelancer } = await activePair({
		escrow: mock,
		clock: () => clock.now,
		terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true }, milestones: [{ id: 'a', title: 'A', amount: 250_000 }] })
	});
	const sync = async () => {
		await client.receive(freelancer.log.envelopes());
		await freelancer.receive(client.log.envelopes());
	};
	await client.settle('milestone.fund', { milestone: 'a', amount: 250_000, currency: 'USD', method: 'card' });
	const released = o.released ?? 250_000;
	if (released) await client.settle('milestone.release', { milestone: 'a', amount: released, currency: 'USD', method: 'card' });
	await sync();
	// The freelancer gives back what was not earned.
	if (released < 250_000) await freelancer.settle('milestone.refund', { milestone: 'a', amount: 250_000 - released, currency: 'USD', basis: 'freelancer' });
	await sync();
	clock.now += 86_400_000;
	await client.act('contract.ended', {});
	await sync();
	await client.act('feedback.left', { rating: 5, text: 'Delivered on time.' });
	await freelancer.act('feedback.left', { rating: 3, text: 'Slow to pay.' });
	await sync();
	return { contract, client, freelancer, mock, clock };
}

let nonces = 0;
export async function attestation(e: Ended, by: DeviceKey = FREELANCER, at = e.clock.now): Promise<SignedStatement> {
	const nonce = `nonce-${String(++nonces).padStart(12, '0')}`;
	const signature = signSync(by, utf8.encode(completionRequestMessage(e.contract, by.publicKey, at, nonce)));
	return e.mock.completion({ contract: e.contract, publicKey: by.publicKey, at, nonce, signature, log: e.freelancer.log.envelopes().map(([, env]) => env) });
}

/** The client's reference about the freelancer, with the provider's attestation: what the freelancer's profile carries. */
export async function entry(e: Ended): Promise<ReferenceEntry> {
	return { reference: issueReference(e.client.log.derive().state, CLIENT, e.clock.now), attestation: await attestation(e) };
}

