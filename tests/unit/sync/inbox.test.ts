import { describe, expect, it } from 'vitest';
import { emptyState, type ContractState } from '../../../src/lib/contract/state';
import { attention, attentionOf, recent } from '../../../src/lib/sync/inbox';
import { CLIENT, FREELANCER, PROVIDER, STRANGER, World, terms } from '../../support/world';

const at = (state: ContractState, missing = false) => ({ state, missing, now: state.providerNow });

describe('what needs attention', () => {
	it('a proposal needs whoever opened its link until they answer; the proposer only waits', async () => {
		const w = new World();
		const proposal = await w.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() });
		expect(attentionOf(at(w.state), CLIENT.publicKey)).toBeUndefined();
		expect(attentionOf(at(w.state), FREELANCER.publicKey)).toMatchObject({ kind: 'action', text: 'Review and accept the proposal' });
		const accept = await w.emit(FREELANCER, 'contract.accepted', { proposal, name: 'Grace' });
		// She answered: now she waits; the proposer has someone to confirm.
		expect(attentionOf(at(w.state), FREELANCER.publicKey)).toBeUndefined();
		expect(attentionOf(at(w.state), CLIENT.publicKey)).toMatchObject({ kind: 'action', contract: w.contract });
		await w.emit(STRANGER, 'contract.declined', { proposal });
		expect(attentionOf(at(w.state), STRANGER.publicKey)).toBeUndefined();
		const countersign = await w.emit(CLIENT, 'contract.countersigned', { acceptance: accept });
		await w.emit(PROVIDER, 'receipt.attested', { event: countersign, kind: 'countersign' });
		// Bound: the client funds; once both milestones are funded nothing is left for her to do.
		expect(attention([at(w.state)], CLIENT.publicKey)).toHaveLength(1);
		await w.fund('design', 100_000);
		await w.fund('build', 200_000);
		expect(attention([at(w.state)], CLIENT.publicKey)).toEqual([]);
		expect(attention([at(w.state)], FREELANCER.publicKey)).toHaveLength(1);
	});

	it('a link whose contract never arrived needs attention only once it is called not found', () => {
		const s = emptyState('c0ntract-id-0000000001');
		expect(attentionOf(at(s), CLIENT.publicKey)).toBeUndefined();
		expect(attentionOf(at(s, true), CLIENT.publicKey)).toEqual({ contract: s.contract, kind: 'not-found', text: 'The contract of this link was not found' });
		expect(attention([at(s, true)], undefined)).toEqual([]);
	});
});

describe('recent news', () => {
	it('comes from the whole log (so a reload keeps it), newest first, never my own events', async () => {
		const w = new World();
		await w.active();
		w.advance(1);
		await w.emit(FREELANCER, 'message.posted', { text: 'Hello from Grace' });
		w.advance(1);
		await w.emit(CLIENT, 'message.posted', { text: 'Hello from Ada' });
		const other = new World();
		await other.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms({ title: 'Logo' }) });
		const news = recent([w.state, other.state], CLIENT.publicKey);
		expect(news.map((n) => n.text)).toEqual([expect.stringContaining('Hello from Grace'), expect.stringContaining('Grace accepted')]);
		expect(news[0]!.contract).toBe(w.contract);
		expect(recent([w.state], FREELANCER.publicKey).map((n) => n.text)).toEqual([expect.stringContaining('Hello from Ada')]);
	});
});
