/**
 * One person, several devices. A person has an identity key; each of their devices has its own
 * device key, certified by a `device.certified` event the identity key signs (device key, name,
 * created, optional expiry). A certificate is the identity's, not one contract's (its `contract` is
 * the identity key, envelope.ts), so one certificate serves every contract; the device's events name
 * it in `deps`. The contract, countersign and the provider's binding pin IDENTITY keys: the fold
 * judges each event as written by the identity whose certificate for its signing key it names
 * (`attribute`). A key that names no certificate is its own identity (every contract made before
 * devices existed folds exactly as it did).
 *
 * Per-author hash chains stay per device key (no two devices share a key); equivocation is judged
 * per identity (equivocation.ts): two devices of one person countersigning different acceptances, or
 * taking money out of the same escrow without either having seen the other, are shown as such, and
 * only the provider's record decides.
 *
 * Revocation: the identity key signs a `device.revoked` in each contract, naming the certificate in
 * `deps`. Once the PROVIDER has recorded it (`receipt.attested`, kind 'revocation'), only the
 * device's events in the causal past of that record count: what the revocation saw, and whatever the
 * provider had already acted on before recording it (its receipts form one chain, so the record
 * reaches them). The log decides that from the events it holds (log.ts, `revokedOut`), so a stolen
 * device cannot stay "concurrent" by choosing old `deps`: its later events are refused wherever they
 * sort. From the record on, the provider executes and records nothing the device signed, and every
 * replica refuses a receipt for it.
 *
 * Expiry, the rule chosen: a certificate's `expires` is judged on the provider's clock only. The
 * provider neither executes a money intent nor records an event signed by the device after it, and
 * every replica refuses a provider receipt (money or record) for the device's event whose provider
 * time is after it. Events that no provider acts on (messages, say) still count after expiry: the
 * device's own clock is not evidence of anything.
 */
import { reject, utcTime, type Rejection } from './rejections';
import type { RuleSet } from './rule';
import type { ContractState, Ev, Intent } from './state';
import type { EventId, PublicKey } from './ids';

export interface Certificate {
	/** The `device.certified` event's id. */
	id: EventId;
	identity: PublicKey;
	device: PublicKey;
	name: string;
	created: number;
	expires?: number;
	/** Provider time of the first recorded revocation of this device by this identity. */
	revokedAt?: number;
}

export interface Revocation {
	id: EventId;
	identity: PublicKey;
	device: PublicKey;
	certificate: EventId;
	at: number;
	/** Provider time it was recorded; from then on the device's later events do not count. */
	recordedAt?: number;
}

export interface DeviceState {
	/** Certificates folded so far, by event id. */
	certificates: Map<string, Certificate>;
	/** Revocations, by event id. */
	revocations: Map<string, Revocation>;
	/** Event id → the certificate it was signed under, for every folded event a certified device signed. */
	signedBy: Map<string, string>;
	/** Pairs of money intents out of one escrow by two devices of one identity, neither in the other's causal past (sorted). */
	escrowConflicts: string[][];
}

/**
 * The event as the fold judges it: signed by a key that names, in `deps`, a certificate for that key,
 * it is the certifying identity's (with `device` and `certificate` set); otherwise the key's own.
 * Certificates of two identities for one key are refused; of one identity, the one that lasts longest
 * counts (content decides: no expiry beats any, a later expiry an earlier, then the smaller id).
 */
export function attribute(s: ContractState, ev: Ev): Ev | Rejection {
	if (ev.type === 'device.certified' || ev.device !== undefined) return ev;
	let cert: Certificate | undefined;
	for (const dep of ev.deps) {
		const c = s.devices.certificates.get(dep);
		if (!c || c.device !== ev.author) continue;
		if (cert && cert.identity !== c.identity) return reject('not-party', 'It names certificates of two identities for the key that signed it.');
		if (!cert || lastsLonger(c, cert)) cert = c;
	}
	if (!cert) return ev;
	return { ...ev, author: cert.identity, device: ev.author, certificate: cert.id };
}

function lastsLonger(a: Certificate, b: Certificate): boolean {
	const ea = a.expires ?? Infinity;
	const eb = b.expires ?? Infinity;
	return ea !== eb ? ea > eb : a.id < b.id;
}

/** Is this attributed event from a device whose revocation the provider has recorded? (The log refuses the rest, see log.ts.) */
export function revokedDeviceRefusal(s: ContractState, ev: Ev): Rejection | null {
	if (!ev.certificate) return null;
	const c = s.devices.certificates.get(ev.certificate);
	return c?.revokedAt !== undefined ? revoked(c) : null;
}

const revoked = (c: Certificate): Rejection =>
	reject('not-party', `The device “${c.name}” that signed it was revoked, as the escrow provider recorded at ${utcTime(c.revokedAt!)}.`);

/**
 * May the provider act, at provider time `at`, on the event `event` (execute the intent, record the
 * event)? Not if a certified device signed it and, on the provider's clock, its certificate had
 * expired or its revocation was recorded. The provider asks before acting; every replica asks again
 * of the receipt, with the receipt's time.
 */
