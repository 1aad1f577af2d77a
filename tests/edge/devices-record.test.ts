/**
 * The function's record (POST /record) read by the devices of a person (issue 13): a device
 * certified by a party's identity key reads it with its own key and certificate; a revoked device,
 * an expired one, an uncertified key, a stranger, a forged certificate and a replayed request do not.
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/lib/contract/encoding';
import { encodeBody, encodeEnvelope, signingBytes, type Draft } from '../../src/lib/contract/envelope';
import { DEFAULT_CLOCKS } from '../../src/lib/contract/schema';
import { recordRequestMessage } from '../../src/lib/escrow/protocol';
import { certifyDeviceSync, readCertificate, revokeDevice } from '../../src/lib/identity/certificate';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import { MemoryContract } from '../../src/lib/sync/memory-contract';
import { Party } from '../../src/lib/sync/party';
import { CLIENT, CLIENT_LAPTOP, CLIENT_PHONE, FREELANCER, STRANGER } from '../support/world';
import { stack, type Stack } from './harness';

const DAY = 86_400_000;

async function onDevices() {
	const s = stack();
	const clock = () => s.clock.now;
	const info = await s.adapter.info();
	const t0 = s.clock.now;
	const laptopCert = certifyDeviceSync(CLIENT, { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: t0, expires: t0 + 10 * DAY });
	const phoneCert = certifyDeviceSync(CLIENT, { device: CLIENT_PHONE.publicKey, name: 'Phone', created: t0 });
	const terms = { title: 'Devices', scope: '', currency: 'USD' as const, milestones: [{ id: 'a', title: 'A', amount: 50_000 }], provider: { id: info.id, publicKey: info.publicKey, testMode: true }, ...DEFAULT_CLOCKS };
	const { party: laptop, proposal } = await Party.propose(CLIENT_LAPTOP, s.adapter, { role: 'client', name: 'Ada', terms }, { clock, certificate: laptopCert });
	const contract = laptop.log.contract;
	const freelancer = new Party(FREELANCER, new MemoryContract(contract), s.adapter, clock);
	await freelancer.receive(laptop.log.envelopes());
	const acceptance = await freelancer.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
	await laptop.receive(freelancer.log.envelopes());
	expect((await laptop.countersign(acceptance.id)).recorded).toBe(true);
	await freelancer.receive(laptop.log.envelopes());
	// The phone has acted nowhere yet: the function's record holds no certificate of it.
	const phone = await new Party(CLIENT_PHONE, new MemoryContract(contract), s.adapter, clock).actAs(phoneCert);
	return { s, contract, laptop, phone, freelancer, laptopCert, phoneCert };
}

let n = 0;
/** A record request signed by `key`, with `certificate` when given (and `nonce` to replay one). */
function read(s: Stack, contract: string, key: DeviceKey, certificate?: string, nonce = `devices-nonce-${String(++n).padStart(8, '0')}`) {
	const at = s.clock.now;
	const signature = signSync(key, utf8.encode(recordRequestMessage(contract, key.publicKey, at, nonce)));
	return s.adapter.record({ contract, publicKey: key.publicKey, at, nonce, signature, ...(certificate ? { certificate } : {}) });
}

