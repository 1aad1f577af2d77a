/**
 * TEST MODE controls for the mock escrow provider: a simulated failure armed from Settings, and the
 * mock itself. Each contract gets its own mock whose clock is real time plus the contract's shared
 * test clock offset (contract/testclock.ts), so both parties' mocks sign on the same provider date.
 */
import type { MockEscrowProvider } from '../escrow/mock';
import type { EscrowAdapter } from '../escrow/adapter';
import { forwardEscrow } from './forward-escrow';

const FAIL_KEY = 'milestone.testFailNext';

/** TEST MODE only: make the next provider call fail (kept in storage so it survives a reload). */
export function failNextPayment(code: 'declined' | 'unavailable'): void {
	localStorage.setItem(FAIL_KEY, code);
}

/** The failure asked for in Settings, taken once: the next money call of any mock meets it. */
function takeArmedFailure(): 'declined' | 'unavailable' | undefined {
	const code = localStorage.getItem(FAIL_KEY);
	if (code !== 'declined' && code !== 'unavailable') return undefined;
	localStorage.removeItem(FAIL_KEY);
	return code;
}

/** A mock escrow provider whose clock runs `offsetMs()` ahead of real time. */
export function testModeEscrow(offsetMs: () => number = () => 0): EscrowAdapter {
	// Loaded when first asked: the mock (with the provider's rules) is not needed on the first page.
	let mock: Promise<MockEscrowProvider> | undefined;
	const load = () =>
		(mock ??= import('../escrow/mock').then(
			// Bank debits take the days the quote says, on the mock's clock, as they would with a real provider.
			({ MockEscrowProvider }) => new MockEscrowProvider({ latencyMs: 250, now: () => Date.now() + offsetMs(), bankDebitsProcess: true })
		));
	return forwardEscrow(load, async (call) => {
		const code = takeArmedFailure();
		if (code) (await load()).failNext(code);
		return call();
	});
}

/** The mock on real time: what Settings and new contracts ask who it is (no contract, no offset). */
export const escrow: EscrowAdapter = testModeEscrow();
