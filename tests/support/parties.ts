/**
 * Two devices on one bound contract, the way the app gets there: the client proposes (which derives
 * the contract id), the freelancer accepts, the client countersigns, and the provider records it.
 */
import type { Terms } from '../../src/lib/contract/schema';
import type { EscrowAdapter } from '../../src/lib/escrow/adapter';
import type { DeviceKey } from '../../src/lib/identity/ed25519';
import type { SignedEvent } from '../../src/lib/identity/sign-event';
import { MemoryContract, type Outlet } from '../../src/lib/sync/memory-contract';
import { Party } from '../../src/lib/sync/party';
import { CLIENT, FREELANCER } from './world';

export interface PairOptions {
	escrow: EscrowAdapter;
	terms: Terms;
	client?: DeviceKey;
	freelancer?: DeviceKey;
	clock?: () => number;
	/** Where every event a party writes goes too (each party's store hands it on). */
	sink?: Outlet;
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
	const { party: client, proposal } = await Party.propose(o.client ?? CLIENT, o.escrow, { role: 'client', name: 'Ada', terms: o.terms }, { clock, store: (c) => new MemoryContract(c, o.sink) });
	const contract = client.log.contract;
	const freelancer = new Party(o.freelancer ?? FREELANCER, new MemoryContract(contract, o.sink), o.escrow, clock);
	await freelancer.receive(client.log.envelopes());
	const acceptance = await freelancer.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
	await client.receive(freelancer.log.envelopes());
	if (!o.unbound) {
		const { recorded } = await client.countersign(acceptance.id);
		if (!recorded) throw new Error('the provider did not record the countersign');
		await freelancer.receive(client.log.envelopes());
	}
	const device = async (key: DeviceKey) => {
		const d = new Party(key, new MemoryContract(contract, o.sink), o.escrow, clock);
		await d.receive(client.log.envelopes());
		return d;
	};
	return { contract, client, freelancer, proposal, device };
}
