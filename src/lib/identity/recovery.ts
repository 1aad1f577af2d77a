/**
 * Recovery: the passphrase backup holds the IDENTITY key (backup.ts format), never a mere device key.
 * Restored on a new or wiped device, it certifies a fresh key for that device as one more device of
 * the same person, and stays there locked with its passphrase, so this device can then add devices
 * and revoke the lost ones (Settings → Your devices).
 *
 * Which key goes into the file:
 * - the device holds the locked identity (it certified devices, or received it when paired): that
 *   key, unlocked with its passphrase and written out again with the same passphrase (a fresh salt);
 * - the device's key is its own identity (no certificate): that key;
 * - a certified device without the identity key cannot make a recovery file: its own key alone would
 *   come back as a different person.
 */
import { BackupError, exportBackup, importBackup } from './backup';
import { certifyDevice, type CertificateInfo } from './certificate';
import { generateKey, type DeviceKey } from './ed25519';
import { lockIdentity, type LockedIdentity } from './identity';

/** What a device holds, as far as recovery is concerned. */
export interface RecoverySource {
	key: DeviceKey;
	/** Set when this device acts for another identity under a certificate. */
	acting?: { identity: string };
	/** The identity key, passphrase-locked, when this device holds it. */
	identity?: LockedIdentity;
}

/** Does this device hold the identity key, so that it can make a recovery file? */
export const canExportRecovery = (src: RecoverySource): boolean => !!src.identity || !src.acting;

/** Does making the file need the identity's existing passphrase (rather than a new one)? */
export const needsIdentityPassphrase = (src: RecoverySource): boolean => !!src.identity;

/** The recovery file's text: the identity key encrypted with `passphrase`. Throws BackupError with what is wrong. */
export async function exportRecovery(src: RecoverySource, passphrase: string, opts: { iterations?: number } = {}): Promise<string> {
	if (src.identity) {
		let key: DeviceKey;
		try {
			key = await importBackup(src.identity.backup, passphrase);
		} catch (e) {
			if (e instanceof BackupError && e.code === 'wrong-passphrase') throw new BackupError('wrong-passphrase', 'This is not the passphrase of your identity key.');
			throw e;
		}
		if (key.publicKey !== src.identity.publicKey) throw new BackupError('malformed', 'The identity key stored on this device is damaged.');
		return exportBackup(key, passphrase, opts);
	}
	if (src.acting)
		throw new BackupError(
			'malformed',
			'This device acts for your identity but does not hold its key. Make the recovery file on the device that holds your identity key (the one that added this device).'
		);
	return exportBackup(src.key, passphrase, opts);
}

/** Open a recovery file: the identity key. Throws BackupError (wrong passphrase, damaged or edited file). */
export const openRecovery = (text: string, passphrase: string): Promise<DeviceKey> => importBackup(text, passphrase);

export interface Restored {
	/** This device's new key. */
	device: DeviceKey;
	/** Its certificate, signed by the restored identity. */
	certificate: CertificateInfo;
	/** The identity key, locked again with the same passphrase, for this device to keep. */
	identity: LockedIdentity;
}

/** Make this device one more device of the restored identity: a new device key, certified by it. */
export async function restoreIdentity(identity: DeviceKey, passphrase: string, name: string, now: number, opts: { iterations?: number } = {}): Promise<Restored> {
	const device = await generateKey();
	const certificate = await certifyDevice(identity, { device: device.publicKey, name, created: now });
	return { device, certificate, identity: await lockIdentity(identity, passphrase, opts) };
}
