/**
 * The identities this person verified (compared the safety number with, or scanned the code of), by
 * identity key: one device's own address book, never synced or sent. A verified identity is marked on
 * every contract with it, whatever the contract, because the key is the person, not the contract.
 *
 * Pure: the book is an immutable record; the page keeps it in this browser (ui/verified.svelte.ts).
 * What is read back from storage is checked entry by entry, so one damaged entry loses only itself.
 */
import { z } from 'zod';
import { decodeExact } from './bytes';

/** How the identity was checked: digits compared, or the other party's code scanned or pasted. */
export type VerifiedBy = 'safety-number' | 'code';

export interface VerifiedIdentity {
	identity: string;
	/** The name the identity had when it was verified (names are not verified; the key is). */
	name: string;
	/** When, on this device's clock. */
	verifiedAt: number;
	by: VerifiedBy;
}

export type AddressBook = Readonly<Record<string, VerifiedIdentity>>;

export const EMPTY_ADDRESS_BOOK: AddressBook = Object.freeze({});

const Entry = z.object({
	identity: z.string().refine((k) => decodeExact(k, 32) !== null),
	name: z.string().max(200),
	verifiedAt: z.number().int().nonnegative(),
	by: z.enum(['safety-number', 'code'])
});

/** Add (or refresh) a verified identity. Throws a TypeError for something that is not an identity key. */
export function addVerified(book: AddressBook, entry: VerifiedIdentity): AddressBook {
	if (!decodeExact(entry.identity, 32)) throw new TypeError('Not an identity key (expected 32 bytes of base64url).');
	const clean: VerifiedIdentity = { identity: entry.identity, name: entry.name.trim().slice(0, 200), verifiedAt: Math.max(0, Math.floor(entry.verifiedAt)), by: entry.by };
	return { ...book, [entry.identity]: clean };
}

/** Forget that an identity was verified. */
export function removeVerified(book: AddressBook, identity: string): AddressBook {
	if (!Object.hasOwn(book, identity)) return book;
	const rest: Record<string, VerifiedIdentity> = { ...book };
	delete rest[identity];
	return rest;
}

export function isVerified(book: AddressBook, identity: string | undefined): boolean {
	return identity !== undefined && Object.hasOwn(book, identity);
}

export function verifiedEntry(book: AddressBook, identity: string | undefined): VerifiedIdentity | undefined {
	return identity !== undefined && Object.hasOwn(book, identity) ? book[identity] : undefined;
}

/** As kept in storage: a list of entries. */
export function serializeAddressBook(book: AddressBook): string {
	return JSON.stringify(Object.values(book));
}

/** Read what `serializeAddressBook` wrote; anything unreadable is left out (nothing at all: empty). */
export function parseAddressBook(text: string | null): AddressBook {
	let raw: unknown;
	try {
		raw = JSON.parse(text ?? '[]');
	} catch {
		return EMPTY_ADDRESS_BOOK;
	}
	if (!Array.isArray(raw)) return EMPTY_ADDRESS_BOOK;
	let book = EMPTY_ADDRESS_BOOK;
	for (const item of raw) {
		const e = Entry.safeParse(item);
		// Key by the entry's own identity: a stored record cannot file itself under another key.
		if (e.success) book = addVerified(book, e.data);
	}
	return book;
}
