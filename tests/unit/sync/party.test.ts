import { describe, expect, it } from 'vitest';
import { ContractLog } from '../../../src/lib/contract/log';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { ActionRefused, Party } from '../../../src/lib/sync/party';
import { activePair } from '../../support/parties';
import { CLIENT, FREELANCER, terms } from '../../support/world';

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
});
