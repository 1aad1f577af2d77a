/**
 * Issue 13 on the escrow function as Cloudflare runs it (workerd via miniflare, the bundled Worker,
 * one SQLite Durable Object per contract), Stripe answered by the in-process fake: a person's
 * certified devices act and read the record; once the function recorded a device's revocation, that
 * device's money intent is refused by the function itself and so is its record request. And a
 * dispute's outcome is split there, from the contract's own object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { bundleEdge } from '../../scripts/build-edge';
import { DEFAULT_CLOCKS } from '../../src/lib/contract/schema';
import { milestone } from '../../src/lib/contract/state';
import { StripeEscrowAdapter } from '../../src/lib/escrow/stripe';
import { certifyDeviceSync, readCertificate, revokeDevice } from '../../src/lib/identity/certificate';
import type { DeviceKey } from '../../src/lib/identity/ed25519';
import * as disputes from '../../src/lib/sync/dispute-actions';
import { MemoryContract } from '../../src/lib/sync/memory-contract';
import { Party } from '../../src/lib/sync/party';
import { CLIENT, CLIENT_LAPTOP, CLIENT_PHONE, FREELANCER, MEDIATOR } from '../support/world';
import { disputed } from './dispute-setup';
import { FakeStripe } from './fake-stripe/fake';
import { escrowWorker, onboardThrough } from './worker-harness';

const BASE = 'http://escrow.local';
let mf: Miniflare;
const persist = mkdtempSync(join(tmpdir(), 'escrow-devices-'));
const fake = new FakeStripe();

const call = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
	const res = await mf.dispatchFetch(String(input), init as never);
	return new Response(await res.text(), { status: res.status, headers: Object.fromEntries(res.headers) });
};
const adapter = () => new StripeEscrowAdapter({ url: BASE, fetch: call, paymentMethod: async () => 'pm_card_visa' });

const onboard = (key: DeviceKey): Promise<string> => onboardThrough(call, fake, key);

beforeAll(async () => {
	mf = escrowWorker(await bundleEdge('worker'), persist, fake);
	await mf.ready;
	await onboard(FREELANCER);
	await onboard(MEDIATOR);
}, 60_000);

afterAll(async () => {
	await mf?.dispose();
	rmSync(persist, { recursive: true, force: true });
});

/** The client on two certified devices (laptop, phone), the freelancer on its identity key; milestone 'a' funded from the laptop. */
async function onDevices() {
	const a = adapter();
	const info = await a.info();
	const now = Date.now();
	const laptopCert = certifyDeviceSync(CLIENT, { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: now });
	const phoneCert = certifyDeviceSync(CLIENT, { device: CLIENT_PHONE.publicKey, name: 'Phone', created: now });
	const terms = { title: 'W', scope: '', currency: 'USD' as const, milestones: [{ id: 'a', title: 'A', amount: 40_000 }], provider: { id: info.id, publicKey: info.publicKey, testMode: true }, ...DEFAULT_CLOCKS };
	const { party: laptop, proposal } = await Party.propose(CLIENT_LAPTOP, a, { role: 'client', name: 'Ada', terms }, { certificate: laptopCert });
	const contract = laptop.log.contract;
	const freelancer = new Party(FREELANCER, new MemoryContract(contract), a);
	await freelancer.receive(laptop.log.envelopes());
	const acceptance = await freelancer.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
	await laptop.receive(freelancer.log.envelopes());
	expect((await laptop.countersign(acceptance.id)).recorded).toBe(true);
	await laptop.settle('milestone.fund', { milestone: 'a', amount: 40_000, currency: 'USD', method: 'card' });
	const phone = await new Party(CLIENT_PHONE, new MemoryContract(contract), a).actAs(phoneCert);
	await phone.receive(laptop.log.envelopes());
	return { contract, laptop, phone, freelancer, laptopCert };
}

const transferred = (contract: string) => [...fake.transfers.values()].filter((t) => t.transfer_group === `${contract}:a`).reduce((n, t) => n + (t.amount as number), 0);

describe('devices under workerd', () => {
	it('a certified device reads the record with its key and certificate', async () => {
		const { laptop, phone, freelancer } = await onDevices();
		await freelancer.receive(laptop.log.envelopes());
		const sub = await freelancer.act('milestone.submitted', { milestone: 'a', message: 'Done.', links: [] });
		expect(phone.log.has(sub.id)).toBe(false);
		expect(await phone.fetchRecord()).toBeGreaterThan(0);
		expect(phone.log.has(sub.id)).toBe(true);
	}, 30_000);

	it('once the function recorded the revocation, the revoked device’s release and record request are refused; the other device releases', async () => {
		const { contract, laptop, phone, laptopCert } = await onDevices();
		// The laptop is stolen: from the phone, the person revokes it with the identity key.
		const revocation = await revokeDevice(CLIENT, phone.log, readCertificate(laptopCert.envelope), Date.now());
		await phone.publish([revocation]);
		await phone.attest(revocation.id);
		// The thief's laptop never saw the revocation; the contract's object did.
		const before = laptop.log.size;
		await expect(laptop.settle('milestone.release', { milestone: 'a', amount: 40_000, currency: 'USD', method: 'card' })).rejects.toMatchObject({
			code: 'not-authorised',
			message: expect.stringMatching(/Laptop.*revoked/)
		});
		expect(laptop.log.size).toBe(before);
		expect(transferred(contract)).toBe(0);
		await expect(laptop.fetchRecord()).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/revoked/) });
		await phone.settle('milestone.release', { milestone: 'a', amount: 40_000, currency: 'USD', method: 'card' });
		expect(transferred(contract)).toBe(40_000);
		expect(milestone(phone.derived().state, 'a')).toMatchObject({ released: 40_000 });
	}, 30_000);
});

describe('dispute splits under workerd', () => {
	it('an accepted offer is split from the contract’s object: one transfer, one refund, from the same charge; asked again, the same receipt', async () => {
		const clock = { now: Date.now() };
		const c = await disputed(adapter(), clock);
		clock.now = Date.now();
		const v = c.view('freelancer');
		expect(await disputes.acceptOffer(c.session('freelancer'), v, 'USD')).toEqual({ ok: true });
		const group = `${c.pair.contract}:a`;
		const charge = [...fake.charges.values()].find((ch) => ch.transfer_group === group)!;
		expect([...fake.transfers.values()].filter((t) => t.transfer_group === group).map((t) => [t.amount, t.source_transaction])).toEqual([[10_000, charge.id]]);
		expect([...fake.refunds.values()].filter((r) => r.charge === charge.id).map((r) => r.amount)).toEqual([50_000]);
		const d = c.party('freelancer').derived();
		expect(d.rejected).toEqual([]);
		expect([...d.state.disputes.values()][0]!.settlement).toMatchObject({ basis: 'accepted', freelancer: 10_000, client: 50_000 });
		// Asked again (an answer lost on the way): the very receipt, nothing moves twice.
		const log = c.party('freelancer').log.envelopes();
		const [intent] = log.find(([, e]) => JSON.parse(JSON.parse(e).body).type === 'dispute.accept')!;
		const [receiptId] = log.find(([, e]) => JSON.parse(JSON.parse(e).body).type === 'receipt.split')!;
		expect((await adapter().release({ contract: c.pair.contract, log: log.map(([, e]) => e), event: intent })).id).toBe(receiptId);
		expect([...fake.transfers.values()].filter((t) => t.transfer_group === group)).toHaveLength(1);
	}, 30_000);
});
