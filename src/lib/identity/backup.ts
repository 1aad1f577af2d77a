/**
 * Passphrase-encrypted key backups: the file format of the recovery file (recovery.ts, which holds
 * the identity key) and of the identity key a device keeps locked (identity.ts).
 *
 * Format (JSON, version 1):
 *   { "kind": "milestone-key-backup", "v": 1, "kdf": "PBKDF2-SHA256", "iterations": 600000,
 *     "salt": b64url(16), "iv": b64url(12), "ciphertext": b64url(32 + 16 tag), "publicKey": b64url(32) }
 * Version 2 is the same with a payload after the seed (the recovery file's contracts list):
 *   "ciphertext": b64url(32 + payload + 16 tag), at most MAX_PAYLOAD payload bytes.
 *
 * key = PBKDF2-HMAC-SHA256(NFC(passphrase), salt, iterations) → AES-256-GCM; the plaintext is the
 * 32-byte seed (then the payload, in version 2). One key, one GCM message: an edited payload fails
 * authentication as a whole, and the payload is never weaker protected than the key. The clear
 * fields kind, v and publicKey are bound as GCM additional data, so a swapped publicKey (or a v2
 * file relabelled v1) fails authentication; salt and iterations are bound implicitly (they make the
 * key). After decrypting, the seed must also derive the stated public key. Files without a payload
 * are still written as version 1, so the app's locked identity keys keep their format.
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
/** The newest version this app reads (and writes, when there is a payload). */
export const BACKUP_VERSION = 2;
/** Payload bytes a version 2 file may carry: room for hundreds of contracts, not for a hostile giant. */
export const MAX_PAYLOAD = 512 * 1024;
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
	v: 1 | 2;
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

function additionalData(v: 1 | 2, publicKey: string): Uint8Array<ArrayBuffer> {
	return utf8.encode(`${BACKUP_KIND}\nv=${v}\npublicKey=${publicKey}`);
}

/** The ciphertext's bytes: exactly seed + tag in version 1, seed + payload + tag in version 2. */
function ciphertextOf(text: unknown, v: 1 | 2): Uint8Array | null {
	if (v === 1) return decodeExact(text, 48);
	if (typeof text !== 'string' || text.length > Math.ceil(((48 + MAX_PAYLOAD) * 4) / 3)) return null;
	const n = Math.floor((text.length * 3) / 4);
	return n > 48 ? decodeExact(text, n) : null;
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

/** The backup file's text. With `payload` (at most MAX_PAYLOAD bytes, not empty) it is a version 2 file. */
export async function exportBackup(key: DeviceKey, passphrase: string, opts: { iterations?: number; payload?: Uint8Array } = {}): Promise<string> {
	if (typeof passphrase !== 'string' || [...passphrase.normalize('NFC')].length < MIN_PASSPHRASE_LENGTH) {
		throw new BackupError('weak-passphrase');
	}
	const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
	if (!validIterations(iterations)) {
		throw new RangeError(`PBKDF2 iterations must be an integer from ${MIN_ITERATIONS} to ${MAX_ITERATIONS}.`);
	}
	const payload = opts.payload;
	if (payload && (payload.length === 0 || payload.length > MAX_PAYLOAD)) throw new RangeError(`A backup's payload must be 1 to ${MAX_PAYLOAD} bytes.`);
	const v = payload ? 2 : 1;
	const seed = decodeExact(key?.seed, 32);
	if (!seed || publicKeyFromSeed(key.seed) !== key.publicKey) {
		throw new Error('This device key is damaged: its seed does not match its public key.');
	}
	const plain = new Uint8Array(32 + (payload?.length ?? 0));
	plain.set(seed);
	if (payload) plain.set(payload, 32);
	seed.fill(0);
	const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
	const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
	const aes = await deriveAesKey(passphrase, salt, iterations, 'encrypt');
	const ciphertext = new Uint8Array(
		await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(v, key.publicKey), tagLength: 128 }, aes, plain)
	);
	plain.fill(0);
	const file: BackupFile = {
		kind: BACKUP_KIND,
		v,
		kdf: 'PBKDF2-SHA256',
		iterations,
		salt: toBase64url(salt),
		iv: toBase64url(iv),
		ciphertext: toBase64url(ciphertext),
		publicKey: key.publicKey
	};
	return JSON.stringify(file, null, 2);
}

/** The key in a backup file. Throws BackupError (wrong passphrase, damaged or edited file). */
export const importBackup = async (text: string, passphrase: string): Promise<DeviceKey> => (await openBackup(text, passphrase)).key;

/** The key in a backup file and, in a version 2 file, its payload. Throws BackupError. */
export async function openBackup(text: string, passphrase: string): Promise<{ key: DeviceKey; payload?: Uint8Array }> {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		throw new BackupError('malformed');
	}
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BackupError('malformed');
	const file = parsed as Record<string, unknown>;
	if (file.kind !== BACKUP_KIND) throw new BackupError('malformed');
	if (file.v !== 1 && file.v !== 2) {
		const newer = typeof file.v === 'number' && Number.isInteger(file.v) && file.v > BACKUP_VERSION;
		throw new BackupError(newer ? 'unsupported-version' : 'malformed');
	}
	if (file.kdf !== 'PBKDF2-SHA256') throw new BackupError('malformed');
	if (!validIterations(file.iterations)) {
		throw new BackupError('malformed', 'This backup has key-stretching settings this app does not accept; it may have been tampered with.');
	}
	const salt = decodeExact(file.salt, 16);
	const iv = decodeExact(file.iv, 12);
	const v = file.v;
	const ciphertext = ciphertextOf(file.ciphertext, v);
	const publicKey = typeof file.publicKey === 'string' && decodeExact(file.publicKey, 32) ? file.publicKey : null;
	if (!salt || !iv || !ciphertext || !publicKey) throw new BackupError('malformed');
	if (typeof passphrase !== 'string') throw new BackupError('wrong-passphrase');

	const aes = await deriveAesKey(passphrase, salt, file.iterations, 'decrypt');
	let plain: Uint8Array;
	try {
		plain = new Uint8Array(
			await subtle().decrypt({ name: 'AES-GCM', iv: bufferSource(iv), additionalData: additionalData(v, publicKey), tagLength: 128 }, aes, bufferSource(ciphertext))
		);
	} catch {
		throw new BackupError('wrong-passphrase');
	}
	const seed = plain.length >= 32 ? toBase64url(plain.subarray(0, 32)) : null;
	const payload = v === 2 ? plain.slice(32) : undefined;
	plain.fill(0);
	if (!seed || publicKeyFromSeed(seed) !== publicKey) {
		throw new BackupError('malformed', 'This backup decrypted, but the key inside does not match the public key it names.');
	}
	return payload ? { key: { publicKey, seed }, payload } : { key: { publicKey, seed } };
}
