/**
 * The provider's receipts form ONE linear chain per contract. Each receipt's `prev` is the receipt
 * the provider signed just before it for that contract, whatever the requesting device holds; so
 * two receipts on the same `prev` can only mean the provider signed two histories (equivocation,
 * shown on every replica). Requests for different milestones run at the same time in the function
 * (one queue per milestone), so the link is made where the receipt is recorded, atomically.
 * A device whose new receipt names a receipt it has not seen fetches the provider's record at once,
 * so the receipt never waits.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOCKS, type Terms } from '../../src/lib/contract/schema';
import type { EscrowAdapter } from '../../src/lib/escrow/adapter';
import { MockEscrowProvider } from '../../src/lib/escrow/mock';
import { MemoryContract } from '../../src/lib/sync/memory-contract';
import { Party } from '../../src/lib/sync/party';
import { activePair } from '../support/parties';
import { CLIENT, FREELANCER } from '../support/world';
import { mulberry32 } from '../support/random';
import { stack } from './harness';

async function terms(escrow: EscrowAdapter): Promise<Terms> {
	const info = await escrow.info();
	return {
		title: 'Chain',
		scope: '',
		currency: 'USD',
		milestones: ['a', 'b', 'c'].map((id) => ({ id, title: id.toUpperCase(), amount: 10_000 })),
		provider: { id: info.id, publicKey: info.publicKey, testMode: info.testMode },
		...DEFAULT_CLOCKS
	};
}

/** The provider's receipts among `envelopes`, as id → prev. */
function providerLinks(envelopes: Iterable<string>, provider: string): Map<string, string | null> {
	const out = new Map<string, string | null>();
	for (const env of envelopes) {
		const { id, body } = JSON.parse(env) as { id: string; body: string };
		const b = JSON.parse(body) as { author: string; prev: string | null };
		if (b.author === provider) out.set(id, b.prev);
	}
	return out;
}

/** One chain: one receipt with no prev, every other names a receipt of the set, and no two name the same. */
function expectLinear(links: Map<string, string | null>): void {
	const prevs = [...links.values()];
	expect(prevs.filter((p) => p === null)).toHaveLength(1);
	for (const p of prevs) if (p !== null) expect(links.has(p)).toBe(true);
	expect(new Set(prevs).size).toBe(prevs.length);
}

async function race(escrow: EscrowAdapter, now: () => number, jitter: (() => void) | undefined) {
	const pair = await activePair({ escrow, clock: now, terms: await terms(escrow) });
	const { client, freelancer } = pair;
	for (const m of ['a', 'b', 'c']) await client.settle('milestone.fund', { milestone: m, amount: 10_000, currency: 'USD', method: 'card' });
	await freelancer.receive(client.log.envelopes());
	// Three devices, none hearing of the others' receipts: a laptop and a phone of the client, and the freelancer.
	const laptop = await pair.device(CLIENT);
	const phone = await pair.device(CLIENT);
	jitter?.();
	const results = await Promise.allSettled([
		laptop.settle('milestone.release', { milestone: 'a', amount: 10_000, currency: 'USD', method: 'card' }),
		phone.settle('milestone.release', { milestone: 'b', amount: 4_000, currency: 'USD', method: 'card' }),
		freelancer.act('milestone.submitted', { milestone: 'c', message: 'done', links: [] }),
		client.act('message.posted', { text: 'hello' })
	]);
	for (const r of results) expect(r.status).toBe('fulfilled');
	return { pair, laptop, phone, provider: (await escrow.info()).publicKey };
}

describe("the provider's receipts form one chain per contract", () => {
	it('the Stripe function links every receipt to the one it signed before, across concurrent milestones (10 rounds)', async () => {
		for (let round = 0; round < 10; round++) {
			const s = stack();
			const rnd = mulberry32(round + 1);
			s.fake.jitter = () => Math.floor(rnd() * 4);
			await s.onboard(FREELANCER);
			const { pair, laptop, phone, provider } = await race(s.adapter, () => s.clock.now, undefined);
			const record = await s.record(pair.contract, CLIENT);
			const links = providerLinks(record, provider);
			// countersign, 3 fundings, 2 releases, 1 submission
			expect(links.size).toBe(7);
			expectLinear(links);
			// No device is left with a receipt waiting for a link it never saw: it fetched the record.
			for (const p of [laptop, phone, pair.freelancer]) expect(p.derived().waiting).toEqual([]);
		}
	});

	it('the TEST MODE mock does the same', async () => {
		let now = Date.UTC(2026, 10, 2);
		const mock = new MockEscrowProvider({ now: () => now });
		const { pair, laptop, phone, provider } = await race(mock, () => now++, undefined);
		const all = new Set<string>();
		for (const p of [pair.client, pair.freelancer, laptop, phone]) for (const [, env] of p.log.envelopes()) all.add(env);
		const links = providerLinks(all, provider);
		expect(links.size).toBe(7);
		expectLinear(links);
		for (const p of [laptop, phone, pair.freelancer]) expect(p.derived().waiting).toEqual([]);
	});

	it('a device that was offline for several receipts still folds its own new receipt at once', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		const pair = await activePair({ escrow: s.adapter, clock: () => s.clock.now, terms: await terms(s.adapter) });
		const asleep = new Party(CLIENT, new MemoryContract(pair.contract), s.adapter, () => s.clock.now);
		await asleep.receive(pair.client.log.envelopes());
		await pair.client.settle('milestone.fund', { milestone: 'a', amount: 10_000, currency: 'USD', method: 'card' });
		await pair.client.settle('milestone.fund', { milestone: 'b', amount: 10_000, currency: 'USD', method: 'card' });
		const { receipt } = await asleep.settle('milestone.fund', { milestone: 'c', amount: 10_000, currency: 'USD', method: 'card' });
		const s2 = asleep.derived();
		expect(s2.waiting).toEqual([]);
		expect(s2.state.applied.some((e) => e.id === receipt.id)).toBe(true);
		expect(s2.state.milestones.map((m) => m.funded)).toEqual([10_000, 10_000, 10_000]);
	});
});
