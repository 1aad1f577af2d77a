/**
 * A device keeps its signed money intent in device-local storage until it holds the receipt: stored
 * before the provider hears of it, asked about again with the same id after a timeout, an outage or a
 * lost answer, resumed by a new Party after the device died, and removed without a trace when the
 * provider refuses it.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS, milestone } from '../../../src/lib/contract/state';
import { EscrowError, type EscrowAdapter, type EscrowRequest, type Receipt } from '../../../src/lib/escrow/adapter';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { actionKey, MemoryOutboxStorage, retryDelay, type OutboxStorage } from '../../../src/lib/sync/outbox';
import { MemoryContract } from '../../../src/lib/sync/memory-contract';
import { ActionRefused, Party, PendingIntent } from '../../../src/lib/sync/party';
import { failureMessages, pendingMessage } from '../../../src/lib/ui/failure';
import { CLIENT, PROVIDER, T0, World, terms } from '../../support/world';

const card = { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' } as const;
const bank = { milestone: 'build', amount: 200_000, currency: 'USD', method: 'bank_transfer' } as const;

async function setup(o: { bankDebitsProcess?: boolean } = {}) {
	const clock = { now: T0 };
	const world = new World();
	world.now = T0;
	await world.active(terms());
	const provider = new MockEscrowProvider({ key: PROVIDER, now: () => clock.now, bankDebitsProcess: o.bankDebitsProcess });
	const contract = world.log.contract;
	/** What the device persisted of the contract (its y-indexeddb): survives the Party. */
	const persisted = new Map<string, string>(world.written);
	const storage = new MemoryOutboxStorage();
	const device = async (escrow: EscrowAdapter = provider, outbox: OutboxStorage = storage) => {
		const p = new Party(CLIENT, new MemoryContract(contract, (id, env) => persisted.set(id, env)), escrow, () => clock.now, outbox);
		await p.receive(persisted);
		return p;
	};
	return { clock, provider, contract, storage, persisted, device, party: await device() };
}

/** The provider as the device sees it, with a hook on every money call. */
function spy(inner: EscrowAdapter, before: (req: EscrowRequest) => void | Promise<void>, after?: (r: Receipt) => Promise<Receipt>): EscrowAdapter {
	const wrap = (call: 'fund' | 'release' | 'refund' | 'withdraw') => async (req: EscrowRequest) => {
		await before(req);
		const r = await inner[call](req);
		return after ? after(r) : r;
	};
	return { ...inner, info: () => inner.info(), now: () => inner.now(), quoteFunding: (a, c, m) => inner.quoteFunding(a, c, m), quoteWithdrawal: (a, c, m) => inner.quoteWithdrawal(a, c, m), attest: (r) => inner.attest(r), fund: wrap('fund'), release: wrap('release'), refund: wrap('refund'), withdraw: wrap('withdraw') };
}

