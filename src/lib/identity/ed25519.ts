/**
 * Ed25519 device keys: WebCrypto where the runtime has it, @noble/curves otherwise.
 *
 * Encodings: public keys (32 raw bytes), signatures (64) and private seeds (32) are unpadded
 * base64url, and only the canonical spelling is accepted.
 *
 * One verification rule for every backend. Each peer checks signatures itself, so two peers must
 * never disagree about a signature — otherwise a key owner could craft an event that is valid on
 * one device and invalid on another. Implementations do disagree on edge cases (measured on
 * Node 20: WebCrypto accepts a "universal forgery" under the identity public key and accepts some
 * mixed-order public keys; noble's default cofactored check accepts mixed-order R, which
 * WebCrypto rejects). So before any backend runs, this module requires:
 *   - the public key to be a canonically encoded point of the prime-order subgroup (not small
 *     order, no torsion component) — checked once per key string and cached;
 *   - R to be canonically encoded and not the identity, and 0 <= S < L;
 * and the noble path uses the cofactorless equation [S]B = R + [k]A, as WebCrypto/OpenSSL do.
 * Honest keys and signatures (RFC 8032) always pass; they verify identically on both backends.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, concatBytes } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { toBase64url } from '../contract/encoding';
import { bufferSource, decodeExact, remember } from './bytes';

export type DeviceKey = { publicKey: string; seed: string };
export type Backend = 'webcrypto' | 'noble';
export type BackendChoice = Backend | 'auto';
export interface SignatureItem {
	publicKey: string;
	message: Uint8Array;
	signature: string;
}

const Point = ed25519.Point;
type EdPoint = ReturnType<typeof Point.fromBytes>;
const L = Point.Fn.ORDER;
const P = 2n ** 255n - 19n;
const ALG = 'Ed25519';
const CACHE_CAP = 1024;
/** DER header of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const PKCS8_PREFIX = Uint8Array.from([
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
]);

// ---------------------------------------------------------------- backend selection

let choice: BackendChoice = 'auto';
let probe: Promise<boolean> | undefined;

/** Force a backend (tests), or 'auto' to use WebCrypto when the runtime supports Ed25519. */
export function setBackend(next: BackendChoice): void {
	if (next !== 'auto' && next !== 'webcrypto' && next !== 'noble') throw new TypeError(`Unknown Ed25519 backend: ${String(next)}`);
	choice = next;
}

/** The backend operations will use now. Rejects if 'webcrypto' was forced but is unavailable. */
export async function currentBackend(): Promise<Backend> {
	if (choice === 'noble') return 'noble';
	const available = await webCryptoAvailable();
	if (choice === 'webcrypto' && !available) throw new Error('WebCrypto Ed25519 is not available in this runtime.');
	return available ? 'webcrypto' : 'noble';
}

function subtle(): SubtleCrypto | undefined {
	return globalThis.crypto?.subtle;
}

/** Detected once, lazily: a known-answer test (RFC 8032 §7.1 test 1), not just "does it exist". */
function webCryptoAvailable(): Promise<boolean> {
	probe ??= (async () => {
		const s = subtle();
		if (!s) return false;
		try {
			const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
			const pub = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
			const expected = hex(
				'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
			);
			const empty = new Uint8Array(0);
			const priv = await s.importKey('pkcs8', concatBytes(PKCS8_PREFIX, seed) as Uint8Array<ArrayBuffer>, ALG, false, ['sign']);
			const sig = new Uint8Array(await s.sign(ALG, priv, empty));
			if (toBase64url(sig) !== toBase64url(expected)) return false;
			const pk = await s.importKey('raw', pub, ALG, true, ['verify']);
			const tampered = Uint8Array.from(sig);
			tampered[0]! ^= 1;
			return (await s.verify(ALG, pk, sig, empty)) && !(await s.verify(ALG, pk, tampered, empty));
		} catch {
			return false;
		}
	})();
	return probe;
}