describe('the record, read by the devices of a party', () => {
	it('a certified device reads it with its device key and certificate, even one the record never saw', async () => {
		const { s, contract, laptop, phone, freelancer } = await onDevices();
		await laptop.settle('milestone.fund', { milestone: 'a', amount: 50_000, currency: 'USD', method: 'card' });
		await freelancer.receive(laptop.log.envelopes());
		await phone.receive(laptop.log.envelopes());
		const sub = await freelancer.act('milestone.submitted', { milestone: 'a', message: 'Done', links: [] });
		await freelancer.attest(sub.id);
		// The freelancer never shares it: both devices of the client get it from the record.
		expect(laptop.log.has(sub.id)).toBe(false);
		expect(await laptop.fetchRecord()).toBeGreaterThan(0);
		expect(laptop.log.has(sub.id)).toBe(true);
		expect(await phone.fetchRecord()).toBeGreaterThan(0);
		expect(phone.log.has(sub.id)).toBe(true);
		expect((await s.record(contract, CLIENT)).length).toBeGreaterThan(0);
	});

	it('refuses a key with no certificate, a stranger, and a stranger’s certificate for its own key', async () => {
		const { s, contract } = await onDevices();
		await expect(read(s, contract, STRANGER)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/party .* or a device it certified/) });
		// The client's phone key, but no certificate sent and none in the record.
		await expect(read(s, contract, CLIENT_PHONE)).rejects.toMatchObject({ code: 'not-authorised' });
		const ownCert = certifyDeviceSync(STRANGER, { device: CLIENT_PHONE.publicKey, name: 'Mine', created: s.clock.now });
		await expect(read(s, contract, CLIENT_PHONE, ownCert.envelope)).rejects.toMatchObject({ code: 'not-authorised' });
	});

	it('refuses a forged certificate and one for another device key', async () => {
		const { s, contract, phoneCert } = await onDevices();
		// The stranger writes a certificate in the client's name for its own key, signed with its own key.
		const draft = JSON.parse(JSON.parse(phoneCert.envelope).body) as Draft;
		const { id, body } = encodeBody({ ...draft, payload: { ...(draft.payload as object), device: STRANGER.publicKey } } as Draft);
		const forged = encodeEnvelope(id, body, signSync(STRANGER, signingBytes(id)));
		await expect(read(s, contract, STRANGER, forged)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/certificate/) });
		// The phone's genuine certificate, presented by another key.
		await expect(read(s, contract, STRANGER, phoneCert.envelope)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/another device key/) });
	});

	it('refuses a device once the record shows its revocation, and one whose certificate expired on the function’s clock', async () => {
		const { s, contract, laptop, phone, laptopCert, phoneCert } = await onDevices();
		expect(await read(s, contract, CLIENT_LAPTOP, laptopCert.envelope)).not.toEqual([]);
		await phone.receive(laptop.log.envelopes());
		const revocation = await revokeDevice(CLIENT, phone.log, readCertificate(laptopCert.envelope), s.clock.now);
		await phone.publish([revocation]);
		await phone.attest(revocation.id);
		// The stolen laptop never saw the revocation; the function did.
		await expect(laptop.fetchRecord()).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/Laptop.*revoked/) });
		await expect(read(s, contract, CLIENT_LAPTOP, laptopCert.envelope)).rejects.toMatchObject({ code: 'not-authorised' });
		expect(await read(s, contract, CLIENT_PHONE, phoneCert.envelope)).not.toEqual([]);
		// Nor may it open the payout onboarding (where Stripe's bank details change) or read its status,
		// although those requests name no contract; the phone still may.
		const laptopSigner = { key: CLIENT_LAPTOP, acting: { identity: CLIENT.publicKey, certificate: laptopCert.envelope } };
		const phoneSigner = { key: CLIENT_PHONE, acting: { identity: CLIENT.publicKey, certificate: phoneCert.envelope } };
		await expect(s.adapter.onboardingStatus(laptopSigner, s.clock.now)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/Laptop.*revoked/) });
		await expect(s.adapter.onboard(laptopSigner, 'https://app.example/#/settings', { at: s.clock.now })).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/revoked/) });
		expect((await s.adapter.onboardingStatus(phoneSigner, s.clock.now)).account).toBeNull();
		// A certificate with an expiry: past it on the function's clock, refused.
		const tablet = certifyDeviceSync(CLIENT, { device: STRANGER.publicKey, name: 'Tablet', created: s.clock.now, expires: s.clock.now + DAY });
		expect(await read(s, contract, STRANGER, tablet.envelope)).not.toEqual([]);
		s.clock.now += 2 * DAY;
		await expect(read(s, contract, STRANGER, tablet.envelope)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/Tablet.*expired/) });
	});

	it('refuses a replayed request from a device, and an old one', async () => {
		const { s, contract, phoneCert } = await onDevices();
		expect(await read(s, contract, CLIENT_PHONE, phoneCert.envelope, 'replayed-nonce-000001')).not.toEqual([]);
		await expect(read(s, contract, CLIENT_PHONE, phoneCert.envelope, 'replayed-nonce-000001')).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/used already/) });
		const at = s.clock.now - 10 * 60_000;
		const nonce = 'old-nonce-0000000001';
		const signature = signSync(CLIENT_PHONE, utf8.encode(recordRequestMessage(contract, CLIENT_PHONE.publicKey, at, nonce)));
		await expect(s.adapter.record({ contract, publicKey: CLIENT_PHONE.publicKey, at, nonce, signature, certificate: phoneCert.envelope })).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/too old/) });
	});
});
