import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../src/lib/contract/state';
import { RESET_REFUSED, TEST_MODE_PUBLIC_KEY, isTestModeContract, resetRefusal, testClockOffset, testModeNow } from '../../../src/lib/contract/testclock';
import { TEST_MODE_KEY } from '../../../src/lib/escrow/mock';
import { CLIENT, FREELANCER, PROVIDER, STRANGER, World, terms } from '../../support/world';

const testMode = terms({ provider: { id: 'mock', publicKey: TEST_MODE_KEY.publicKey, testMode: true } });

/** A bound TEST MODE contract: the mock's published key recorded the countersign at real time. */
async function bound(t = testMode) {
	const w = new World();
	const provider = t.provider.publicKey === TEST_MODE_KEY.publicKey ? TEST_MODE_KEY : PROVIDER;
	const proposal = await w.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: t });
	const accept = await w.emit(FREELANCER, 'contract.accepted', { proposal, name: 'Grace' });
	const countersign = await w.emit(CLIENT, 'contract.countersigned', { acceptance: accept });
	await w.emit(provider, 'receipt.attested', { event: countersign, kind: 'countersign' });
	return { w, provider };
}

/** The mock funds a milestone, signing at `at` (provider time). */
async function fund(w: World, at: number) {
	const intent = await w.emit(CLIENT, 'milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
	return w.emit(TEST_MODE_KEY, 'receipt.funded', { intent, milestone: 'design', amount: 100_000, fee: 0, currency: 'USD', method: 'card', clearsAt: at }, { at });
}

describe('the TEST MODE clock', () => {
	it('names the published key of the mock provider', () => {
		expect(TEST_MODE_PUBLIC_KEY).toBe(TEST_MODE_KEY.publicKey);
	});

	it('either party moves it forward; every replica folds the same offset, and the mock clock is real time plus it', async () => {
		const { w } = await bound();
		expect(isTestModeContract(w.state)).toBe(true);
		await w.emit(CLIENT, 'testmode.clockAdvanced', { ms: 15 * DAY_MS });
		await w.emit(FREELANCER, 'testmode.clockAdvanced', { ms: 2 * DAY_MS });
		expect(testClockOffset(w.state)).toBe(17 * DAY_MS);
		expect(testModeNow(w.state, 1_000)).toBe(1_000 + 17 * DAY_MS);
		// The other party's replica, from the same envelopes in another order of arrival.
		const other = new World(w.contract);
		for (const [id, env] of [...w.written].reverse()) other.log.add(id, env);
		await other.put(w.written[0]![0], w.written[0]![1]);
		expect(testClockOffset(other.state)).toBe(17 * DAY_MS);
	});

	it('never goes back: a negative or zero step is refused as malformed, and the offset stays', async () => {
		const { w } = await bound();
		await w.emit(CLIENT, 'testmode.clockAdvanced', { ms: DAY_MS });
		for (const ms of [-5 * DAY_MS, 0, 1.5, 400 * DAY_MS]) {
			const id = await w.emit(CLIENT, 'testmode.clockAdvanced', { ms });
			expect(w.rejection(id)?.code, String(ms)).toBe('bad-schema');
		}
		expect(testClockOffset(w.state)).toBe(DAY_MS);
	});

	it('exists only for the mock provider with its published TEST MODE key', async () => {
		for (const provider of [
			{ id: 'mock', publicKey: PROVIDER.publicKey, testMode: true },
			{ id: 'stripe', publicKey: TEST_MODE_KEY.publicKey, testMode: true },
			{ id: 'mock', publicKey: TEST_MODE_KEY.publicKey, testMode: false }
		]) {
			const w = new World();
			await w.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms({ provider }) });
			const id = await w.emit(CLIENT, 'testmode.clockAdvanced', { ms: DAY_MS });
			expect(w.rejection(id)?.message, provider.id).toMatch(/Only a contract with the mock escrow provider \(TEST MODE\)/);
			expect(testClockOffset(w.state)).toBe(0);
			expect(resetRefusal(w.state, w.now)?.code).toBe('invalid-state');
		}
	});

	it('is moved by the parties only', async () => {
		const { w } = await bound();
		const id = await w.emit(STRANGER, 'testmode.clockAdvanced', { ms: DAY_MS });
		expect(w.rejection(id)?.code).toBe('not-party');
		expect(testClockOffset(w.state)).toBe(0);
	});

	it('runs at most ten years ahead', async () => {
		const { w } = await bound();
		for (let i = 0; i < 10; i++) await w.emit(CLIENT, 'testmode.clockAdvanced', { ms: 365 * DAY_MS });
		const id = await w.emit(CLIENT, 'testmode.clockAdvanced', { ms: DAY_MS });
		expect(w.rejection(id)?.message).toMatch(/at most 3650 days ahead/);
		expect(testClockOffset(w.state)).toBe(3650 * DAY_MS);
	});

	it('resets to real time while the provider has signed nothing on the advanced clock (receipts before it do not count)', async () => {
		const { w } = await bound();
		await fund(w, w.now);
		await w.emit(CLIENT, 'testmode.clockAdvanced', { ms: 15 * DAY_MS });
		expect(resetRefusal(w.state, w.now)).toBeNull();
		const reset = await w.emit(FREELANCER, 'testmode.clockReset', {});
		expect(w.rejection(reset)).toBeUndefined();
		expect(testClockOffset(w.state)).toBe(0);
		// A second reset has nothing to do.
		const again = await w.emit(CLIENT, 'testmode.clockReset', {});
		expect(w.rejection(again)?.message).toMatch(/already runs at real time/);
	});

	it('refuses a reset once the provider signed under the offset: provider time only moves forward', async () => {
		const { w } = await bound();
		await w.emit(CLIENT, 'testmode.clockAdvanced', { ms: 15 * DAY_MS });
		await fund(w, w.now + 15 * DAY_MS);
		expect(resetRefusal(w.state, w.now)?.message).toContain(RESET_REFUSED);
		const reset = await w.emit(CLIENT, 'testmode.clockReset', {});
		expect(w.rejection(reset)?.message).toContain('start a new TEST MODE contract');
		expect(testClockOffset(w.state)).toBe(15 * DAY_MS);
		// Moving on forward stays possible.
		await w.emit(CLIENT, 'testmode.clockAdvanced', { ms: DAY_MS });
		expect(testClockOffset(w.state)).toBe(16 * DAY_MS);
	});

	it('refuses a reset when a provider time already lies ahead of the reset, even if that receipt folds before the offset', async () => {
		const { w } = await bound();
		// The receipt sorts before the advance (lower level), but was signed 15 days ahead of real time.
		const intent = await w.emit(CLIENT, 'milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		const note = await w.emit(CLIENT, 'message.posted', { text: 'Moving the clock.' }, { deps: [intent] });
		const advance = await w.emit(CLIENT, 'testmode.clockAdvanced', { ms: 15 * DAY_MS }, { deps: [note] });
		const at = w.now + 15 * DAY_MS;
		await w.emit(TEST_MODE_KEY, 'receipt.funded', { intent, milestone: 'design', amount: 100_000, fee: 0, currency: 'USD', method: 'card', clearsAt: at }, { at });
		expect(w.state.applied.findIndex((e) => e.type === 'receipt.funded')).toBeLessThan(w.state.applied.findIndex((e) => e.id === advance));
		expect(w.state.testClock.signedUnder).toBe(false);
		const reset = await w.emit(CLIENT, 'testmode.clockReset', {});
		expect(w.rejection(reset)?.message).toContain(RESET_REFUSED);
	});
});
