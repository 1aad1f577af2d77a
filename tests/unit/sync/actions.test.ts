import { describe, expect, it } from 'vitest';
import { affordances } from '../../../src/lib/contract/affordances';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import * as actions from '../../../src/lib/sync/actions';
import { activePair } from '../../support/parties';
import { freelancerStatement } from '../../../src/lib/contract/statement';
import { DAY_MS } from '../../../src/lib/contract/state';
import { T0, terms } from '../../support/world';

async function setUp() {
	const now = T0;
	const provider = new MockEscrowProvider({ now: () => now });
	const info = await provider.info();
	const pair = await activePair({ escrow: provider, clock: () => now, terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }) });
	const sync = async () => {
		await pair.freelancer.receive(pair.client.log.envelopes());
		await pair.client.receive(pair.freelancer.log.envelopes());
	};
	const aff = (who: 'client' | 'freelancer') => affordances((who === 'client' ? pair.client : pair.freelancer).derived().state, who, now);
	return { ...pair, sync, aff, client: { party: pair.client }, freelancer: { party: pair.freelancer }, parties: pair };
}

describe('use cases: one function per action, every field error at once, in words', () => {
	it('Request Payment with no message and a bad link says both, next to each field, and writes nothing', async () => {
		const c = await setUp();
		await actions.fundMilestone(c.client, c.aff('client').milestones[0]!, 'USD', 'card');
		await c.sync();
		const size = c.parties.freelancer.log.size;
		const r = await actions.requestPayment(c.freelancer, c.aff('freelancer').milestones[0]!, { message: ' ', links: 'https://ok.example\nnot a link' });
		expect(r).toEqual({ ok: false, pending: false, errors: { message: 'Message to the client is required.', links: expect.stringMatching(/^Link (2|3) must be a web address/) } });
		expect(c.parties.freelancer.log.size).toBe(size);
		expect(await actions.requestPayment(c.freelancer, c.aff('freelancer').milestones[0]!, { message: 'Done.', links: 'https://ok.example' })).toEqual({ ok: true });
	});

	it('a release of nothing is refused before any confirmation; "release everything" releases what escrow holds', async () => {
		const c = await setUp();
		await actions.fundMilestone(c.client, c.aff('client').milestones[0]!, 'USD', 'card');
		const m = c.aff('client').milestones[0]!;
		expect(actions.reviewRelease(m, '', 'USD')).toEqual({ ok: false, errors: { amount: 'Enter the amount to release. To release all of it, choose “Release everything”.' } });
		expect(actions.reviewRelease(m, '0', 'USD')).toMatchObject({ ok: false, errors: { amount: expect.stringContaining('above $0.00') } });
		expect(actions.reviewRelease(m, '1,000.01', 'USD')).toEqual({ ok: false, errors: { amount: 'Escrow holds $1,000.00 for this milestone: enter at most that.' } });
		expect(actions.reviewRelease(m, '400', 'USD')).toEqual({ ok: true, amount: 40_000 });
		expect(await actions.releasePayment(c.client, m, 0, 'USD')).toMatchObject({ ok: false, errors: { amount: expect.stringContaining('above $0.00') } });
		expect(await actions.releasePayment(c.client, m, 40_000, 'USD')).toEqual({ ok: true });
		const rest = c.aff('client').milestones[0]!;
		expect(rest.releaseEverything.amount).toBe(60_000);
		expect(await actions.releaseEverything(c.client, rest, 'USD')).toEqual({ ok: true });
		expect(c.parties.client.derived().state.milestones[0]).toMatchObject({ released: 100_000 });
	});

	it('a refund request shows every field error at once, money formatted', async () => {
		const c = await setUp();
		await actions.fundMilestone(c.client, c.aff('client').milestones[0]!, 'USD', 'card');
		const ms = c.aff('client').milestones;
		expect(await actions.requestRefund(c.client, ms, { milestone: 'design', amount: '2,000', reason: '' }, 'USD')).toEqual({
			ok: false,
			pending: false,
			errors: { amount: 'Escrow holds $1,000.00 for this milestone: enter at most that.', reason: 'Say why you ask for the refund: the freelancer answers it.' }
		});
		expect(await actions.requestRefund(c.client, ms, { milestone: '', amount: '', reason: 'x' }, 'USD')).toMatchObject({ errors: { milestone: expect.any(String), amount: 'Enter the amount to refund.' } });
	});

	it('a rating out of range gets a clear error instead of silence', async () => {
		const c = await setUp();
		await actions.endContract(c.client, c.aff('client').contract);
		const r = await actions.leaveFeedback(c.client, c.aff('client').contract, { rating: 9, text: '' });
		expect(r).toEqual({ ok: false, pending: false, errors: { rating: 'Choose a rating from 1 to 5 (9 is not one).' } });
		expect(await actions.leaveFeedback(c.client, c.aff('client').contract, { rating: '4', text: 'Good.' })).toEqual({ ok: true });
	});

	it('what the rules refuse comes back as its reason, not as a stack of generic text', async () => {
		const c = await setUp();
		const r = await actions.endContract(c.freelancer, { ...c.aff('freelancer').contract, end: { allowed: true, mode: 'end', escrow: 0, consequence: '' } });
		expect(r).toEqual({ ok: true });
		const again = await actions.sendMessage(c.freelancer, { ...c.aff('freelancer').contract, message: { allowed: true } }, '  ');
		expect(again).toEqual({ ok: false, pending: false, errors: { text: 'Write a message first.' } });
		const feedback = await actions.leaveFeedback(c.freelancer, { ...c.aff('freelancer').contract, feedback: { allowed: true } }, { rating: 5, text: 'x' });
		expect(feedback).toEqual({ ok: true });
		const twice = await actions.leaveFeedback(c.freelancer, { ...c.aff('freelancer').contract, feedback: { allowed: true } }, { rating: 5, text: 'x' });
		expect(twice).toEqual({ ok: false, pending: false, errors: { form: 'Feedback has already been left. Nothing was changed.' } });
	});
});

