/**
 * What pages import to reach the app's live state, one module per job:
 * - app-state.svelte.ts: this device, the contracts it holds, the open sessions;
 * - contract-session.svelte.ts: one open contract (document, peers, Party) with its provider clock;
 * - provider-choice.ts: which escrow provider new contracts and each contract use;
 * - test-mode.ts: the mock escrow provider and its TEST MODE controls;
 * - inbox.ts: what needs the person's attention, derived from the open contracts.
 */
import { advanceAllTestClocks, testClockOffsetOfOpen } from './contract-session.svelte';

export { app, createDevice, newLinkSecret, remember, rename } from './app-state.svelte';
export { boot, ContractSession, forgetContract, openSession } from './contract-session.svelte';
export {
	checkStripeFunction,
	chosenEscrow,
	escrowFor,
	FunctionUrl,
	loadProviderSettings,
	ProviderSettings,
	providerForNewContract,
	PublishableKey,
	saveProviderSettings,
	StripeFields,
	unavailableEscrow
} from './provider-choice';
export { escrow, failNextPayment } from './test-mode';

/**
 * The test clock is a contract's now (contract/testclock.ts), shared by both parties; these two keep
 * Settings' former per-browser control working: it moves every TEST MODE contract this device holds.
 */
export function testClockOffset(): number {
	return testClockOffsetOfOpen();
}

export function advanceTestClock(ms: number): Promise<void> {
	return advanceAllTestClocks(ms);
}
