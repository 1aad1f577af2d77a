/**
 * The contract every escrow adapter must honour, written once and run against each adapter:
 * the mock now, the Stripe adapter (edge function + Stripe fake) later. It drives the adapter the
 * way the app does — through a Party that signs intents and writes receipts — and checks what a
 * person would see: money moves only on receipts that verify, refusals are clear and change nothing.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOCKS } from '../../../src/lib/contract/schema';
import { DAY_MS, milestone } from '../../../src/lib/contract/state';
import { balances } from '../../../src/lib/contract/balances';
import { EscrowError, type EscrowAdapter } from '../../../src/lib/escrow/adapter';
import { MemoryContract } from '../../../src/lib/sync/memory-contract';
import { Party, PendingIntent } from '../../../src/lib/sync/party';
import { activePair } from '../../support/parties';
import { CLIENT, FREELANCER, STRANGER } from '../../support/world';

export interface AdapterHarness {
	adapter: EscrowAdapter;
	/** Move the provider's clock forward. */
	advance(ms: number): void;
	/** Make the next provider call fail like a declined card, an outage or a timeout. */
	failNext(code: 'declined' | 'unavailable' | 'timeout'): void;
	/** Optional: execute the next money call, then lose its answer (the caller sees a timeout or an outage). */
	loseNextAnswer?(): void;
	/**
	 * Optional: a bank_transfer funding answers 'processing' (with expectedAt) until it has cleared on
	 * the provider's clock (`advance`), and the same intent then gets its receipt.
	 */
	bankDebitsProcess?: boolean;
}

