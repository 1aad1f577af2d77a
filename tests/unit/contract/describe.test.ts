import { describe, expect, it } from 'vitest';
import { describeEvent, describeNews } from '../../../src/lib/contract/describe';
import { DAY_MS } from '../../../src/lib/contract/state';
import { CLIENT, FREELANCER, MEDIATOR, PROVIDER, World, terms } from '../../support/world';

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

describe('describeNews: the Resolution Center', () => {
	/** Design ($1,000.00) funded; Ada disputes $600.00 of it, offering $100.00 to Grace. */
	async function disputed() {
		const w = new World();
		await w.active(terms());
		await w.fund('design', 100_000);
		await w.submit('design');
		const d = await w.openDispute(CLIENT, { milestone: 'design', amount: 60_000, offer: 10_000 });
		return { w, d };
	}
	const base = (d: string) => ({ dispute: d, milestone: 'design', currency: 'USD' as const });
	const body = (w: World, id: string, me: { publicKey: string }) => describeNews(w.state, [id], me.publicKey)?.body;

	it('names the opening, offers, the rejection and the mediator to the other party, and nothing to the one who did it', async () => {
		const { w, d } = await disputed();
		expect(body(w, d, FREELANCER)).toBe('Ada opened a dispute on Design: $600.00 in the Resolution Center');
		expect(body(w, d, CLIENT)).toBeUndefined();
		const offer = await w.offer(FREELANCER, d, 50_000);
		expect(body(w, offer, CLIENT)).toBe('Grace offered $500.00 to the freelancer in the dispute on Design');
		expect(body(w, offer, FREELANCER)).toBeUndefined();
		const rejection = await w.rejectOffer(CLIENT, d, offer);
		expect(body(w, rejection, FREELANCER)).toBe('Ada rejected the offer in the dispute on Design');
		const mediator = await w.acceptMediator(FREELANCER, d, 3_000);
		expect(body(w, mediator, CLIENT)).toBe('Grace accepted Mo Mediator as mediator for the dispute on Design');
		expect(body(w, mediator, FREELANCER)).toBeUndefined();
	});

	it("an accepted offer names who accepted and the split, once the provider's receipt is in", async () => {
		const { w, d } = await disputed();
		const intent = await w.emit(FREELANCER, 'dispute.accept', { ...base(d), offer: d });
		expect(body(w, intent, CLIENT)).toBeUndefined();
		const receipt = await w.split(intent, d, 'design', { freelancer: 10_000, client: 50_000 });
		expect(body(w, receipt, CLIENT)).toBe('Grace accepted the offer in the dispute on Design: $100.00 released to the freelancer, $500.00 refunded to the client');
		expect(body(w, receipt, FREELANCER)).toBeUndefined();
	});

	it('a midpoint accepted says so', async () => {
		const { w, d } = await disputed();
		const offer = await w.offer(FREELANCER, d, 50_000);
		const intent = await w.emit(CLIENT, 'dispute.acceptMidpoint', { ...base(d), client: d, freelancer: offer });
		const receipt = await w.split(intent, d, 'design', { freelancer: 30_000, client: 30_000 });
		expect(body(w, receipt, FREELANCER)).toBe('Ada accepted the midpoint in the dispute on Design: $300.00 released to the freelancer, $300.00 refunded to the client');
	});

	it("the mediator's ruling names the mediator, the split and its fee, to both parties", async () => {
		const { w, d } = await disputed();
		const final = await w.rejectOffer(FREELANCER, d, d, 50_000);
		await w.acceptMediator(CLIENT, d, 3_000);
		await w.acceptMediator(FREELANCER, d, 3_000);
		const ruling = await w.emit(MEDIATOR, 'dispute.rule', { ...base(d), offer: final });
		// The ruling is an intent: nothing has moved yet.
		expect(body(w, ruling, CLIENT)).toBeUndefined();
		const receipt = await w.split(ruling, d, 'design', { freelancer: 48_500, client: 8_500, fee: 3_000, mediator: MEDIATOR.publicKey });
		for (const me of [CLIENT, FREELANCER])
			expect(body(w, receipt, me)).toBe("Mo Mediator ruled on the dispute on Design: $485.00 released to the freelancer, $85.00 refunded to the client, $30.00 mediator's fee");
	});

	it('an outcome a deadline made due says it was paid out automatically and why, to both parties', async () => {
		const { w, d } = await disputed();
		w.now += 5 * DAY_MS;
		const intent = await w.emit(FREELANCER, 'dispute.settle', { ...base(d), basis: 'silence', freelancer: 10_000 });
		const receipt = await w.split(intent, d, 'design', { freelancer: 10_000, client: 50_000 });
		expect(w.rejection(receipt)).toBeUndefined();
		for (const me of [CLIENT, FREELANCER])
			expect(body(w, receipt, me)).toBe('The dispute on Design was paid out automatically (silence accepted the last offer): $100.00 released to the freelancer, $500.00 refunded to the client');
	});
});
