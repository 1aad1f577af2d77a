/**
 * Hourly escrow and bonuses on the function as Cloudflare runs it (the bundled Workers entry under
 * workerd, each contract's record in its SQLite Durable Object, Stripe answered by the fake). The
 * function's clock there is the real one, so this runs what needs no time travel: a week funded
 * into the contract's pool, the pause recorded by the contract's object, the week's unused escrow
 * refunded on that record (twice asked, once paid), and a bonus; receipts verify in the app.
 * The review window and the week's release are covered on the Node stack (hourly.test.ts), whose
 * clock moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { bundleEdge } from '../../scripts/build-edge';
import { signingBytes } from '../../src/lib/contract/envelope';
import { DEFAULT_CLOCKS } from '../../src/lib/contract/schema';
import { nextWeek, weekOf } from '../../src/lib/contract/weeks';
import { StripeEscrowAdapter } from '../../src/lib/escrow/stripe';
import { verify } from '../../src/lib/identity/ed25519';
import { activePair } from '../support/parties';
import { FREELANCER, hourlyTerms } from '../support/world';
import { FakeStripe } from './fake-stripe/fake';
import { escrowWorker, onboardThrough } from './worker-harness';

const BASE = 'http://escrow.local';
let mf: Miniflare;
const persist = mkdtempSync(join(tmpdir(), 'escrow-hourly-do-'));
const fake = new FakeStripe();

const call = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
	const res = await mf.dispatchFetch(String(input), init as never);
	return new Response(await res.text(), { status: res.status, headers: Object.fromEntries(res.headers) });
};
const adapter = () => new StripeEscrowAdapter({ url: BASE, fetch: call, paymentMethod: async () => 'pm_card_visa' });

beforeAll(async () => {
	mf = escrowWorker(await bundleEdge('worker'), persist, fake);
	await mf.ready;
	await onboardThrough(call, fake, FREELANCER);
}, 30_000);

afterAll(async () => {
	await mf?.dispose();
	rmSync(persist, { recursive: true, force: true });
});

const payloadOf = (r: { envelope: string }) => JSON.parse(JSON.parse(r.envelope).body).payload as Record<string, unknown>;

describe('hourly escrow under workerd (miniflare)', () => {
	it('next week funded, the contract paused, its unused escrow refunded once on the object’s record; a bonus paid; receipts verify', async () => {
		const info = await adapter().info();
		const terms = { ...hourlyTerms({ rate: 6_000, weeklyLimitHours: 10 }), ...DEFAULT_CLOCKS, provider: { id: info.id, publicKey: info.publicKey, testMode: true } };
		const { contract, client, freelancer } = await activePair({ escrow: adapter(), terms });
		const week = nextWeek(weekOf(Date.now()));
		const funded = await client.settle('hourly.fund', { week, amount: 60_000, currency: 'USD', method: 'card' });
		expect([...fake.paymentIntents.values()].find((p) => p.transfer_group === `${contract}:_hourly`)).toMatchObject({ metadata: { week, escrow_amount: '60000' } });
		// Paused before the week starts: none of it can be owed, so it goes back to the client.
		await client.act('hourly.paused', {});
		const reclaimed = await client.settle('hourly.reclaim', { week, currency: 'USD' });
		expect(payloadOf(reclaimed.receipt)).toMatchObject({ week, amount: 60_000, to: 'client' });
		const again = await adapter().refund({ contract, log: client.log.envelopes().map(([, e]) => e), event: reclaimed.intent.id });
		expect(again.id).toBe(reclaimed.receipt.id);
		const mine = [...fake.refunds.values()].filter((r) => (r.metadata as Record<string, string>).contract === contract);
		expect(mine.map((r) => r.amount)).toEqual([60_000]);

		const bonus = await client.settle('bonus.paid', { amount: 2_500, currency: 'USD', method: 'card', note: 'Thanks' });
		expect([...fake.transfers.values()].filter((t) => t.transfer_group === `${contract}:_bonus`).map((t) => t.amount)).toEqual([2_500]);

		await freelancer.receive(client.log.envelopes());
		for (const r of [funded.receipt, reclaimed.receipt, bonus.receipt]) {
			const env = JSON.parse(r.envelope) as { id: string; sig: string };
			expect(await verify(info.publicKey, signingBytes(env.id), env.sig)).toBe(true);
		}
		const d = freelancer.derived();
		expect(d.rejected).toEqual([]);
		expect(d.state.hourly!.weeks.get(week)).toMatchObject({ funded: 60_000, refunded: 60_000 });
		expect(d.state.bonuses).toMatchObject([{ amount: 2_500, receipt: bonus.receipt.id }]);
	}, 30_000);
});
