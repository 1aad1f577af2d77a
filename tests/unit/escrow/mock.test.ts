import { describe, expect, it } from 'vitest';
import { MockEscrowProvider, TEST_MODE_KEY, TEST_MODE_SEED } from '../../../src/lib/escrow/mock';
import { publicKeyFromSeed } from '../../../src/lib/identity/ed25519';
import { escrowAdapterSuite } from './adapter-suite';

escrowAdapterSuite('mock', async () => {
	let now = Date.UTC(2026, 10, 2);
	const adapter = new MockEscrowProvider({ now: () => now });
	return { adapter, advance: (ms) => (now += ms), failNext: (code) => adapter.failNext(code) };
});

describe('mock provider specifics', () => {
	it('signs with the published TEST MODE key and says so', async () => {
		const info = await new MockEscrowProvider().info();
		expect(info.testMode).toBe(true);
		expect(info.name).toMatch(/TEST MODE/);
		expect(info.publicKey).toBe(TEST_MODE_KEY.publicKey);
		expect(publicKeyFromSeed(TEST_MODE_SEED)).toBe(TEST_MODE_KEY.publicKey);
	});

	it('stays down until told otherwise', async () => {
		const p = new MockEscrowProvider();
		p.setDown(true);
		await expect(p.fund({ contract: 'x'.repeat(16), log: [], event: 'y' })).rejects.toMatchObject({ code: 'unavailable' });
		p.setDown(false);
		await expect(p.fund({ contract: 'x'.repeat(16), log: [], event: 'y' })).rejects.toMatchObject({ code: 'invalid-request' });
	});
});

describe('one mock per browser', () => {
	it('a second instance takes in the receipts the first one issued, from the log', async () => {
		const { ContractLog } = await import('../../../src/lib/contract/log');
		const { Party } = await import('../../../src/lib/sync/party');
		const { CLIENT, FREELANCER, terms } = await import('../../support/world');
		let now = Date.UTC(2026, 10, 2);
		const clientSide = new MockEscrowProvider({ now: () => now });
		const freelancerSide = new MockEscrowProvider({ now: () => now });
		const info = await clientSide.info();
		const client = new Party(CLIENT, new ContractLog('two-mocks-0000000001'), clientSide, undefined, () => now);
		const freelancer = new Party(FREELANCER, new ContractLog('two-mocks-0000000001'), freelancerSide, undefined, () => now);
		const proposal = await client.act('contract.proposed', { role: 'client', name: 'Ada', terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }) });
		await freelancer.receive(client.log.envelopes());
		await freelancer.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
		await client.receive(freelancer.log.envelopes());
		await client.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		await client.settle('milestone.release', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		await freelancer.receive(client.log.envelopes());
		now += 5 * 86_400_000;
		// The freelancer's own mock never saw the release, yet pays out from what the receipts say.
		await freelancer.settle('withdrawal.requested', { amount: 50_000, currency: 'USD', method: 'bank' });
		expect(freelancer.derived().state.payouts).toHaveLength(1);
	});
});
