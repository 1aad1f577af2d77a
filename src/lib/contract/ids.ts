/**
 * Ids and keys as types of their own. An event id, a contract id and an Ed25519 public key are all
 * base64url strings (the first and last even have the same length), so nothing at run time tells
 * them apart: a key passed where an event id is meant would be compared, stored and signed without
 * complaint. The brands make that a compile error. They are types only: the values are the same
 * strings, so nothing stored, signed or synced changes.
 *
 * Values become branded where they are already validated: the event schemas (schema.ts) for
 * everything decoded from a signed body, and the constructors here for anything else (a link, a
 * stored key, a test fixture). A constructor throws an IdError naming what was expected.
 */
declare const idBrand: unique symbol;
type Branded<B extends string> = string & { readonly [idBrand]: B };

/** sha256 of a signed body, base64url (43 characters): names one event. */
export type EventId = Branded<'EventId'>;
/** sha256 of the contract's proposal body with the contract blanked (envelope.ts), base64url. */
export type ContractId = Branded<'ContractId'>;
/** A raw 32-byte Ed25519 public key, base64url (43 characters): an identity, a device, the provider, a mediator. */
export type PublicKey = Branded<'PublicKey'>;

export const EVENT_ID = /^[A-Za-z0-9_-]{43}$/;
export const PUBLIC_KEY = /^[A-Za-z0-9_-]{43}$/;
/** Wider than 43 so an older contract id is read and refused with a reason (envelope.ts), not as junk. */
export const CONTRACT_ID = /^[A-Za-z0-9_-]{16,64}$/;

export class IdError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'IdError';
	}
}

const show = (x: unknown): string => (typeof x === 'string' ? JSON.stringify(x.length > 70 ? `${x.slice(0, 67)}...` : x) : String(x));

export const isEventId = (x: unknown): x is EventId => typeof x === 'string' && EVENT_ID.test(x);
export const isPublicKey = (x: unknown): x is PublicKey => typeof x === 'string' && PUBLIC_KEY.test(x);
export const isContractId = (x: unknown): x is ContractId => typeof x === 'string' && CONTRACT_ID.test(x);

export function eventId(x: unknown): EventId {
	if (!isEventId(x)) throw new IdError(`Not an event id: expected 43 base64url characters, got ${show(x)}.`);
	return x;
}

export function publicKey(x: unknown): PublicKey {
	if (!isPublicKey(x)) throw new IdError(`Not a public key: expected a 32-byte Ed25519 key as 43 base64url characters, got ${show(x)}.`);
	return x;
}

export function contractId(x: unknown): ContractId {
	if (!isContractId(x)) throw new IdError(`Not a contract id: expected 16 to 64 base64url characters, got ${show(x)}.`);
	return x;
}
