/**
 * This device's address book of verified identities (identity/address-book.ts), kept in this
 * browser's localStorage like the other device-only settings, never synced or sent. Shared by every
 * page: verifying on one contract marks the identity on every contract and list at once, and another
 * tab's change shows too.
 */
import { identityOfKey } from '$lib/contract/devices';
import type { ContractState } from '$lib/contract/state';
import { EMPTY_ADDRESS_BOOK, addVerified, isVerified, parseAddressBook, removeVerified, serializeAddressBook, verifiedEntry, type AddressBook, type VerifiedBy, type VerifiedIdentity } from '$lib/identity/address-book';

const KEY = 'milestone.addressBook';

// Bumped on each change: what re-runs the readers (localStorage itself is not reactive).
let version = $state(0);
let book: AddressBook | undefined;
/** The last change could not be kept (private mode, quota): it holds until the page reloads. */
let unsaved = $state(false);

function current(): AddressBook {
	void version;
	if (!book) {
		try {
			book = parseAddressBook(localStorage.getItem(KEY));
		} catch {
			book = EMPTY_ADDRESS_BOOK;
		}
	}
	return book;
}

function write(next: AddressBook): void {
	book = next;
	try {
		localStorage.setItem(KEY, serializeAddressBook(next));
		unsaved = false;
	} catch {
		unsaved = true;
	}
	version++;
}

if (typeof window !== 'undefined')
	window.addEventListener('storage', (e) => {
		if (e.key !== KEY && e.key !== null) return;
		book = undefined;
		version++;
	});

export const isVerifiedIdentity = (identity: string | undefined): boolean => isVerified(current(), identity);
export const verifiedIdentity = (identity: string | undefined): VerifiedIdentity | undefined => verifiedEntry(current(), identity);
export const addressBookUnsaved = (): boolean => unsaved;

export function markVerified(identity: string, name: string, by: VerifiedBy): void {
	write(addVerified(current(), { identity, name, verifiedAt: Date.now(), by }));
}

export function removeVerification(identity: string): void {
	write(removeVerified(current(), identity));
}

/**
 * The other party's identity key on a contract, for `mine` (this device's identity or device key):
 * the identity the contract pins, never a device key. Undefined when `mine` is not a party or the
 * other party has not joined.
 */
export function counterpartyOf(s: ContractState, mine: string | undefined): string | undefined {
	if (!mine) return undefined;
	const me = identityOfKey(s, mine);
	if (s.parties.client === me) return s.parties.freelancer;
	if (s.parties.freelancer === me) return s.parties.client;
	return undefined;
}
