/**
 * The signed messages that set up a call between the two parties of a contract (call.ts): offer,
 * answer, decline, cancel, hang-up. They pass through the signaling server the app already uses, in
 * a room of their own derived from the contract's link secret, encrypted with a key from that secret
 * (the server sees neither the contract nor the network addresses in the offer).
 *
 * Knowing the link secret is not enough to take part: anyone holding the share link, or the signaling
 * server replaying what it saw, could otherwise answer in the other party's place. So every message is
 * signed by the sending device's key, carries the certificate that makes that device one of the
 * identity's devices (none when the device key is the identity key), and names the contract, the
 * sender's identity and the identity it is for. The receiver accepts it only from the identity this
 * contract pins for the other party, for itself, signed, fresh, and not from a device whose revocation
 * the contract holds. The offer's and answer's SDP carry the DTLS fingerprints, so signing the SDP
 * binds the media connection to those two devices: a relay that swaps a fingerprint breaks the
 * signature, and one that replays an old offer or answer gets nowhere (an answer names the offer it
 * answers, and no one else holds that connection's DTLS key).
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { fromBase64url, toBase64url, utf8 } from '../contract/encoding';
import { sha256Utf8 } from '../contract/sha256';
import { decodeExact } from '../identity/bytes';
import { CertificateError, readCertificate } from '../identity/certificate';
import { sign, verify, type DeviceKey } from '../identity/ed25519';

export type CallKind = 'offer' | 'answer' | 'decline' | 'cancel' | 'hangup';
const KINDS: readonly CallKind[] = ['offer', 'answer', 'decline', 'cancel', 'hangup'];

/** A message older (or further ahead) than this on the receiver's clock is refused. */
export const CALL_MESSAGE_MAX_AGE_MS = 2 * 60_000;
const DOMAIN = 'milestone-call-v1\n';
const MAX_SDP_CHARS = 48_000;

export interface CallBody {
	v: 1;
	kind: CallKind;
	/** Random id of this call, chosen by the caller. */
	call: string;
	contract: string;
	/** The signing device key. */
	device: string;
	/** The device's certificate envelope; absent when the device key is the identity key itself. */
	certificate?: string;
	/** The sender's identity key. */
	from: string;
	/** The identity key it is for. */
	to: string;
	/** Sender's clock, milliseconds. */
	at: number;
	/** Offer and answer: the session description. */
	sdp?: string;
	/** Answer (and decline): the hash of the offer message it answers. */
	offer?: string;
}

/** Who signs: this device's key, its certificate (if certified), and its identity. */
export interface CallSigner {
	key: DeviceKey;
	certificate?: string;
	identity: string;
}

export type CheckedCall = { ok: true; body: CallBody; hash: string } | { ok: false; reason: string };

export interface CallContext {
	contract: string;
	/** This device's identity. */
	me: string;
	/** The identity the contract pins for the other party. */
	counterparty: string;
	now: number;
	/** Has the contract recorded the revocation of this device of this identity? */
	revoked?: (device: string, identity: string) => boolean;
}

/** The topic name on the signaling server: from the link secret, apart from the document's room. */
export function callTopic(secret: string): string {
	return 'milestone-call-' + toBase64url(sha256Utf8('milestone call room v1:' + secret)).slice(0, 32);
}

function callKey(secret: string): Uint8Array {
	return sha256Utf8('milestone call key v1:' + secret);
}

/** Encrypt a message for the call room (anyone with the link secret can open it; the server cannot). */
export function sealCall(secret: string, text: string): string {
	const nonce = crypto.getRandomValues(new Uint8Array(24));
	const ct = xchacha20poly1305(callKey(secret), nonce).encrypt(utf8.encode(text));
	const out = new Uint8Array(nonce.length + ct.length);
	out.set(nonce);
	out.set(ct, nonce.length);
	return toBase64url(out);
}

/** The text of a sealed message, or null when it was not sealed with this secret or was altered. */
export function openCall(secret: string, sealed: unknown): string | null {
	if (typeof sealed !== 'string' || sealed.length > 200_000) return null;
	try {
		const raw = fromBase64url(sealed);
		if (raw.length < 24 + 16) return null;
		return new TextDecoder().decode(xchacha20poly1305(callKey(secret), raw.subarray(0, 24)).decrypt(raw.subarray(24)));
	} catch {
		return null;
	}
}

