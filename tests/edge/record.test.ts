/**
 * "The escrow provider never judges 'nobody answered' from a log the beneficiary chose."
 *
 * Each attack below is what a dishonest device can do by choosing what it sends: leave out the
 * event that stopped a clock and claim the clock ran out. The function keeps its own record of
 * every event it recorded or executed (with their causal past), folds it together with whatever it
 * is sent, and judges deadlines on that fold and its own clock — so leaving an event out changes
 * nothing. Each attack has a control next to it (the same claim, honestly due, goes through), so a
 * refusal is not just the function refusing everything.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOCKS } from '../../src/lib/contract/schema';
import { DAY_MS, milestone } from '../../src/lib/contract/state';
import { recordRequestMessage } from '../../src/lib/escrow/protocol';
import { signSync } from '../../src/lib/identity/ed25519';
import { utf8 } from '../../src/lib/contract/encoding';
import { MemoryContract } from '../../src/lib/sync/memory-contract';
import { Party } from '../../src/lib/sync/party';
import { activePair } from '../support/parties';
import { CLIENT, FREELANCER, STRANGER } from '../support/world';
import { edgeContract, type EdgeContract } from './contracts';
import { stack, type Stack, type StackOptions } from './harness';

const fund = (p: Party, amount = 100_000) => p.settle('milestone.fund', { milestone: 'a', amount, currency: 'USD', method: 'card' });

/** Funded and synced; the freelancer submitted and had the submission recorded. */
async function submitted(o: StackOptions = {}): Promise<{ s: Stack; c: EdgeContract; sub: string }> {
	const s = stack(o);
	await s.onboard(FREELANCER);
	const c = await edgeContract(s);
	await fund(c.client);
	await c.sync();
	const sub = await c.freelancer.act('milestone.submitted', { milestone: 'a', message: 'Done.', links: [] });
	await c.freelancer.attest(sub.id);
	await c.sync();
	return { s, c, sub: sub.id };
}

const autoRelease = (p: Party, submission: string) => p.settle('milestone.autoRelease', { milestone: 'a', submission });
const moved = (s: Stack) => [...s.fake.transfers.values()].reduce((sum, t) => sum + (t.amount as number) - (t.amount_reversed as number), 0);