export function deviceRefusal(s: ContractState, event: string, at: number): Rejection | null {
	const id = s.devices.signedBy.get(event);
	const c = id ? s.devices.certificates.get(id) : undefined;
	if (!c) return null;
	if (c.revokedAt !== undefined && at >= c.revokedAt) return revoked(c);
	if (c.expires !== undefined && at > c.expires)
		return reject('not-party', `The certificate of the device “${c.name}” that signed it expired ${utcTime(c.expires)}; the escrow provider acted at ${utcTime(at)}.`);
	return null;
}

/** The provider receipt's refusal for the device that signed what it answers (the intent it settles, the event it records). */
export function receiptDeviceRefusal(s: ContractState, ev: Ev): Rejection | null {
	const p = ev.payload as { intent?: unknown; event?: unknown };
	const target = typeof p.intent === 'string' ? p.intent : ev.type === 'receipt.attested' && typeof p.event === 'string' ? p.event : undefined;
	return target ? deviceRefusal(s, target, ev.at) : null;
}

/** Keep which certificate a folded event was signed under. */
export function noteSigner(s: ContractState, ev: Ev): void {
	if (ev.certificate) s.devices.signedBy.set(ev.id, ev.certificate);
}

export const deviceRules: RuleSet = {
	'device.certified': {
		// Anyone may certify their own devices: a certificate says nothing until an event names it.
		who: 'anyone',
		check: () => null,
		apply(s, ev) {
			const { device, name, created, expires } = ev.payload;
			s.devices.certificates.set(ev.id, { id: ev.id, identity: ev.author, device, name, created, ...(expires !== undefined ? { expires } : {}) });
		}
	},
	'device.revoked': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			if (ev.device) return reject('wrong-role', 'A device is revoked by the identity key, not by another device.');
			const c = s.devices.certificates.get(ev.payload.certificate);
			if (!c || c.identity !== ev.author || c.device !== ev.payload.device)
				return reject('invalid-state', 'It revokes a device this identity did not certify.');
			if (!ev.deps.includes(c.id)) return reject('invalid-state', 'A revocation names the certificate it revokes in deps.');
			return null;
		},
		apply(s, ev) {
			s.devices.revocations.set(ev.id, { id: ev.id, identity: ev.author, device: ev.payload.device, certificate: ev.payload.certificate, at: ev.at });
		}
	}
};

/** The provider recorded a revocation at provider time `at`: every certificate of that device by that identity stops counting. */
export function recordRevocation(s: ContractState, revocation: string, at: number): void {
	const r = s.devices.revocations.get(revocation);
	if (!r) return;
	r.recordedAt ??= at;
	for (const c of s.devices.certificates.values())
		if (c.device === r.device && c.identity === r.identity && (c.revokedAt === undefined || at < c.revokedAt)) c.revokedAt = at;
}

/** A proposal may name one dep: its author's device certificate. */
export function proposalDepsRefusal(ev: Ev): Rejection | null {
	return ev.deps.length && !ev.certificate ? reject('invalid-state', 'A proposal names nothing but the device certificate of its author.') : null;
}

/** Money intents that take money out of one escrow. */
const OUT_OF_ESCROW = new Set<Intent['type']>(['milestone.release', 'milestone.autoRelease', 'milestone.refund', 'hourly.release', 'hourly.reclaim']);

const escrowKey = (i: Intent): string | undefined => (i.milestone !== undefined ? `m:${i.milestone}` : i.week !== undefined ? `w:${i.week}` : undefined);

/**
 * Note the equivocation of one identity's devices on money: `intent` takes money out of an escrow
 * another intent of the same identity, signed by another device, also takes it out of, and neither
 * is in the other's causal past (`reaches(a, b)`: is b in a's causal past? — the log knows). The
 * later one in fold order notes the pair, so the pairs do not depend on the order.
 */
export function noteEscrowConflicts(s: ContractState, intent: Intent, reaches: (from: string, to: string) => boolean): void {
	if (!OUT_OF_ESCROW.has(intent.type)) return;
	const key = escrowKey(intent);
	if (!key) return;
	for (const other of s.intents.values()) {
		if (other.id === intent.id || other.author !== intent.author || (other.device ?? other.author) === (intent.device ?? intent.author)) continue;
		// A refused author (a revoked device, a stranger) is not this person saying anything.
		if (!OUT_OF_ESCROW.has(other.type) || escrowKey(other) !== key || other.rejection?.code === 'not-party') continue;
		if (other.device === undefined && intent.device === undefined) continue;
		if (!reaches(intent.id, other.id)) s.devices.escrowConflicts.push([other.id, intent.id].sort());
	}
}

/**
 * The identity a key acts for, for pages asking about "me" or a name: the key itself when it is an
 * identity here (a party, the proposer, an acceptor), else the one identity that certified it as a
 * device and did not revoke it (as recorded). Never used to judge an event: that is `attribute`.
 */
export function identityOfKey(s: ContractState, key: string): string {
	if (s.parties.client === key || s.parties.freelancer === key || s.proposal?.author === key) return key;
	let found: string | undefined;
	for (const c of s.devices.certificates.values()) {
		if (c.device !== key || c.revokedAt !== undefined) continue;
		if (found !== undefined && found !== c.identity) return key;
		found = c.identity;
	}
	return found ?? key;
}
