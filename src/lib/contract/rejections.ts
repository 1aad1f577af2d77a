import { formatAmount } from '../money/amount';
import type { CurrencyCode } from '../money/currency';

/**
 * Why an event was not applied. Every rejected event is kept in the derived state with one of these
 * codes and a sentence a person can read: nothing is dropped silently.
 */
export const REJECTION_CODES = {
	'malformed-json': 'The event is not valid JSON.',
	oversized: 'The event is larger than the size limit.',
	'bad-envelope': 'The event envelope is missing its id, body or signature.',
	'hash-mismatch': 'The event id does not match the hash of its content: it was altered.',
	'bad-schema': 'The event content does not match its schema.',
	'wrong-contract': 'The event belongs to another contract.',
	'bad-signature': 'The signature does not verify against the author key.',
	'broken-chain': "The event's previous-event link does not point to an earlier event of the same author.",
	'not-party': 'The author is not a party to this contract.',
	'wrong-role': 'The author does not have the role this action needs.',
	'not-provider': "The receipt is not signed by the contract's escrow provider.",
	'invalid-state': 'The action is not possible in the current state of the contract.',
	'unknown-milestone': 'The milestone does not exist.',
	'wrong-milestone': 'The receipt is for another milestone than the intent it settles.',
	'receipt-mismatch': 'The receipt does not match the intent it settles.',
	'unknown-intent': 'The receipt settles an intent that is not in this contract.',
	'unfunded': 'The milestone has no funds in escrow for this action.',
	'exceeds-escrow': 'The amount is more than the escrow holds for this milestone.',
	'amount-mismatch': 'The amount does not match what the action requires.',
	'currency-mismatch': 'The currency differs from the contract currency.',
	'already-settled': 'This intent has already been settled by the provider.',
	'too-early': 'The provider clock has not reached the deadline for this action.',
	'revision-cap': 'The agreed number of revisions is used up: changes now need an amendment.',
	'tracked-time-altered': 'Tracked time stays as the time tracker recorded it: an edit may change its memo only, and manual time cannot become tracked.',
	'insufficient-balance': 'The available balance is lower than the amount.'
} as const;

export type RejectionCode = keyof typeof REJECTION_CODES;

export interface Rejection {
	code: RejectionCode;
	/** Human sentence: the generic reason, refined with specifics where the rule knows them. */
	message: string;
	/** The specifics alone, when the rule gave them: what a page shows next to a button it cannot offer. */
	detail?: string;
}

export function reject(code: RejectionCode, detail?: string): Rejection {
	return detail ? { code, message: `${REJECTION_CODES[code]} ${detail}`, detail } : { code, message: REJECTION_CODES[code] };
}

/** The shortest sentence that says why: the rule's specifics, or the generic reason. */
export function reasonOf(r: Rejection): string {
	return r.detail ?? r.message;
}

/** Provider time as a reason needs it: to the minute, in UTC (the provider's clock, not this device's). */
export function utcTime(ms: number): string {
	return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Money in a rejection is written as people read it ("$400.00"), never as minor units. */
export function moneyText(minor: number, currency: string): string {
	return formatAmount(minor, currency as CurrencyCode);
}