describe('auto-release is judged on the record, not on the log the freelancer sends', () => {
	it('control: with nothing recorded against it, the claim goes through after the review window', async () => {
		const { s, c, sub } = await submitted();
		s.clock.now += 13 * DAY_MS;
		await expect(autoRelease(c.freelancer, sub)).rejects.toMatchObject({ code: 'too-early' });
		s.clock.now += 2 * DAY_MS;
		await autoRelease(c.freelancer, sub);
		expect(moved(s)).toBe(100_000);
	});

	it('attack: the freelancer leaves out the change request the client had recorded', async () => {
		const { s, c, sub } = await submitted();
		s.clock.now += DAY_MS;
		const change = await c.client.act('milestone.changesRequested', { milestone: 'a', reason: 'Fix the header.' });
		await c.client.attest(change.id);
		// The freelancer's device never takes the change request in: its log is the one it chooses to send.
		s.clock.now += 15 * DAY_MS;
		expect(c.freelancer.log.has(change.id)).toBe(false);
		await expect(autoRelease(c.freelancer, sub)).rejects.toMatchObject({ code: 'not-authorised' });
		expect(s.fake.transfers.size).toBe(0);
	});

	it('attack: the freelancer leaves out the refund request the client had recorded', async () => {
		const { s, c, sub } = await submitted();
		s.clock.now += DAY_MS;
		const req = await c.client.act('refund.requested', { milestone: 'a', amount: 40_000, currency: 'USD', reason: 'Only half delivered.' });
		await c.client.attest(req.id);
		s.clock.now += 15 * DAY_MS;
		await expect(autoRelease(c.freelancer, sub)).rejects.toMatchObject({ code: 'not-authorised' });
		expect(s.fake.transfers.size).toBe(0);
	});

	it('attack: the freelancer leaves out a partial release the provider executed', async () => {
		const { s, c, sub } = await submitted();
		s.clock.now += DAY_MS;
		await c.client.settle('milestone.release', { milestone: 'a', amount: 30_000, currency: 'USD', method: 'card' });
		s.clock.now += 15 * DAY_MS;
		await expect(autoRelease(c.freelancer, sub)).rejects.toMatchObject({ code: 'not-authorised' });
		expect(moved(s)).toBe(30_000);
	});

	it('attack: forked submissions cannot crowd out a change request; nothing goes to Stripe metadata', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		const c = await edgeContract(s);
		await fund(c.client);
		await c.sync();
		const base = c.freelancer.log.envelopes();
		const sub = await c.freelancer.act('milestone.submitted', { milestone: 'a', message: 'Done.', links: [] });
		await c.freelancer.attest(sub.id);
		// Forty forks of the freelancer's log, each with its own submission, each sent alone to be recorded
		// (what used to fill the PaymentIntent's 50 metadata keys until change requests were dropped).
		let recorded = 0;
		for (let i = 0; i < 40; i++) {
			const fork = new Party(FREELANCER, new MemoryContract(c.id), s.adapter, () => s.clock.now);
			await fork.receive(base);
			const forked = await fork.act('milestone.submitted', { milestone: 'a', message: `Fork ${i}.`, links: [] });
			recorded += await fork.attest(forked.id).then(
				() => 1,
				() => 0
			);
		}
		// A fork is recorded only while it is the milestone's current submission in the fold of the record.
		expect(recorded).toBeLessThan(40);
		// The client reads the record (forks included), then asks for changes: it is recorded.
		await c.client.receive((await s.record(c.id, CLIENT)).map((e) => [JSON.parse(e).id as string, e]));
		const change = await c.client.act('milestone.changesRequested', { milestone: 'a', reason: 'Not yet.' });
		const stamp = await c.client.attest(change.id);
		expect((await (await s.records!.open(c.id)).ids()).has(stamp.id)).toBe(true);
		s.clock.now += 15 * DAY_MS;
		await expect(autoRelease(c.freelancer, sub.id)).rejects.toMatchObject({ code: 'not-authorised' });
		expect(s.fake.transfers.size).toBe(0);
		const pi = [...s.fake.paymentIntents.values()][0]!;
		expect(Object.keys(pi.metadata as Record<string, string>).filter((k) => /^(att|chg)_/.test(k))).toEqual([]);
	});
});

describe('a refund of an unanswered request is judged on the record, not on the log the client sends', () => {
	async function requested(o: StackOptions = {}) {
		const s = stack(o);
		const c = await edgeContract(s);
		await fund(c.client);
		await c.sync();
		const req = await c.client.act('refund.requested', { milestone: 'a', amount: 40_000, currency: 'USD', reason: 'Only half delivered.' });
		await c.client.attest(req.id);
		await c.sync();
		const claim = () => c.client.settle('milestone.refund', { milestone: 'a', amount: 40_000, currency: 'USD', basis: 'unanswered-request', request: req.id });
		return { s, c, req: req.id, claim };
	}

	it('control: unanswered, the refund goes through after the answer window', async () => {
		const { s, c, claim } = await requested();
		s.clock.now += 6 * DAY_MS;
		await expect(claim()).rejects.toMatchObject({ code: 'too-early' });
		s.clock.now += 2 * DAY_MS;
		await claim();
		expect(milestone(c.client.derived().state, 'a')).toMatchObject({ refunded: 40_000 });
		expect(s.fake.refunds.size).toBe(1);
	});

	for (const answer of ['refund.declined', 'refund.approved'] as const) {
		it(`attack: the client leaves out the freelancer's recorded answer (${answer})`, async () => {
			const { s, c, req, claim } = await requested();
			s.clock.now += DAY_MS;
			const a =
				answer === 'refund.declined'
					? await c.freelancer.act('refund.declined', { request: req, reason: 'The work was delivered.' })
					: await c.freelancer.act('refund.approved', { request: req });
			await c.freelancer.attest(a.id);
			// The client's device never takes the answer in.
			s.clock.now += 8 * DAY_MS;
			expect(c.client.log.has(a.id)).toBe(false);
			await expect(claim()).rejects.toMatchObject({ code: 'not-authorised' });
			expect(s.fake.refunds.size).toBe(0);
		});
	}
});

