/**
 * Smoke test against real Stripe test mode. Runs only when STRIPE_TEST_SECRET_KEY (an sk_test_ key)
 * is set; offline it is skipped. It funds a milestone with Stripe's test card, refunds it, checks
 * both receipts verify, and creates a recipient account with an onboarding link. Releases need a
 * connected account that finished onboarding, which a test cannot do unattended: not covered here.
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/lib/contract/encoding';
import { signingBytes } from '../../src/lib/contract/envelope';
import { DEFAULT_CLOCKS } from '../../src/lib/contract/schema';
import { milestone } from '../../src/lib/contract/state';
import { depsFromEnv } from '../../src/edge/config';
import { createHandler } from '../../src/edge/handler';
import { onboardingMessage, PATHS } from '../../src/lib/escrow/protocol';
import { StripeEscrowAdapter } from '../../src/lib/escrow/stripe';
import { signSync, verify } from '../../src/lib/identity/ed25519';
import { activePair } from '../support/parties';
import { FREELANCER } from '../support/world';
import { freshNonce, ORIGIN, SIGNING_SEED, WEBHOOK_SECRET } from './harness';

const key = process.env.STRIPE_TEST_SECRET_KEY;

describe('real Stripe test mode (STRIPE_TEST_SECRET_KEY)', () => {
	it.skipIf(!key)('funds with the test card, refunds, onboards: receipts verify', async () => {
		if (!key?.startsWith('sk_test_') && !key?.startsWith('rk_test_')) throw new Error('STRIPE_TEST_SECRET_KEY must be a test-mode key.');
		const handler = createHandler(depsFromEnv({ STRIPE_SECRET_KEY: key, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ESCROW_SIGNING_SEED: SIGNING_SEED, ALLOWED_ORIGINS: ORIGIN }));
		const adapter = new StripeEscrowAdapter({ url: 'https://escrow.local', fetch: (i, init) => handler(new Request(i, init)), paymentMethod: async () => 'pm_card_visa' });
		const info = await adapter.info();
		const { client, freelancer } = await activePair({ escrow: adapter, terms: { title: 'Smoke', scope: '', currency: 'USD', milestones: [{ id: 'a', title: 'A', amount: 1_000 }], provider: { id: info.id, publicKey: info.publicKey, testMode: true }, ...DEFAULT_CLOCKS } });
		const funded = await client.settle('milestone.fund', { milestone: 'a', amount: 1_000, currency: 'USD', method: 'card' });
		await freelancer.receive(client.log.envelopes());
		const refunded = await freelancer.settle('milestone.refund', { milestone: 'a', amount: 1_000, currency: 'USD', basis: 'freelancer' });
		for (const r of [funded.receipt, refunded.receipt]) {
			const env = JSON.parse(r.envelope) as { id: string; sig: string };
			expect(await verify(info.publicKey, signingBytes(env.id), env.sig)).toBe(true);
		}
		expect(milestone(freelancer.derived().state, 'a')).toMatchObject({ funded: 1_000, refunded: 1_000 });
		const at = Date.now();
		const nonce = freshNonce();
		const res = await handler(
			new Request(`https://escrow.local${PATHS.onboarding}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ publicKey: FREELANCER.publicKey, at, nonce, signature: signSync(FREELANCER, utf8.encode(onboardingMessage(FREELANCER.publicKey, at, `${ORIGIN}/`, `${ORIGIN}/`, nonce))), returnUrl: `${ORIGIN}/`, refreshUrl: `${ORIGIN}/` })
			})
		);
		expect(res.status).toBe(200);
		expect(((await res.json()) as { url: string }).url).toMatch(/^https:\/\/connect\.stripe\.com\//);
	}, 60_000);
});