export function escrowAdapterSuite(name: string, make: () => Promise<AdapterHarness>): void {
	let serial = 0;
	async function contract(h: AdapterHarness, providerKey?: string) {
		const info = await h.adapter.info();
		const clock = async () => h.adapter.now();
		let now = await clock();
		const tick = async () => {
			now = await clock();
		};
		const terms = {
			title: `Suite ${name} ${++serial}`,
			scope: '',
			currency: 'USD' as const,
			milestones: [
				{ id: 'a', title: 'A', amount: 100_000 },
				{ id: 'b', title: 'B', amount: 50_000 }
			],
			provider: { id: info.id, publicKey: providerKey ?? info.publicKey, testMode: info.testMode },
			...DEFAULT_CLOCKS
		};
		// A contract naming another provider can be countersigned, but this provider never records it.
		const { client, freelancer } = await activePair({ escrow: h.adapter, terms, clock: () => now, unbound: providerKey !== undefined });
		const sync = async () => {
			await client.receive(freelancer.log.envelopes());
			await freelancer.receive(client.log.envelopes());
		};
		if (providerKey !== undefined) {
			await client.countersign([...client.derived().state.acceptances.keys()][0]!);
			await sync();
		}
		return { client, freelancer, sync, tick };
	}

	const fund = (p: Party, m = 'a', amount = 100_000) =>
		p.settle('milestone.fund', { milestone: m, amount, currency: 'USD', method: 'card' });

	describe(`escrow adapter contract: ${name}`, () => {
		it('publishes its key and quotes fees in integer minor units', async () => {
			const h = await make();
			const info = await h.adapter.info();
			expect(info.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
			const q = await h.adapter.quoteFunding(100_000, 'USD', 'card');
			expect(Number.isInteger(q.fee) && q.fee > 0).toBe(true);
			expect(q.total).toBe(q.amount + q.fee);
			const w = await h.adapter.quoteWithdrawal(100_000, 'USD', 'bank');
			expect(w.net + w.fee).toBe(100_000);
		});

		it('funding returns a receipt that verifies and puts the money in escrow on both sides', async () => {
			const h = await make();
			const c = await contract(h);
			const { receipt } = await fund(c.client);
			await c.sync();
			for (const p of [c.client, c.freelancer]) {
				const d = p.derived();
				expect(d.rejected).toEqual([]);
				expect(d.state.applied.map((e) => e.id)).toContain(receipt.id);
				expect(balances(d.state).escrow).toBe(100_000);
			}
		});

		it('is idempotent per intent: a retry returns the same receipt', async () => {
			const h = await make();
			const c = await contract(h);
			const { intent, receipt } = await fund(c.client);
			const again = await h.adapter.fund({ contract: c.client.log.contract, log: c.client.log.envelopes().map(([, e]) => e), event: intent.id });
			expect(again.id).toBe(receipt.id);
		});

		it('a declined card or an outage leaves the contract exactly as it was, with the reason', async () => {
			const h = await make();
			const c = await contract(h);
			const before = c.client.log.size;
			h.failNext('declined');
			const err = await fund(c.client).catch((e: unknown) => e);
			expect(err).toBeInstanceOf(EscrowError);
			expect((err as EscrowError).code).toBe('declined');
			expect((err as EscrowError).message).toMatch(/declined/i);
			expect(c.client.log.size).toBe(before);
			expect(milestone(c.client.derived().state, 'a')!.funded).toBe(0);
			h.failNext('unavailable');
			await expect(fund(c.client)).rejects.toMatchObject({ code: 'unavailable' });
			expect(c.client.log.size).toBe(before);
			// And it works once the provider is back (the same intent, kept on the device, asked again).
			await fund(c.client);
			expect(milestone(c.client.derived().state, 'a')!.funded).toBe(100_000);
		});

		it('after a timeout the device asks again with the same intent id, and the money moves once', async () => {
			const h = await make();
			const c = await contract(h);
			const before = c.client.log.size;
			h.failNext('timeout');
			const err = await fund(c.client).catch((e: unknown) => e);
			expect(err).toBeInstanceOf(PendingIntent);
			expect((err as EscrowError).code).toBe('timeout');
			expect((err as EscrowError).message).not.toMatch(/nothing was (charged|changed)/i);
			expect(c.client.log.size).toBe(before);
			const { intent } = await fund(c.client);
			expect(intent.id).toBe((err as PendingIntent).intent);
			await c.sync();
			expect(balances(c.freelancer.derived().state).escrow).toBe(100_000);
		});

		it('an answer lost after executing: asking again returns the very same receipt', async (ctx) => {
			const h = await make();
			if (!h.loseNextAnswer) return ctx.skip();
			const c = await contract(h);
			h.loseNextAnswer();
			const err = (await fund(c.client).catch((e: unknown) => e)) as PendingIntent;
			expect(err).toBeInstanceOf(PendingIntent);
			expect(err.message).not.toMatch(/nothing was (charged|changed)/i);
			const again = await h.adapter.fund({ contract: c.client.log.contract, log: [...c.client.log.envelopes().map(([, e]) => e), c.client.pending()[0]!.envelope], event: err.intent });
			const { receipt } = (await c.client.resume()).settled[0]!;
			expect(receipt.id).toBe(again.id);
			await c.sync();
			expect(balances(c.freelancer.derived().state).escrow).toBe(100_000);
		});

		it("a bank debit answers 'processing' until it clears, then the same intent gets its receipt", async (ctx) => {
			const h = await make();
			if (!h.bankDebitsProcess) return ctx.skip();
			const c = await contract(h);
			const bank = () => c.client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'bank_transfer' });
			const err = (await bank().catch((e: unknown) => e)) as PendingIntent;
			expect(err).toBeInstanceOf(PendingIntent);
			expect(err.code).toBe('processing');
			expect(err.expectedAt).toBeGreaterThan(await h.adapter.now());
			expect(milestone(c.client.derived().state, 'a')!.funded).toBe(0);
			h.advance(err.expectedAt! - (await h.adapter.now()));
			await c.tick();
			const { intent, receipt } = await bank();
			expect(intent.id).toBe(err.intent);
			await c.sync();
			const s = c.freelancer.derived().state;
			expect(s.applied.map((e) => e.id)).toContain(receipt.id);
			expect(balances(s).escrow).toBe(100_000);
		});

		it('refuses a double release and an over-release from its own books', async () => {
			const h = await make();
			const c = await contract(h);
			await fund(c.client);
			// A second device of the client, offline, that has not seen the first release.
			const other = new Party(CLIENT, new MemoryContract(c.client.log.contract), h.adapter);
			await other.receive(c.client.log.envelopes());
			await c.client.settle('milestone.release', { milestone: 'a', amount: 60_000, currency: 'USD', method: 'card' });
			await expect(other.settle('milestone.release', { milestone: 'a', amount: 60_000, currency: 'USD', method: 'card' })).rejects.toMatchObject({
				code: 'over-release',
				message: 'Escrow holds $400.00; the release asks for $600.00.'
			});
			await c.client.settle('milestone.release', { milestone: 'a', amount: 40_000, currency: 'USD', method: 'card' });
			await expect(other.settle('milestone.release', { milestone: 'a', amount: 40_000, currency: 'USD', method: 'card' })).rejects.toMatchObject({ code: 'unfunded' });
		});

		it('refuses to release unfunded escrow and intents the rules refuse', async () => {
			const h = await make();
			const c = await contract(h);
			const intent = await (async () => {
				// Bypass the party's own check to hand the provider an intent the rules reject.
				const { compose } = await import('../../../src/lib/contract/compose');
				const { signEvent } = await import('../../../src/lib/identity/sign-event');
				return signEvent(CLIENT, compose(c.client.log, CLIENT.publicKey, 'milestone.release', { milestone: 'a', amount: 1_000, currency: 'USD', method: 'card' }, Date.now()));
			})();
			const log = [...c.client.log.envelopes().map(([, e]) => e), intent.envelope];
			const err = await h.adapter.release({ contract: c.client.log.contract, log, event: intent.id }).catch((e: unknown) => e);
			expect(err).toBeInstanceOf(EscrowError);
			expect(['unfunded', 'not-authorised']).toContain((err as EscrowError).code);
		});

		it('refuses contracts that name another provider key', async () => {
			const h = await make();
			const c = await contract(h, STRANGER.publicKey);
			// The provider will not record the countersign of a contract naming another key…
			const countersign = [...c.client.derived().state.countersigns.keys()][0]!;
			await expect(c.client.attest(countersign)).rejects.toMatchObject({ code: 'not-authorised' });
			// …so the contract never binds, and no money intent is even signed.
			expect(c.client.derived().state.status).toBe('proposed');
			await expect(fund(c.client)).rejects.toMatchObject({ rejection: { code: 'invalid-state' } });
		});

		it('auto-releases only after the review window on its own clock', async () => {
			const h = await make();
			const c = await contract(h);
			await fund(c.client);
			await c.sync();
			const sub = await c.freelancer.act('milestone.submitted', { milestone: 'a', message: 'done', links: [] });
			const attested = await c.freelancer.attest(sub.id);
			expect(c.freelancer.derived().rejected).toEqual([]);
			expect(attested.id).toBeTruthy();
			h.advance(13 * DAY_MS);
			await c.tick();
			await expect(c.freelancer.settle('milestone.autoRelease', { milestone: 'a', submission: sub.id })).rejects.toMatchObject({ code: 'too-early' });
			h.advance(DAY_MS + 1);
			await c.tick();
			await c.freelancer.settle('milestone.autoRelease', { milestone: 'a', submission: sub.id });
			expect(milestone(c.freelancer.derived().state, 'a')!.released).toBe(100_000);
		});

		it('holds released money for the security period, then pays out with the quoted fee', async () => {
			const h = await make();
			const c = await contract(h);
			await fund(c.client);
			await c.client.settle('milestone.release', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
			await c.sync();
			await expect(c.freelancer.settle('withdrawal.requested', { amount: 50_000, currency: 'USD', method: 'bank' })).rejects.toMatchObject({ code: 'insufficient-balance' });
			h.advance(5 * DAY_MS);
			await c.tick();
			// A withdrawal smaller than its fee is refused with the reason, and nothing is written.
			const before = c.freelancer.log.size;
			await expect(c.freelancer.settle('withdrawal.requested', { amount: 1, currency: 'USD', method: 'bank' })).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/fee/) });
			expect(c.freelancer.log.size).toBe(before);
			const quote = await h.adapter.quoteWithdrawal(50_000, 'USD', 'bank');
			await c.freelancer.settle('withdrawal.requested', { amount: 50_000, currency: 'USD', method: 'bank' });
			const s = c.freelancer.derived().state;
			expect(s.payouts[0]).toMatchObject({ amount: 50_000, fee: quote.fee });
			expect(balances(s)).toMatchObject({ available: 50_000, paidOut: 50_000 - quote.fee, pending: 0 });
		});

		it('refunds an approved request', async () => {
			const h = await make();
			const c = await contract(h);
			await fund(c.client, 'b', 50_000);
			const req = await c.client.act('refund.requested', { milestone: 'b', amount: 20_000, currency: 'USD', reason: 'Scope cut.' });
			await c.sync();
			await c.freelancer.act('refund.approved', { request: req.id });
			await c.sync();
			await c.client.settle('milestone.refund', { milestone: 'b', amount: 20_000, currency: 'USD', basis: 'approved-request', request: req.id });
			expect(milestone(c.client.derived().state, 'b')).toMatchObject({ funded: 50_000, refunded: 20_000 });
		});
	});
}
