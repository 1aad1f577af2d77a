/**
 * Adding a device (pure: no network, no storage; the transport is sync/pairing-transport.ts).
 *
 * 1. The NEW device makes an ephemeral X25519 key pair and a rendezvous code (8 Crockford base32
 *    characters, 40 bits): enough to name a room on the relay for a few minutes, not a secret key.
 *    Both sides derive the room from the code (HKDF); it posts an `offer` holding only a COMMITMENT
 *    (a hash) to its public key, its device key and its name.
 * 2. The EXISTING device, given the code, answers with its own X25519 public key.
 * 3. The new device reveals what it committed to. Both now hold the transcript (code, both X25519
 *    keys, the device key, its name) and the X25519 shared secret, and show the same short
 *    fingerprint of the transcript for the person to compare.
 * 4. Once the person confirmed on the existing device, it seals (XChaCha20-Poly1305 under a key
 *    derived from the shared secret and the transcript) the new device's certificate, signed by the
 *    identity key, and the contracts list with their link secrets. The new device opens it only
 *    after the person confirmed on it too, and checks the certificate is for its own key.
 *
 * Why the commitment: whoever sits in the middle (the relay, or anyone who learned the code) could
 * otherwise wait for the existing device's key and then grind its own keys until both screens showed
 * the same 8 digits (10^8 tries is minutes). Committed first, its keys are fixed before it sees the
 * keys it would have to match, so two screens agree by chance once in 10^8 pairings, and every failed
 * attempt is a pairing the person sees fail.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64url, toBase64url, utf8 } from '../contract/encoding';
import { decodeExact } from './bytes';
import { readCertificate, type CertificateInfo } from './certificate';
import type { LockedIdentity } from './identity';

const PROTOCOL = 'milestone-pairing/1';
/** Crockford's base32: no I, L, O or U, so a code read aloud or typed is hard to get wrong. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_LENGTH = 8;
/** A code names its room this long; after it the new device stops listening. */
export const CODE_LIFETIME_MS = 10 * 60_000;
/** Fingerprint: 8 digits in two groups. */
export const PAIRING_FINGERPRINT_PATTERN = /^\d{4} \d{4}$/;

export class PairingError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'PairingError';
	}
}

// —— the code ——

/** A fresh rendezvous code: 8 characters, 40 random bits. */
export function newCode(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(CODE_LENGTH));
	// 256 is a multiple of 32: taking each byte mod 32 has no bias.
	return [...bytes].map((b) => ALPHABET[b % 32]).join('');
}

