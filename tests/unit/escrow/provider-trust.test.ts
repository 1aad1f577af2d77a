import { describe, expect, it } from 'vitest';
import { TEST_MODE_KEY } from '../../../src/lib/escrow/mock';
import { isTestModeKey, judgeProvider } from '../../../src/lib/escrow/provider-trust';
import { CLIENT, PROVIDER } from '../../support/world';

describe('the escrow provider named in the terms is checked before accepting', () => {
	it('accepts the published TEST MODE key only as test mode', () => {
		expect(judgeProvider({ id: 'mock', publicKey: TEST_MODE_KEY.publicKey, testMode: true }, { kind: 'mock' })).toMatchObject({ ok: true, testMode: true });
		// The proposer labels the public test key as real money: refused, whatever the flag says.
		expect(judgeProvider({ id: 'mock', publicKey: TEST_MODE_KEY.publicKey, testMode: false }, { kind: 'mock' }).ok).toBe(false);
		expect(judgeProvider({ id: 'stripe', publicKey: TEST_MODE_KEY.publicKey, testMode: false }, { kind: 'stripe', publicKey: TEST_MODE_KEY.publicKey, testMode: false, name: 'x' }).ok).toBe(false);
	});

	it('refuses a key the proposer chose (its own key posing as a provider)', () => {
		const own = judgeProvider({ id: 'mock', publicKey: CLIENT.publicKey, testMode: true }, { kind: 'mock' });
		expect(own.ok).toBe(false);
		const asStripe = judgeProvider({ id: 'stripe', publicKey: CLIENT.publicKey, testMode: false }, { kind: 'mock' });
		expect(asStripe.ok).toBe(false);
		if (!asStripe.ok) expect(asStripe.reason).toMatch(/Settings → Escrow provider/);
	});

	it('accepts the Stripe function this person set up, with test mode from its own answer', () => {
		const mine = { kind: 'stripe' as const, publicKey: PROVIDER.publicKey, testMode: false, name: 'Stripe Connect escrow' };
		// The proposer claims test mode; the function this person configured says live: live it is.
		expect(judgeProvider({ id: 'stripe', publicKey: PROVIDER.publicKey, testMode: true }, mine)).toMatchObject({ ok: true, testMode: false });
		expect(judgeProvider({ id: 'stripe', publicKey: CLIENT.publicKey, testMode: false }, mine).ok).toBe(false);
		expect(isTestModeKey(PROVIDER.publicKey)).toBe(false);
	});
});