describe('milestones by agreement', () => {
	it('two milestones proposed at once get different ids, so both can be accepted and funded', async () => {
		const c = await setUp();
		expect(await actions.proposeMilestone(c.client, c.aff('client').contract, { title: 'Logo', amount: '50' }, 'USD')).toEqual({ ok: true });
		expect(await actions.proposeMilestone(c.freelancer, c.aff('freelancer').contract, { title: 'SEO', amount: '300' }, 'USD')).toEqual({ ok: true });
		await c.sync();
		const ids = [...c.parties.client.derived().state.changes.values()].map((x) => (x.change.kind === 'add' ? x.change.milestone.id : ''));
		expect(ids).toHaveLength(2);
		expect(ids[0]).toMatch(/^m3-[0-9a-z]{7}$/);
		expect(new Set(ids).size).toBe(2);
		for (const who of ['client', 'freelancer'] as const) {
			const open = c.aff(who).contract.changes.find((x) => !x.mine)!;
			expect(await actions.acceptChange(c[who], open)).toEqual({ ok: true });
		}
		await c.sync();
		const added = c.parties.freelancer.derived().state.milestones.filter((m) => m.id.startsWith('m3-'));
		expect(added.map((m) => m.amount).sort((a, b) => a - b)).toEqual([5_000, 30_000]);
	});
});

describe('Withdraw', () => {
	it('checks the form against what has matured, every field at once, then pays out once', async () => {
		let now = T0;
		const provider = new MockEscrowProvider({ now: () => now });
		const info = await provider.info();
		const { client, freelancer } = await activePair({ escrow: provider, clock: () => now, terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }) });
		await client.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		await client.settle('milestone.release', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		await freelancer.receive(client.log.envelopes());
		const form = (s = freelancer.derived().state) => ({ s, st: freelancerStatement(s, now) });
		// Released but still in the security period: nothing available yet, and no method chosen.
		let f = form();
		expect(await actions.withdraw({ party: freelancer }, f.s, f.st, { amount: '100', method: '' })).toEqual({
			ok: false,
			pending: false,
			errors: { amount: 'Nothing is available to withdraw from this contract yet.', method: 'Choose how to receive the money.' }
		});
		now += 15 * DAY_MS;
		f = form();
		expect(await actions.withdraw({ party: freelancer }, f.s, f.st, { amount: '1,000.01', method: 'bank' })).toMatchObject({
			ok: false,
			errors: { amount: 'You can withdraw at most $1,000.00 from this contract now.' }
		});
		const out = await actions.withdraw({ party: freelancer }, f.s, f.st, { amount: '1,000', method: 'bank' });
		expect(out.ok).toBe(true);
		const paid = freelancer.derived().state.payouts;
		expect(paid).toHaveLength(1);
		expect(paid[0]).toMatchObject({ amount: 100_000, receipt: out.ok ? out.receipt.id : '' });
	});
});
