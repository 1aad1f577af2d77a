/**
 * Device certificates and revocations signed with the identity key (identity/certificate.ts), and
 * the identity key kept passphrase-encrypted (identity/identity.ts).
 */
import { describe, expect, it } from 'vitest';
import { encodeBody, encodeEnvelope, signingBytes } from '../../../src/lib/contract/envelope';
import { BackupError } from '../../../src/lib/identity/backup';
import {
	CertificateError,
	certificateDraft,
	certifyDevice,
	certifyDeviceSync,
	readCertificate,
	revocationDraft,
	revokeDevice
} from '../../../src/lib/identity/certificate';
import { signSync } from '../../../src/lib/identity/ed25519';
import { actingAs, certifyWithPassphrase, createIdentity, identityOf, lockIdentity, unlockIdentity } from '../../../src/lib/identity/identity';
import { CLIENT, CLIENT_LAPTOP, CLIENT_PHONE, STRANGER, T0, World } from '../../support/world';

const LAPTOP = { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0 };

describe('certifying a device with the identity key', () => {
	it('is deterministic, and what it signs reads back as the same certificate', async () => {
		const a = certifyDeviceSync(CLIENT, { ...LAPTOP, expires: T0 + 1000 });
		const b = certifyDeviceSync(CLIENT, { ...LAPTOP, expires: T0 + 1000 });
		expect(a).toEqual(b);
		expect(await certifyDevice(CLIENT, { ...LAPTOP, expires: T0 + 1000 })).toEqual(a);
		expect(readCertificate(a.envelope, CLIENT_LAPTOP.publicKey)).toEqual(a);
		expect(a).toMatchObject({ identity: CLIENT.publicKey, device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0, expires: T0 + 1000 });
		// One certificate for every contract: its scope is the identity key.
		expect(JSON.parse(JSON.parse(a.envelope).body)).toMatchObject({ contract: CLIENT.publicKey, author: CLIENT.publicKey, prev: null, deps: [] });
	});

	it('refuses what is no certificate: the identity itself, an empty name, an expiry before creation', () => {
		expect(() => certifyDeviceSync(CLIENT, { ...LAPTOP, device: CLIENT.publicKey })).toThrow(CertificateError);
		expect(() => certifyDeviceSync(CLIENT, { ...LAPTOP, name: '  ' })).toThrow(/cannot be certified/);
		expect(() => certifyDeviceSync(CLIENT, { ...LAPTOP, expires: T0 })).toThrow(/expires after/);
	});

	it('a forged certificate (another key signed it) is refused, and so is an altered one or one for another key', () => {
		const draft = certificateDraft(CLIENT.publicKey, LAPTOP);
		const { id, body } = encodeBody(draft);
		const forged = encodeEnvelope(id, body, signSync(STRANGER, signingBytes(id)));
		expect(() => readCertificate(forged)).toThrow(/not signed by the identity key/);
		const good = certifyDeviceSync(CLIENT, LAPTOP);
		const altered = good.envelope.replace('Laptop', 'Lapdog');
		expect(() => readCertificate(altered)).toThrow(/not a device certificate/);
		expect(() => readCertificate('{"id":1}')).toThrow(CertificateError);
		expect(() => readCertificate(good.envelope, CLIENT_PHONE.publicKey)).toThrow(/another device key/);
	});
});

describe('the identity key, kept encrypted', () => {
	it('is created locked with a passphrase and unlocked only with it', async () => {
		const { identity, key } = await createIdentity('correct horse battery', { iterations: 1000 });
		expect(identity.publicKey).toBe(key.publicKey);
		expect(await unlockIdentity(identity, 'correct horse battery')).toEqual(key);
		await expect(unlockIdentity(identity, 'wrong horse battery')).rejects.toBeInstanceOf(BackupError);
	});

	it('certifies a device when unlocked, and a device then acts for it', async () => {
		// A key that was a device's own identity becomes the identity key (single-device users keep theirs).
		const identity = await lockIdentity(CLIENT, 'correct horse battery', { iterations: 1000 });
		const cert = await certifyWithPassphrase(identity, 'correct horse battery', { device: CLIENT_PHONE.publicKey, name: 'Phone', created: T0 });
		const phone = actingAs(CLIENT_PHONE, cert.envelope);
		expect(identityOf(phone)).toBe(CLIENT.publicKey);
		expect(identityOf({ key: CLIENT_LAPTOP })).toBe(CLIENT_LAPTOP.publicKey);
		expect(() => actingAs(CLIENT_LAPTOP, cert.envelope)).toThrow(/another device key/);
		await expect(certifyWithPassphrase(identity, 'not the passphrase', { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0 })).rejects.toBeInstanceOf(BackupError);
	});
});

describe('revoking a device in a contract', () => {
	it('names the certificate and the contract’s heads, on the identity’s own chain there', async () => {
		const w = new World();
		await w.active();
		const cert = certifyDeviceSync(CLIENT, LAPTOP);
		expect(() => revocationDraft(w.log, cert, w.now)).toThrow(/Add the certificate/);
		await w.put(cert.id, cert.envelope);
		const lastOwn = w.log.lastOf(CLIENT.publicKey);
		const draft = revocationDraft(w.log, cert, w.now);
		expect(draft).toMatchObject({ author: CLIENT.publicKey, contract: w.contract, type: 'device.revoked', payload: { device: CLIENT_LAPTOP.publicKey, certificate: cert.id } });
		// Its chain is the identity's events in this contract: the certificate is no link of it.
		expect(draft.prev).toBe(lastOwn);
		expect(draft.prev).not.toBe(cert.id);
		expect(draft.deps).toEqual(expect.arrayContaining([...w.log.heads(), cert.id]));
		const signed = await revokeDevice(CLIENT, w.log, cert, w.now);
		await w.put(signed.id, signed.envelope);
		expect(w.rejection(signed.id)).toBeUndefined();
		expect(w.state.devices.revocations.get(signed.id)).toMatchObject({ identity: CLIENT.publicKey, device: CLIENT_LAPTOP.publicKey });
		await expect(revokeDevice(STRANGER, w.log, cert, w.now)).rejects.toThrow(/Only the identity/);
	});

	it('leaves out a certificate someone else wrote for the identity key, which would make the revocation theirs', async () => {
		const w = new World();
		await w.active();
		const cert = certifyDeviceSync(CLIENT, LAPTOP);
		const claim = certifyDeviceSync(STRANGER, { device: CLIENT.publicKey, name: 'Yours truly', created: T0 });
		await w.put(cert.id, cert.envelope);
		await w.put(claim.id, claim.envelope);
		expect(w.log.heads()).toContain(claim.id);
		const signed = await revokeDevice(CLIENT, w.log, cert, w.now);
		expect(JSON.parse(JSON.parse(signed.envelope).body).deps).not.toContain(claim.id);
		await w.put(signed.id, signed.envelope);
		expect(w.rejection(signed.id)).toBeUndefined();
	});
});