describe('the outbox: a signed intent is kept until its receipt is written', () => {
	it('stores the signed intent in device-local storage before the provider hears of it, and clears it with the receipt', async () => {
		const s = await setup();
		const seen: string[] = [];
		const p = await s.device(
			spy(s.provider, async (req) => {
				const stored = await s.storage.get(req.event);
				expect(stored?.envelope).toBeTruthy();
				expect(req.log).toContain(stored!.envelope);
				seen.push(req.event);
			})
		);
		const { intent, receipt } = await p.settle('milestone.fund', card);
		expect(seen).toEqual([intent.id]);
		expect(p.log.has(intent.id) && p.log.has(receipt.id)).toBe(true);
		expect(s.persisted.has(receipt.id)).toBe(true);
		expect(await s.storage.list()).toEqual([]);
		expect(p.pending()).toEqual([]);
	});

	it('a definite refusal removes the entry and leaves no trace in the log', async () => {
		const s = await setup();
		const before = s.party.log.size;
		s.provider.failNext('declined');
		const err = await s.party.settle('milestone.fund', card).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(EscrowError);
		expect(err).not.toBeInstanceOf(PendingIntent);
		expect((err as EscrowError).code).toBe('declined');
		// The rules' refusal happens before anything is signed or stored.
		await expect(s.party.settle('milestone.release', { milestone: 'design', amount: 1, currency: 'USD', method: 'card' })).rejects.toBeInstanceOf(ActionRefused);
		expect(s.party.log.size).toBe(before);
		expect(s.persisted.size).toBe(before);
		expect(await s.storage.list()).toEqual([]);
	});

	it('a timeout keeps the intent, and asking again uses the same intent id and writes the receipt once', async () => {
		const s = await setup();
		const before = s.party.log.size;
		s.provider.failNext('timeout');
		const err = await s.party.settle('milestone.fund', card).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(PendingIntent);
		expect(err).toMatchObject({ code: 'timeout' });
		const id = (err as PendingIntent).intent;
		expect(s.party.log.size).toBe(before);
		const [entry] = await s.storage.list();
		expect(entry).toMatchObject({ id, call: 'fund', milestone: 'design', attempts: 1, lastError: { code: 'timeout' } });
		expect(s.party.pending().map((e) => e.id)).toEqual([id]);

		const r = await s.party.resume();
		expect(r.settled.map((x) => x.intent.id)).toEqual([id]);
		expect(s.party.log.has(id)).toBe(true);
		expect(milestone(s.party.derived().state, 'design')!.funded).toBe(100_000);
		expect(await s.storage.list()).toEqual([]);
	});

	it('an answer lost after the provider executed: the retry gets the same receipt, the money moved once', async () => {
		const s = await setup();
		s.provider.loseNextAnswer();
		const err = (await s.party.settle('milestone.fund', card).catch((e: unknown) => e)) as PendingIntent;
		expect(err).toBeInstanceOf(PendingIntent);
		// The provider did move the money; its message does not pretend otherwise.
		expect(s.provider.statement(s.contract).executed[err.intent]).toBeTruthy();
		expect(err.message).not.toMatch(/nothing was (charged|changed)/i);
		const { receipt } = await s.party.settle('milestone.fund', card);
		expect(receipt.id).toBe(s.provider.statement(s.contract).executed[err.intent]);
		expect(s.provider.statement(s.contract).milestones.design!.funded).toBe(100_000);
		expect(milestone(s.party.derived().state, 'design')!.funded).toBe(100_000);
	});

	it('a device that dies after the provider answered: a new Party over the same storage writes the receipt', async () => {
		const s = await setup();
		let die!: () => void;
		const died = new Promise<void>((r) => (die = r));
		// The provider executes; the answer never reaches the page (the tab was closed).
		const dying = await s.device(
			spy(
				s.provider,
				() => {},
				() => {
					die();
					return new Promise<Receipt>(() => {});
				}
			)
		);
		void dying.settle('milestone.fund', card);
		await died;
		const executed = Object.entries(s.provider.statement(s.contract).executed);
		expect(executed).toHaveLength(1);
		const [intent, receipt] = executed[0]!;
		expect(s.persisted.has(intent)).toBe(false);

		// Without the outbox, this device could never get that receipt: "Fund" again a minute later is refused.
		s.clock.now += 60_000;
		const amnesiac = await s.device(s.provider, new MemoryOutboxStorage());
		await expect(amnesiac.settle('milestone.fund', card)).rejects.toMatchObject({ code: 'already-settled' });

		// With it, the app resumes on opening: same intent id, same receipt, written once.
		const reopened = await s.device();
		expect(reopened.pending()).toEqual([]);
		const r = await reopened.resume();
		expect(r.settled.map((x) => [x.intent.id, x.receipt.id])).toEqual([[intent, receipt]]);
		expect(s.persisted.get(receipt)).toBeTruthy();
		expect(milestone(reopened.derived().state, 'design')!.funded).toBe(100_000);
		expect(await s.storage.list()).toEqual([]);
	});

	it('the answer is kept at once: a device that dies while writing settles on reopening, even with the provider down', async () => {
		const s = await setup();
		let die!: () => void;
		const died = new Promise<void>((r) => (die = r));
		// Dies halfway through the write: the intent reached its storage, the receipt did not.
		const dying = new Party(
			CLIENT,
			new MemoryContract(s.contract, (id, env) => {
				if (env.includes('receipt.')) return die();
				s.persisted.set(id, env);
			}),
			s.provider,
			() => s.clock.now,
			{ get: (id) => s.storage.get(id), list: (c) => s.storage.list(c), put: (e) => s.storage.put(e), delete: () => new Promise<void>(() => {}) }
		);
		await dying.receive(s.persisted);
		void dying.settle('milestone.fund', card);
		await died;
		expect([...s.persisted.values()].some((e) => e.includes('receipt.funded'))).toBe(false);
		s.provider.setDown(true);
		const reopened = await s.device();
		const r = await reopened.resume();
		expect(r.settled).toHaveLength(1);
		expect(milestone(reopened.derived().state, 'design')!.funded).toBe(100_000);
		expect(await s.storage.list()).toEqual([]);
	});

	it('resuming writes the receipts already in hand before asking the provider about the rest', async () => {
		const s = await setup();
		s.provider.failNext('timeout');
		const first = (await s.party.settle('milestone.fund', card).catch((e: unknown) => e)) as PendingIntent;
		expect(first).toBeInstanceOf(PendingIntent);
		// A later intent whose answer arrived, but the device died before writing the receipt.
		let die!: () => void;
		const died = new Promise<void>((r) => (die = r));
		const dying = new Party(
			CLIENT,
			new MemoryContract(s.contract, (id, env) => (env.includes('receipt.') ? die() : void s.persisted.set(id, env))),
			s.provider,
			() => s.clock.now,
			{ get: (id) => s.storage.get(id), list: (c) => s.storage.list(c), put: (e) => s.storage.put(e), delete: () => new Promise<void>(() => {}) }
		);
		await dying.receive(s.persisted);
		void dying.settle('milestone.fund', bank);
		await died;
		const kept = (await s.storage.list()).find((e) => e.milestone === 'build')!.receipt!;
		expect(kept).toBeTruthy();
		const calls: boolean[] = [];
		let reopened: Party | undefined;
		reopened = await s.device(spy(s.provider, () => void calls.push(reopened!.log.has(kept.id))));
		const r = await reopened.resume();
		expect(r.settled).toHaveLength(2);
		// The only provider call (for the first intent) came after the receipt of the second was written.
		expect(calls).toEqual([true]);
	});

	it('a write that finished before the entry was removed: resuming removes it without asking the provider', async () => {
		const s = await setup();
		let stuck!: () => void;
		const reached = new Promise<void>((r) => (stuck = r));
		// Its storage cannot keep the answer, and the device dies right before removing the entry.
		const dying = await s.device(s.provider, {
			get: (id) => s.storage.get(id),
			list: (c) => s.storage.list(c),
			put: (e) => (e.receipt ? Promise.reject(new Error('disk full')) : s.storage.put(e)),
			delete: () => {
				stuck();
				return new Promise<void>(() => {});
			}
		});
		void dying.settle('milestone.fund', card);
		await reached;
		const [left] = await s.storage.list();
		expect(left?.receipt).toBeUndefined();
		s.provider.setDown(true);
		const reopened = await s.device();
		const r = await reopened.resume();
		expect(r.settled).toHaveLength(1);
		expect(r.settled[0]!.receipt.id).toBe(Object.values(s.provider.statement(s.contract).executed)[0]);
		expect(await s.storage.list()).toEqual([]);
	});

	it('while an intent is pending, this device signs no second one for the same milestone', async () => {
		const s = await setup();
		s.provider.setDown(true);
		const first = (await s.party.settle('milestone.fund', card).catch((e: unknown) => e)) as PendingIntent;
		expect(first).toBeInstanceOf(PendingIntent);
		// Another method for the same milestone: refused here, before anything is signed.
		const other = await s.party.settle('milestone.fund', { ...card, method: 'paypal' }).catch((e: unknown) => e);
		expect(other).toBeInstanceOf(ActionRefused);
		expect((other as ActionRefused).message).toMatch(/already waiting/);
		// The same click again asks about the same intent.
		const again = (await s.party.settle('milestone.fund', card).catch((e: unknown) => e)) as PendingIntent;
		expect(again.intent).toBe(first.intent);
		s.provider.setDown(false);
		const done = await s.party.settle('milestone.fund', card);
		expect(done.intent.id).toBe(first.intent);
		expect(await s.storage.list()).toEqual([]);
		// Another milestone is not blocked.
		await s.party.settle('milestone.fund', { ...bank, method: 'card' });
	});

	it('two clicks at once make one intent and one provider execution', async () => {
		const s = await setup();
		const events: string[] = [];
		const p = await s.device(spy(s.provider, (req) => void events.push(req.event)));
		const [a, b] = await Promise.all([p.settle('milestone.fund', card), p.settle('milestone.fund', card)]);
		expect(a.intent.id).toBe(b.intent.id);
		expect(a.receipt.id).toBe(b.receipt.id);
		expect(events).toEqual([a.intent.id]);
	});

	it('if the intent cannot be stored, the provider is never asked', async () => {
		const s = await setup();
		let asked = false;
		const broken: OutboxStorage = { ...s.storage, get: (id) => s.storage.get(id), list: (c) => s.storage.list(c), delete: (id) => s.storage.delete(id), put: () => Promise.reject(new Error('quota exceeded')) };
		const p = await s.device(
			spy(s.provider, () => void (asked = true)),
			broken
		);
		await expect(p.settle('milestone.fund', card)).rejects.toThrow(/quota/);
		expect(asked).toBe(false);
		expect(p.pending()).toEqual([]);
	});

	it('an error before the request was sent drops a fresh intent; after a restart an unknown error keeps it', async () => {
		const s = await setup();
		const failing = spy(s.provider, () => {
			throw new Error('Enter the card details first.');
		});
		const p = await s.device(failing);
		await expect(p.settle('milestone.fund', card)).rejects.toThrow(/card details/);
		expect(await s.storage.list()).toEqual([]);
		// A stored intent (sent, perhaps, before the device died) is never dropped on an unknown error.
		s.provider.failNext('timeout');
		await s.party.settle('milestone.fund', card).catch(() => {});
		expect(await s.storage.list()).toHaveLength(1);
		const reopened = await s.device(failing);
		const r = await reopened.resume();
		expect(r.pending).toHaveLength(1);
		expect(await s.storage.list()).toHaveLength(1);
	});

	it("a bank debit answers 'processing' until it clears on the provider's clock; the same intent then gets receipt.funded", async () => {
		const s = await setup({ bankDebitsProcess: true });
		const err = (await s.party.settle('milestone.fund', bank).catch((e: unknown) => e)) as PendingIntent;
		expect(err).toBeInstanceOf(PendingIntent);
		expect(err.code).toBe('processing');
		const quote = await s.provider.quoteFunding(bank.amount, 'USD', 'bank_transfer');
		expect(err.expectedAt).toBe(quote.availableAt);
		expect(s.party.pending()[0]).toMatchObject({ expectedAt: quote.availableAt, lastError: { code: 'processing' } });
		// Asked again too early: still processing, nothing written.
		s.clock.now += DAY_MS;
		expect((await s.party.resume()).pending).toHaveLength(1);
		expect(milestone(s.party.derived().state, 'build')!.funded).toBe(0);
		// Another device of the client cannot start a second debit for the same milestone meanwhile.
		const twin = await s.device(s.provider, new MemoryOutboxStorage());
		const second = await twin.settle('milestone.fund', bank).catch((e: unknown) => e);
		expect(second).toBeInstanceOf(EscrowError);
		expect(second).not.toBeInstanceOf(PendingIntent);
		expect(['already-settled', 'not-authorised']).toContain((second as EscrowError).code);
		s.clock.now = err.expectedAt!;
		const r = await s.party.resume();
		expect(r.settled).toHaveLength(1);
		expect(r.settled[0]!.intent.id).toBe(err.intent);
		expect(milestone(s.party.derived().state, 'build')!.funded).toBe(200_000);
		expect(s.party.derived().rejected).toEqual([]);
		expect(s.provider.statement(s.contract).milestones.build!.funded).toBe(200_000);
	});
});

