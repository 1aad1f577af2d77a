/**
 * What applies to each kind of contract: a fixed-price contract has milestones and a review window;
 * an hourly contract has weeks, no milestones (the rules refuse adding one, so nothing can be funded
 * per milestone) and an ending that speaks of weeks, not milestones.
 */
import { describe, expect, it } from 'vitest';
import { affordances } from '../../../src/lib/contract/affordances';
import { partsOf } from '../../../src/lib/contract/kind';
import { CLIENT, PROVIDER, World, hourlyTerms } from '../../support/world';

describe('the parts of a contract by kind', () => {
	it('fixed-price: milestones and a review window, no weeks', async () => {
		const w = new World();
		await w.active();
		expect(partsOf(w.state)).toEqual({ kind: 'fixed', milestones: true, reviewWindow: true, weeks: false });
		const a = affordances(w.state, 'client', w.now);
		expect(a.parts.kind).toBe('fixed');
		expect(a.contract.proposeMilestone.allowed).toBe(true);
	});

	it('hourly: weeks only; proposing a milestone is refused by the rules, for either party', async () => {
		const w = new World();
		await w.active(hourlyTerms());
		expect(partsOf(w.state)).toEqual({ kind: 'hourly', milestones: false, reviewWindow: false, weeks: true });
		for (const role of ['client', 'freelancer'] as const) {
			const a = affordances(w.state, role, w.now);
			expect(a.parts.milestones).toBe(false);
			expect(a.milestones).toEqual([]);
			expect(a.contract.proposeMilestone).toMatchObject({ allowed: false, reason: expect.stringMatching(/bills weeks of logged time, not milestones/) });
		}
		const add = await w.emit(CLIENT, 'milestone.changeProposed', { change: { kind: 'add', milestone: { id: 'm1', title: 'Logo', amount: 50_000 } } });
		expect(w.rejection(add)?.message).toMatch(/not milestones/);
		expect(w.state.changes.size).toBe(0);
		// With no milestone there is nothing to fund per milestone either.
		const fund = await w.emit(CLIENT, 'milestone.fund', { milestone: 'm1', amount: 50_000, currency: 'USD', method: 'card' });
		expect(w.rejection(fund)).toBeDefined();
	});

	it('hourly: ending speaks of the current week and the weekly escrow, not of milestones', async () => {
		const w = new World();
		await w.active(hourlyTerms({ rate: 5_000, weeklyLimitHours: 10 }));
		const empty = affordances(w.state, 'client', w.now).contract.end;
		expect(empty.consequence).toMatch(/closes the current week now/);
		expect(empty.consequence).not.toMatch(/milestone|Escrow holds/);
		const intent = await w.emit(CLIENT, 'hourly.fund', { week: '2026-11-02', amount: 50_000, currency: 'USD', method: 'card' }, { at: Date.parse('2026-11-02T09:00Z') });
		await w.emit(PROVIDER, 'receipt.weekFunded', { intent, week: '2026-11-02', amount: 50_000, fee: 0, currency: 'USD', method: 'card', clearsAt: Date.parse('2026-11-02T09:00Z') }, { at: Date.parse('2026-11-02T09:00Z') });
		const end = affordances(w.state, 'freelancer', w.now).contract.end;
		expect(end.consequence).toMatch(/Escrow holds \$500\.00 for the weeks/);
	});
});
