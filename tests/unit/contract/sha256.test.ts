import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { sha256Bytes, sha256Utf8 } from '../../../src/lib/contract/sha256';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('sha256', () => {
	it('matches the FIPS 180-4 vectors', () => {
		expect(hex(sha256Utf8(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
		expect(hex(sha256Utf8('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
		expect(hex(sha256Utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
			'248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'
		);
		expect(hex(sha256Utf8('a'.repeat(1_000_000)))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
	});

	it('agrees with @noble/hashes on any text and any bytes, at every padding boundary', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
				expect(hex(sha256Utf8(s))).toBe(hex(sha256(new TextEncoder().encode(s))));
			}),
			{ numRuns: 500 }
		);
		for (let n = 0; n < 200; n++) {
			const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
			expect(hex(sha256Bytes(bytes))).toBe(hex(sha256(bytes)));
		}
	});
});
