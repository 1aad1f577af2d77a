/**
 * Issue 12 gap: in TEST MODE each browser runs its own mock provider, so two devices paying out the
 * same due dispute outcome at once each get a split receipt from their own mock. The log counts
 * the first; the losing device's request must settle too (and say so), never wait forever.
 */
import { describe, expect, it } from 'vitest';
import { affordances } from '../../../src/lib/contract/affordances';
import { milestoneDisputes, nextDisputeDeadline } from '../../../src/lib/contract/dispute-affordances';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import * as actions from '../../../src/lib/sync/actions';
import * as disputes from '../../../src/lib/sync/dispute-actions';
import { MemoryContract } from '../../../src/lib/sync/memory-contract';
import { Party } from '../../../src/lib/sync/party';
import { activePair } from '../../support/parties';
import { FREELANCER, T0, terms } from '../../support/world';

/** Two browsers: the client's with mock A, the freelancer's with mock B (the same published key); a dispute whose silence outcome is due. */
async function twoMocks(latencyB = 0) {
	const clock = { now: T0 };
	const mockA = new MockEscrowProvider({ now: () => clock.now });
	const mockB = new MockEscrowProvider({ now: () => clock.now, latencyMs: latencyB });
	const info = await mockA.info();
	const pair = await activePair({ escrow: mockA, clock: () => clock.now, terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }) });
	const client = pair.client;
	const freelancer = new Party(FREELANCER, new MemoryContract(pair.contract), mockB, () => clock.now);
	const sync = async () => {
		await freelancer.receive(client.log.envelopes());
		await client.receive(freelancer.log.envelopes());
	};
	await sync();
	await actions.fundMilestone({ party: client }, affordances(client.derived().state, 'client', clock.now).milestones[0]!, 'USD', 'card');
	await sync();
	const ms = milestoneDisputes(client.derived().state, 'client', 'design', clock.now);
	expect(await disputes.openDispute({ party: client }, ms, { amount: '600', reason: 'not-delivered', details: 'Nothing arrived.', offer: '100' }, 'USD')).toEqual({ ok: true });
	await sync();
	clock.now = nextDisputeDeadline(client.derived().state, clock.now)!;
	const payOut = (p: Party) => disputes.settleDueDisputes({ party: p }, p === client ? client.key.publicKey : FREELANCER.publicKey, clock.now, new Map());
	return { client, freelancer, sync, payOut };
}

/** Both replicas: one split counted, every dispute.settle intent settled, no refused receipt, the same ledger. */
function expectOneSplitEverySettled(parties: Party[]) {
	for (const p of parties) {
		const s = p.derived().state;
		const d = [...s.disputes.values()][0]!;
		expect(d.settlement).toMatchObject({ basis: 'silence', freelancer: 10_000, client: 50_000 });
		expect(p.pending()).toEqual([]);
		expect([...s.intents.values()].filter((i) => i.type === 'dispute.settle').every((i) => i.settledBy !== undefined)).toBe(true);
		expect(s.rejected.filter((r) => r.type === 'receipt.split')).toEqual([]);
		expect([s.ledger.balance('freelancer:pending'), s.ledger.balance('escrow:design')]).toEqual([10_000, 40_000]);
	}
}

describe('two browsers, two TEST MODE mocks, one due outcome', () => {
	it('both pay out before seeing the other: one split moves money, the other settles its intent and moves nothing', async () => {
		const c = await twoMocks();
		const results = await Promise.all([c.payOut(c.client), c.payOut(c.freelancer)]);
		expect(results.flat().map((r) => r.result)).toEqual(['paid', 'paid']);
		await c.sync();
		expectOneSplitEverySettled([c.client, c.freelancer]);
		const d = [...c.client.derived().state.disputes.values()][0]!;
		expect(d.duplicates).toHaveLength(1);
		expect(c.freelancer.derived().state.disputes.get(d.id)!.duplicates).toEqual(d.duplicates);
	});

	it('the losing mock answers after the winning split synced: the request is dropped with a note, and still settles once its mock’s record brings it', async () => {
		const c = await twoMocks(200);
		const slow = c.payOut(c.freelancer);
		const fast = await c.payOut(c.client);
		await c.sync();
		const results = [fast, await slow];
		expect(results.flat()).toMatchObject([{ result: 'paid' }, { result: 'settled-elsewhere', message: expect.stringMatching(/already paid out/) }]);
		expect(c.freelancer.outbox.dropped).toMatchObject([{ type: 'dispute.settle', note: expect.stringMatching(/already paid out/) }]);
		await c.sync();
		expectOneSplitEverySettled([c.client, c.freelancer]);
	});
});
