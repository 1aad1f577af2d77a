/**
 * The escrow function as Cloudflare runs it: the bundled Workers entry under workerd (miniflare),
 * its secrets as bindings, and every outbound request (to api.stripe.com) answered by the Stripe
 * fake in this process. Parties on the Node side fund and release through the app's adapter; the
 * receipts must verify with the app's own verifier against the key the function publishes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Miniflare, Response as MfResponse, type Request as MfRequest } from 'miniflare';
import { bundleEdge } from '../../scripts/build-edge';
import { utf8 } from '../../src/lib/contract/encoding';
import { signingBytes } from '../../src/lib/contract/envelope';
import { ContractLog } from '../../src/lib/contract/log';
import { DEFAULT_CLOCKS } from '../../src/lib/contract/schema';
import { milestone } from '../../src/lib/contract/state';
import { onboardingMessage, PATHS } from '../../src/lib/escrow/protocol';
import { StripeEscrowAdapter } from '../../src/lib/escrow/stripe';
import { signSync, verify } from '../../src/lib/identity/ed25519';
import { Party } from '../../src/lib/sync/party';
import { CLIENT, FREELANCER } from '../support/world';
import { FakeStripe } from './fake-stripe/fake';
import { ORIGIN, SIGNING_SEED, WEBHOOK_SECRET } from './harness';

const BASE = 'http://escrow.local';
let mf: Miniflare;
const fake = new FakeStripe();
const hosts = new Set<string>();

beforeAll(async () => {
	mf = new Miniflare({
		modules: true,
		script: await bundleEdge('worker'),
		compatibilityDate: '2026-04-01',
		bindings: { STRIPE_SECRET_KEY: 'sk_test_workerdRunsAgainstTheFake', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ESCROW_SIGNING_SEED: SIGNING_SEED, ALLOWED_ORIGINS: ORIGIN },
		outboundService: async (req: MfRequest) => {
			hosts.add(new URL(req.url).host);
			const res = await fake.fetch(req.url, { method: req.method, headers: Object.fromEntries(req.headers), body: req.method === 'GET' ? undefined : await req.text() });
			return new MfResponse(await res.text(), { status: res.status, headers: Object.fromEntries(res.headers) });
		}
	});
	await mf.ready;
}, 30_000);

afterAll(async () => {
	await mf?.dispose();
});

const call = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
	const res = await mf.dispatchFetch(String(input), init as never);
	return new Response(await res.text(), { status: res.status, headers: Object.fromEntries(res.headers) });
};

describe('escrow function under workerd (miniflare)', () => {
	it('fund → release: receipts signed in workerd verify in the app', async () => {
		const adapter = new StripeEscrowAdapter({ url: BASE, fetch: call, paymentMethod: async () => 'pm_card_visa' });
		const info = await adapter.info();
		expect(info).toMatchObject({ id: 'stripe', testMode: true });

		const at = Date.now();
		const proof = { publicKey: FREELANCER.publicKey, at, signature: signSync(FREELANCER, utf8.encode(onboardingMessage(FREELANCER.publicKey, at))), returnUrl: `${ORIGIN}/`, refreshUrl: `${ORIGIN}/` };
		const onboarded = await call(BASE + PATHS.onboarding, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(proof) });
		expect(onboarded.status).toBe(200);
		fake.completeOnboarding(((await onboarded.json()) as { account: string }).account);

		const id = 'workerd-contract-000001';
		const client = new Party(CLIENT, new ContractLog(id), adapter);
		const freelancer = new Party(FREELANCER, new ContractLog(id), adapter);
		const proposal = await client.act('contract.proposed', {
			role: 'client',
			name: 'Ada',
			terms: { title: 'W', scope: '', currency: 'USD', milestones: [{ id: 'a', title: 'A', amount: 25_000 }], provider: { id: info.id, publicKey: info.publicKey, testMode: true }, ...DEFAULT_CLOCKS }
		});
		await freelancer.receive(client.log.envelopes());
		await freelancer.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
		await client.receive(freelancer.log.envelopes());

		const funded = await client.settle('milestone.fund', { milestone: 'a', amount: 25_000, currency: 'USD', method: 'card' });
		const released = await client.settle('milestone.release', { milestone: 'a', amount: 25_000, currency: 'USD', method: 'card' });
		await freelancer.receive(client.log.envelopes());

		for (const r of [funded.receipt, released.receipt]) {
			const env = JSON.parse(r.envelope) as { id: string; body: string; sig: string };
			expect(JSON.parse(env.body).author).toBe(info.publicKey);
			expect(await verify(info.publicKey, signingBytes(env.id), env.sig)).toBe(true);
		}
		for (const p of [client, freelancer]) {
			const d = p.derived();
			expect(d.rejected).toEqual([]);
			expect(milestone(d.state, 'a')).toMatchObject({ funded: 25_000, released: 25_000 });
		}
		expect(hosts).toEqual(new Set(['api.stripe.com']));
		expect([...fake.transfers.values()][0]).toMatchObject({ amount: 25_000, transfer_group: `${id}:a` });
	});
});
