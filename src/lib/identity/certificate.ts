/**
 * Device certificates and revocations, signed with the identity key (the rules that judge them are
 * in contract/devices.ts).
 *
 * A certificate is a `device.certified` event whose `contract` is the identity key itself: one
 * signed event, valid in every contract, copied into each contract the device acts in (the device's
 * events name it in `deps`). A revocation is a `device.revoked` event in ONE contract (it needs that
 * contract's heads as its causal past), so revoking a device signs one per contract; it names the
 * certificate in `deps` and counts once the escrow provider has recorded it.
 */
import { decodeEnvelope, signingBytes, type Draft } from '../contract/envelope';
import type { ContractLog } from '../contract/log';
import { PAYLOADS, type Payload } from '../contract/schema';
import { verifySync, type DeviceKey } from './ed25519';
import { signEvent, signEventSync, type SignedEvent } from './sign-event';

export interface DeviceToCertify {
	/** The new device's public key. */
	device: string;
	/** What the person calls it ("Laptop", "Phone"). */
	name: string;
	/** Milliseconds. */
	created: number;
	/** Milliseconds; judged on the escrow provider's clock. */
	expires?: number;
}

/** A checked certificate: who certified which key, and the signed event to copy into contracts. */
export interface CertificateInfo extends SignedEvent {
	identity: string;
	device: string;
	name: string;
	created: number;
	expires?: number;
}

export class CertificateError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'CertificateError';
	}
}

/** The unsigned certificate: its bytes depend on nothing but the identity key and `input`. */
export function certificateDraft(identity: string, input: DeviceToCertify): Draft<'device.certified'> {
	if (input.device === identity) throw new CertificateError('An identity key does not certify itself: a key with no certificate is its own identity already.');
	const parsed = PAYLOADS['device.certified'].safeParse({
		device: input.device,
		name: input.name,
		created: input.created,
		...(input.expires !== undefined ? { expires: input.expires } : {})
	});
	if (!parsed.success) throw new CertificateError(`This device cannot be certified: ${parsed.error.issues.map((i) => i.message).join('; ')}.`);
	return { contract: identity, author: identity, prev: null, deps: [], at: input.created, type: 'device.certified', payload: parsed.data };
}

/** Certify `input.device` with the identity key (synchronous, deterministic: Ed25519 signatures are). */
export function certifyDeviceSync(identity: DeviceKey, input: DeviceToCertify): CertificateInfo {
	return info(signEventSync(identity, certificateDraft(identity.publicKey, input)), identity.publicKey, input);
}

/** Certify `input.device` with the identity key (WebCrypto where the runtime has it). */
export async function certifyDevice(identity: DeviceKey, input: DeviceToCertify): Promise<CertificateInfo> {
	return info(await signEvent(identity, certificateDraft(identity.publicKey, input)), identity.publicKey, input);
}

function info(signed: SignedEvent, identity: string, input: DeviceToCertify): CertificateInfo {
	return { ...signed, identity, device: input.device, name: input.name, created: input.created, ...(input.expires !== undefined ? { expires: input.expires } : {}) };
}

/**
 * Read a certificate someone hands over (the pairing flow, a backup): well formed, a certificate, and
 * signed by the identity key it names. `device`, when given, must be the key it certifies.
 */
export function readCertificate(envelope: string, device?: string): CertificateInfo {
	let outer: { id?: unknown; body?: unknown };
	let author: unknown;
	try {
		outer = JSON.parse(envelope) as { id?: unknown; body?: unknown };
		author = typeof outer.body === 'string' ? (JSON.parse(outer.body) as { author?: unknown }).author : undefined;
	} catch {
		throw new CertificateError('This is not a device certificate.');
	}
	if (typeof outer.id !== 'string' || typeof author !== 'string') throw new CertificateError('This is not a device certificate.');
	const decoded = decodeEnvelope(outer.id, envelope, author);
	if (!decoded.ok || decoded.body.type !== 'device.certified') throw new CertificateError('This is not a device certificate.');
	if (!verifySync(decoded.body.author, signingBytes(decoded.id), decoded.sig)) throw new CertificateError('The certificate is not signed by the identity key it names.');
	const p = decoded.body.payload as Payload<'device.certified'>;
	if (device !== undefined && p.device !== device) throw new CertificateError('The certificate is for another device key.');
	return { id: decoded.id, envelope: decoded.raw, identity: decoded.body.author, device: p.device, name: p.name, created: p.created, ...(p.expires !== undefined ? { expires: p.expires } : {}) };
}

/**
 * The unsigned revocation of `certificate`'s device in the contract of `log`, on top of what the log
 * holds (the identity key's chain there, and the heads: what the device did that still counts). The
 * certificate must be in the log.
 */
export function revocationDraft(log: ContractLog, certificate: Pick<CertificateInfo, 'id' | 'identity' | 'device'>, at: number): Draft<'device.revoked'> {
	if (!log.has(certificate.id)) throw new CertificateError('Add the certificate to the contract before revoking it there.');
	// Never a certificate someone else wrote for the identity key: it would make the revocation theirs.
	const certificates = log.derive().state.devices.certificates;
	const heads = log.heads().filter((h) => certificates.get(h)?.device !== certificate.identity);
	return {
		contract: log.contract,
		author: certificate.identity,
		prev: log.lastOf(certificate.identity),
		deps: heads.includes(certificate.id) ? heads : [...heads, certificate.id],
		at,
		type: 'device.revoked',
		payload: { device: certificate.device, certificate: certificate.id }
	};
}

/** Revoke the device of `certificate` in one contract, signed with the identity key. */
export async function revokeDevice(identity: DeviceKey, log: ContractLog, certificate: CertificateInfo, at: number): Promise<SignedEvent> {
	if (identity.publicKey !== certificate.identity) throw new CertificateError('Only the identity that certified a device revokes it.');
	return signEvent(identity, revocationDraft(log, certificate, at));
}

