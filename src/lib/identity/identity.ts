/**
 * A person's identity on a device: the identity key, kept passphrase-encrypted (backup.ts) and
 * unlocked only to certify or revoke a device, and this device's own key, which signs everything
 * else under the identity's certificate (certificate.ts, contract/devices.ts).
 *
 * A device key with no certificate is its own identity: every contract made before devices existed
 * keeps working, and such a key can become the identity key that certifies new devices.
 */
import { exportBackup, importBackup } from './backup';
import { certifyDevice, readCertificate, type CertificateInfo, type DeviceToCertify } from './certificate';
import { generateKey, type DeviceKey } from './ed25519';

/** The identity as a device keeps it: its public key and the encrypted key (a backup file's text). */
export interface LockedIdentity {
	publicKey: string;
	backup: string;
}

/** What one device acts as: its own key, and the certificate that makes it a device of an identity (absent: it is its own identity). */
export interface DeviceIdentity {
	key: DeviceKey;
	certificate?: CertificateInfo;
}

/** The identity a device acts for. */
export function identityOf(d: DeviceIdentity): string {
	return d.certificate?.identity ?? d.key.publicKey;
}

/** A new identity key, returned locked with `passphrase` (and unlocked, for the first device's certificate). */
export async function createIdentity(passphrase: string, opts: { iterations?: number } = {}): Promise<{ identity: LockedIdentity; key: DeviceKey }> {
	const key = await generateKey();
	return { identity: await lockIdentity(key, passphrase, opts), key };
}

/** Lock an identity key with a passphrase (an existing device key becoming the identity key, say). */
export async function lockIdentity(key: DeviceKey, passphrase: string, opts: { iterations?: number } = {}): Promise<LockedIdentity> {
	return { publicKey: key.publicKey, backup: await exportBackup(key, passphrase, opts) };
}

/** The identity key, for the moment it takes to certify or revoke. Throws BackupError on a wrong passphrase. */
export async function unlockIdentity(identity: LockedIdentity, passphrase: string): Promise<DeviceKey> {
	const key = await importBackup(identity.backup, passphrase);
	if (key.publicKey !== identity.publicKey) throw new Error('This backup holds another identity key.');
	return key;
}

/** Unlock the identity, certify a device key with it, and let the key go. */
export async function certifyWithPassphrase(identity: LockedIdentity, passphrase: string, device: DeviceToCertify): Promise<CertificateInfo> {
	return certifyDevice(await unlockIdentity(identity, passphrase), device);
}

/** This device acting under a certificate it was handed: checked to be for this very key. */
export function actingAs(key: DeviceKey, certificateEnvelope: string): DeviceIdentity {
	return { key, certificate: readCertificate(certificateEnvelope, key.publicKey) };
}
