/**
 * TEST MODE's clock. With the mock escrow provider (its signing key is published, so what it signs
 * proves nothing outside a test) the parties may move the provider's clock forward to watch review
 * windows and security periods run out. The offset is a signed event in the contract, so both
 * parties fold the same offset and see the same provider date: the mock provider's clock for a
 * contract is real time + its folded offset. Never negative: the clock only moves forward.
 *
 * A reset (back to real time) is allowed only while the provider has signed nothing under the
 * offset: provider time only moves forward, and a receipt signed after a reset would carry an
 * earlier time than one signed before it. After that, a fresh start is a new TEST MODE contract.
 */
import { reject, type Rejection } from './rejections';
import type { RuleSet } from './rule';
import { TEST_CLOCK_MAX_OFFSET_MS } from './schema';
import type { ContractState } from './state';

/**
 * The published TEST MODE key of the mock provider (escrow/mock.ts derives it from its published
 * seed; a unit test checks they agree). Written out here because the rules import nothing outside
 * src/lib/contract.
 */
export const TEST_MODE_PUBLIC_KEY = 'Um9fBYFXij_2Kh4s5NIZ1a9D4xUnkJj-nGAlsv9Cwpc';

/**
 * A receipt's time may run a little ahead of a reset author's clock (two devices' clocks differ);
 * further ahead than this, provider time would go backwards.
 */
const CLOCK_SKEW_MS = 5 * 60_000;

export const RESET_REFUSED =
	'The escrow provider has already signed on the advanced clock, and provider time only moves forward. To begin again at today’s date, start a new TEST MODE contract.';

/** The contract names the mock escrow provider with its published TEST MODE key. */
export function isTestModeContract(s: ContractState): boolean {
	const p = s.terms?.provider;
	return !!p && p.id === 'mock' && p.testMode && p.publicKey === TEST_MODE_PUBLIC_KEY;
}

/** How far the mock provider's clock runs ahead of real time for this contract (0 for any other provider). */
export function testClockOffset(s: ContractState): number {
	return isTestModeContract(s) ? s.testClock.offsetMs : 0;
}

/** The mock provider's clock for this contract when real time is `realNow`. */
export function testModeNow(s: ContractState, realNow: number): number {
	return realNow + testClockOffset(s);
}

/** Would a reset be accepted now? null if so (what the page asks before it offers the button). */
export function resetRefusal(s: ContractState, at: number): Rejection | null {
	if (!isTestModeContract(s)) return notTestMode();
	if (s.testClock.offsetMs === 0) return reject('invalid-state', 'The test clock already runs at real time.');
	if (s.testClock.signedUnder || s.providerNow > at + CLOCK_SKEW_MS) return reject('invalid-state', RESET_REFUSED);
	return null;
}

/**
 * The fold calls this for every provider-signed event, in fold order: signed while an offset stands,
 * it was signed on the advanced clock. (A party's intent carries the offset in its causal past when
 * its device had folded it, so the receipt answering it folds after the offset too.)
 */
export function noteProviderSignature(s: ContractState): void {
	if (s.testClock.offsetMs > 0 && !s.testClock.signedUnder) s.testClock = { ...s.testClock, signedUnder: true };
}

function notTestMode(): Rejection {
	return reject('invalid-state', 'Only a contract with the mock escrow provider (TEST MODE) has a test clock; a real provider’s clock cannot be moved.');
}

// The state's testClock object is replaced, never changed in place: snapshots handed to pages share it.
export const testClockRules: RuleSet = {
	'testmode.clockAdvanced': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			if (!isTestModeContract(s)) return notTestMode();
			if (s.testClock.offsetMs + ev.payload.ms > TEST_CLOCK_MAX_OFFSET_MS)
				return reject('invalid-state', `The test clock can run at most ${TEST_CLOCK_MAX_OFFSET_MS / 86_400_000} days ahead.`);
			return null;
		},
		apply(s, ev) {
			s.testClock = { ...s.testClock, offsetMs: s.testClock.offsetMs + ev.payload.ms };
		}
	},
	'testmode.clockReset': {
		who: ['client', 'freelancer'],
		check: (s, ev) => resetRefusal(s, ev.at),
		apply(s) {
			s.testClock = { ...s.testClock, offsetMs: 0 };
		}
	}
};
