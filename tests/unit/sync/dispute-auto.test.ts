/**
 * Issue 12: a dispute outcome a deadline made due is paid out by the app on its own
 * (settleDueDisputes), once, judged by the provider on its record and clock; two devices racing
 * to submit it move the money once.
 */
import { describe, expect, it } from 'vitest';
import { affordances } from '../../../src/lib/contract/affordances';
import { milestoneDisputes, nextDisputeDeadline, paidOutAutomatically } from '../../../src/lib/contract/dispute-affordances';
import { DAY_MS, escrowOf, milestone } from '../../../src/lib/contract/state';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import * as actions from '../../../src/lib/sync/actions';
import * as disputes from '../../../src/lib/sync/dispute-actions';
import { activePair } from '../../support/parties';
import { T0, terms } from '../../support/world';

type Who = 'client' | 'freelancer';

async function disputed() {
	const clock = { now: T0 };
	const provider = new MockEscrowProvider({ now: () => clock.now });
	const info = await provider.info();
	const pair = await activePair({ escrow: provider, clock: () => clock.now, terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }) });
	const party = (who: Who) => (who === 'client' ? pair.client : pair.freelancer);
	const session = (who: Who) => ({ party: party(who) });
	const state = (who: Who) => party(who).derived().state;
	const key = (who: Who) => pair[who].key.publicKey;
	const sync = async () => {
		await pair.freelancer.receive(pair.client.log.envelopes());
		await pair.client.receive(pair.freelancer.log.envelopes());
	};
	await actions.fundMilestone(session('client'), affordances(state('client'), 'client', clock.now).milestones[0]!, 'USD', 'card');
	await sync();
	// $600.00 of the $1,000.00 held in dispute; the client offers $100.00 to the freelancer, who stays silent.
	const ms = milestoneDisputes(state('client'), 'client', 'design', clock.now);
	expect(await disputes.openDispute(session('client'), ms, { amount: '600', reason: 'not-delivered', details: 'Nothing arrived.', offer: '100' }, 'USD')).toEqual({ ok: true });
	await sync();
	const d = [...state('client').disputes.values()][0]!;
	const deadline = nextDisputeDeadline(state('client'), clock.now)!;
	return { clock, provider, pair, party, session, state, key, sync, d, deadline };
}

const intents = (s: { intents: Map<string, { type: string }> }) => [...s.intents.values()].filter((i) => i.type === 'dispute.settle').length;

describe('paying out a due dispute outcome on its own', () => {
	it('before the answer deadline nothing is submitted', async () => {
		const c = await disputed();
		expect(c.deadline).toBe(c.d.openedAt! + 5 * DAY_MS);
		c.clock.now = c.deadline - 1;
		const size = c.party('client').log.size;
		expect(await disputes.settleDueDisputes(c.session('client'), c.key('client'), c.clock.now, new Map())).toEqual([]);
		expect(c.party('client').log.size).toBe(size);
		expect(c.provider.statement(c.pair.contract).milestones.design).toMatchObject({ released: 0, refunded: 0 });
	});

	it('past the deadline the due outcome is submitted once: silence accepted the last offer', async () => {
		const c = await disputed();
		c.clock.now = c.deadline;
		const tried = new Map<string, number>();
		expect(await disputes.settleDueDisputes(c.session('freelancer'), c.key('freelancer'), c.clock.now, tried)).toEqual([{ dispute: c.d.id, milestone: 'design', result: 'paid' }]);
		const s = c.state('freelancer');
		const d = s.disputes.get(c.d.id)!;
		expect(d.settlement).toMatchObject({ basis: 'silence', freelancer: 10_000, client: 50_000 });
		expect(paidOutAutomatically(d.settlement!)).toBe(true);
		expect(escrowOf(milestone(s, 'design')!)).toBe(40_000);
		// Again (the page re-renders, the clock moves on): settled, nothing more is submitted.
		c.clock.now += DAY_MS;
		expect(await disputes.settleDueDisputes(c.session('freelancer'), c.key('freelancer'), c.clock.now, new Map())).toEqual([]);
		expect(intents(c.state('freelancer'))).toBe(1);
		expect(c.provider.statement(c.pair.contract).milestones.design).toMatchObject({ released: 10_000, refunded: 50_000 });
	});

	it('a device clock ahead of the provider gets nothing, and does not ask again at once', async () => {
		const c = await disputed();
		// The provider's clock is a day before the deadline; this device believes it has passed.
		c.clock.now = c.deadline - DAY_MS;
		const tried = new Map<string, number>();
		const size = c.party('client').log.size;
		const [r] = await disputes.settleDueDisputes(c.session('client'), c.key('client'), c.deadline + 1, tried, 1_000);
		expect(r).toMatchObject({ dispute: c.d.id, result: 'refused', message: expect.stringMatching(/has until .* to answer/) });
		expect(c.party('client').log.size).toBe(size);
		expect(c.provider.statement(c.pair.contract).milestones.design).toMatchObject({ released: 0, refunded: 0 });
		// Within the retry pause: not submitted again.
		expect(await disputes.settleDueDisputes(c.session('client'), c.key('client'), c.deadline + 1, tried, 1_000 + disputes.AUTO_SETTLE_RETRY_MS - 1)).toEqual([]);
		// The provider's clock reaches the deadline, the pause is over: paid out.
		c.clock.now = c.deadline;
		expect(await disputes.settleDueDisputes(c.session('client'), c.key('client'), c.deadline, tried, 1_000 + disputes.AUTO_SETTLE_RETRY_MS)).toMatchObject([{ result: 'paid' }]);
	});

	it('two devices racing to submit the same outcome: one split, both learn it', async () => {
		const c = await disputed();
		c.clock.now = c.deadline;
		const results = await Promise.all((['client', 'freelancer'] as const).map((who) => disputes.settleDueDisputes(c.session(who), c.key(who), c.clock.now, new Map())));
		expect(results.flat().map((r) => r.result).sort()).toEqual(['paid', 'settled-elsewhere']);
		expect(c.provider.statement(c.pair.contract).milestones.design).toMatchObject({ funded: 100_000, released: 10_000, refunded: 50_000 });
		await c.sync();
		for (const who of ['client', 'freelancer'] as const) {
			const s = c.state(who);
			expect(s.disputes.get(c.d.id)!.settlement).toMatchObject({ basis: 'silence', freelancer: 10_000, client: 50_000 });
			expect(intents(s)).toBe(1);
			expect(milestone(s, 'design')).toMatchObject({ released: 10_000, refunded: 50_000 });
		}
	});

	it('one after the other: the second device, not yet synced, is refused and takes in the split from the provider', async () => {
		const c = await disputed();
		c.clock.now = c.deadline;
		expect(await disputes.settleDueDisputes(c.session('client'), c.key('client'), c.clock.now, new Map())).toMatchObject([{ result: 'paid' }]);
		// The freelancer's device has not heard of the split: it submits the same outcome.
		expect(await disputes.settleDueDisputes(c.session('freelancer'), c.key('freelancer'), c.clock.now, new Map())).toMatchObject([{ result: 'settled-elsewhere' }]);
		expect(c.state('freelancer').disputes.get(c.d.id)!.settlement).toMatchObject({ basis: 'silence', freelancer: 10_000 });
		expect(c.provider.statement(c.pair.contract).milestones.design).toMatchObject({ released: 10_000, refunded: 50_000 });
	});
});
