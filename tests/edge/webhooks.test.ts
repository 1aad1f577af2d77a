/**
 * Stripe webhooks against the function: signature and timestamp checks, duplicates and out-of-order
 * deliveries. The events are the ones the Stripe fake emitted while money moved, signed the way
 * Stripe signs deliveries.
 */
import { describe, expect, it } from 'vitest';
import { PATHS } from '../../src/lib/escrow/protocol';
import { Party } from '../../src/lib/sync/party';
import { FREELANCER } from '../support/world';
import { edgeContract } from './contracts';
import { signedHeader, stack, type Stack } from './harness';

async function fundedContract(s: Stack) {
	const { client } = await edgeContract(s, 100_000, 'Hooks');
	await client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
	const charge = [...s.fake.charges.values()].find((c) => c.status === 'succeeded')!;
	const pi = s.fake.paymentIntents.get(charge.payment_intent as string)!;
	return { client, charge, pi };
}

async function deliver(s: Stack, event: unknown, o: { timestampS?: number; header?: string } = {}) {
	const payload = JSON.stringify(event);
	const header = o.header ?? (await signedHeader(payload, o.timestampS ?? Math.floor(s.clock.now / 1000)));
	// Stripe's servers send no Origin header.
	return s.handler(new Request(`https://escrow.milestone.test${PATHS.webhook}`, { method: 'POST', headers: { 'stripe-signature': header, 'content-type': 'application/json' }, body: payload }));
}

const lastEvent = (s: Stack, type: string) => [...s.fake.events].reverse().find((e) => e.type === type)!;
const release = (p: Party) => p.settle('milestone.release', { milestone: 'a', amount: 10_000, currency: 'USD', method: 'card' });

describe('Stripe webhooks', () => {
	it('a valid dispute.created holds releases until dispute.closed arrives', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		const { client, charge, pi } = await fundedContract(s);
		const dispute = s.fake.openDispute(charge.id);
		const created = await deliver(s, lastEvent(s, 'charge.dispute.created'));
		expect(created.status).toBe(200);
		expect(await created.json()).toMatchObject({ type: 'charge.dispute.created', applied: true });
		expect((pi.metadata as Record<string, string>).disputed).toBe('1');
		await expect(release(client)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/dispute/) });
		expect(s.fake.transfers.size).toBe(0);
		s.fake.closeDispute(dispute.id, 'won');
		expect(await (await deliver(s, lastEvent(s, 'charge.dispute.closed'))).json()).toMatchObject({ applied: true });
		await release(client);
		expect(s.fake.transfers.size).toBe(1);
	});

	it('refuses a bad signature and changes nothing', async () => {
		const s = stack();
		const { charge, pi } = await fundedContract(s);
		s.fake.openDispute(charge.id);
		const event = lastEvent(s, 'charge.dispute.created');
		const forged = await signedHeader(JSON.stringify(event), Math.floor(s.clock.now / 1000), 'whsec_notTheEndpointSecret');
		const res = await deliver(s, event, { header: forged });
		expect(res.status).toBe(403);
		const body = await res.text();
		expect(JSON.parse(body)).toMatchObject({ code: 'not-authorised' });
		expect(body).not.toMatch(/whsec_|v1=/);
		expect((await deliver(s, event, { header: 'garbage' })).status).toBe(403);
		expect((pi.metadata as Record<string, string>).disputed).toBeUndefined();
	});

	it('refuses a stale timestamp (a replayed delivery)', async () => {
		const s = stack();
		const { charge, pi } = await fundedContract(s);
		s.fake.openDispute(charge.id);
		const res = await deliver(s, lastEvent(s, 'charge.dispute.created'), { timestampS: Math.floor(s.clock.now / 1000) - 10 * 60 });
		expect(res.status).toBe(403);
		expect((pi.metadata as Record<string, string>).disputed).toBeUndefined();
	});

	it('a duplicate delivery of the same event changes nothing the second time', async () => {
		const s = stack();
		const { charge, pi } = await fundedContract(s);
		s.fake.openDispute(charge.id);
		const event = lastEvent(s, 'charge.dispute.created');
		expect(await (await deliver(s, event)).json()).toMatchObject({ id: event.id, applied: true });
		const updates = s.fake.requests.filter((r) => r.method === 'POST' && r.path === `/v1/payment_intents/${pi.id}`).length;
		expect(await (await deliver(s, event)).json()).toMatchObject({ id: event.id, applied: false });
		expect(s.fake.requests.filter((r) => r.method === 'POST' && r.path === `/v1/payment_intents/${pi.id}`).length).toBe(updates);
		expect((pi.metadata as Record<string, string>).disputed).toBe('1');
	});

	it('out of order: dispute.closed delivered before dispute.created ends with the dispute closed', async () => {
		const s = stack();
		const { charge, pi } = await fundedContract(s);
		const dispute = s.fake.openDispute(charge.id);
		const created = lastEvent(s, 'charge.dispute.created');
		s.fake.closeDispute(dispute.id, 'lost');
		const closed = lastEvent(s, 'charge.dispute.closed');
		await deliver(s, closed);
		await deliver(s, created);
		expect((pi.metadata as Record<string, string>).disputed ?? '0').toBe('0');
	});

	it('acknowledges the other subscribed events without writing (Stripe objects are read live)', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		await fundedContract(s);
		for (const type of ['payment_intent.succeeded', 'account.updated']) {
			const res = await deliver(s, lastEvent(s, type));
			expect(res.status).toBe(200);
			expect(await res.json()).toMatchObject({ type, applied: false });
		}
	});
});
