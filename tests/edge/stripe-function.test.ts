/**
 * What the Stripe escrow function does in Stripe, beyond the adapter contract: which objects it
 * creates and how they are tied together, that Stripe's own books (not the log) bound every
 * movement, that retries reuse the same Stripe objects, and the HTTP surface (validation, CORS,
 * error shape, no secrets).
 */
import { describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { DAY_MS, milestone } from '../../src/lib/contract/state';
import { onboardingMessage, PATHS } from '../../src/lib/escrow/protocol';
import { signSync } from '../../src/lib/identity/ed25519';
import { utf8 } from '../../src/lib/contract/encoding';
import { MemoryContract } from '../../src/lib/sync/memory-contract';
import { Party } from '../../src/lib/sync/party';
import { CLIENT, FREELANCER, STRANGER } from '../support/world';
import { edgeContract } from './contracts';
import { BASE, freshNonce, ORIGIN, stack, type Stack } from './harness';
import { FakeStripe } from './fake-stripe/fake';

const contract = (s: Stack, amount = 100_000) => edgeContract(s, amount);

const fund = (p: Party, amount = 100_000) => p.settle('milestone.fund', { milestone: 'a', amount, currency: 'USD', method: 'card' });
const release = (p: Party, amount: number) => p.settle('milestone.release', { milestone: 'a', amount, currency: 'USD', method: 'card' });

describe('Stripe escrow function: what it does in Stripe', () => {
	it('funds with one PaymentIntent for escrow + fee, grouped and labelled for the milestone', async () => {
		const s = stack();
		const c = await contract(s);
		const { intent } = await fund(c.client);
		const quote = await s.adapter.quoteFunding(100_000, 'USD', 'card');
		const [pi] = [...s.fake.paymentIntents.values()];
		expect(pi).toMatchObject({ amount: quote.total, currency: 'usd', status: 'succeeded', transfer_group: `${c.id}:a` });
		expect(pi!.metadata).toMatchObject({ contract: c.id, milestone: 'a', intent: intent.id, escrow_amount: '100000', fee: String(quote.fee) });
		expect(pi!.payment_method_types).toEqual(['card']);
	});

	it('releases with a Transfer to the freelancer account, from the funding charge, keyed by the intent', async () => {
		const s = stack();
		const account = await s.onboard(FREELANCER);
		const c = await contract(s);
		await fund(c.client);
		const { intent } = await release(c.client, 60_000);
		const [charge] = [...s.fake.charges.values()];
		const [t] = [...s.fake.transfers.values()];
		expect(t).toMatchObject({ amount: 60_000, destination: account, source_transaction: charge!.id, transfer_group: `${c.id}:a` });
		expect(t!.metadata).toMatchObject({ intent: intent.id, contract: c.id });
		// A retry of the same intent reuses the transfer: no second movement of money.
		await s.adapter.release({ contract: c.id, log: c.client.log.envelopes().map(([, e]) => e), event: intent.id });
		expect(s.fake.transfers.size).toBe(1);
	});

	it('a release larger than one charge draws on several charges, one Transfer each, one receipt', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		const c = await contract(s);
		await fund(c.client);
		await c.sync();
		// Part of the escrow goes back, then the client tops the milestone up again: two charges.
		await c.freelancer.settle('milestone.refund', { milestone: 'a', amount: 60_000, currency: 'USD', basis: 'freelancer' });
		await c.sync();
		s.clock.now += 1_000;
		await fund(c.client, 60_000);
		const { receipt } = await release(c.client, 100_000);
		const transfers = [...s.fake.transfers.values()];
		expect(transfers.map((t) => t.amount).sort()).toEqual([40_000, 60_000]);
		expect(new Set(transfers.map((t) => t.source_transaction)).size).toBe(2);
		expect(JSON.parse(JSON.parse(receipt.envelope).body).payload).toMatchObject({ amount: 100_000, auto: false });
		expect(milestone(c.client.derived().state, 'a')).toMatchObject({ funded: 160_000, refunded: 60_000, released: 100_000 });
	});

	it('a refund retried with the same intent returns the same receipt and refunds once', async () => {
		const s = stack();
		const c = await contract(s);
		await fund(c.client);
		await c.sync();
		const { intent, receipt } = await c.freelancer.settle('milestone.refund', { milestone: 'a', amount: 25_000, currency: 'USD', basis: 'freelancer' });
		s.clock.now += 60_000;
		const again = await s.adapter.refund({ contract: c.id, log: c.freelancer.log.envelopes().map(([, e]) => e), event: intent.id });
		expect(again.id).toBe(receipt.id);
		expect(s.fake.refunds.size).toBe(1);
	});

	it('refuses to release before the freelancer finished onboarding, and moves nothing', async () => {
		const s = stack();
		const c = await contract(s);
		await fund(c.client);
		await expect(release(c.client, 10_000)).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/onboarding/) });
		expect(s.fake.transfers.size).toBe(0);
	});

	it('reads funded, released and refunded from Stripe: a refund after a partial release refunds only what is held', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		const c = await contract(s);
		await fund(c.client);
		// A second device of the client that will not see what happens next: only Stripe's books can stop it.
		const stale = new Party(CLIENT, new MemoryContract(c.id), s.adapter, () => s.clock.now);
		await stale.receive(c.client.log.envelopes());
		await release(c.client, 70_000);
		await c.sync();
		// The freelancer may refund the client at any time (basis: freelancer).
		await c.freelancer.settle('milestone.refund', { milestone: 'a', amount: 30_000, currency: 'USD', basis: 'freelancer' });
		const [charge] = [...s.fake.charges.values()];
		expect(charge).toMatchObject({ amount_refunded: 30_000 });
		expect(milestone(c.freelancer.derived().state, 'a')).toMatchObject({ funded: 100_000, released: 70_000, refunded: 30_000 });
		await expect(release(stale, 1)).rejects.toMatchObject({ code: 'unfunded' });
		expect(s.fake.transfers.size).toBe(1);
	});

	it('a declined card leaves the PaymentIntent to be confirmed again by the next attempt', async () => {
		const s = stack();
		const c = await contract(s);
		s.fake.failNext('card_declined');
		await expect(fund(c.client)).rejects.toMatchObject({ code: 'declined' });
		await fund(c.client);
		expect(s.fake.paymentIntents.size).toBe(1);
		expect([...s.fake.charges.values()].map((ch) => ch.status).sort()).toEqual(['failed', 'succeeded']);
	});

	it('a Stripe timeout is reported as a timeout and changes nothing', async () => {
		const s = stack({ timeoutMs: 100 });
		const c = await contract(s);
		s.fake.failNext('timeout');
		await expect(fund(c.client)).rejects.toMatchObject({ code: 'timeout' });
		expect(s.fake.paymentIntents.size).toBe(0);
		expect(milestone(c.client.derived().state, 'a')!.funded).toBe(0);
	});

	it('a payment that needs 3-D Secure answers payment-required with the client secret; the adapter hands it to Stripe.js', async () => {
		const s = stack();
		const c = await contract(s);
		const { StripeEscrowAdapter } = await import('../../src/lib/escrow/stripe');
		const secrets: string[] = [];
		const adapter = new StripeEscrowAdapter({
			url: BASE,
			fetch: (input, init) => s.handler(new Request(input, init)),
			paymentMethod: async () => 'pm_card_authenticationRequired',
			// What Stripe.js does after the customer authenticates: the PaymentIntent succeeds.
			completePayment: async (secret) => {
				secrets.push(secret);
				const pi = [...s.fake.paymentIntents.values()][0]!;
				const stripe = new Stripe('sk_test_x', { httpClient: Stripe.createFetchHttpClient(s.fake.fetch), maxNetworkRetries: 0 });
				pi.status = 'requires_confirmation';
				await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
			}
		});
		const payer = new Party(CLIENT, c.client.store, adapter, () => s.clock.now);
		await fund(payer);
		expect(secrets[0]).toMatch(/^pi_.+_secret_/);
		expect(milestone(payer.derived().state, 'a')!.funded).toBe(100_000);
	});

	it('pays out the net of the quoted fee from the connected account, after the security period', async () => {
		const s = stack();
		const account = await s.onboard(FREELANCER);
		const c = await contract(s);
		await fund(c.client);
		await release(c.client, 100_000);
		await c.sync();
		const stale = new Party(FREELANCER, new MemoryContract(c.id), s.adapter, () => s.clock.now);
		await stale.receive(c.freelancer.log.envelopes());
		s.clock.now += 5 * DAY_MS;
		const q = await s.adapter.quoteWithdrawal(40_000, 'USD', 'bank');
		await c.freelancer.settle('withdrawal.requested', { amount: 40_000, currency: 'USD', method: 'bank' });
		const [payout] = [...s.fake.payouts.values()];
		expect(payout).toMatchObject({ amount: q.net, account, status: 'pending' });
		expect(s.fake.requests.filter((r) => r.path === '/v1/payouts' && r.method === 'POST').every((r) => r.account === account)).toBe(true);
		await expect(stale.settle('withdrawal.requested', { amount: 60_001, currency: 'USD', method: 'bank' })).rejects.toMatchObject({ code: 'insufficient-balance' });
	});

	it('records a submission in its own record (not in Stripe metadata), and a retry gets the same receipt', async () => {
		const s = stack();
		const c = await contract(s);
		await fund(c.client);
		await c.sync();
		const sub = await c.freelancer.act('milestone.submitted', { milestone: 'a', message: 'done', links: [] });
		const log = c.freelancer.log.envelopes().map(([, e]) => e);
		const first = await s.adapter.attest({ contract: c.id, log, event: sub.id });
		s.clock.now += 60_000;
		const again = await s.adapter.attest({ contract: c.id, log, event: sub.id });
		expect(again).toEqual(first);
		const record = await s.records!.open(c.id);
		const ids = await record.ids();
		expect(ids.has(sub.id) && ids.has(first.id)).toBe(true);
		const pi = [...s.fake.paymentIntents.values()][0]!;
		expect(Object.keys(pi.metadata as Record<string, string>).filter((k) => /^(att|chg)_/.test(k))).toEqual([]);
	});
});

