import { afterEach, describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, concatBytes, numberToBytesLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { fromBase64url, toBase64url, utf8 } from '../../../src/lib/contract/encoding';
import {
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
	type DeviceKey
} from '../../../src/lib/identity/ed25519';

const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
const b64 = (h: string) => toBase64url(hex(h));

// RFC 8032 §7.1, tests 1 and 2.
const RFC = [
	{
		key: { seed: b64('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'), publicKey: b64('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a') },
		message: new Uint8Array(0),
		signature: b64('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b')
	},
	{
		key: { seed: b64('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb'), publicKey: b64('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c') },
		message: hex('72'),
		signature: b64('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00')
	}
];

const BACKENDS: Backend[] = ['webcrypto', 'noble'];
const KEY_A: DeviceKey = { seed: toBase64url(new Uint8Array(32).fill(1)), publicKey: publicKeyFromSeed(toBase64url(new Uint8Array(32).fill(1))) };
const KEY_B: DeviceKey = { seed: toBase64url(new Uint8Array(32).fill(2)), publicKey: publicKeyFromSeed(toBase64url(new Uint8Array(32).fill(2))) };
const msg = utf8.encode('milestone 1 delivered');

afterEach(() => setBackend('auto'));

function flipBit(text: string, byte: number): string {
	const bytes = fromBase64url(text);
	bytes[byte]! ^= 1;
	return toBase64url(bytes);
}

describe('backend selection', () => {
	it('uses WebCrypto on Node 20 by default and can be forced to noble', async () => {
		expect(await currentBackend()).toBe('webcrypto');
		setBackend('noble');
		expect(await currentBackend()).toBe('noble');
		setBackend('webcrypto');
		expect(await currentBackend()).toBe('webcrypto');
	});

	it('rejects unknown backends', () => {
		expect(() => setBackend('openssl' as never)).toThrow(TypeError);
	});
});

describe('keys', () => {
	it('generates distinct 32-byte seeds whose public key is derived from the seed', async () => {
		const a = await generateKey();
		const b = await generateKey();
		expect(a.seed).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(a.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(publicKeyFromSeed(a.seed)).toBe(a.publicKey);
		expect(a.seed).not.toBe(b.seed);
		expect(a.publicKey).not.toBe(b.publicKey);
	});

	it('refuses to sign with a damaged key', async () => {
		const mismatched = { seed: KEY_A.seed, publicKey: KEY_B.publicKey };
		await expect(sign(mismatched, msg)).rejects.toThrow(/does not match/);
		expect(() => signSync({ seed: 'nope', publicKey: KEY_A.publicKey }, msg)).toThrow(/32 bytes/);
		expect(() => publicKeyFromSeed('AAAA')).toThrow(TypeError);
	});
});

describe.each(BACKENDS)('%s backend', (backend) => {
	const use = () => setBackend(backend);

	it('matches the RFC 8032 test vectors', async () => {
		use();
		for (const v of RFC) {
			expect(publicKeyFromSeed(v.key.seed)).toBe(v.key.publicKey);
			expect(await sign(v.key, v.message)).toBe(v.signature);
			expect(await verify(v.key.publicKey, v.message, v.signature)).toBe(true);
		}
	});

	it('round-trips a fresh key', async () => {
		use();
		const key = await generateKey();
		const sig = await sign(key, msg);
		expect(fromBase64url(sig)).toHaveLength(64);
		expect(await verify(key.publicKey, msg, sig)).toBe(true);
	});

	it('returns false for tampered messages, signatures and the wrong key', async () => {
		use();
		const sig = await sign(KEY_A, msg);
		expect(await verify(KEY_A.publicKey, utf8.encode('milestone 2 delivered'), sig)).toBe(false);
		expect(await verify(KEY_A.publicKey, msg, flipBit(sig, 0))).toBe(false); // R
		expect(await verify(KEY_A.publicKey, msg, flipBit(sig, 40))).toBe(false); // S
		expect(await verify(KEY_B.publicKey, msg, sig)).toBe(false);
		expect(await verify(flipBit(KEY_A.publicKey, 5), msg, sig)).toBe(false);
	});

	it('returns false (never throws) for malformed input', async () => {
		use();
		const sig = await sign(KEY_A, msg);
		const bad: [unknown, unknown, unknown][] = [
			['not base64!', msg, sig],
			[KEY_A.publicKey, msg, 'not base64!'],
			[KEY_A.publicKey.slice(1), msg, sig],
			[KEY_A.publicKey, msg, sig.slice(0, 60)],
			[KEY_A.publicKey, msg, sig + 'AAAA'],
			['', msg, ''],
			[undefined, msg, sig],
			[KEY_A.publicKey, 'a string, not bytes', sig],
			[KEY_A.publicKey, msg, null],
			[toBase64url(new Uint8Array(32).fill(0xff)), msg, sig] // y >= p: not a point
		];
		for (const [pub, m, s] of bad) {
			expect(await verify(pub as string, m as Uint8Array, s as string)).toBe(false);
			expect(verifySync(pub as string, m as Uint8Array, s as string)).toBe(false);
		}
	});

	it('rejects non-canonical base64url spellings of a valid signature and key', async () => {
		use();
		const sig = await sign(KEY_A, msg);
		// 64 bytes use 86 chars; the last char carries 4 unused bits. Setting one must not verify.
		const last = sig.at(-1)!;
		const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
		const sloppySig = sig.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1];
		expect(fromBase64url(sloppySig)).toEqual(fromBase64url(sig));
		expect(await verify(KEY_A.publicKey, msg, sloppySig)).toBe(false);
		const pubLast = KEY_A.publicKey.at(-1)!;
		const sloppyPub = KEY_A.publicKey.slice(0, -1) + alphabet[alphabet.indexOf(pubLast) | 1];
		expect(fromBase64url(sloppyPub)).toEqual(fromBase64url(KEY_A.publicKey));
		expect(await verify(sloppyPub, msg, sig)).toBe(false);
	});

	it('verifyMany returns mixed results in order', async () => {
		use();
		const sigA = await sign(KEY_A, msg);
		const sigB = await sign(KEY_B, msg);
		const other = utf8.encode('other');
		const results = await verifyMany([
			{ publicKey: KEY_A.publicKey, message: msg, signature: sigA },
			{ publicKey: KEY_A.publicKey, message: msg, signature: sigB },
			{ publicKey: KEY_B.publicKey, message: msg, signature: sigB },
			{ publicKey: KEY_B.publicKey, message: other, signature: sigB },
			{ publicKey: 'garbage', message: msg, signature: sigA },
			{ publicKey: KEY_A.publicKey, message: other, signature: await sign(KEY_A, other) }
		]);
		expect(results).toEqual([true, false, true, false, false, true]);
		expect(await verifyMany([])).toEqual([]);
	});
});

describe('cross-backend agreement', () => {
	it('produces identical deterministic signatures and each verifies the other', async () => {
		const key = await generateKey();
		setBackend('webcrypto');
		const viaWebCrypto = await sign(key, msg);
		setBackend('noble');
		const viaNoble = await sign(key, msg);
		expect(viaNoble).toBe(viaWebCrypto);
		expect(signSync(key, msg)).toBe(viaWebCrypto);
		expect(await verify(key.publicKey, msg, viaWebCrypto)).toBe(true); // noble verifies WebCrypto's
		expect(verifySync(key.publicKey, msg, viaWebCrypto)).toBe(true);
		setBackend('webcrypto');
		expect(await verify(key.publicKey, msg, signSync(key, msg))).toBe(true); // WebCrypto verifies noble's
	});

	// Signatures implementations disagree on (measured on Node 20: raw WebCrypto accepts 1 and 3,
	// noble's default cofactored check accepts all three). Ours must reject them on every backend.
	const Point = ed25519.Point;
	const Fn = Point.Fn;
	const T8 = Point.fromBytes(hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a')); // order 8
	const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array) => Fn.create(bytesToNumberLE(sha512(concatBytes(r, a, m))));
	const { scalar: a, pointBytes: A } = ed25519.utils.getExtendedPublicKey(new Uint8Array(32).fill(7));
	/** The cofactored equation [8]([S]B - R - [k]A) = 0 that permissive verifiers use. */
	const cofactoredValid = (pub: Uint8Array, m: Uint8Array, sig: Uint8Array) => {
		const R = Point.fromBytes(sig.subarray(0, 32), true);
		const s = bytesToNumberLE(sig.subarray(32));
		const k = challenge(sig.subarray(0, 32), pub, m);
		return Point.BASE.multiplyUnsafe(s).subtract(R).subtract(Point.fromBytes(pub, true).multiplyUnsafe(k)).clearCofactor().is0();
	};

	const cases: { name: string; pub: Uint8Array; message: Uint8Array; sig: Uint8Array }[] = [];
	{
		// 1. Identity public key: R = [s]B verifies ANY message under the cofactorless equation.
		const s = 123456789n;
		cases.push({ name: 'identity public key (universal forgery)', pub: Point.ZERO.toBytes(), message: msg, sig: concatBytes(Point.BASE.multiply(s).toBytes(), numberToBytesLE(s, 32)) });
	}
	{
		// 2. Mixed-order R = [r]B + T8 from the real key owner.
		const r = 999n;
		const R = Point.BASE.multiply(r).add(T8).toBytes();
		const s = Fn.create(r + challenge(R, A, msg) * a);
		cases.push({ name: 'mixed-order R', pub: A, message: msg, sig: concatBytes(R, numberToBytesLE(s, 32)) });
	}
	{
		// 3. Mixed-order public key A + T8, with a message ground so that k ≡ 0 (mod 8).
		const Am = Point.fromBytes(A).add(T8).toBytes();
		for (let i = 0; ; i++) {
			const m = utf8.encode(`ground ${i}`);
			const r = 1000n + BigInt(i);
			const R = Point.BASE.multiply(r).toBytes();
			const k = challenge(R, Am, m);
			if (k % 8n !== 0n) continue;
			cases.push({ name: 'mixed-order public key', pub: Am, message: m, sig: concatBytes(R, numberToBytesLE(Fn.create(r + k * a), 32)) });
			break;
		}
	}

	it.each(cases)('rejects $name on both backends', async ({ pub, message, sig }) => {
		expect(T8.isSmallOrder() && !T8.multiplyUnsafe(4n).is0()).toBe(true);
		expect(cofactoredValid(pub, message, sig)).toBe(true); // the case is real
		for (const backend of BACKENDS) {
			setBackend(backend);
			expect(await verify(toBase64url(pub), message, toBase64url(sig))).toBe(false);
		}
		expect(verifySync(toBase64url(pub), message, toBase64url(sig))).toBe(false);
	});
});
