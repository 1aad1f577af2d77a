/**
 * Passphrase-encrypted key backups: the file format of the recovery file (recovery.ts, which holds
 * the identity key) and of the identity key a device keeps locked (identity.ts).
 *
 * Format (JSON, version 1):
 *   { "kind": "milestone-key-backup", "v": 1, "kdf": "PBKDF2-SHA256", "iterations": 600000,
 *     "salt": b64url(16), "iv": b64url(12), "ciphertext": b64url(32 + 16 tag), "publicKey": b64url(32) }
 *
 * key = PBKDF2-HMAC-SHA256(NFC(passphrase), salt, iterations) → AES-256-GCM; the plaintext is the
 * 32-byte seed. The clear fields kind, v and publicKey are bound as GCM additional data, so a
 * swapped publicKey fails authentication; salt and iterations are bound implicitly (they make the
 * key). After decrypting, the seed must also derive the stated public key.
 *
 * Iterations: export defaults to 600 000 (OWASP 2023 for PBKDF2-SHA256). Both export and import
 * accept only integers in [1 000, 10 000 000]. Below 1 000 this app never writes a file, so such a
 * file is foreign or tampered; refusing it costs nothing. (It is not a way to steal the passphrase —
 * a tampered file just fails to decrypt — the floor is hygiene.) The ceiling matters more: it stops
 * a hostile or damaged file from freezing the app with billions of iterations. Tests use 1 000.
 *
 * Passphrases are NFC-normalised so the same words typed on macOS (NFD) and elsewhere match, and
 * must be at least 8 characters (code points) on export. Import tries whatever it is given.
 *
 * Needs WebCrypto (PBKDF2, AES-GCM): every browser in a secure context, and Node ≥ 20.
 */
import { toBase64url, utf8 } from '../contract/encoding';
import { bufferSource, decodeExact } from './bytes';
import { publicKeyFromSeed, type DeviceKey } from './ed25519';

export const BACKUP_KIND = 'milestone-key-backup';
export const BACKUP_VERSION = 1;
export const DEFAULT_ITERATIONS = 600_000;
export const MIN_ITERATIONS = 1_000;
export const MAX_ITERATIONS = 10_000_000;
export const MIN_PASSPHRASE_LENGTH = 8;

export type BackupErrorCode = 'malformed' | 'wrong-passphrase' | 'unsupported-version' | 'weak-passphrase';

const MESSAGES: Record<BackupErrorCode, string> = {
	malformed: 'This is not a Milestone key backup, or the file is damaged.',
	'wrong-passphrase': 'The passphrase is wrong, or the backup was changed.',
	'unsupported-version': 'This backup was made by a newer version of Milestone. Update the app to restore it.',
	'weak-passphrase': `Choose a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters.`
};

export class BackupError extends Error {
	readonly code: BackupErrorCode;
	constructor(code: BackupErrorCode, message: string = MESSAGES[code]) {
		super(message);
		this.name = 'BackupError';
		this.code = code;
	}
}

export interface BackupFile {
	kind: typeof BACKUP_KIND;
	v: typeof BACKUP_VERSION;
	kdf: 'PBKDF2-SHA256';
	iterations: number;
	salt: string;
	iv: string;
	ciphertext: string;
	publicKey: string;
}

function subtle(): SubtleCrypto {
	const s = globalThis.crypto?.subtle;
	if (!s) throw new Error('Key backups need WebCrypto, which this page does not have (is it served over HTTPS?).');
	return s;
}

function validIterations(n: unknown): n is number {
	return typeof n === 'number' && Number.isInteger(n) && n >= MIN_ITERATIONS && n <= MAX_ITERATIONS;
}

function additionalData(publicKey: string): Uint8Array<ArrayBuffer> {
	return utf8.encode(`${BACKUP_KIND}\nv=${BACKUP_VERSION}\npublicKey=${publicKey}`);
}

async function deriveAesKey(passphrase: string, salt: Uint8Array, iterations: number, usage: KeyUsage): Promise<CryptoKey> {
	const s = subtle();
	const base = await s.importKey('raw', utf8.encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
	return s.deriveKey(
		{ name: 'PBKDF2', hash: 'SHA-256', salt: bufferSource(salt), iterations },
		base,
		{ name: 'AES-GCM', length: 256 },
		false,
		[usage]
	);
}

export async function exportBackup(key: DeviceKey, passphrase: string, opts: { iterations?: number } = {}): Promise<string> {
	if (typeof passphrase !== 'string' || [...passphrase.normalize('NFC')].length < MIN_PASSPHRASE_LENGTH) {
		throw new BackupError('weak-passphrase');
	}
	const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
	if (!validIterations(iterations)) {
		throw new RangeError(`PBKDF2 iterations must be an integer from ${MIN_ITERATIONS} to ${MAX_ITERATIONS}.`);
	}
	const seed = decodeExact(key?.seed, 32);
	if (!seed || publicKeyFromSeed(key.seed) !== key.publicKey) {
		throw new Error('This device key is damaged: its seed does not match its public key.');
	}
	const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
	const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
	const aes = await deriveAesKey(passphrase, salt, iterations, 'encrypt');
	const ciphertext = new Uint8Array(
		await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(key.publicKey), tagLength: 128 }, aes, bufferSource(seed))
	);
	seed.fill(0);
	const file: BackupFile = {
		kind: BACKUP_KIND,
		v: BACKUP_VERSION,
		kdf: 'PBKDF2-SHA256',
		iterations,
		salt: toBase64url(salt),
		iv: toBase64url(iv),
		ciphertext: toBase64url(ciphertext),
		publicKey: key.publicKey
	};
	return JSON.stringify(file, null, 2);
}

export async function importBackup(text: string, passphrase: string): Promise<DeviceKey> {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		throw new BackupError('malformed');
	}
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BackupError('malformed');
	const file = parsed as Record<string, unknown>;
	if (file.kind !== BACKUP_KIND) throw new BackupError('malformed');
	if (file.v !== BACKUP_VERSION) {
		const newer = typeof file.v === 'number' && Number.isInteger(file.v) && file.v > BACKUP_VERSION;
		throw new BackupError(newer ? 'unsupported-version' : 'malformed');
	}
	if (file.kdf !== 'PBKDF2-SHA256') throw new BackupError('malformed');
	if (!validIterations(file.iterations)) {
		throw new BackupError('malformed', 'This backup has key-stretching settings this app does not accept; it may have been tampered with.');
	}
	const salt = decodeExact(file.salt, 16);
	const iv = decodeExact(file.iv, 12);
	const ciphertext = decodeExact(file.ciphertext, 48);
	const publicKey = typeof file.publicKey === 'string' && decodeExact(file.publicKey, 32) ? file.publicKey : null;
	if (!salt || !iv || !ciphertext || !publicKey) throw new BackupError('malformed');
	if (typeof passphrase !== 'string') throw new BackupError('wrong-passphrase');

	const aes = await deriveAesKey(passphrase, salt, file.iterations, 'decrypt');
	let plain: Uint8Array;
	try {
		plain = new Uint8Array(
			await subtle().decrypt({ name: 'AES-GCM', iv: bufferSource(iv), additionalData: additionalData(publicKey), tagLength: 128 }, aes, bufferSource(ciphertext))
		);
	} catch {
		throw new BackupError('wrong-passphrase');
	}
	const seed = plain.length === 32 ? toBase64url(plain) : null;
	plain.fill(0);
	if (!seed || publicKeyFromSeed(seed) !== publicKey) {
		throw new BackupError('malformed', 'This backup decrypted, but the key inside does not match the public key it names.');
	}
	return { publicKey, seed };
}
