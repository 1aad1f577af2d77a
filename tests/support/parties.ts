/**
 * Two devices on one bound contract, the way the app gets there: the client proposes (which derives
 * the contract id), the freelancer accepts, the client countersigns, and the provider records it.
 */
import type { Terms } from '../../src/lib/contract/schema';
import type { EscrowAdapter } from '../../src/lib/escrow/adapter';
import type { DeviceKey } from '../../src/lib/identity/ed25519';
import type { SignedEvent } from '../../src/lib/identity/sign-event';
import { ContractLog } from '../../src/lib/contract/log';
import { Party, type Sink } from '../../src/lib/sync/party';
import { CLIENT, FREELANCER } from './world';

export interface PairOptions {
	escrow: EscrowAdapter;
	terms: Terms;
	client?: DeviceKey;
	freelancer?: DeviceKey;
	clock?: () => number;
	sink?: Sink;
	/** Stop after the acceptance: the proposer has not countersigned yet. */
	unbound?: boolean;
}

export interface Pair {
	contract: string;
	client: Party;
	freelancer: Party;
	proposal: SignedEvent;
	/** Another device on the same contract (same log id, fresh log), caught up with the client. */
	device(key: DeviceKey): Promise<Party>;
}

export async function activePair(o: PairOptions): Promise<Pair> {
	const clock = o.clock ?? (() => Date.now());
	const { party: client, proposal } = await Party.propose(o.client ?? CLIENT, o.escrow, { role: 'client', name: 'Ada', terms: o.terms }, o.sink, clock);
	const contract = client.log.contract;
	const freelancer = new Party(o.freelancer ?? FREELANCER, new ContractLog(contract), o.escrow, o.sink, clock);
	await freelancer.receive(client.log.envelopes());
	const acceptance = await freelancer.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
	await client.receive(freelancer.log.envelopes());
	if (!o.unbound) {
		const { recorded } = await client.countersign(acceptance.id);
		if (!recorded) throw new Error('the provider did not record the countersign');
		await freelancer.receive(client.log.envelopes());
	}
	const device = async (key: DeviceKey) => {
		const d = new Party(key, new ContractLog(contract), o.escrow, o.sink, clock);
		await d.receive(client.log.envelopes());
		return d;
	};
	return { contract, client, freelancer, proposal, device };
}
