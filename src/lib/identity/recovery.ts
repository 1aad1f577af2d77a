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
 *
 * The file also carries this device's contracts list with their link secrets and relays (what
 * pairing hands a new device), as a payload in the same AES-GCM message as the key (backup.ts
 * version 2): one passphrase-derived key, and an edited list fails the whole file. It is a snapshot:
 * contracts made later need a new file. Old files (version 1, no list) restore with no contracts.
 */
import { utf8 } from '../contract/encoding';
import { BackupError, exportBackup, importBackup, openBackup } from './backup';
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

/** A contract as the device lists it (device-db's ContractEntry, pairing's PairedContract): enough to open it again. */
export interface RecoveryContract {
	contract: string;
	secret: string;
	title: string;
	relays?: string[];
}

/** What a recovery file gives back. */
export interface OpenedRecovery {
	identity: DeviceKey;
	contracts: RecoveryContract[];
}

const DAMAGED = 'The contracts list in this backup is damaged, so nothing was restored from it.';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const token = (v: unknown, min: number, max: number): v is string => typeof v === 'string' && v.length >= min && v.length <= max && BASE64URL.test(v);

/** The contracts list from a decrypted payload; anything but a well-formed list refuses the whole file. */
function contractsOf(payload: Uint8Array): RecoveryContract[] {
	let parsed: unknown;
	try {
		parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
	} catch {
		throw new BackupError('malformed', DAMAGED);
	}
	const list = (parsed as { contracts?: unknown } | null)?.contracts;
	if (!Array.isArray(list)) throw new BackupError('malformed', DAMAGED);
	const seen = new Set<string>();
	return list.map((c: unknown): RecoveryContract => {
		const e = c as Partial<Record<keyof RecoveryContract, unknown>> | null;
		// The same bounds as a share link's contract id and secret (sync/links.ts).
		if (!e || !token(e.contract, 16, 64) || !token(e.secret, 22, 64) || typeof e.title !== 'string' || e.title.length > 1000 || seen.has(e.contract))
			throw new BackupError('malformed', DAMAGED);
		if (e.relays !== undefined && !(Array.isArray(e.relays) && e.relays.length <= 16 && e.relays.every((r) => typeof r === 'string' && r.length <= 2048)))
			throw new BackupError('malformed', DAMAGED);
		seen.add(e.contract);
		return { contract: e.contract, secret: e.secret, title: e.title, ...(e.relays ? { relays: [...(e.relays as string[])] } : {}) };
	});
}

/** Does this device hold the identity key, so that it can make a recovery file? */
export const canExportRecovery = (src: RecoverySource): boolean => !!src.identity || !src.acting;

/** Does making the file need the identity's existing passphrase (rather than a new one)? */
export const needsIdentityPassphrase = (src: RecoverySource): boolean => !!src.identity;

/**
 * The recovery file's text: the identity key and `contracts` (when given) encrypted with `passphrase`.
 * Throws BackupError with what is wrong.
 */
export async function exportRecovery(src: RecoverySource, passphrase: string, opts: { iterations?: number; contracts?: RecoveryContract[] } = {}): Promise<string> {
	const { contracts, ...rest } = opts;
	const payload = contracts
		? utf8.encode(JSON.stringify({ contracts: contracts.map((c) => ({ contract: c.contract, secret: c.secret, title: c.title, ...(c.relays ? { relays: c.relays } : {}) })) }))
		: undefined;
	const options = { ...rest, ...(payload ? { payload } : {}) };
	if (src.identity) {
		let key: DeviceKey;
		try {
			key = await importBackup(src.identity.backup, passphrase);
		} catch (e) {
			if (e instanceof BackupError && e.code === 'wrong-passphrase') throw new BackupError('wrong-passphrase', 'This is not the passphrase of your identity key.');
			throw e;
		}
		if (key.publicKey !== src.identity.publicKey) throw new BackupError('malformed', 'The identity key stored on this device is damaged.');
		return exportBackup(key, passphrase, options);
	}
	if (src.acting)
		throw new BackupError(
			'malformed',
			'This device acts for your identity but does not hold its key. Make the recovery file on the device that holds your identity key (the one that added this device).'
		);
	return exportBackup(src.key, passphrase, options);
}

/** Open a recovery file: the identity key and the contracts. Throws BackupError (wrong passphrase, damaged or edited file). */
export async function openRecovery(text: string, passphrase: string): Promise<OpenedRecovery> {
	const { key, payload } = await openBackup(text, passphrase);
	return { identity: key, contracts: payload ? contractsOf(payload) : [] };
}

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
