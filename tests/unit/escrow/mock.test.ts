import { describe, expect, it } from 'vitest';
import { compose } from '../../../src/lib/contract/compose';
import { ContractLog } from '../../../src/lib/contract/log';
import type { EscrowError } from '../../../src/lib/escrow/adapter';
import { authenticate } from '../../../src/lib/identity/authenticate';
import { signEventSync } from '../../../src/lib/identity/sign-event';
import { MockEscrowProvider, TEST_MODE_KEY, TEST_MODE_SEED } from '../../../src/lib/escrow/mock';
import { publicKeyFromSeed } from '../../../src/lib/identity/ed25519';
import { CLIENT, PROVIDER, T0, World, terms } from '../../support/world';
import { escrowAdapterSuite } from './adapter-suite';

escrowAdapterSuite('mock', async () => {
	let now = Date.UTC(2026, 10, 2);
	const adapter = new MockEscrowProvider({ now: () => now, bankDebitsProcess: true });
	return { adapter, advance: (ms) => (now += ms), failNext: (code) => adapter.failNext(code), loseNextAnswer: () => adapter.loseNextAnswer(), bankDebitsProcess: true };
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

describe('mock provider: answers that are lost, debits that take days', () => {
	async function funded(o: { bankDebitsProcess?: boolean } = {}) {
		const clock = { now: T0 };
		const world = new World();
		await world.active(terms());
		const provider = new MockEscrowProvider({ key: PROVIDER, now: () => clock.now, ...o });
		const log = new ContractLog(world.log.contract);
		for (const [id, e] of world.written) log.add(id, e);
		await authenticate(log);
		log.derive();
		const intent = (method: 'card' | 'bank_transfer', milestone = 'design', amount = 100_000) =>
			signEventSync(CLIENT, compose(log, CLIENT.publicKey, 'milestone.fund', { milestone, amount, currency: 'USD', method }, clock.now));
		const ask = (i: { id: string; envelope: string }) => provider.fund({ contract: log.contract, log: [...world.written.map(([, e]) => e), i.envelope], event: i.id });
		return { provider, clock, intent, ask, contract: log.contract };
	}

	it('serves the same receipt again for an intent it already executed, also when the first answer was lost', async () => {
		const f = await funded();
		const i = f.intent('card');
		f.provider.loseNextAnswer();
		const err = await f.ask(i).catch((e: unknown) => e);
		expect(err).toMatchObject({ code: 'timeout' });
		const first = await f.ask(i);
		expect(f.provider.statement(f.contract).executed).toEqual({ [i.id]: first.id });
		expect((await f.ask(i)).envelope).toBe(first.envelope);
		expect(f.provider.statement(f.contract).milestones.design).toEqual({ funded: 100_000, released: 0, refunded: 0 });
	});

	it("keeps a bank debit 'processing' until its processing time has passed on its clock", async () => {
		const f = await funded({ bankDebitsProcess: true });
		const i = f.intent('bank_transfer');
		const err = (await f.ask(i).catch((e: unknown) => e)) as EscrowError;
		expect(err.code).toBe('processing');
		expect(err.expectedAt).toBe(f.clock.now + 4 * 86_400_000);
		expect(err.message).not.toMatch(/nothing was/i);
		// The debit is under way: counted in its books, so a second debit for the milestone is refused.
		expect(f.provider.statement(f.contract)).toMatchObject({ milestones: { design: { funded: 100_000 } }, processing: { [i.id]: err.expectedAt } });
		f.clock.now = err.expectedAt! - 1;
		await expect(f.ask(i)).rejects.toMatchObject({ code: 'processing', expectedAt: err.expectedAt });
		f.clock.now = err.expectedAt!;
		const receipt = await f.ask(i);
		expect(receipt.envelope).toContain('receipt.funded');
		expect(f.provider.statement(f.contract)).toMatchObject({ executed: { [i.id]: receipt.id }, processing: {} });
		expect((await f.ask(i)).id).toBe(receipt.id);
	});

	it('without the option (the app default) a bank debit is answered at once, and cards never wait', async () => {
		const plain = await funded();
		await expect(plain.ask(plain.intent('bank_transfer'))).resolves.toMatchObject({ envelope: expect.stringContaining('receipt.funded') });
		const processing = await funded({ bankDebitsProcess: true });
		await expect(processing.ask(processing.intent('card'))).resolves.toMatchObject({ envelope: expect.stringContaining('receipt.funded') });
	});

	it('never says nothing was charged when it did not answer', async () => {
		const p = new MockEscrowProvider();
		for (const code of ['timeout', 'unavailable'] as const) {
			p.failNext(code);
			const err = (await p.fund({ contract: 'x'.repeat(16), log: [], event: 'y' }).catch((e: unknown) => e)) as EscrowError;
			expect(err.code).toBe(code);
			expect(err.message).not.toMatch(/nothing was/i);
		}
	});
});

describe('one mock per browser', () => {
	it('a second instance takes in the receipts the first one issued, from the log', async () => {
		const { MemoryContract } = await import('../../../src/lib/sync/memory-contract');
		const { Party } = await import('../../../src/lib/sync/party');
		const { CLIENT, FREELANCER, terms } = await import('../../support/world');
		let now = Date.UTC(2026, 10, 2);
		const clientSide = new MockEscrowProvider({ now: () => now });
		const freelancerSide = new MockEscrowProvider({ now: () => now });
		const info = await clientSide.info();
		const { party: client, proposal } = await Party.propose(CLIENT, clientSide, { role: 'client', name: 'Ada', terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }) }, { clock: () => now });
		const freelancer = new Party(FREELANCER, new MemoryContract(client.log.contract), freelancerSide, () => now);
		await freelancer.receive(client.log.envelopes());
		const acceptance = await freelancer.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
		await client.receive(freelancer.log.envelopes());
		await client.countersign(acceptance.id);
		await client.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		await client.settle('milestone.release', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		await freelancer.receive(client.log.envelopes());
		now += 5 * 86_400_000;
		// The freelancer's own mock never saw the release, yet pays out from what the receipts say.
		await freelancer.settle('withdrawal.requested', { amount: 50_000, currency: 'USD', method: 'bank' });
		expect(freelancer.derived().state.payouts).toHaveLength(1);
	});
});