describe('the record: bounded, bound to its parties, served to them', () => {
	it('a full record refuses loudly and executes nothing (no silent skip)', async () => {
		const s = stack({ records: { maxEnvelopes: 14 } });
		await s.onboard(FREELANCER);
		const c = await edgeContract(s);
		await fund(c.client);
		await c.sync();
		const before = await (await s.records!.open(c.id)).size();
		// Messages are in the causal past of whatever comes next, so they are recorded with it.
		for (let i = 0; i < 12; i++) await c.client.act('message.posted', { text: `Note ${i}` });
		await c.sync();
		const sub = await c.freelancer.act('milestone.submitted', { milestone: 'a', message: 'Done.', links: [] });
		await expect(c.freelancer.attest(sub.id)).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/record of this contract is full.*Nothing was executed/) });
		await expect(c.client.settle('milestone.release', { milestone: 'a', amount: 10_000, currency: 'USD', method: 'card' })).rejects.toMatchObject({
			code: 'invalid-request',
			message: expect.stringMatching(/full/)
		});
		expect(s.fake.transfers.size).toBe(0);
		expect(await (await s.records!.open(c.id)).size()).toEqual(before);
		expect(milestone(c.freelancer.derived().state, 'a')!.submission!.attestedAt).toBeUndefined();
	});

	it('binds the contract when the countersign is recorded; a request that folds to other parties is refused', async () => {
		const s = stack();
		const c = await edgeContract(s);
		const state = c.client.derived().state;
		expect(await (await s.records!.open(c.id)).binding()).toEqual({
			proposal: state.proposal!.id,
			client: CLIENT.publicKey,
			freelancer: FREELANCER.publicKey,
			provider: s.deps.key.publicKey,
			currency: 'USD'
		});

		// A record bound to someone else (as if written for another acceptance): nothing is recorded or moved.
		const t = stack();
		const info = await t.adapter.info();
		const terms = { title: 'Bound', scope: '', currency: 'USD' as const, milestones: [{ id: 'a', title: 'A', amount: 100_000 }], provider: { id: info.id, publicKey: info.publicKey, testMode: true }, ...DEFAULT_CLOCKS };
		const pair = await activePair({ escrow: t.adapter, clock: () => t.clock.now, terms, unbound: true });
		const rec = await t.records!.open(pair.contract);
		await rec.bind({ proposal: pair.proposal.id, client: CLIENT.publicKey, freelancer: STRANGER.publicKey, provider: info.publicKey, currency: 'USD' });
		const acceptance = [...pair.client.derived().state.acceptances.keys()][0]!;
		const { recorded } = await pair.client.countersign(acceptance);
		expect(recorded).toBe(false);
		expect(await rec.size()).toEqual({ envelopes: 0, bytes: 0 });
	});

	it('serves the full record to either party with a fresh, signed, one-time request; to nobody else', async () => {
		const { s, c, sub } = await submitted();
		const record = await s.record(c.id, FREELANCER);
		const ids = record.map((e) => JSON.parse(e).id as string);
		expect(ids).toContain(sub);
		expect(await s.record(c.id, CLIENT)).toEqual(record);
		// A device that has nothing but the record folds to the same recorded facts.
		const fresh = new Party(CLIENT, new MemoryContract(c.id), s.adapter, () => s.clock.now);
		const d = await fresh.receive(record.map((e) => [JSON.parse(e).id as string, e]));
		expect(d.rejected).toEqual([]);
		expect(milestone(d.state, 'a')).toMatchObject({ funded: 100_000, submission: { id: sub, attestedAt: expect.any(Number) } });

		await expect(s.record(c.id, STRANGER)).rejects.toMatchObject({ code: 'not-authorised' });
		await expect(s.record(c.id, FREELANCER, 'the-same-nonce-twice')).resolves.toEqual(record);
		await expect(s.record(c.id, FREELANCER, 'the-same-nonce-twice')).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/used already/) });
		const at = s.clock.now - 10 * 60_000;
		const nonce = 'a-stale-request-nonce-0001';
		const stale = { contract: c.id, publicKey: CLIENT.publicKey, at, nonce, signature: signSync(CLIENT, utf8.encode(recordRequestMessage(c.id, CLIENT.publicKey, at, nonce))) };
		await expect(s.adapter.record(stale)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/too old/) });
		const forged = { ...stale, at: s.clock.now, signature: signSync(STRANGER, utf8.encode(recordRequestMessage(c.id, CLIENT.publicKey, s.clock.now, nonce))) };
		await expect(s.adapter.record(forged)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/not signed/) });
		const other = { ...forged, contract: 'no-such-contract-0000000000', signature: signSync(CLIENT, utf8.encode(recordRequestMessage('no-such-contract-0000000000', CLIENT.publicKey, s.clock.now, nonce))) };
		await expect(s.adapter.record(other)).rejects.toMatchObject({ code: 'not-authorised' });
	});

	it('keeps the record while escrow is held, and forgets it a retention period after the last money operation', async () => {
		const s = stack({ records: { retentionMs: 30 * DAY_MS } });
		await s.onboard(FREELANCER);
		const c = await edgeContract(s);
		await fund(c.client);
		const rec = await s.records!.open(c.id);
		s.clock.now += 60 * DAY_MS;
		expect(await rec.expire(s.clock.now)).toBe(false);
		await c.client.settle('milestone.release', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
		const last = s.clock.now;
		expect(await rec.expiresAt()).toBe(last + 30 * DAY_MS);
		s.clock.now += 29 * DAY_MS;
		expect((await s.record(c.id, CLIENT)).length).toBeGreaterThan(0);
		// Checked on access: past the retention period the record is forgotten.
		s.clock.now += 2 * DAY_MS;
		await expect(s.record(c.id, CLIENT)).rejects.toMatchObject({ code: 'not-authorised' });
		expect(await rec.size()).toEqual({ envelopes: 0, bytes: 0 });
		expect(await rec.binding()).toBeUndefined();
	});
});

