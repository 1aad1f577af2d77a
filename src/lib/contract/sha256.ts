/**
 * SHA-256 of a string's UTF-8 bytes, synchronous and allocation-free on the hot path: opening a
 * contract hashes every event body (10,000 bodies for a large contract), and per-call buffers were
 * most of that cost. The text is encoded into one reused scratch buffer and compressed in place.
 * Checked against @noble/hashes and the FIPS 180-4 vectors in tests/unit/contract/sha256.test.ts.
 *
 * A faster synchronous implementation (WebAssembly: src/lib/sync/wasm-sha256.ts) can be installed
 * with `useSha256`; WebAssembly only instantiates asynchronously, so this module cannot load it
 * itself and stays pure. It runs the same known-answer test before it is accepted.
 */

/**
 * A synchronous SHA-256 of bytes. It may return a view of its own memory, valid until its next
 * call: callers here copy it unless they only read it at once (`sha256Utf8View`).
 */
export type Sha256 = (bytes: Uint8Array) => Uint8Array;
/** The same of a string's UTF-8 bytes, for an implementation that encodes straight into its own memory. */
export type Sha256Utf8 = (text: string) => Uint8Array;

let installed: Sha256 | undefined;
let installedUtf8: Sha256Utf8 | undefined;

/**
 * Use `impl` (and `utf8`, if given) from now on (undefined: the JavaScript one). Refused, with the
 * JavaScript one kept, if either does not give this module's digests for a few inputs around the
 * block boundaries.
 */
export function useSha256(impl: Sha256 | undefined, utf8?: Sha256Utf8): boolean {
	if (impl) {
		for (const n of [0, 3, 55, 56, 64, 119, 1000, 20_000]) {
			const bytes = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
			const want = javascriptBytes(bytes);
			const text = String.fromCharCode(...bytes.subarray(0, Math.min(n, 1000)).map((b) => 0x20 + (b % 0x5e))) + (n > 1000 ? '\u00e9\u4e2d'.repeat(n >> 3) : '');
			const wantText = javascriptBytes(encoder.encode(text));
			try {
				if (!same(impl(bytes.slice()), want)) return false;
				if (utf8 && !same(utf8(text), wantText)) return false;
			} catch {
				return false;
			}
		}
	}
	installed = impl;
	installedUtf8 = impl && utf8;
	return true;
}

function same(got: Uint8Array, want: Uint8Array): boolean {
	return got.length === 32 && got.every((b, i) => b === want[i]);
}

/** Which implementation hashes now (for the benchmark's figures). */
export function sha256Implementation(): 'javascript' | 'installed' {
	return installed ? 'installed' : 'javascript';
}

const K = new Int32Array([
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
]);

const W = new Int32Array(64);
const H = new Int32Array(8);
const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);

export function sha256Utf8(text: string): Uint8Array {
	return sha256Utf8View(text).slice();
}

/** `sha256Utf8` without the copy: the digest may be overwritten by the next hash, so read it at once. */
export function sha256Utf8View(text: string): Uint8Array {
	if (installedUtf8) return installedUtf8(text);
	// UTF-8 needs at most 3 bytes per UTF-16 unit; +72 leaves room for padding and length.
	const need = text.length * 3 + 72;
	if (scratch.length < need) scratch = new Uint8Array(need * 2);
	const n = encoder.encodeInto(text, scratch).written;
	return installed ? installed(scratch.subarray(0, n)) : digest(scratch, n);
}

export function sha256Bytes(bytes: Uint8Array): Uint8Array {
	return installed ? installed(bytes).slice() : javascriptBytes(bytes);
}

function javascriptBytes(bytes: Uint8Array): Uint8Array {
	const need = bytes.length + 72;
	if (scratch.length < need) scratch = new Uint8Array(need * 2);
	scratch.set(bytes);
	return digest(scratch, bytes.length);
}

/** Pads `buf[0..n)` in place (buf has room) and returns the 32-byte digest. */
function digest(buf: Uint8Array, n: number): Uint8Array {
	const total = (((n + 8) >> 6) + 1) << 6;
	buf[n] = 0x80;
	buf.fill(0, n + 1, total);
	// Message length in bits, big-endian 64-bit (lengths here stay far below 2^32 bytes).
	const bits = n * 8;
	buf[total - 5] = Math.floor(bits / 2 ** 32) & 0xff;
	buf[total - 4] = (bits >>> 24) & 0xff;
	buf[total - 3] = (bits >>> 16) & 0xff;
	buf[total - 2] = (bits >>> 8) & 0xff;
	buf[total - 1] = bits & 0xff;
	H[0] = 0x6a09e667;
	H[1] = 0xbb67ae85;
	H[2] = 0x3c6ef372;
	H[3] = 0xa54ff53a;
	H[4] = 0x510e527f;
	H[5] = 0x9b05688c;
	H[6] = 0x1f83d9ab;
	H[7] = 0x5be0cd19;
	for (let off = 0; off < total; off += 64) block(buf, off);
	const out = new Uint8Array(32);
	for (let i = 0; i < 8; i++) {
		const h = H[i]!;
		out[i * 4] = h >>> 24;
		out[i * 4 + 1] = h >>> 16;
		out[i * 4 + 2] = h >>> 8;
		out[i * 4 + 3] = h;
	}
	return out;
}

function block(buf: Uint8Array, off: number): void {
	for (let i = 0; i < 16; i++) {
		const j = off + i * 4;
		W[i] = (buf[j]! << 24) | (buf[j + 1]! << 16) | (buf[j + 2]! << 8) | buf[j + 3]!;
	}
	for (let i = 16; i < 64; i++) {
		const w15 = W[i - 15]!;
		const w2 = W[i - 2]!;
		const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
		const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
		W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
	}
	let a = H[0]!, b = H[1]!, c = H[2]!, d = H[3]!, e = H[4]!, f = H[5]!, g = H[6]!, h = H[7]!;
	for (let i = 0; i < 64; i++) {
		const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
		const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
		const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
		const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
		h = g;
		g = f;
		f = e;
		e = (d + t1) | 0;
		d = c;
		c = b;
		b = a;
		a = (t1 + t2) | 0;
	}
	H[0] = (H[0]! + a) | 0;
	H[1] = (H[1]! + b) | 0;
	H[2] = (H[2]! + c) | 0;
	H[3] = (H[3]! + d) | 0;
	H[4] = (H[4]! + e) | 0;
	H[5] = (H[5]! + f) | 0;
	H[6] = (H[6]! + g) | 0;
	H[7] = (H[7]! + h) | 0;
}
