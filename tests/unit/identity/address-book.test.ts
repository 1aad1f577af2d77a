import { describe, expect, it } from 'vitest';
import { toBase64url } from '../../../src/lib/contract/encoding';
import {
	EMPTY_ADDRESS_BOOK,
	addVerified,
	isVerified,
	parseAddressBook,
	removeVerified,
	serializeAddressBook,
	verifiedEntry
} from '../../../src/lib/identity/address-book';

const key = (fill: number) => toBase64url(new Uint8Array(32).fill(fill));
const grace = key(1);
const ada = key(2);

describe('address book', () => {
	it('marks an identity verified, with its name, when and how', () => {
		const book = addVerified(EMPTY_ADDRESS_BOOK, { identity: grace, name: ' Grace ', verifiedAt: 1_700_000_000_000, by: 'safety-number' });
		expect(isVerified(book, grace)).toBe(true);
		expect(isVerified(book, ada)).toBe(false);
		expect(isVerified(book, undefined)).toBe(false);
		expect(verifiedEntry(book, grace)).toEqual({ identity: grace, name: 'Grace', verifiedAt: 1_700_000_000_000, by: 'safety-number' });
		// Immutable: the book it was added to is unchanged.
		expect(isVerified(EMPTY_ADDRESS_BOOK, grace)).toBe(false);
	});

	it('verifying again refreshes the entry; removing forgets only that identity', () => {
		let book = addVerified(EMPTY_ADDRESS_BOOK, { identity: grace, name: 'Grace', verifiedAt: 1, by: 'safety-number' });
		book = addVerified(book, { identity: ada, name: 'Ada', verifiedAt: 2, by: 'code' });
		book = addVerified(book, { identity: grace, name: 'Grace H.', verifiedAt: 3, by: 'code' });
		expect(Object.keys(book)).toHaveLength(2);
		expect(verifiedEntry(book, grace)).toMatchObject({ name: 'Grace H.', verifiedAt: 3, by: 'code' });
		const after = removeVerified(book, grace);
		expect(isVerified(after, grace)).toBe(false);
		expect(isVerified(after, ada)).toBe(true);
		expect(isVerified(book, grace)).toBe(true);
		expect(removeVerified(after, grace)).toBe(after);
	});

	it('is keyed by identity key: anything else is refused', () => {
		expect(() => addVerified(EMPTY_ADDRESS_BOOK, { identity: 'Grace', name: 'Grace', verifiedAt: 1, by: 'code' })).toThrow(TypeError);
		// Inherited object properties are not entries.
		expect(isVerified(EMPTY_ADDRESS_BOOK, 'constructor')).toBe(false);
		expect(verifiedEntry(EMPTY_ADDRESS_BOOK, 'toString')).toBeUndefined();
	});

	it('reads back what it stored', () => {
		let book = addVerified(EMPTY_ADDRESS_BOOK, { identity: grace, name: 'Grace', verifiedAt: 5, by: 'safety-number' });
		book = addVerified(book, { identity: ada, name: 'Ada', verifiedAt: 6, by: 'code' });
		expect(parseAddressBook(serializeAddressBook(book))).toEqual(book);
	});

	it('reads nothing, junk or damaged entries as what it can: one bad entry loses only itself', () => {
		expect(parseAddressBook(null)).toEqual({});
		expect(parseAddressBook('not json')).toEqual({});
		expect(parseAddressBook('{"a":1}')).toEqual({});
		const stored = JSON.stringify([
			{ identity: grace, name: 'Grace', verifiedAt: 5, by: 'safety-number' },
			{ identity: 'short', name: 'Mallory', verifiedAt: 5, by: 'code' },
			{ identity: ada, name: 'Ada', verifiedAt: -1, by: 'code' },
			{ identity: ada, name: 'Ada', verifiedAt: 5, by: 'a hunch' }
		]);
		const book = parseAddressBook(stored);
		expect(Object.keys(book)).toEqual([grace]);
	});
});