/** The hash an answer names to say which offer it answers. */
export const messageHash = (text: string): string => toBase64url(sha256Utf8(text));

/** Sign a call message as `signer`. Returns the message text (JSON of the body and signature). */
export async function signCall(signer: CallSigner, fields: Omit<CallBody, 'v' | 'device' | 'certificate' | 'from'>): Promise<string> {
	const body: CallBody = {
		v: 1,
		...fields,
		device: signer.key.publicKey,
		...(signer.certificate ? { certificate: signer.certificate } : {}),
		from: signer.identity
	};
	const text = JSON.stringify(body);
	return JSON.stringify({ body: text, sig: await sign(signer.key, utf8.encode(DOMAIN + text)) });
}

const isKey = (k: unknown): k is string => decodeExact(k, 32) !== null;

function shape(text: string): { body: CallBody; raw: string; sig: string } | string {
	let outer: { body?: unknown; sig?: unknown };
	let body: Partial<CallBody>;
	try {
		outer = JSON.parse(text) as typeof outer;
		if (typeof outer.body !== 'string' || typeof outer.sig !== 'string') return 'not a call message';
		body = JSON.parse(outer.body) as Partial<CallBody>;
	} catch {
		return 'not a call message';
	}
	if (!body || typeof body !== 'object' || body.v !== 1 || !KINDS.includes(body.kind as CallKind)) return 'not a call message';
	if (typeof body.call !== 'string' || !/^[\w-]{16,64}$/.test(body.call)) return 'no call id';
	if (typeof body.contract !== 'string' || !isKey(body.device) || !isKey(body.from) || !isKey(body.to)) return 'malformed keys';
	if (typeof body.at !== 'number' || !Number.isFinite(body.at)) return 'no time';
	if (body.certificate !== undefined && typeof body.certificate !== 'string') return 'malformed certificate';
	if (body.kind === 'offer' || body.kind === 'answer') {
		if (typeof body.sdp !== 'string' || body.sdp.length > MAX_SDP_CHARS) return 'no session description';
	} else if (body.sdp !== undefined) return 'unexpected session description';
	if (body.kind === 'answer' && typeof body.offer !== 'string') return 'an answer must name its offer';
	if (body.offer !== undefined && typeof body.offer !== 'string') return 'malformed offer hash';
	return { body: body as CallBody, raw: outer.body, sig: outer.sig };
}

/**
 * Is this a call message from the other party of this contract, for this person, signed by one of
 * their devices, and fresh? The reason says why not (for the console; nothing of it reaches a page).
 */
export async function checkCall(text: string, ctx: CallContext): Promise<CheckedCall> {
	const parsed = shape(text);
	if (typeof parsed === 'string') return { ok: false, reason: parsed };
	const { body, raw, sig } = parsed;
	if (body.contract !== ctx.contract) return { ok: false, reason: 'for another contract' };
	if (body.from !== ctx.counterparty) return { ok: false, reason: 'not from the other party of this contract' };
	if (body.to !== ctx.me) return { ok: false, reason: 'not for this person' };
	if (body.certificate !== undefined) {
		try {
			const c = readCertificate(body.certificate, body.device);
			if (c.identity !== body.from) return { ok: false, reason: 'the device is certified by another identity' };
			if (c.expires !== undefined && ctx.now > c.expires) return { ok: false, reason: 'the device certificate expired' };
		} catch (e) {
			return { ok: false, reason: e instanceof CertificateError ? e.message : 'bad certificate' };
		}
	} else if (body.device !== body.from) return { ok: false, reason: 'a device that is not the identity key needs its certificate' };
	if (body.device !== body.from && ctx.revoked?.(body.device, body.from)) return { ok: false, reason: 'the device was revoked' };
	if (Math.abs(ctx.now - body.at) > CALL_MESSAGE_MAX_AGE_MS) return { ok: false, reason: 'stale' };
	if (!(await verify(body.device, utf8.encode(DOMAIN + raw), sig))) return { ok: false, reason: 'bad signature' };
	return { ok: true, body, hash: messageHash(text) };
}
