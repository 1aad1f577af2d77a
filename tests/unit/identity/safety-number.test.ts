import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64url, toBase64url } from '../../../src/lib/contract/encoding';
import { generateKey } from '../../../src/lib/identity/ed25519';
import { fingerprint } from '../../../src/lib/identity/fingerprint';
import {
	SAFETY_NUMBER_ITERATIONS,
	SAFETY_NUMBER_PATTERN,
	checkVerificationCode,
	safetyNumber,
	safetyNumberGroups,
	verificationCode
} from '../../../src/lib/identity/safety-number';

const key = (fill: number, last = fill) => {
	const raw = new Uint8Array(32).fill(fill);
	raw[31] = last;
	return toBase64url(raw);
};

/** The construction written out again, independently of the module's code, for one key's half. */
function reference(identity: string): string[] {
	const raw = fromBase64url(identity);
	const cat = (a: Uint8Array, b: Uint8Array) => new Uint8Array([...a, ...b]);
	let h = sha256(cat(new TextEncoder().encode('milestone-safety-number-v1'), raw));
	for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) h = sha256(cat(h, raw));
	return [0, 1, 2, 3, 4, 5].map((g) => String(Number(BigInt('0x' + Buffer.from(h.slice(5 * g, 5 * g + 5)).toString('hex')) % 100_000n)).padStart(5, '0'));
}

describe('safety number', () => {
	it('is the same on both screens: the order of the two keys does not matter', async () => {
		const a = (await generateKey()).publicKey;
		const b = (await generateKey()).publicKey;
		expect(safetyNumber(a, b)).toBe(safetyNumber(b, a));
		expect(safetyNumberGroups(a, b)).toEqual(safetyNumberGroups(b, a));
	});

	it('is 60 digits in 12 groups of 5', async () => {
		const a = (await generateKey()).publicKey;
		const b = (await generateKey()).publicKey;
		expect(safetyNumber(a, b)).toMatch(SAFETY_NUMBER_PATTERN);
		expect(safetyNumberGroups(a, b)).toHaveLength(12);
		expect(safetyNumberGroups(a, b).every((g) => /^\d{5}$/.test(g))).toBe(true);
	});

	it('is the smaller key’s half then the other’s, each as the construction says', () => {
		const small = key(1);
		const big = key(200);
		expect(small < big).toBe(true);
		expect(safetyNumberGroups(big, small)).toEqual([...reference(small), ...reference(big)]);
	});

	it('differs when either key changes, even by one bit', () => {
		const a = key(7);
		const b = key(9);
		const base = safetyNumberGroups(a, b);
		for (const changed of [safetyNumberGroups(key(7, 6), b), safetyNumberGroups(a, key(9, 8))]) {
			expect(changed.join(' ')).not.toBe(base.join(' '));
			// The changed key's half changes completely, the other half stays.
			expect(changed.filter((g, i) => g === base[i]).length).toBeLessThanOrEqual(7);
		}
	});

	it('is not the keys’ fingerprints (what a person compares at the countersign)', () => {
		const a = key(3);
		const b = key(4);
		const n = safetyNumber(a, b);
		expect(n).not.toContain(fingerprint(a));
		expect(n).not.toContain(fingerprint(b));
	});

	it('throws on something that is not a 32-byte key', () => {
		expect(() => safetyNumber('abc', key(1))).toThrow(TypeError);
		expect(() => safetyNumber(key(1), toBase64url(new Uint8Array(33)))).toThrow(TypeError);
	});
});

describe('verification code', () => {
	const ada = key(10);
	const grace = key(20);
	const mallory = key(30);

	it('carries both keys, the sender’s first', () => {
		expect(verificationCode(ada, grace)).toBe(`milestone-verify:1:${ada}:${grace}`);
	});

	it('checks out when pasted by the other party: the same two keys on both sides', () => {
		expect(checkVerificationCode(verificationCode(grace, ada), ada, grace, 'Grace')).toEqual({ ok: true });
		expect(checkVerificationCode(`  ${verificationCode(ada, grace)}\n`, grace, ada, 'Ada')).toEqual({ ok: true });
	});

	it('refuses a code from another key than the one the contract holds for them', () => {
		const r = checkVerificationCode(verificationCode(mallory, ada), ada, grace, 'Grace');
		expect(r.ok).toBe(false);
		expect(!r.ok && r.reason).toMatch(/another identity key than the one this contract holds for Grace/);
	});

	it('refuses a code whose sender sees another key for this person (someone in the middle)', () => {
		const r = checkVerificationCode(verificationCode(grace, mallory), ada, grace, 'Grace');
		expect(!r.ok && r.reason).toMatch(/holds another key for you/);
	});

	it('refuses this person’s own code, junk, a damaged code and an empty field, each with its reason', () => {
		const own = checkVerificationCode(verificationCode(ada, grace), ada, grace, 'Grace');
		expect(!own.ok && own.reason).toMatch(/your own verification code/);
		const junk = checkVerificationCode('hello', ada, grace, 'Grace');
		expect(!junk.ok && junk.reason).toMatch(/not a Milestone verification code/);
		const cut = checkVerificationCode(verificationCode(grace, ada).slice(0, -5), ada, grace, 'Grace');
		expect(!cut.ok && cut.reason).toMatch(/damaged or incomplete/);
		const otherVersion = checkVerificationCode(verificationCode(grace, ada).replace(':1:', ':2:'), ada, grace, 'Grace');
		expect(!otherVersion.ok && otherVersion.reason).toMatch(/damaged or incomplete/);
		const empty = checkVerificationCode('  ', ada, grace, 'Grace');
		expect(!empty.ok && empty.reason).toMatch(/Paste the verification code Grace shows/);
	});
});