describe('StripeEscrowAdapter on a broken or unreachable function', () => {
	it('reports unavailable, never a refusal, for network errors, non-JSON and malformed answers', async () => {
		const { StripeEscrowAdapter } = await import('../../src/lib/escrow/stripe');
		const req = { contract: 'c'.repeat(16), log: [], event: 'e'.repeat(43) };
		const answers: (() => Promise<Response>)[] = [
			() => Promise.reject(new TypeError('fetch failed')),
			async () => new Response('<html>502</html>', { status: 502 }),
			async () => Response.json({ id: 'short', envelope: '' }),
			async () => Response.json({ code: 'something-new', message: 'x' }, { status: 500 })
		];
		for (const answer of answers) {
			const adapter = new StripeEscrowAdapter({ url: BASE, fetch: answer });
			await expect(adapter.release(req)).rejects.toMatchObject({ name: 'EscrowError', code: 'unavailable' });
		}
	});
});

describe('Stripe fake honours idempotency keys like Stripe', () => {
	it('same key and parameters → the same object; other parameters → idempotency_error', async () => {
		const fake = new FakeStripe();
		const stripe = new Stripe('sk_test_x', { httpClient: Stripe.createFetchHttpClient(fake.fetch), maxNetworkRetries: 0 });
		const a = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' }, { idempotencyKey: 'k1' });
		const b = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' }, { idempotencyKey: 'k1' });
		expect(b.id).toBe(a.id);
		await expect(stripe.paymentIntents.create({ amount: 2000, currency: 'usd' }, { idempotencyKey: 'k1' })).rejects.toMatchObject({ type: 'StripeIdempotencyError' });
		expect(fake.paymentIntents.size).toBe(1);
	});
});