/** For display: two groups of four ("7KQ2-M9XD"). */
export function formatCode(code: string): string {
	return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * A code as a person typed it: case, spaces and dashes do not matter, and the letters Crockford
 * reads as digits (O → 0, I and L → 1) are read so. Throws PairingError with what is wrong.
 */
export function parseCode(input: string): string {
	const code = input
		.toUpperCase()
		.replace(/[\s-]/g, '')
		.replace(/O/g, '0')
		.replace(/[IL]/g, '1');
	if (!code) throw new PairingError('Enter the code your new device shows.');
	const bad = [...code].filter((c) => !ALPHABET.includes(c));
	if (bad.length) throw new PairingError(`The code has characters it never contains (${[...new Set(bad)].join(' ')}): copy it again from the new device.`);
	if (code.length !== CODE_LENGTH) throw new PairingError(`The code has ${CODE_LENGTH} characters; this has ${code.length}.`);
	return code;
}

/** The secret the pairing room is derived from (the relay's room keys come from it, as from a link secret). */
export function roomSecret(code: string): string {
	return toBase64url(hkdf(sha256, utf8.encode(parseCode(code)), utf8.encode(PROTOCOL), utf8.encode('room'), 32));
}

// —— messages (what travels through the room) ——

export interface Offer {
	t: 'offer';
	/** SHA-256 of the reveal (base64url). */
	commit: string;
}
export interface Answer {
	t: 'answer';
	/** The existing device's ephemeral X25519 public key. */
	publicKey: string;
}
export interface Reveal {
	t: 'reveal';
	/** The new device's ephemeral X25519 public key. */
	publicKey: string;
	/** The new device's Ed25519 device key: what the certificate will certify. */
	device: string;
	/** What the person calls the new device. */
	name: string;
}
export interface Sealed {
	t: 'sealed';
	/** 24-byte nonce ‖ ciphertext, base64url. */
	data: string;
}
export type PairingMessage = Offer | Answer | Reveal | Sealed;

/** A contract as the existing device holds it (device-db's ContractEntry). */
export interface PairedContract {
	contract: string;
	secret: string;
	title: string;
	relays?: string[];
}

/** What the existing device hands over. */
export interface PairingBundle {
	/** The identity key the new device acts for. */
	identity: string;
	/** The new device's certificate (a signed `device.certified` envelope). */
	certificate: string;
	/** The identity key, passphrase-encrypted, so the new device can certify and revoke too. */
	lockedIdentity?: LockedIdentity;
	contracts: PairedContract[];
}

/** The bundle as the new device accepts it: the certificate checked against its own key. */
export interface ReceivedBundle extends PairingBundle {
	certificateInfo: CertificateInfo;
}

const commitOf = (r: Reveal) => toBase64url(sha256(utf8.encode(`${PROTOCOL} commit\n${r.publicKey}\n${r.device}\n${r.name}`)));

function transcript(code: string, reveal: Reveal, answer: Answer): Uint8Array {
	return sha256(utf8.encode(`${PROTOCOL} transcript\n${code}\n${reveal.publicKey}\n${answer.publicKey}\n${reveal.device}\n${reveal.name}`));
}

/** 8 digits of the transcript, in two groups: what the person compares on both screens. */
function fingerprintOf(t: Uint8Array): string {
	const h = sha256(new Uint8Array([...utf8.encode(`${PROTOCOL} fingerprint\n`), ...t]));
	// 2^40 mod 10^8: the bias is below 10^-4, irrelevant for a code compared once.
	let n = 0;
	for (let i = 0; i < 5; i++) n = n * 256 + h[i]!;
	const digits = String(n % 100_000_000).padStart(8, '0');
	return `${digits.slice(0, 4)} ${digits.slice(4)}`;
}

function sharedKey(secretKey: Uint8Array, theirs: string, t: Uint8Array): Uint8Array {
	const pub = decodeExact(theirs, 32);
	if (!pub) throw new PairingError('The other device sent a key that is not an X25519 public key.');
	let shared: Uint8Array;
	try {
		shared = x25519.getSharedSecret(secretKey, pub);
	} catch {
		throw new PairingError('The other device sent an unusable key (a low-order point).');
	}
	return hkdf(sha256, shared, t, utf8.encode(`${PROTOCOL} bundle key`), 32);
}

const aad = (t: Uint8Array) => new Uint8Array([...utf8.encode(`${PROTOCOL} bundle\n`), ...t]);

/** Parse one message from the room; anything else is null (junk from someone holding the code). */
export function parseMessage(text: string): PairingMessage | null {
	let m: Record<string, unknown>;
	try {
		m = JSON.parse(text);
	} catch {
		return null;
	}
	if (!m || typeof m !== 'object') return null;
	const s = (v: unknown, max = 200) => typeof v === 'string' && v.length > 0 && v.length <= max;
	switch (m.t) {
		case 'offer':
			return s(m.commit, 43) ? { t: 'offer', commit: m.commit as string } : null;
		case 'answer':
			return s(m.publicKey, 43) ? { t: 'answer', publicKey: m.publicKey as string } : null;
		case 'reveal':
			return s(m.publicKey, 43) && s(m.device, 43) && s(m.name, 80)
				? { t: 'reveal', publicKey: m.publicKey as string, device: m.device as string, name: m.name as string }
				: null;
		case 'sealed':
			return typeof m.data === 'string' && /^[A-Za-z0-9_-]+$/.test(m.data) ? { t: 'sealed', data: m.data } : null;
	}
	return null;
}

// —— the two sides ——

/** The device being added: it shows the code and, later, the fingerprint. */
export class NewDevice {
	readonly code: string;
	private readonly secretKey: Uint8Array;
	private readonly reveal: Reveal;
	private key?: Uint8Array;
	private t?: Uint8Array;
	fingerprint?: string;

	constructor(
		/** This device's Ed25519 public key. */
		readonly device: string,
		name: string,
		code: string = newCode()
	) {
		this.code = parseCode(code);
		const pair = x25519.keygen();
		this.secretKey = pair.secretKey;
		this.reveal = { t: 'reveal', publicKey: toBase64url(pair.publicKey), device, name: name.trim().slice(0, 80) || 'New device' };
	}

	offer(): Offer {
		return { t: 'offer', commit: commitOf(this.reveal) };
	}

	/** The existing device's key arrived: reveal ours, and the fingerprint to show. */
	answer(answer: Answer): { reveal: Reveal; fingerprint: string } {
		if (this.t) throw new PairingError('This device already paired with another device’s key: start again with a new code.');
		this.t = transcript(this.code, this.reveal, answer);
		this.key = sharedKey(this.secretKey, answer.publicKey, this.t);
		this.fingerprint = fingerprintOf(this.t);
		return { reveal: this.reveal, fingerprint: this.fingerprint };
	}

	/**
	 * Open what the existing device sent (after the person confirmed the fingerprint on this one):
	 * decrypts, and checks the certificate is for this device's key and signed by the identity named.
	 */
	open(sealed: Sealed): ReceivedBundle {
		if (!this.key || !this.t) throw new PairingError('Nothing to open yet: the other device has not answered.');
		const data = fromBase64url(sealed.data);
		let plain: Uint8Array;
		try {
			plain = xchacha20poly1305(this.key, data.subarray(0, 24), aad(this.t)).decrypt(data.subarray(24));
		} catch {
			throw new PairingError('What arrived was not sealed by the device you compared the numbers with. Nothing was added; start again.');
		}
		const bundle = JSON.parse(new TextDecoder().decode(plain)) as PairingBundle;
		const certificateInfo = readCertificate(bundle.certificate, this.device);
		if (certificateInfo.identity !== bundle.identity) throw new PairingError('The certificate is signed by another identity than the one named.');
		if (bundle.lockedIdentity && bundle.lockedIdentity.publicKey !== bundle.identity) throw new PairingError('The identity key sent is not the identity named.');
		const contracts = (Array.isArray(bundle.contracts) ? bundle.contracts : []).filter(
			(c) => c && typeof c.contract === 'string' && typeof c.secret === 'string' && typeof c.title === 'string'
		);
		return { ...bundle, contracts, certificateInfo };
	}
}

/** The device that already holds the identity: it enters the code, and sends the bundle. */
export class ExistingDevice {
	readonly code: string;
	private readonly secretKey: Uint8Array;
	private readonly answerMessage: Answer;
	private commit?: string;
	private key?: Uint8Array;
	private t?: Uint8Array;
	/** The new device as it revealed itself (checked against its commitment). */
	newDevice?: { device: string; name: string };
	fingerprint?: string;

	constructor(code: string) {
		this.code = parseCode(code);
		const pair = x25519.keygen();
		this.secretKey = pair.secretKey;
		this.answerMessage = { t: 'answer', publicKey: toBase64url(pair.publicKey) };
	}

	/** The new device's offer: answer with our key. */
	offer(offer: Offer): Answer {
		if (this.commit && this.commit !== offer.commit) throw new PairingError('Two devices answered to this code: start again with a new code.');
		this.commit = offer.commit;
		return this.answerMessage;
	}

	/** The new device's reveal: check it against the commitment, and the fingerprint to show. */
	reveal(reveal: Reveal): { fingerprint: string; device: string; name: string } {
		if (!this.commit) throw new PairingError('The new device revealed its key before offering it.');
		if (commitOf(reveal) !== this.commit) throw new PairingError('The new device’s key is not the one it committed to: someone is in the way. Start again with a new code.');
		if (!decodeExact(reveal.device, 32)) throw new PairingError('The new device sent a device key that is not an Ed25519 public key.');
		this.t = transcript(this.code, reveal, this.answerMessage);
		this.key = sharedKey(this.secretKey, reveal.publicKey, this.t);
		this.fingerprint = fingerprintOf(this.t);
		this.newDevice = { device: reveal.device, name: reveal.name };
		return { fingerprint: this.fingerprint, ...this.newDevice };
	}

	/** Seal the bundle for the new device (only after the person confirmed the fingerprint). */
	seal(bundle: PairingBundle): Sealed {
		if (!this.key || !this.t || !this.newDevice) throw new PairingError('The new device has not shown its key yet.');
		if (readCertificate(bundle.certificate, this.newDevice.device).identity !== bundle.identity)
			throw new PairingError('The certificate is signed by another identity than the one named.');
		const nonce = crypto.getRandomValues(new Uint8Array(24));
		const sealed = xchacha20poly1305(this.key, nonce, aad(this.t)).encrypt(utf8.encode(JSON.stringify(bundle)));
		const data = new Uint8Array(24 + sealed.length);
		data.set(nonce);
		data.set(sealed, 24);
		return { t: 'sealed', data: toBase64url(data) };
	}
}
