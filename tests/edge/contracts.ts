/**
 * A bound contract on the Stripe escrow function, made the way the app makes one (tests/support/
 * parties.ts: propose, accept, countersign, the provider records it), with one milestone 'a'.
 */
import { DEFAULT_CLOCKS } from '../../src/lib/contract/schema';
import type { EscrowAdapter } from '../../src/lib/escrow/adapter';
import type { Party } from '../../src/lib/sync/party';
import { activePair } from '../support/parties';

export interface EdgeContract {
	id: string;
	client: Party;
	freelancer: Party;
	/** Both devices take in everything the other has. */
	sync(): Promise<void>;
}

export async function edgeContract(s: { adapter: EscrowAdapter; clock: { now: number } }, amount = 100_000, title = 'Edge'): Promise<EdgeContract> {
	const info = await s.adapter.info();
	const { contract, client, freelancer } = await activePair({
		escrow: s.adapter,
		clock: () => s.clock.now,
		terms: {
			title,
			scope: '',
			currency: 'USD',
			milestones: [{ id: 'a', title: 'A', amount }],
			provider: { id: info.id, publicKey: info.publicKey, testMode: info.testMode },
			...DEFAULT_CLOCKS
		}
	});
	const sync = async () => {
		await client.receive(freelancer.log.envelopes());
		await freelancer.receive(client.log.envelopes());
	};
	return { id: contract, client, freelancer, sync };
}