function hex(text: string): Uint8Array<ArrayBuffer> {
	const out = new Uint8Array(text.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
	return out;
}

// ---------------------------------------------------------------- keys

interface PrivateEntry {
	seed: string;
	publicKey: string;
	secret: Uint8Array;
	cryptoKey?: Promise<CryptoKey>;
}

/** Per DeviceKey object, so nothing keeps a seed alive once the app drops the key. */
const privateKeys = new WeakMap<DeviceKey, PrivateEntry>();

/** The public key a 32-byte seed derives. Throws if the seed is not canonical base64url of 32 bytes. */
export function publicKeyFromSeed(seed: string): string {
	const secret = decodeExact(seed, 32);
	if (!secret) throw new TypeError('A device key seed must be 32 bytes of base64url.');
	return toBase64url(ed25519.getPublicKey(secret));
}

export async function generateKey(): Promise<DeviceKey> {
	const secret = globalThis.crypto.getRandomValues(new Uint8Array(32));
	const key = { seed: toBase64url(secret), publicKey: toBase64url(ed25519.getPublicKey(secret)) };
	secret.fill(0);
	return key;
}

/** Validates a key once per object (seed decodes, derives the stated public key). */
function privateEntry(key: DeviceKey): PrivateEntry {
	const cached = privateKeys.get(key);
	if (cached && cached.seed === key.seed && cached.publicKey === key.publicKey) return cached;
	const secret = decodeExact(key?.seed, 32);
	if (!secret) throw new TypeError('This device key is damaged: its seed is not 32 bytes of base64url.');
	if (toBase64url(ed25519.getPublicKey(secret)) !== key.publicKey) {
		throw new Error('This device key is damaged: its seed does not match its public key.');
	}
	const entry: PrivateEntry = { seed: key.seed, publicKey: key.publicKey, secret };
	privateKeys.set(key, entry);
	return entry;
}

interface PublicEntry {
	bytes: Uint8Array;
	point: EdPoint;
	cryptoKey?: Promise<CryptoKey | null>;
}

/** Public key string → strictly validated point, or null if unacceptable. Bounded. */
const publicKeys = new Map<string, PublicEntry | null>();

function publicEntry(publicKey: string): PublicEntry | null {
	const hit = publicKeys.get(publicKey);
	if (hit !== undefined) return hit;
	const bytes = decodeExact(publicKey, 32);
	let entry: PublicEntry | null = null;
	if (bytes) {
		try {
			const point = Point.fromBytes(bytes, false); // rejects y >= p and x = 0 with the sign bit set
			if (!point.isSmallOrder() && point.isTorsionFree()) entry = { bytes, point };
		} catch {
			entry = null;
		}
	}
	// Only remember strings that look like keys, so junk input cannot flush the cache.
	if (typeof publicKey === 'string' && publicKey.length === 43) remember(publicKeys, publicKey, entry, CACHE_CAP);
	return entry;
}

// ---------------------------------------------------------------- sign

export async function sign(key: DeviceKey, message: Uint8Array): Promise<string> {
	const entry = privateEntry(key);
	if ((await currentBackend()) === 'noble') return toBase64url(ed25519.sign(message, entry.secret));
	const s = subtle()!;
	entry.cryptoKey ??= s.importKey('pkcs8', concatBytes(PKCS8_PREFIX, entry.secret) as Uint8Array<ArrayBuffer>, ALG, false, ['sign']);
	let cryptoKey: CryptoKey;
	try {
		cryptoKey = await entry.cryptoKey;
	} catch (error) {
		entry.cryptoKey = undefined;
		throw error;
	}
	return toBase64url(new Uint8Array(await s.sign(ALG, cryptoKey, bufferSource(message))));
}

/** Synchronous signing with noble (mock provider, simulations, tests). Same bytes as `sign`. */
export function signSync(key: DeviceKey, message: Uint8Array): string {
	return toBase64url(ed25519.sign(message, privateEntry(key).secret));
}

// ---------------------------------------------------------------- verify

interface Prepared {
	entry: PublicEntry;
	message: Uint8Array;
	sig: Uint8Array;
}

/** Everything both backends must agree on, checked before either runs. Null means "invalid". */
function prepare(publicKey: string, message: Uint8Array, signature: string): Prepared | null {
	if (!(message instanceof Uint8Array)) return null;
	const sig = decodeExact(signature, 64);
	if (!sig) return null;
	const entry = publicEntry(publicKey);
	if (!entry) return null;
	// R: canonical y (< p), no x = 0 with the sign bit, and not the identity (WebCrypto's spec
	// lets browsers reject small-order R; with a prime-order A only the identity could verify).
	const rLast = sig[31]!;
	const y = bytesToNumberLE(concatBytes(sig.subarray(0, 31), Uint8Array.of(rLast & 0x7f)));
	const xSign = rLast >> 7;
	if (y >= P || y === 1n || (xSign === 1 && y === P - 1n)) return null;
	if (bytesToNumberLE(sig.subarray(32)) >= L) return null;
	return { entry, message, sig };
}

function verifyNoble({ entry, message, sig }: Prepared): boolean {
	const r = sig.subarray(0, 32);
	let R: EdPoint;
	try {
		R = Point.fromBytes(r, false);
	} catch {
		return false;
	}
	const k = Point.Fn.create(bytesToNumberLE(sha512(concatBytes(r, entry.bytes, message))));
	const SB = Point.BASE.multiplyUnsafe(bytesToNumberLE(sig.subarray(32)));
	return SB.equals(R.add(entry.point.multiplyUnsafe(k))); // cofactorless, like WebCrypto
}

async function verifyWebCrypto({ entry, message, sig }: Prepared): Promise<boolean> {
	const s = subtle()!;
	entry.cryptoKey ??= s.importKey('raw', bufferSource(entry.bytes), ALG, true, ['verify']).catch(() => null);
	const cryptoKey = await entry.cryptoKey;
	if (!cryptoKey) return false;
	try {
		return await s.verify(ALG, cryptoKey, bufferSource(sig), bufferSource(message));
	} catch {
		return false;
	}
}

/** Synchronous verification with noble. Never throws on malformed input: returns false. */
export function verifySync(publicKey: string, message: Uint8Array, signature: string): boolean {
	try {
		const prepared = prepare(publicKey, message, signature);
		return prepared !== null && verifyNoble(prepared);
	} catch {
		return false;
	}
}

/** Never throws on malformed input: returns false. */
export async function verify(publicKey: string, message: Uint8Array, signature: string): Promise<boolean> {
	return (await verifyMany([{ publicKey, message, signature }]))[0] === true;
}

/** Verifies in parallel (WebCrypto) and returns one boolean per item, in order. */
export async function verifyMany(items: readonly SignatureItem[]): Promise<boolean[]> {
	const backend = await currentBackend();
	return Promise.all(
		items.map(async (item) => {
			try {
				const prepared = prepare(item?.publicKey, item?.message, item?.signature);
				if (!prepared) return false;
				return backend === 'noble' ? verifyNoble(prepared) : await verifyWebCrypto(prepared);
			} catch {
				return false;
			}
		})
	);
}
