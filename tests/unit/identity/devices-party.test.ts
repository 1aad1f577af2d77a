/**
 * A Party acting as a certified device, against the TEST MODE provider (escrow/mock.ts, which runs
 * the same provider-core checks as the Stripe function): the device's events carry its certificate,
 * the contract pins the identity, and the provider refuses money intents of an expired or revoked
 * device on its own clock and record.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS, milestone } from '../../../src/lib/contract/state';
import { EscrowError } from '../../../src/lib/escrow/adapter';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { certifyDeviceSync, readCertificate, revokeDevice } from '../../../src/lib/identity/certificate';
import { MemoryContract } from '../../../src/lib/sync/memory-contract';
import { Party } from '../../../src/lib/sync/party';
import { CLIENT, CLIENT_LAPTOP, CLIENT_PHONE, FREELANCER, STRANGER, T0, terms } from '../../support/world';

const USD = { currency: 'USD' as const, method: 'card' as const };

async function onDevices() {
	let now = T0;
	const clock = () => now;
	const provider = new MockEscrowProvider({ now: clock });
	const info = await provider.info();
	const laptopCert = certifyDeviceSync(CLIENT, { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0, expires: T0 + 10 * DAY_MS });
	const phoneCert = certifyDeviceSync(CLIENT, { device: CLIENT_PHONE.publicKey, name: 'Phone', created: T0 });
	const t = terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } });
	const { party: laptop, proposal } = await Party.propose(CLIENT_LAPTOP, provider, { role: 'client', name: 'Ada', terms: t }, { clock, certificate: laptopCert });
	const contract = laptop.log.contract;
	const freelancer = new Party(FREELANCER, new MemoryContract(contract), provider, clock);
	await freelancer.receive(laptop.log.envelopes());
	const acceptance = await freelancer.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
	await laptop.receive(freelancer.log.envelopes());
	const { recorded } = await laptop.countersign(acceptance.id);
	expect(recorded).toBe(true);
	const phone = await new Party(CLIENT_PHONE, new MemoryContract(contract), provider, clock).actAs(phoneCert);
	await phone.receive(laptop.log.envelopes());
	return { provider, laptop, phone, freelancer, laptopCert, phoneCert, advance: (days: number) => (now += days * DAY_MS), clock };
}

describe('a Party acting as a certified device', () => {
	it('proposes, countersigns and pays for its identity, naming its certificate in every event', async () => {
		const { laptop, phone, freelancer, laptopCert } = await onDevices();
		const s = laptop.derived().state;
		expect(laptop.identity).toBe(CLIENT.publicKey);
		expect(s.parties).toEqual({ client: CLIENT.publicKey, freelancer: FREELANCER.publicKey });
		const { intent } = await laptop.settle('milestone.fund', { milestone: 'design', amount: 100_000, ...USD });
		const body = JSON.parse(JSON.parse(intent.envelope).body) as { author: string; deps: string[] };
		expect(body.author).toBe(CLIENT_LAPTOP.publicKey);
		expect(body.deps).toContain(laptopCert.id);
		// The other device of the same person releases it; the freelancer sees the client do both.
		await phone.receive(laptop.log.envelopes());
		await phone.settle('milestone.release', { milestone: 'design', amount: 100_000, ...USD });
		await freelancer.receive(phone.log.envelopes());
		const seen = freelancer.derived().state;
		expect(milestone(seen, 'design')!.released).toBe(100_000);
		expect([...seen.intents.values()].map((i) => i.author)).toEqual([CLIENT.publicKey, CLIENT.publicKey]);
	});

	it('reads the provider’s record with its device key', async () => {
		const { laptop, freelancer } = await onDevices();
		await laptop.settle('milestone.fund', { milestone: 'design', amount: 100_000, ...USD });
		await freelancer.receive(laptop.log.envelopes());
		const sub = await freelancer.act('milestone.submitted', { milestone: 'design', message: 'Done', links: [] });
		// The freelancer never shares it: the laptop gets it from the provider.
		expect(laptop.log.has(sub.id)).toBe(false);
		expect(await laptop.fetchRecord()).toBeGreaterThan(0);
		expect(laptop.log.has(sub.id)).toBe(true);
	});

	it('leaves certificates others wrote for its key out of its deps', async () => {
		const { laptop } = await onDevices();
		const foreign = certifyDeviceSync(STRANGER, { device: CLIENT_LAPTOP.publicKey, name: 'Mine', created: T0 });
		await laptop.receive([[foreign.id, foreign.envelope]]);
		expect(laptop.log.heads()).toContain(foreign.id);
		const message = await laptop.act('message.posted', { text: 'Still Ada' });
		expect(JSON.parse(JSON.parse(message.envelope).body).deps).not.toContain(foreign.id);
		expect(laptop.derived().state.messages.at(-1)).toMatchObject({ id: message.id, author: CLIENT.publicKey });
	});

	it('refuses a certificate that is not for its key', async () => {
		const { laptop, phoneCert } = await onDevices();
		await expect(laptop.actAs(phoneCert)).rejects.toThrow(/another device key/);
	});
});

describe('the provider, on its own clock and record', () => {
	it('refuses a money intent of a device whose certificate expired, and writes nothing', async () => {
		const { laptop, phone, advance } = await onDevices();
		await laptop.settle('milestone.fund', { milestone: 'design', amount: 100_000, ...USD });
		advance(11);
		const before = laptop.log.size;
		const err = await laptop.settle('milestone.release', { milestone: 'design', amount: 100_000, ...USD }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(EscrowError);
		expect((err as EscrowError).code).toBe('not-authorised');
		expect((err as EscrowError).message).toMatch(/Laptop.*expired/);
		expect(laptop.log.size).toBe(before);
		// The phone's certificate has no expiry.
		await phone.receive(laptop.log.envelopes());
		await phone.settle('milestone.release', { milestone: 'design', amount: 100_000, ...USD });
	});

	it('once it recorded a revocation, refuses the revoked device’s money intents, concurrent or not', async () => {
		const { laptop, phone, laptopCert } = await onDevices();
		await laptop.settle('milestone.fund', { milestone: 'design', amount: 100_000, ...USD });
		await phone.receive(laptop.log.envelopes());
		// The laptop is stolen. From the phone, the person unlocks the identity key and revokes it here.
		const revocation = await revokeDevice(CLIENT, phone.log, readCertificate(laptopCert.envelope), T0);
		await phone.publish([revocation]);
		await phone.attest(revocation.id);
		expect(phone.derived().state.devices.revocations.get(revocation.id)?.recordedAt).toBeDefined();
		// The thief's laptop never saw the revocation: its intent is concurrent with it, and refused.
		const err = await laptop.settle('milestone.release', { milestone: 'design', amount: 100_000, ...USD }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(EscrowError);
		expect((err as EscrowError).message).toMatch(/revoked/);
		expect(milestone(phone.derived().state, 'design')!.released).toBe(0);
		// The person's other device still pays.
		await phone.settle('milestone.release', { milestone: 'design', amount: 100_000, ...USD });
	});
});