describe('what the page says', () => {
	it('a pending intent: retrying or processing, never "nothing was changed"; a refusal: nothing was changed', async () => {
		const s = await setup({ bankDebitsProcess: true });
		s.provider.failNext('timeout');
		const timeout = await s.party.settle('milestone.fund', card).catch((e: unknown) => e);
		expect(failureMessages(timeout).form).toMatch(/Waiting for the escrow provider… retrying/);
		expect(failureMessages(timeout).form).not.toMatch(/nothing was (charged|changed)/i);
		const processing = (await s.party.settle('milestone.fund', bank).catch((e: unknown) => e)) as PendingIntent;
		expect(failureMessages(processing).form).toContain(`Processing — expected by ${new Date(processing.expectedAt!).toLocaleDateString()}`);
		expect(pendingMessage(s.party.pending().find((p) => p.milestone === 'build')!)).toMatch(/^Processing — expected by/);
		expect(pendingMessage(s.party.pending().find((p) => p.milestone === 'design')!)).toMatch(/^Waiting for the escrow provider… retrying/);
		expect(failureMessages(new EscrowError('declined', 'The card was declined.')).form).toMatch(/Nothing was changed/);
		expect(failureMessages(new EscrowError('unavailable', 'Unreachable.')).form).not.toMatch(/Nothing was changed/);
	});
});

