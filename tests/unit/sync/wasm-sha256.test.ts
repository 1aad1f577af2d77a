/**
 * The WebAssembly SHA-256 the app installs before opening a contract gives the same digests as the
 * JavaScript one (and @noble/hashes), and a wrong implementation is refused.
 */
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Bytes, sha256Implementation, sha256Utf8, useSha256 } from '../../../src/lib/contract/sha256';
import { loadWasmSha256 } from '../../../src/lib/sync/wasm-sha256';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('WebAssembly SHA-256', () => {
	afterAll(() => void useSha256(undefined));

	it('is installed, and agrees with @noble/hashes on any text and bytes', async () => {
		expect(await loadWasmSha256()).toBe(true);
		expect(sha256Implementation()).toBe('installed');
		expect(hex(sha256Utf8('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
		fc.assert(
			fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
				expect(hex(sha256Utf8(s))).toBe(hex(sha256(new TextEncoder().encode(s))));
			}),
			{ numRuns: 300 }
		);
		for (let n = 0; n < 150; n++) {
			const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
			expect(hex(sha256Bytes(bytes))).toBe(hex(sha256(bytes)));
		}
		// Around the module's 16 KiB input buffer: longer input is fed in chunks.
		for (const n of [5461, 5462, 16_383, 16_384, 16_385, 40_000]) {
			const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 13 + n) & 0xff);
			expect(hex(sha256Bytes(bytes))).toBe(hex(sha256(bytes)));
			const text = 'é'.repeat(n >> 2) + 'x'.repeat(n & 3);
			expect(hex(sha256Utf8(text))).toBe(hex(sha256(new TextEncoder().encode(text))));
		}
	});

	it('hands out digests that the next hash does not overwrite', async () => {
		expect(await loadWasmSha256()).toBe(true);
		const a = sha256Utf8('a');
		const b = sha256Bytes(new Uint8Array([1]));
		sha256Utf8('c');
		expect(hex(a)).toBe(hex(sha256(new TextEncoder().encode('a'))));
		expect(hex(b)).toBe(hex(sha256(new Uint8Array([1]))));
	});

	it('refuses an implementation that gives other digests, and keeps the one in use', () => {
		const before = sha256Implementation();
		expect(useSha256((b) => sha256(b).map((x, i) => (i === 0 ? x ^ 1 : x)))).toBe(false);
		expect(useSha256(() => new Uint8Array(31))).toBe(false);
		// A text entry point that disagrees (here: on non-ASCII text) is refused with the rest.
		expect(useSha256(sha256, (t) => sha256(new TextEncoder().encode(t.replace(/[^\x00-\x7f]/g, '?'))))).toBe(false);
		expect(
			useSha256(() => {
				throw new Error('broken');
			})
		).toBe(false);
		expect(sha256Implementation()).toBe(before);
		expect(hex(sha256Utf8(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
	});
});
