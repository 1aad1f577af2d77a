import { describe, expect, it } from 'vitest';
import { ConfigError, depsFromEnv } from '../../src/edge/config';
import { SIGNING_SEED, WEBHOOK_SECRET } from './harness';

const good = { STRIPE_SECRET_KEY: 'sk_live_abcDEF123', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ESCROW_SIGNING_SEED: SIGNING_SEED, ALLOWED_ORIGINS: 'https://a.example, https://b.example' };

describe('escrow function configuration', () => {
	it('reads its secrets and origins; a live key is not test mode', () => {
		const d = depsFromEnv(good);
		expect(d.testMode).toBe(false);
		expect(d.origins).toEqual(['https://a.example', 'https://b.example']);
		expect(d.key.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
	});

	it('names a missing or malformed secret without echoing its value', () => {
		for (const [name, value] of [
			['STRIPE_SECRET_KEY', 'pk_live_publishableNotSecret'],
			['STRIPE_WEBHOOK_SECRET', 'nope-secret-value'],
			['ESCROW_SIGNING_SEED', 'c2hvcnQ']
		] as const) {
			let err: unknown;
			try {
				depsFromEnv({ ...good, [name]: value });
			} catch (e) {
				err = e;
			}
			expect(err).toBeInstanceOf(ConfigError);
			expect((err as Error).message).toContain(name);
			expect((err as Error).message).not.toContain(value);
		}
	});
});