describe('outbox helpers', () => {
	it('one pending action per milestone and kind of call, one withdrawal at a time', () => {
		expect(actionKey('fund', 'a')).not.toBe(actionKey('fund', 'b'));
		expect(actionKey('fund', 'a')).not.toBe(actionKey('release', 'a'));
		expect(actionKey('withdraw', undefined)).toBe('withdraw');
	});

	it('retries back off from 5 s to 5 minutes, and wait for a bank debit to clear', () => {
		expect(retryDelay({ attempts: 1 }, 0)).toBe(5_000);
		expect(retryDelay({ attempts: 3 }, 0)).toBe(20_000);
		expect(retryDelay({ attempts: 30 }, 0)).toBe(300_000);
		expect(retryDelay({ attempts: 1, expectedAt: 2 * 3_600_000 }, 0)).toBe(3_600_000);
		expect(retryDelay({ attempts: 1, expectedAt: 60_000 }, 0)).toBe(60_000);
		expect(retryDelay({ attempts: 1, expectedAt: 0 }, 10)).toBe(5_000);
	});

	it('the in-memory storage hands out copies, like IndexedDB', async () => {
		const s = new MemoryOutboxStorage();
		const e = { id: 'x', contract: 'c', call: 'fund' as const, type: 'milestone.fund' as const, envelope: '{}', payload: { a: 1 }, createdAt: 0, attempts: 0 };
		await s.put(e);
		e.payload.a = 2;
		expect((await s.get('x'))!.payload).toEqual({ a: 1 });
		expect(await s.list('other')).toEqual([]);
	});
});
