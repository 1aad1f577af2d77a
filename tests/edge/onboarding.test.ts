/**
 * Onboarding is the only way money leaves the platform's control (a connected account receives the
 * releases), so: it is rate-limited per key and overall; the account is found through the
 * function's key → account index (no scan of every connected account per request); the status is
 * read only with a fresh signature by the key; and the onboarding proof covers the return and
 * refresh URLs, so it cannot send the freelancer's onboarding to a page someone else chose.
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/lib/contract/encoding';
import { onboardingMessage, onboardingStatusMessage, PATHS } from '../../src/lib/escrow/protocol';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import { CLIENT, FREELANCER, keyFrom, STRANGER } from '../support/world';
import { edgeContract } from './contracts';
import { ORIGIN, stack, type Stack } from './harness';

const HOUR = 3_600_000;
const BACK = `${ORIGIN}/#/settings`;

function onboard(s: Stack, key: DeviceKey, o: { signedReturn?: string; returnUrl?: string; refreshUrl?: string; signer?: DeviceKey; at?: number } = {}) {
	const at = o.at ?? s.clock.now;
	const returnUrl = o.returnUrl ?? BACK;
	const refreshUrl = o.refreshUrl ?? BACK;
	const signature = signSync(o.signer ?? key, utf8.encode(onboardingMessage(key.publicKey, at, o.signedReturn ?? returnUrl, refreshUrl)));
	return s.call(PATHS.onboarding, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ publicKey: key.publicKey, at, signature, returnUrl, refreshUrl }) });
}

describe('onboarding', () => {
	it('is rate-limited per key and overall: past the limit nothing is created', async () => {
		const s = stack();
		s.deps.onboardingLimits = { perKey: { limit: 3, windowMs: HOUR }, overall: { limit: 5, windowMs: HOUR }, statusPerKey: { limit: 100, windowMs: HOUR } };
		for (let i = 0; i < 3; i++) expect((await onboard(s, FREELANCER)).status).toBe(200);
		const limited = await onboard(s, FREELANCER);
		expect(limited.status).toBe(429);
		expect(await limited.json()).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/Too many onboarding requests/) });
		// Other keys share the overall budget: 3 used, 2 left.
		const keys = [1, 2, 3, 4].map((i) => keyFrom(`freelancer ${i}`));
		const statuses = [];
		for (const k of keys) statuses.push((await onboard(s, k)).status);
		expect(statuses).toEqual([200, 200, 429, 429]);
		expect(s.fake.accounts.size).toBe(3);
		// An hour later the window has moved on.
		s.clock.now += HOUR + 1;
		expect((await onboard(s, FREELANCER)).status).toBe(200);
		expect(s.fake.accounts.size).toBe(3);
	});

	it('signs the return and refresh URLs: a proof for one page cannot open the onboarding for another', async () => {
		const s = stack();
		expect((await onboard(s, FREELANCER, { signedReturn: BACK, returnUrl: 'https://evil.example/' })).status).toBe(403);
		const swapped = await onboard(s, FREELANCER, { refreshUrl: 'https://evil.example/' }).then(async (r) => r.status);
		expect(swapped).toBe(200); // signed with that refresh URL: the key's owner chose it
		const at = s.clock.now;
		const signature = signSync(FREELANCER, utf8.encode(onboardingMessage(FREELANCER.publicKey, at, BACK, BACK)));
		const relayed = await s.call(PATHS.onboarding, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ publicKey: FREELANCER.publicKey, at, signature, returnUrl: BACK, refreshUrl: 'https://evil.example/' })
		});
		expect(relayed.status).toBe(403);
		expect((await onboard(s, FREELANCER, { signer: STRANGER })).status).toBe(403);
		expect((await onboard(s, FREELANCER, { at: s.clock.now - 10 * 60_000 })).status).toBe(403);
	});

	it('creates accounts that pay out only when the freelancer withdraws (no automatic schedule)', async () => {
		const s = stack();
		const account = await s.onboard(FREELANCER);
		// Automatic payouts would move released money out before its security period, beyond a reversal.
		expect((s.fake as unknown as { accounts: Map<string, { settings: unknown }> }).accounts.get(account)!.settings).toEqual({ payouts: { schedule: { interval: 'manual' } } });
	});

	it('reads the status only with a fresh signature by the key', async () => {
		const s = stack();
		const account = await s.onboard(FREELANCER);
		expect((await s.call(`${PATHS.onboardingStatus}?key=${FREELANCER.publicKey}`)).status).toBe(404);
		const post = (body: unknown) => s.call(PATHS.onboardingStatus, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
		const at = s.clock.now;
		const sig = (k: DeviceKey, when = at) => signSync(k, utf8.encode(onboardingStatusMessage(FREELANCER.publicKey, when)));
		expect((await post({ publicKey: FREELANCER.publicKey })).status).toBe(400);
		expect((await post({ publicKey: FREELANCER.publicKey, at, signature: sig(STRANGER) })).status).toBe(403);
		expect((await post({ publicKey: FREELANCER.publicKey, at: at - 10 * 60_000, signature: sig(FREELANCER, at - 10 * 60_000) })).status).toBe(403);
		// The onboarding proof is not a status proof (different message).
		const onboardingSig = signSync(FREELANCER, utf8.encode(onboardingMessage(FREELANCER.publicKey, at, BACK, BACK)));
		expect((await post({ publicKey: FREELANCER.publicKey, at, signature: onboardingSig })).status).toBe(403);
		const ok = await s.status(FREELANCER);
		expect(await ok.json()).toMatchObject({ account, transfers: 'active', payoutsEnabled: true });
		expect(await (await s.status(CLIENT)).json()).toMatchObject({ account: null, transfers: 'none' });
	});

	it('finds the account through the index: onboarding, status, release and withdrawal never list connected accounts', async () => {
		const s = stack();
		// Many other freelancers' accounts exist; none of them is read.
		for (let i = 0; i < 30; i++) await s.onboard(keyFrom(`someone ${i}`));
		const account = await s.onboard(FREELANCER);
		await s.status(FREELANCER);
		const c = await edgeContract(s);
		await c.client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
		await c.client.settle('milestone.release', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
		await c.sync();
		s.clock.now += 6 * 86_400_000;
		await c.freelancer.settle('withdrawal.requested', { amount: 50_000, currency: 'USD', method: 'bank' });
		expect([...s.fake.transfers.values()][0]).toMatchObject({ destination: account });
		expect(s.fake.requests.filter((r) => r.method === 'GET' && r.path === '/v1/accounts')).toEqual([]);
	});
});