describe('Stripe escrow function: HTTP surface', () => {
	it('validates input with a JSON { code, message } error', async () => {
		const s = stack();
		const bad = await s.call(PATHS.fund, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contract: 'x', log: [], event: 'y' }) });
		expect(bad.status).toBe(400);
		expect(await bad.json()).toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/contract/) });
		const notJson = await s.call(PATHS.release, { method: 'POST', body: '{' });
		expect(await notJson.json()).toMatchObject({ code: 'invalid-request' });
		const nope = await s.call('/admin');
		expect(nope.status).toBe(404);
	});

	it('answers CORS only for configured origins', async () => {
		const s = stack();
		const ok = await s.handler(new Request(BASE + PATHS.key, { method: 'OPTIONS', headers: { origin: ORIGIN } }));
		expect(ok.status).toBe(204);
		expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
		const evil = await s.handler(new Request(BASE + PATHS.key, { headers: { origin: 'https://evil.example' } }));
		expect(evil.status).toBe(403);
		expect(evil.headers.get('access-control-allow-origin')).toBeNull();
	});

	it('serves its public key, never a secret', async () => {
		const s = stack();
		const res = await s.call(PATHS.key);
		const text = await res.text();
		expect(JSON.parse(text)).toMatchObject({ id: 'stripe', publicKey: s.deps.key.publicKey, testMode: true });
		for (const secret of ['sk_test_', 'whsec_', s.deps.key.seed]) expect(text).not.toContain(secret);
	});

	it('onboards only with a fresh proof signed by the freelancer key', async () => {
		const s = stack();
		const at = s.clock.now;
		const body = (signer = FREELANCER, when = at, nonce = freshNonce()) => ({
			publicKey: FREELANCER.publicKey,
			at: when,
			nonce,
			signature: signSync(signer, utf8.encode(onboardingMessage(FREELANCER.publicKey, when, `${ORIGIN}/`, `${ORIGIN}/`, nonce))),
			returnUrl: `${ORIGIN}/`,
			refreshUrl: `${ORIGIN}/`
		});
		const post = (b: unknown) => s.call(PATHS.onboarding, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
		expect((await post(body(STRANGER))).status).toBe(403);
		expect((await post(body(FREELANCER, at - 10 * 60_000))).status).toBe(403);
		const res = await post(body());
		expect(res.status).toBe(200);
		const { account, url } = (await res.json()) as { account: string; url: string };
		expect(url).toMatch(/^https:\/\/connect\.stripe\.com\//);
		// Asking again finds the same account (through the key → account index), with a new link.
		expect(((await (await post(body())).json()) as { account: string }).account).toBe(account);
		expect(s.fake.accounts.size).toBe(1);
		const status = async () => (await s.status(FREELANCER)).json();
		expect(await status()).toMatchObject({ account, transfers: 'inactive', payoutsEnabled: false });
		s.fake.completeOnboarding(account);
		expect(await status()).toMatchObject({ account, transfers: 'active', payoutsEnabled: true, detailsSubmitted: true });
	});
});
