import { describe, expect, it } from 'vitest';
import { describeEvent, describeNews } from '../../../src/lib/contract/describe';
import { CLIENT, FREELANCER, PROVIDER, World, terms } from '../../support/world';

/** Ada (client) and Grace (freelancer) on "Website": Design $500.00 and Build $2,000.00. */
async function bound() {
	const w = new World();
	await w.active(terms({ milestones: [{ id: 'design', title: 'Design', amount: 50_000 }, { id: 'build', title: 'Build', amount: 200_000 }] }));
	return w;
}
const since = (w: World, from: number) => w.state.applied.slice(from).map((e) => e.id);

describe('describeNews: what a notification says about events that just arrived', () => {
	it('names who released how much on which milestone, under the contract’s title', async () => {
		const w = await bound();
		await w.fund('design', 50_000);
		await w.submit('design');
		const from = w.state.applied.length;
		await w.release('design', 50_000);
		const news = describeNews(w.state, since(w, from), FREELANCER.publicKey);
		expect(news).toMatchObject({ title: 'Website', body: 'Ada released $500.00 on Design', contract: w.contract, count: 1 });
		// The receipt is what it describes: the release happened, it is not only asked for.
		expect(w.state.applied.find((e) => e.id === news!.event)?.type).toBe('receipt.released');
	});

	it('is silent about what I did myself', async () => {
		const w = await bound();
		await w.fund('design', 50_000);
		await w.submit('design');
		const from = w.state.applied.length;
		await w.release('design', 50_000);
		await w.emit(CLIENT, 'message.posted', { text: 'Thanks!' });
		expect(describeNews(w.state, since(w, from), CLIENT.publicKey)).toBeUndefined();
	});

	it('money comes first among several updates, and says how many more there are', async () => {
		const w = await bound();
		const from = w.state.applied.length;
		await w.emit(CLIENT, 'message.posted', { text: 'Funding now' });
		await w.fund('design', 50_000);
		await w.emit(CLIENT, 'message.posted', { text: 'Done' });
		expect(describeNews(w.state, since(w, from), FREELANCER.publicKey)?.body).toBe('Ada funded $500.00 on Design (and 2 more updates)');
	});

	it('does not repeat a message’s text (a notification may show on a locked screen)', async () => {
		const w = await bound();
		const id = await w.emit(FREELANCER, 'message.posted', { text: 'The password is hunter2' });
		const news = describeNews(w.state, [id], CLIENT.publicKey);
		expect(news?.body).toBe('Grace sent a message');
		expect(JSON.stringify(news)).not.toContain('hunter2');
	});

	it('describes requests by their names in the app', async () => {
		const w = await bound();
		await w.fund('design', 50_000);
		const sub = await w.submit('design');
		expect(describeNews(w.state, [sub], CLIENT.publicKey)?.body).toBe('Grace requested payment for Design');
		const ask = await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'design', reason: 'The logo is too small.' });
		expect(describeNews(w.state, [ask], FREELANCER.publicKey)?.body).toBe('Ada requested changes to Design');
		const refund = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 12_345, currency: 'USD', reason: 'Late' });
		expect(describeNews(w.state, [refund], FREELANCER.publicKey)?.body).toBe('Ada requested a refund of $123.45 on Design');
	});

	it('an acceptance names who accepted; bookkeeping (provider records) and refused events are no news', async () => {
		const w = new World();
		const proposal = await w.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() });
		const accept = await w.emit(FREELANCER, 'contract.accepted', { proposal, name: 'Grace' });
		expect(describeNews(w.state, [accept], CLIENT.publicKey)?.body).toBe('Grace accepted the contract');
		const cs = await w.emit(CLIENT, 'contract.countersigned', { acceptance: accept });
		const attested = await w.emit(PROVIDER, 'receipt.attested', { event: cs, kind: 'countersign' });
		expect(describeNews(w.state, [attested], CLIENT.publicKey)).toBeUndefined();
		// A release of money that was never funded is refused by the rules: nothing to announce.
		const bogus = await w.emit(CLIENT, 'milestone.release', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		expect(w.state.applied.some((e) => e.id === bogus)).toBe(false);
		expect(describeNews(w.state, [bogus], FREELANCER.publicKey)).toBeUndefined();
	});

	it('an automatic release says so, to both parties', async () => {
		const w = await bound();
		await w.fund('design', 50_000);
		const sub = await w.submit('design');
		w.advance(15);
		const intent = await w.emit(FREELANCER, 'milestone.autoRelease', { milestone: 'design', submission: sub });
		const receipt = await w.emit(PROVIDER, 'receipt.released', { intent, milestone: 'design', amount: 50_000, currency: 'USD', auto: true });
		for (const me of [CLIENT, FREELANCER]) expect(describeNews(w.state, [receipt], me.publicKey)?.body).toBe('$500.00 on Design was released after the review window ended');
	});

	it('formats money in the contract’s currency', async () => {
		const w = new World();
		await w.active(terms({ currency: 'EUR' }));
		const { receipt } = await (async () => {
			const intent = await w.emit(CLIENT, 'milestone.fund', { milestone: 'design', amount: 100_000, currency: 'EUR', method: 'card' });
			return { receipt: await w.emit(PROVIDER, 'receipt.funded', { intent, milestone: 'design', amount: 100_000, fee: 0, currency: 'EUR', method: 'card', clearsAt: w.now }) };
		})();
		const ev = w.state.applied.find((e) => e.id === receipt)!;
		expect(describeEvent(w.state, ev, FREELANCER.publicKey)?.text).toBe('Ada funded €1,000.00 on Design');
	});
});
