/**
 * Recovery (identity/recovery.ts): the passphrase backup holds the identity key, not the device key;
 * restoring it makes a new device of the same person, which can revoke the lost one. A wrong
 * passphrase and an edited file are refused with a clear error.
 */
import { describe, expect, it } from 'vitest';
import { BackupError, importBackup } from '../../../src/lib/identity/backup';
import { certifyDeviceSync, readCertificate, revokeDevice } from '../../../src/lib/identity/certificate';
import { lockIdentity, unlockIdentity } from '../../../src/lib/identity/identity';
import { canExportRecovery, exportRecovery, openRecovery, restoreIdentity } from '../../../src/lib/identity/recovery';
import { CLIENT, CLIENT_LAPTOP, CLIENT_PHONE, T0, World } from '../../support/world';

const FAST = { iterations: 1000 };
const PASS = 'correct horse battery';

describe('the recovery file', () => {
	it('from a certified device that holds the locked identity: the identity key, not the device key', async () => {
		const identity = await lockIdentity(CLIENT, PASS, FAST);
		const cert = certifyDeviceSync(CLIENT, { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0 });
		const laptop = { key: CLIENT_LAPTOP, acting: { identity: cert.identity }, identity };
		expect(canExportRecovery(laptop)).toBe(true);
		const file = await exportRecovery(laptop, PASS, FAST);
		expect(JSON.parse(file).publicKey).toBe(CLIENT.publicKey);
		expect(await openRecovery(file, PASS)).toEqual(CLIENT);
	});

	it('from a device whose key is its own identity: that key', async () => {
		const file = await exportRecovery({ key: CLIENT }, PASS, FAST);
		expect(await openRecovery(file, PASS)).toEqual(CLIENT);
	});

	it('needs the identity’s own passphrase where the device keeps it locked', async () => {
		const identity = await lockIdentity(CLIENT, PASS, FAST);
		const laptop = { key: CLIENT_LAPTOP, acting: { identity: CLIENT.publicKey }, identity };
		await expect(exportRecovery(laptop, 'another passphrase', FAST)).rejects.toThrow('This is not the passphrase of your identity key.');
	});

	it('is refused on a certified device without the identity key: its own key would come back as another person', async () => {
		const phone = { key: CLIENT_PHONE, acting: { identity: CLIENT.publicKey } };
		expect(canExportRecovery(phone)).toBe(false);
		await expect(exportRecovery(phone, PASS, FAST)).rejects.toThrow(/does not hold its key/);
	});
});

describe('restoring on a new device', () => {
	it('certifies a new device key for the same identity, keeps the identity locked, and can revoke the lost device', async () => {
		const file = await exportRecovery({ key: CLIENT }, PASS, FAST);
		const key = await openRecovery(file, PASS);
		const restored = await restoreIdentity(key, PASS, 'New laptop', T0 + 5, FAST);
		expect(restored.device.publicKey).not.toBe(CLIENT.publicKey);
		expect(readCertificate(restored.certificate.envelope, restored.device.publicKey)).toMatchObject({ identity: CLIENT.publicKey, name: 'New laptop' });
		expect(await unlockIdentity(restored.identity, PASS)).toEqual(CLIENT);

		// The lost phone acted in a contract; the restored identity revokes it there.
		const w = new World();
		await w.active();
		const lost = certifyDeviceSync(CLIENT, { device: CLIENT_PHONE.publicKey, name: 'Phone', created: T0 });
		await w.put(lost.id, lost.envelope);
		const revocation = await revokeDevice(await unlockIdentity(restored.identity, PASS), w.log, lost, w.now);
		await w.put(revocation.id, revocation.envelope);
		expect(w.rejection(revocation.id)).toBeUndefined();
		expect(w.state.devices.revocations.get(revocation.id)).toMatchObject({ identity: CLIENT.publicKey, device: CLIENT_PHONE.publicKey });
	});

	it('refuses a wrong passphrase with a clear error', async () => {
		const file = await exportRecovery({ key: CLIENT }, PASS, FAST);
		const e = await openRecovery(file, 'not the passphrase').catch((x: unknown) => x);
		expect(e).toBeInstanceOf(BackupError);
		expect(e).toMatchObject({ code: 'wrong-passphrase', message: 'The passphrase is wrong, or the backup was changed.' });
	});

	it('refuses an edited file: another public key, a changed ciphertext, weakened key stretching, cut short', async () => {
		const file = JSON.parse(await exportRecovery({ key: CLIENT }, PASS, FAST)) as Record<string, unknown>;
		const flip = (s: string) => (s[5] === 'A' ? s.slice(0, 5) + 'B' + s.slice(6) : s.slice(0, 5) + 'A' + s.slice(6));
		const edits: [Record<string, unknown>, RegExp][] = [
			[{ ...file, publicKey: CLIENT_LAPTOP.publicKey }, /passphrase is wrong, or the backup was changed/],
			[{ ...file, ciphertext: flip(file.ciphertext as string) }, /passphrase is wrong, or the backup was changed/],
			[{ ...file, iterations: 10 }, /key-stretching settings this app does not accept/],
			[{ ...file, salt: undefined }, /not a Milestone key backup, or the file is damaged/]
		];
		for (const [edited, message] of edits) await expect(importBackup(JSON.stringify(edited), PASS)).rejects.toThrow(message);
		await expect(openRecovery(JSON.stringify(file).slice(0, 80), PASS)).rejects.toThrow(/not a Milestone key backup/);
	});
});
