/**
 * Signed statements outside any contract log: references, completion attestations, profiles.
 *
 * A statement is `{ body, key, sig, cert? }`: `body` is the exact JSON text that was signed (no
 * canonicalisation to get wrong), `key` the Ed25519 key that signed it, `sig` the signature over
 * sha256("<domain>\n" + body). The domain keeps a statement of one kind from being read as another,
 * or as a contract event (those sign the bare hash of their body). When a certified device signs for
 * its identity, `cert` is the identity's device certificate for `key` (certificate.ts): the body then
 * names the identity, and the statement counts as the identity's.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from '../contract/encoding';
import { readCertificate } from './certificate';
import { signSync, verifySync, type DeviceKey } from './ed25519';

export interface SignedStatement {
	body: string;
	key: string;
	sig: string;
	cert?: string;
}

/** Longest body accepted: a reference's feedback is at most 5,000 characters. */
export const MAX_STATEMENT_BYTES = 16 * 1024;

const B64 = /^[A-Za-z0-9_-]+$/;

function signingBytes(domain: string, body: string): Uint8Array {
	return sha256(utf8.encode(`${domain}\n${body}`));
}

/** Sign `body` (serialised here, once) with `key`; `certificate` when the key is a certified device of the identity the body names. */
export function signStatement(key: DeviceKey, domain: string, body: object, certificate?: string): SignedStatement {
	const text = JSON.stringify(body);
	return { body: text, key: key.publicKey, sig: signSync(key, signingBytes(domain, text)), ...(certificate ? { cert: certificate } : {}) };
}

export type Opened = { ok: true; body: Record<string, unknown>; key: string; identity: string; device?: string } | { ok: false; reason: string };

/** Is this shaped like a statement at all? */
export function isStatement(x: unknown): x is SignedStatement {
	if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
	const o = x as Record<string, unknown>;
	return (
		typeof o.body === 'string' &&
		o.body.length <= MAX_STATEMENT_BYTES &&
		typeof o.key === 'string' &&
		B64.test(o.key) &&
		typeof o.sig === 'string' &&
		B64.test(o.sig) &&
		(o.cert === undefined || (typeof o.cert === 'string' && o.cert.length <= 4096))
	);
}

/**
 * Check the signature and read the body. `identity` is whom the statement speaks for: the signing
 * key, or the identity whose certificate `cert` names that key. Expiry and revocation of a device
 * certificate cannot be judged offline: the certificate only has to be the identity's signature.
 */
export function openStatement(x: unknown, domain: string): Opened {
	if (!isStatement(x)) return { ok: false, reason: 'It is not a signed statement (body, key and signature).' };
	let valid = false;
	try {
		valid = verifySync(x.key, signingBytes(domain, x.body), x.sig);
	} catch {
		valid = false;
	}
	if (!valid) return { ok: false, reason: 'The signature does not match the text: it was changed after signing, or signed by another key.' };
	let body: unknown;
	try {
		body = JSON.parse(x.body);
	} catch {
		return { ok: false, reason: 'The signed text is not JSON.' };
	}
	if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, reason: 'The signed text is not an object.' };
	if (x.cert === undefined) return { ok: true, body: body as Record<string, unknown>, key: x.key, identity: x.key };
	try {
		const c = readCertificate(x.cert, x.key);
		return { ok: true, body: body as Record<string, unknown>, key: x.key, identity: c.identity, device: x.key };
	} catch (e) {
		return { ok: false, reason: `The device certificate does not hold: ${e instanceof Error ? e.message : String(e)}` };
	}
}
