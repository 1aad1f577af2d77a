/**
 * Human fingerprints of public keys, for checking out of band ("read me your number").
 *
 * fingerprint = SHA-256 of the raw 32-byte key, cut into 6 chunks of 5 bytes; each chunk, read as a
 * 40-bit big-endian number, is reduced mod 100 000 and printed as 5 digits:
 *
 *     "02145 44043 66322 31051 70008 37623"   (30 digits, 6 groups — Signal's per-person length;
 *                                              RFC 8032 test key 1, asserted in the tests)
 *
 * Strength: 10^30 ≈ 2^99.7 values (the mod bias, 2^40 vs 10^5, is ~10^-7 and negligible). Out-of-band
 * checking needs second-preimage resistance — an attacker must find a key matching a victim's
 * fixed fingerprint — which costs ~2^99.7 tries. (A shorter 20-digit form would be ~2^66: within
 * reach of a well-funded attacker grinding keys, so it is not used.) Blind collisions between any two
 * keys cost ~2^50, which does not help an attacker impersonate a chosen person.
 *
 * shortFingerprint = the first 2 groups (10 digits, ~2^33): a compact label to tell keys apart on
 * screen. It is NOT enough to verify a key — always compare the full fingerprint.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeExact } from './bytes';

export const FINGERPRINT_GROUPS = 6;
export const FINGERPRINT_PATTERN = /^\d{5}( \d{5}){5}$/;
export const SHORT_FINGERPRINT_PATTERN = /^\d{5} \d{5}$/;

function groups(publicKey: string, count: number): string {
	const raw = decodeExact(publicKey, 32);
	if (!raw) throw new TypeError('Not an Ed25519 public key (expected 32 bytes of base64url).');
	const hash = sha256(raw);
	const out: string[] = [];
	for (let g = 0; g < count; g++) {
		let n = 0;
		for (let i = 5 * g; i < 5 * g + 5; i++) n = n * 256 + hash[i]!; // < 2^40, exact in a double
		out.push(String(n % 100_000).padStart(5, '0'));
	}
	return out.join(' ');
}

/** Full fingerprint: 6 groups of 5 digits. Throws a TypeError for a malformed public key. */
export function fingerprint(publicKey: string): string {
	return groups(publicKey, FINGERPRINT_GROUPS);
}

/** First 2 groups of `fingerprint`, for compact display only — not for verification. */
export function shortFingerprint(publicKey: string): string {
	return groups(publicKey, 2);
}
