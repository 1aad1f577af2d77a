import { describe, expect, it } from 'vitest';
import { ContractLog } from '../../../src/lib/contract/log';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { ActionRefused, Party } from '../../../src/lib/sync/party';
import { activePair } from '../../support/parties';
import { CLIENT, FREELANCER, hourlyTerms, terms } from '../../support/world';

async function pair() {
	const provider = new MockEscrowProvider();
	const info = await provider.info();
	const { client, freelancer } = await activePair({ escrow: provider, terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }) });
	return { client, freelancer };
}

describe('a device acting on a contract', () => {
	it('asks the rules before writing: a refused action writes nothing and says why', async () => {
		const { freelancer } = await pair();
		const before = freelancer.log.size;
		expect(freelancer.ask('milestone.release', { milestone: 'design', amount: 1, currency: 'USD', method: 'card' })?.rejection.code).toBe('wrong-role');
		await expect(freelancer.act('milestone.submitted', { milestone: 'design', message: 'done', links: [] })).rejects.toMatchObject({ rejection: { code: 'unfunded' } });
		expect(freelancer.log.size).toBe(before);
	});

	it('reports schema errors per field, for forms', async () => {
		const { client } = await pair();
		const err = await client.act('message.posted', { text: '   ' }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(ActionRefused);
		expect((err as ActionRefused).rejection.code).toBe('bad-schema');
		expect(Object.keys((err as ActionRefused).fields)).toEqual(['text']);
	});

	it('writes a money intent only together with its receipt', async () => {
		const { client } = await pair();
		const { intent, receipt } = await client.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		expect(client.log.has(intent.id) && client.log.has(receipt.id)).toBe(true);
		await expect(client.act('milestone.fund' as never, {} as never)).rejects.toThrow(/moves money/);
	});

	it('settles hourly money through the provider: a week funded, a bonus paid, one pending action per week', async () => {
		const provider = new MockEscrowProvider();
		const info = await provider.info();
		const h = hourlyTerms();
		const { client } = await activePair({ escrow: provider, terms: { ...h, provider: { id: 'mock', publicKey: info.publicKey, testMode: true } } });
		const week = '2026-11-30';
		const fund = { week, amount: 50_000, currency: 'USD' as const, method: 'card' as const };
		const { receipt } = await client.settle('hourly.fund', fund);
		expect(client.derived().state.applied.some((e) => e.id === receipt.id)).toBe(true);
		const bonus = await client.settle('bonus.paid', { amount: 2_500, currency: 'USD', method: 'card', note: 'Thanks' });
		expect(client.log.has(bonus.receipt.id)).toBe(true);
		// The provider does not answer: the week's next funding waits, and another one for the same week is refused.
		provider.setDown(true);
		const next = { ...fund, week: '2026-12-07' };
		await expect(client.settle('hourly.fund', next)).rejects.toMatchObject({ name: 'PendingIntent' });
		await expect(client.settle('hourly.fund', { ...next, amount: 40_000 })).rejects.toBeInstanceOf(ActionRefused);
	});

	it('refuses before signing what every peer would refuse as too large, next to the longest text, and writes nothing', async () => {
		const { client, freelancer } = await pair();
		const before = client.log.size;
		// 9,000 characters fit the schema (10,000), but quotes are escaped twice once signed: about 36 KB.
		const err = await client.act('message.posted', { text: '"'.repeat(9_000) }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(ActionRefused);
		expect((err as ActionRefused).rejection.code).toBe('oversized');
		expect((err as ActionRefused).fields.text).toMatch(/^This is \d+ KB once signed, and one event can hold 32 KB/);
		expect(client.log.size).toBe(before);
		expect(freelancer.log.size).toBe(before);
		// A proposal: a long scope plus an attached profile (a JSON file, escaped twice too).
		const provider = new MockEscrowProvider();
		const info = await provider.info();
		const proposal = {
			role: 'client' as const,
			name: 'Ada',
			terms: terms({ scope: 'Scope line.\n'.repeat(1_600), provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }),
			profile: JSON.stringify({ references: Array.from({ length: 300 }, (_, i) => ({ n: i, note: 'ok' })) })
		};
		const refused = await Party.signProposal(CLIENT, proposal, Date.now()).catch((e: unknown) => e);
		expect(refused).toMatchObject({ rejection: { code: 'oversized' } });
		expect(Object.keys((refused as ActionRefused).fields)).toEqual(['terms.scope']);
		// Without the profile it fits.
		const { profile: _, ...bare } = proposal;
		expect((await Party.signProposal(CLIENT, bare, Date.now())).envelope.length).toBeLessThan(32 * 1024);
	});
});
