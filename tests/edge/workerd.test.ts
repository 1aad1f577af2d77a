/**
 * The escrow function as Cloudflare runs it: the bundled Workers entry under workerd (miniflare),
 * its secrets as bindings, its record in SQLite-backed Durable Objects (one per contract, one for
 * the onboarding index), and every outbound request (to api.stripe.com) answered by the Stripe fake
 * in this process. Parties on the Node side fund and release through the app's adapter; the
 * receipts must verify with the app's own verifier against the key the function publishes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { bundleEdge } from '../../scripts/build-edge';
import { utf8 } from '../../src/lib/contract/encoding';
import { signingBytes } from '../../src/lib/contract/envelope';
import { DEFAULT_CLOCKS } from '../../src/lib/contract/schema';
import { milestone } from '../../src/lib/contract/state';
import { onboardingStatusMessage, PATHS, recordRequestMessage } from '../../src/lib/escrow/protocol';
import { StripeEscrowAdapter } from '../../src/lib/escrow/stripe';
import { signSync, verify, type DeviceKey } from '../../src/lib/identity/ed25519';
import { MemoryContract } from '../../src/lib/sync/memory-contract';
import { Party } from '../../src/lib/sync/party';
import { activePair } from '../support/parties';
import { CLIENT, FREELANCER, STRANGER } from '../support/world';
import { FakeStripe } from './fake-stripe/fake';
import { escrowWorker, onboardThrough } from './worker-harness';
import { freshNonce } from './harness';

const BASE = 'http://escrow.local';
let mf: Miniflare;
let script: string;
const persist = mkdtempSync(join(tmpdir(), 'escrow-do-'));
const fake = new FakeStripe();
const hosts = new Set<string>();

const start = (): Miniflare => escrowWorker(script, persist, fake, (url) => hosts.add(new URL(url).host));

beforeAll(async () => {
	script = await bundleEdge('worker');
	mf = start();
	await mf.ready;
	const adapter = new StripeEscrowAdapter({ url: BASE, fetch: call });
	expect(await adapter.info()).toMatchObject({ id: 'stripe', testMode: true });
	await onboardThrough(call, fake, FREELANCER);
}, 30_000);

afterAll(async () => {
	await mf?.dispose();
	rmSync(persist, { recursive: true, force: true });
});

const call = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
	const res = await mf.dispatchFetch(String(input), init as never);
	return new Response(await res.text(), { status: res.status, headers: Object.fromEntries(res.headers) });
};

const adapter = () => new StripeEscrowAdapter({ url: BASE, fetch: call, paymentMethod: async () => 'pm_card_visa' });

async function bound(amount = 25_000) {
	const a = adapter();
	const info = await a.info();
	return activePair({
		escrow: a,
		terms: { title: 'W', scope: '', currency: 'USD', milestones: [{ id: 'a', title: 'A', amount }], provider: { id: info.id, publicKey: info.publicKey, testMode: true }, ...DEFAULT_CLOCKS }
	});
}

let nonces = 0;
const readRecord = (contract: string, key: DeviceKey) => {
	const at = Date.now();
	const nonce = `workerd-nonce-${String(++nonces).padStart(8, '0')}`;
	return adapter().record({ contract, publicKey: key.publicKey, at, nonce, signature: signSync(key, utf8.encode(recordRequestMessage(contract, key.publicKey, at, nonce))) });
};

describe('escrow function under workerd (miniflare)', () => {
	it('fund → release: receipts signed in workerd verify in the app', async () => {
		const info = await adapter().info();
		const { client, freelancer } = await bound();
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
		expect([...fake.transfers.values()].find((t) => t.transfer_group === `${client.log.contract}:a`)).toMatchObject({ amount: 25_000 });
	});

	it("the contract's object merges its record: a change request left out of the claim still stops auto-release", async () => {
		const { contract, client, freelancer } = await bound();
		await client.settle('milestone.fund', { milestone: 'a', amount: 25_000, currency: 'USD', method: 'card' });
		await freelancer.receive(client.log.envelopes());
		const sub = await freelancer.act('milestone.submitted', { milestone: 'a', message: 'Done.', links: [] });
		await freelancer.attest(sub.id);
		await client.receive(freelancer.log.envelopes());
		const change = await client.act('milestone.changesRequested', { milestone: 'a', reason: 'Fix it.' });
		await client.attest(change.id);
		// The freelancer's log lacks the change request. Judged on that log alone the claim would only
		// be early ('too-early'); judged with the record it is refused for what the client did.
		await expect(freelancer.settle('milestone.autoRelease', { milestone: 'a', submission: sub.id })).rejects.toMatchObject({ code: 'not-authorised' });
		const record = await readRecord(contract, FREELANCER);
		expect(record.map((e) => JSON.parse(e).id)).toEqual(expect.arrayContaining([sub.id, change.id]));
		await expect(readRecord(contract, STRANGER)).rejects.toMatchObject({ code: 'not-authorised' });
	});

	it('release and refund sent together to the object: one goes through, never more out than in', async () => {
		const rounds = 5;
		let overpaid = 0;
		let bothWent = 0;
		let noneWent = 0;
		for (let i = 0; i < rounds; i++) {
			const { contract, client, freelancer } = await bound(100_000);
			await client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
			await freelancer.receive(client.log.envelopes());
			const results = await Promise.allSettled([
				client.settle('milestone.release', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' }),
				freelancer.settle('milestone.refund', { milestone: 'a', amount: 100_000, currency: 'USD', basis: 'freelancer' })
			]);
			if (results.every((r) => r.status === 'fulfilled')) bothWent++;
			if (results.every((r) => r.status === 'rejected')) noneWent++;
			const group = `${contract}:a`;
			const out =
				[...fake.transfers.values()].filter((t) => t.transfer_group === group).reduce((s, t) => s + (t.amount as number) - (t.amount_reversed as number), 0) +
				[...fake.refunds.values()].filter((r) => fake.charges.get(r.charge as string)!.transfer_group === group).reduce((s, r) => s + (r.amount as number), 0);
			if (out > 100_000) overpaid++;
		}
		expect({ overpaid, bothWent, noneWent }).toEqual({ overpaid: 0, bothWent: 0, noneWent: 0 });
	});

	it('onboarding status needs a fresh signature; the account is found through the index, never by listing accounts', async () => {
		const status = async (key: DeviceKey, signer = key) => {
			const at = Date.now();
			const nonce = freshNonce();
			const signature = signSync(signer, utf8.encode(onboardingStatusMessage(key.publicKey, at, nonce)));
			return call(BASE + PATHS.onboardingStatus, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ publicKey: key.publicKey, at, nonce, signature }) });
		};
		expect((await status(FREELANCER, STRANGER)).status).toBe(403);
		expect((await call(`${BASE}${PATHS.onboardingStatus}?key=${FREELANCER.publicKey}`)).status).toBe(404);
		expect(await (await status(FREELANCER)).json()).toMatchObject({ transfers: 'active', payoutsEnabled: true });
		expect(fake.requests.filter((r) => r.method === 'GET' && r.path === '/v1/accounts')).toEqual([]);
	});

	it("a contract's record outlives the isolate: SQLite storage, read back after a restart", async () => {
		const { contract, client } = await bound();
		await client.settle('milestone.fund', { milestone: 'a', amount: 25_000, currency: 'USD', method: 'card' });
		const before = await readRecord(contract, CLIENT);
		await mf.dispose();
		mf = start();
		await mf.ready;
		expect(await readRecord(contract, CLIENT)).toEqual(before);
		// A device with nothing but the record sees the funded milestone.
		const fresh = new Party(CLIENT, new MemoryContract(contract), adapter());
		const d = await fresh.receive(before.map((e) => [JSON.parse(e).id as string, e]));
		expect(milestone(d.state, 'a')).toMatchObject({ funded: 25_000 });
	}, 30_000);
});
