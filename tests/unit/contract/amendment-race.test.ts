import { describe, expect, it } from 'vitest';
import { milestone } from '../../../src/lib/contract/state';
import { CLIENT, FREELANCER, PROVIDER, World } from '../../support/world';

/*
 * A milestone change both accepted, concurrent with money on that milestone. Whichever sorts first
 * must not decide whether the provider's receipt counts: money the provider holds is in escrow.
 */
describe('a milestone change accepted concurrently with money', () => {
	it('a funding the provider made at the old amount counts though a lower amount was accepted unseen', async () => {
		const w = new World();
		await w.active();
		const lower = await w.emit(CLIENT, 'milestone.changeProposed', { change: { kind: 'amend', milestone: 'build', amount: 150_000 } });
		// The client funds the amount still agreed; one more event first, so its funding sorts after the acceptance.
		await w.emit(CLIENT, 'message.posted', { text: 'Funding the build while you look at the change.' });
		const { intent, receipt } = await w.fund('build', 200_000);
		expect(w.rejection(receipt)).toBeUndefined();
		// The freelancer accepts the lower amount without having seen the funding.
		const accepted = await w.emit(FREELANCER, 'milestone.changeAccepted', { proposal: lower }, { deps: [lower] });
		expect(w.rejection(accepted)).toBeUndefined();
		expect(w.rejection(receipt)).toBeUndefined();
		expect(w.rejection(intent)).toBeUndefined();
		expect(milestone(w.state, 'build')).toMatchObject({ amount: 150_000, funded: 200_000 });
		// What the provider holds can all be released, and nothing more is asked for.
		const release = await w.release('build', 200_000);
		expect(w.rejection(release.receipt)).toBeUndefined();
	});

	it('a lower amount accepted after the funding was seen is refused, as before', async () => {
		const w = new World();
		await w.active();
		const lower = await w.emit(CLIENT, 'milestone.changeProposed', { change: { kind: 'amend', milestone: 'build', amount: 150_000 } });
		await w.fund('build', 200_000);
		const accepted = await w.emit(FREELANCER, 'milestone.changeAccepted', { proposal: lower });
		expect(w.rejection(accepted)?.code).toBe('amount-mismatch');
		expect(milestone(w.state, 'build')).toMatchObject({ amount: 200_000, funded: 200_000 });
	});

	it('two milestones proposed at once with the same id: the funding of the one the client accepted counts', async () => {
		const w = new World();
		await w.active();
		const before = w.log.heads();
		const seo = await w.emit(FREELANCER, 'milestone.changeProposed', { change: { kind: 'add', milestone: { id: 'm3', title: 'SEO', amount: 30_000 } } });
		const logo = await w.emit(CLIENT, 'milestone.changeProposed', { change: { kind: 'add', milestone: { id: 'm3', title: 'Logo', amount: 5_000 } } }, { deps: before });
		await w.emit(CLIENT, 'message.posted', { text: 'Yes to SEO.' });
		const yesSeo = await w.emit(CLIENT, 'milestone.changeAccepted', { proposal: seo });
		const { receipt } = await w.fund('m3', 30_000);
		const yesLogo = await w.emit(FREELANCER, 'milestone.changeAccepted', { proposal: logo }, { deps: [seo, logo] });
		expect(w.rejection(receipt)).toBeUndefined();
		expect(milestone(w.state, 'm3')?.funded).toBe(30_000);
		expect([w.rejection(yesSeo), w.rejection(yesLogo)].filter(Boolean)).toHaveLength(1);
	});

	it('a raise accepted while the client released everything unseen stands whichever sorts first', async () => {
		for (const releaseFirst of [false, true]) {
			const w = new World();
			await w.active();
			await w.fund('design', 100_000);
			const raise = await w.emit(CLIENT, 'milestone.changeProposed', { change: { kind: 'amend', milestone: 'design', amount: 101_000 } });
			let seen = [raise];
			// The client's message makes its release sort after the acceptance; the freelancer's own ones, before.
			if (!releaseFirst) await w.emit(CLIENT, 'message.posted', { text: 'Releasing the design.' });
			const { receipt } = await w.release('design', 100_000);
			if (releaseFirst) for (let i = 0; i < 4; i++) seen = [await w.emit(FREELANCER, 'message.posted', { text: `Looking at it ${i}.` }, { deps: seen })];
			const accepted = await w.emit(FREELANCER, 'milestone.changeAccepted', { proposal: raise }, { deps: seen });
			const order: string[] = w.state.applied.map((e) => e.id);
			expect(order.indexOf(receipt) < order.indexOf(accepted), 'the release sorts first').toBe(releaseFirst);
			expect(w.rejection(accepted)).toBeUndefined();
			expect(milestone(w.state, 'design')).toMatchObject({ amount: 101_000, funded: 100_000, released: 100_000 });
		}
	});
});