describe('without a record (the Deno / Supabase entry)', () => {
	it('refuses auto-release and unanswered refunds outright, even when the log it is sent says they are due', async () => {
		const { s, c, sub } = await submitted({ records: false });
		s.clock.now += 15 * DAY_MS;
		await expect(autoRelease(c.freelancer, sub)).rejects.toMatchObject({ code: 'not-authorised', message: expect.stringMatching(/keeps no record/) });
		const req = await c.client.act('refund.requested', { milestone: 'a', amount: 40_000, currency: 'USD', reason: 'Late.' });
		await c.client.attest(req.id);
		s.clock.now += 8 * DAY_MS;
		await expect(c.client.settle('milestone.refund', { milestone: 'a', amount: 40_000, currency: 'USD', basis: 'unanswered-request', request: req.id })).rejects.toMatchObject({
			code: 'not-authorised',
			message: expect.stringMatching(/keeps no record/)
		});
		expect(s.fake.transfers.size + s.fake.refunds.size).toBe(0);
		// What needs no clock still works: the client releases.
		await c.client.settle('milestone.release', { milestone: 'a', amount: 10_000, currency: 'USD', method: 'card' });
		expect(moved(s)).toBe(10_000);
		await expect(s.record(c.id, CLIENT)).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/keeps no record/) });
	});
});
