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
