/**
 * The safety number of two identities, and the verification code a QR carries: how two people check,
 * by reading digits to each other or by scanning, that each app holds the other's real identity key
 * (and not a key someone in the middle swapped in).
 *
 * safetyNumber(a, b) = the two identity keys' halves, the smaller key's first, so both screens show
 * the same 60 digits in 12 groups of 5 whichever side computes it (Signal's layout). Each half:
 *
 *     h0 = SHA-256("milestone-safety-number-v1" ‖ key);  h(i+1) = SHA-256(h(i) ‖ key), 5200 times
 *
 * (SHA-256 of contract/sha256.ts, the app's fast synchronous one) and the first 30 bytes of the last hash, as 6 chunks of 5 bytes each read as a 40-bit big-endian
 * number mod 100 000 (as fingerprint.ts). Why iterated: to match a victim's half an attacker grinds
 * keys (second preimage, ~10^30 ≈ 2^99.7 tries); 5200 hashes a try add ~12 bits to that, while one
 * safety number costs a device a few milliseconds. The version string keeps these digits apart from
 * a fingerprint of the same key.
 *
 * The verification code is `milestone-verify:1:<sender's identity>:<the identity the sender sees for
 * you>`: scanning or pasting the other party's code checks both keys at once (`checkVerificationCode`).
 * Identity keys are base64url, which has no ':'.
 */
import { sha256Bytes } from '../contract/sha256';
import { decodeExact } from './bytes';

export const SAFETY_NUMBER_GROUPS = 12;
export const SAFETY_NUMBER_PATTERN = /^\d{5}( \d{5}){11}$/;
export const SAFETY_NUMBER_ITERATIONS = 5200;
export const VERIFICATION_CODE_PREFIX = 'milestone-verify:';
const VERSION = new TextEncoder().encode('milestone-safety-number-v1');

function keyBytes(identity: string): Uint8Array {
	const raw = decodeExact(identity, 32);
	if (!raw) throw new TypeError('Not an identity key (expected 32 bytes of base64url).');
	return raw;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
	const out = new Uint8Array(a.length + b.length);
	out.set(a);
	out.set(b, a.length);
	return out;
}

/** One identity's 30 digits (6 groups). */
function half(identity: string): string[] {
	const raw = keyBytes(identity);
	let h = sha256Bytes(join(VERSION, raw));
	// One buffer for every round: [previous hash ‖ key].
	const round = join(h, raw);
	for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) {
		round.set(h);
		h = sha256Bytes(round);
	}
	const out: string[] = [];
	for (let g = 0; g < 6; g++) {
		let n = 0;
		for (let i = 5 * g; i < 5 * g + 5; i++) n = n * 256 + h[i]!; // < 2^40, exact in a double
		out.push(String(n % 100_000).padStart(5, '0'));
	}
	return out;
}

// Pages compute it on every render of the Verify section: remember the last few halves.
const halves = new Map<string, string[]>();
function cachedHalf(identity: string): string[] {
	let h = halves.get(identity);
	if (!h) {
		h = half(identity);
		if (halves.size >= 32) halves.delete(halves.keys().next().value!);
		halves.set(identity, h);
	}
	return h;
}

/**
 * The safety number of two identity keys, as 12 groups of 5 digits; the same whichever order the keys
 * are given in. Throws a TypeError for a malformed key.
 */
export function safetyNumberGroups(a: string, b: string): string[] {
	const [first, second] = a < b ? [a, b] : [b, a];
	return [...cachedHalf(first), ...cachedHalf(second)];
}

/** The safety number as one line: "12345 67890 … " (60 digits). */
export function safetyNumber(a: string, b: string): string {
	return safetyNumberGroups(a, b).join(' ');
}

/** What this device shows (as text and as a QR code) for the other party to scan or paste. */
export function verificationCode(mine: string, theirs: string): string {
	keyBytes(mine);
	keyBytes(theirs);
	return `${VERIFICATION_CODE_PREFIX}1:${mine}:${theirs}`;
}

export type CodeCheck = { ok: true } | { ok: false; reason: string };

/**
 * Does the code the other party shows prove that both apps hold the same two keys? It must come from
 * `theirs` (the key this contract pins for them) and name `mine` as the key they see for this person.
 * `name` is the other party's name, for the reason.
 */
export function checkVerificationCode(code: string, mine: string, theirs: string, name: string): CodeCheck {
	const text = code.trim();
	if (!text) return { ok: false, reason: `Paste the verification code ${name} shows under Verify on their screen.` };
	if (!text.startsWith(VERIFICATION_CODE_PREFIX))
		return { ok: false, reason: `This is not a Milestone verification code: those start with “${VERIFICATION_CODE_PREFIX}”.` };
	const parts = text.slice(VERIFICATION_CODE_PREFIX.length).split(':');
	if (parts.length !== 3 || parts[0] !== '1' || !decodeExact(parts[1], 32) || !decodeExact(parts[2], 32))
		return { ok: false, reason: 'This verification code is damaged or incomplete: copy it again, whole.' };
	const [, sender, seesYou] = parts as [string, string, string];
	if (sender === mine && seesYou === theirs) return { ok: false, reason: `This is your own verification code. Paste the one ${name} shows on their screen.` };
	if (sender !== theirs)
		return { ok: false, reason: `This code was made with another identity key than the one this contract holds for ${name}. Do not mark them verified: ask them to check they are on this contract.` };
	if (seesYou !== mine)
		return { ok: false, reason: `${name}'s app holds another key for you than yours: someone may stand between you. Do not mark them verified, and do not fund anything until you have compared the safety number in person or by phone.` };
	return { ok: true };
}
