/**
 * Device identity: Ed25519 keys, fingerprints, encrypted backups.
 * Event signing/authentication (./sign-event, ./authenticate) depend on the contract layer and are
 * imported from their own modules, so key management does not pull that in.
 */
export {
	currentBackend,
	generateKey,
	publicKeyFromSeed,
	setBackend,
	sign,
	signSync,
	verify,
	verifyMany,
	verifySync,
	type Backend,
	type BackendChoice,
	type DeviceKey,
	type SignatureItem
} from './ed25519';
export { FINGERPRINT_PATTERN, SHORT_FINGERPRINT_PATTERN, fingerprint, shortFingerprint } from './fingerprint';
export {
	BACKUP_KIND,
	BACKUP_VERSION,
	BackupError,
	DEFAULT_ITERATIONS,
	MAX_ITERATIONS,
	MIN_ITERATIONS,
	MIN_PASSPHRASE_LENGTH,
	exportBackup,
	importBackup,
	type BackupErrorCode,
	type BackupFile
} from './backup';
