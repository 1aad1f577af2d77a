import { beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../src/lib/contract/state';
import { testClockOffset } from '../../../src/lib/contract/testclock';
import type { EscrowAdapter } from '../../../src/lib/escrow/adapter';
import { forwardEscrow } from '../../../src/lib/sync/forward-escrow';
import type { Party } from '../../../src/lib/sync/party';
import { failNextPayment, testModeEscrow } from '../../../src/lib/sync/test-mode';
import { activePair } from '../../support/parties';
import { terms } from '../../support/world';

class MemoryStorage {
	private m = new Map<string, string>();
	getItem = (k: string) => this.m.get(k) ?? null;
	setItem = (k: string, v: string) => void this.m.set(k, String(v));
	removeItem = (k: string) => void this.m.delete(k);
}

beforeEach(() => {
	(globalThis as { localStorage?: unknown }).localStorage = new MemoryStorage();
});

/** A TEST MODE contract as the app wires it: the mock's clock is real time plus the client's folded offset. */
async function testModeContract() {
	let client: Party | undefined;
	const escrow = testModeEscrow(() => (client ? testClockOffset(client.log.derive().state) : 0));
	const info = await escrow.info();
	const pair = await activePair({ escrow, terms: terms({ provider: { id: info.id, publicKey: info.publicKey, testMode: info.testMode } }) });
	client = pair.client;
	return { ...pair, escrow };
}

describe('the mock provider of a TEST MODE contract', () => {
	it('signs on real time plus the shared offset; once it has, the clock cannot be reset', async () => {
		const { client, freelancer, escrow } = await testModeContract();
		await client.act('testmode.clockAdvanced', { ms: 15 * DAY_MS });
		await freelancer.receive(client.log.envelopes());
		expect(testClockOffset(freelancer.log.derive().state)).toBe(15 * DAY_MS);
		expect(await escrow.now()).toBeGreaterThanOrEqual(Date.now() + 15 * DAY_MS - 1000);
		// Nothing signed on the advanced clock yet: a reset would be accepted.
		expect(client.ask('testmode.clockReset', {})).toBeNull();

		const before = Date.now();
		const { receipt } = await client.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		const signedAt = (JSON.parse(JSON.parse(receipt.envelope).body) as { at: number }).at;
		expect(signedAt).toBeGreaterThanOrEqual(before + 15 * DAY_MS);
		expect(signedAt).toBeLessThan(Date.now() + 15 * DAY_MS + 1000);
		expect(client.ask('testmode.clockReset', {})?.message).toMatch(/start a new TEST MODE contract/);
		await freelancer.receive(client.log.envelopes());
		expect(freelancer.ask('testmode.clockReset', {})?.message).toMatch(/start a new TEST MODE contract/);
	});

	it('a refused step is not written: negative days never reach the contract', async () => {
		const { client } = await testModeContract();
		const size = client.log.size;
		await expect(client.act('testmode.clockAdvanced', { ms: -5 * DAY_MS })).rejects.toMatchObject({ rejection: { code: 'bad-schema' } });
		expect(client.log.size).toBe(size);
	});

	it('meets the failure armed in Settings on the next money call only', async () => {
		const { client } = await testModeContract();
		failNextPayment('declined');
		await expect(client.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' })).rejects.toMatchObject({ code: 'declined' });
		await expect(client.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' })).resolves.toBeTruthy();
	});
});

describe('the forwarding adapter', () => {
	it('asks the target named at each call, and passes only money calls through `around`', async () => {
		const calls: string[] = [];
		const adapter = (name: string): EscrowAdapter =>
			new Proxy({} as EscrowAdapter, { get: (_t, p) => async () => void calls.push(`${name}.${String(p)}`) });
		let target = adapter('a');
		const around = <T>(call: () => Promise<T>) => {
			calls.push('around');
			return call();
		};
		const f = forwardEscrow(() => target, around);
		const req = { contract: 'c', log: [], event: 'e' };
		await f.now();
		await f.fund(req);
		target = adapter('b');
		await f.attest(req);
		await f.release(req);
		await f.refund(req);
		await f.withdraw(req);
		expect(calls).toEqual(['a.now', 'around', 'a.fund', 'b.attest', 'around', 'b.release', 'around', 'b.refund', 'around', 'b.withdraw']);
	});
});
