import { describe, expect, it } from 'vitest';
import { toBase64url } from '../../../src/lib/contract/encoding';
import { generateKey } from '../../../src/lib/identity/ed25519';
import { FINGERPRINT_PATTERN, SHORT_FINGERPRINT_PATTERN, fingerprint, shortFingerprint } from '../../../src/lib/identity/fingerprint';

// RFC 8032 test 1 public key; the expected value was computed independently with node:crypto SHA-256.
const RFC_PUBLIC_KEY = '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo';

describe('fingerprint', () => {
	it('matches a fixed test vector', () => {
		expect(fingerprint(RFC_PUBLIC_KEY)).toBe('02145 44043 66322 31051 70008 37623');
		expect(shortFingerprint(RFC_PUBLIC_KEY)).toBe('02145 44043');
	});

	it('is stable, formatted, and differs between keys', async () => {
		const a = await generateKey();
		const b = await generateKey();
		expect(fingerprint(a.publicKey)).toBe(fingerprint(a.publicKey));
		expect(fingerprint(a.publicKey)).toMatch(FINGERPRINT_PATTERN);
		expect(shortFingerprint(a.publicKey)).toMatch(SHORT_FINGERPRINT_PATTERN);
		expect(fingerprint(a.publicKey).startsWith(shortFingerprint(a.publicKey))).toBe(true);
		expect(fingerprint(a.publicKey)).not.toBe(fingerprint(b.publicKey));
	});

	it('changes completely when one key bit changes', () => {
		const raw = new Uint8Array(32);
		const f0 = fingerprint(toBase64url(raw)).split(' ');
		raw[31] = 1;
		const f1 = fingerprint(toBase64url(raw)).split(' ');
		expect(f0.filter((g, i) => g === f1[i]).length).toBeLessThan(2);
	});

	it('throws on something that is not a 32-byte key', () => {
		expect(() => fingerprint('abc')).toThrow(TypeError);
		expect(() => fingerprint(toBase64url(new Uint8Array(33)))).toThrow(TypeError);
		expect(() => shortFingerprint('!'.repeat(43))).toThrow(TypeError);
	});
});
