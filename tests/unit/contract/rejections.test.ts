import { describe, expect, it } from 'vitest';
import { encodeBody, encodeEnvelope, signingBytes } from '../../../src/lib/contract/envelope';
import { MAX_ENVELOPE_BYTES } from '../../../src/lib/contract/schema';
import { milestone } from '../../../src/lib/contract/state';
import { signSync } from '../../../src/lib/identity/ed25519';
import { CLIENT, FREELANCER, PROVIDER, STRANGER, World, terms } from '../../support/world';

/** Every rejection leaves the event in the log, listed with its code, and the state untouched by it. */
async function expectRejected(w: World, id: string, code: string) {
	const r = w.rejection(id);
	expect(r, `event ${id.slice(0, 8)} should be rejected`).toBeDefined();
	expect(r!.code).toBe(code);
	expect(r!.message.length).toBeGreaterThan(10);
	expect(w.state.applied.some((e) => e.id === id)).toBe(false);
}

describe('rejections at intake', () => {
	it('malformed JSON', async () => {
		const w = new World();
		await w.put('not-json', '{"id": oops');
		await expectRejected(w, 'not-json', 'malformed-json');
	});

	it('an oversized payload is refused unread', async () => {
		const w = new World();
		await w.active();
		const [id, env] = w.envelope(CLIENT, w.draft(CLIENT, 'message.posted', { text: 'x'.repeat(MAX_ENVELOPE_BYTES) }));
		await w.put(id, env);
		await expectRejected(w, id, 'oversized');
	});

	it('an envelope without a signature', async () => {
		const w = new World();
		const { id, body } = encodeBody(w.draft(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() }));
		await w.put(id, JSON.stringify({ id, body }));
		await expectRejected(w, id, 'bad-envelope');
	});

	it('a body altered after signing no longer matches its id', async () => {
		const w = new World();
		const [id, env] = w.envelope(CLIENT, w.draft(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() }));
		const e = JSON.parse(env);
		e.body = e.body.replace('Website', 'Websitf');
		await w.put(id, JSON.stringify(e));
		await expectRejected(w, id, 'hash-mismatch');
		expect(w.state.status).toBe('empty');
	});

	it('a payload that fails its schema', async () => {
		const w = new World();
		const bad = { role: 'client', name: 'Ada', terms: { ...terms(), currency: 'XXX' } };
		const [id, env] = w.envelope(CLIENT, { ...w.draft(CLIENT, 'contract.proposed', terms() as never), payload: bad });
		await w.put(id, env);
		await expectRejected(w, id, 'bad-schema');
		expect(w.rejection(id)!.message).toContain('terms.currency');
	});

	it('an event for another contract (a replay across contracts)', async () => {
		const w = new World();
		const other = new World('an0ther-contract-00002');
		const proposal = await other.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() });
		const [, env] = other.written.find(([id]) => id === proposal)!;
		await w.put(proposal, env);
		await expectRejected(w, proposal, 'wrong-contract');
	});

	it('a bad signature: signed by someone other than the author', async () => {
		const w = new World();
		await w.active();
		const id = await w.emit(CLIENT, 'message.posted', { text: 'I never wrote this' }, { signWith: STRANGER });
		await expectRejected(w, id, 'bad-signature');
		expect(w.state.messages).toEqual([]);
	});

	it('a broken chain: prev points at another author’s event', async () => {
		const w = new World();
		const { accept } = await w.active();
		const id = await w.emit(CLIENT, 'message.posted', { text: 'hi' }, { prev: accept });
		await expectRejected(w, id, 'broken-chain');
	});

	it('a replayed event is one entry, applied once', async () => {
		const w = new World();
		await w.active();
		const id = await w.emit(CLIENT, 'message.posted', { text: 'once' });
		const env = w.written.find(([k]) => k === id)![1];
		await w.put(id, env);
		await w.put(id, env);
		expect(w.state.messages).toHaveLength(1);
		expect(w.derived().rejected).toEqual([]);
	});

	it('an event that depends on one not yet received waits, then applies', async () => {
		const source = new World();
		await source.active();
		const w = new World(source.contract);
		const [[p, pEnv], ...rest] = source.written as [[string, string], ...[string, string][]];
		for (const [id, env] of rest) await w.put(id, env);
		expect(w.derived().waiting).toContain(rest[0]![0]);
		expect(w.state.status).toBe('empty');
		await w.put(p!, pEnv!);
		expect(w.derived().waiting).toEqual([]);
		expect(w.state.status).toBe('active');
	});
});

describe('rejections by the rules', () => {
	it('wrong role: the freelancer cannot release, fund or request changes', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const release = await w.emit(FREELANCER, 'milestone.release', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		const fund = await w.emit(FREELANCER, 'milestone.fund', { milestone: 'build', amount: 200_000, currency: 'USD', method: 'card' });
		const changes = await w.emit(FREELANCER, 'milestone.changesRequested', { milestone: 'design', reason: 'x' });
		for (const id of [release, fund, changes]) await expectRejected(w, id, 'wrong-role');
		const submit = await w.emit(CLIENT, 'milestone.submitted', { milestone: 'design', message: 'x', links: [] });
		await expectRejected(w, submit, 'wrong-role');
	});

	it('not a party: a stranger’s event, validly signed', async () => {
		const w = new World();
		await w.active();
		const id = await w.emit(STRANGER, 'message.posted', { text: 'hello' });
		await expectRejected(w, id, 'not-party');
	});

	it('the proposer cannot accept their own proposal', async () => {
		const w = new World();
		const proposal = await w.emit(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() });
		const id = await w.emit(CLIENT, 'contract.accepted', { proposal, name: 'Ada' });
		await expectRejected(w, id, 'wrong-role');
	});

	it('a receipt not signed by the contract’s provider', async () => {
		const w = new World();
		await w.active();
		const intent = await w.emit(CLIENT, 'milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		const forged = await w.emit(CLIENT, 'receipt.funded', { intent, milestone: 'design', amount: 100_000, fee: 0, currency: 'USD', method: 'card', clearsAt: w.now });
		await expectRejected(w, forged, 'not-provider');
		expect(milestone(w.state, 'design')!.funded).toBe(0);
	});

	it('unfunded release, and a release receipt for unfunded escrow', async () => {
		const w = new World();
		await w.active();
		const intent = await w.emit(CLIENT, 'milestone.release', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		await expectRejected(w, intent, 'unfunded');
		const receipt = await w.emit(PROVIDER, 'receipt.released', { intent, milestone: 'design', amount: 100_000, currency: 'USD', auto: false });
		// The intent was authorised but invalid at its position; the ledger refuses the receipt either way.
		expect(['unfunded', 'exceeds-escrow']).toContain(w.rejection(receipt)!.code);
		expect(w.state.ledger.balance('freelancer:pending')).toBe(0);
	});

	it('over-release: more than escrow holds', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const intent = await w.emit(CLIENT, 'milestone.release', { milestone: 'design', amount: 100_001, currency: 'USD', method: 'card' });
		await expectRejected(w, intent, 'exceeds-escrow');
	});

	it('amount mismatch: funding a different amount, a receipt that differs from its intent', async () => {
		const w = new World();
		await w.active();
		const intent = await w.emit(CLIENT, 'milestone.fund', { milestone: 'design', amount: 90_000, currency: 'USD', method: 'card' });
		await expectRejected(w, intent, 'amount-mismatch');
		const good = await w.emit(CLIENT, 'milestone.fund', { milestone: 'build', amount: 200_000, currency: 'USD', method: 'card' });
		const receipt = await w.emit(PROVIDER, 'receipt.funded', { intent: good, milestone: 'build', amount: 150_000, fee: 0, currency: 'USD', method: 'card', clearsAt: w.now });
		await expectRejected(w, receipt, 'amount-mismatch');
	});

	it('currency mismatch on an intent and on a receipt', async () => {
		const w = new World();
		await w.active();
		const intent = await w.emit(CLIENT, 'milestone.fund', { milestone: 'design', amount: 100_000, currency: 'EUR', method: 'card' });
		await expectRejected(w, intent, 'currency-mismatch');
		const good = await w.emit(CLIENT, 'milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		const receipt = await w.emit(PROVIDER, 'receipt.funded', { intent: good, milestone: 'design', amount: 100_000, fee: 0, currency: 'EUR', method: 'card', clearsAt: w.now });
		await expectRejected(w, receipt, 'currency-mismatch');
	});

	it('already settled: a second receipt for the same intent moves nothing', async () => {
		const w = new World();
		await w.active();
		const { intent } = await w.fund('design', 100_000);
		w.advance(1);
		const again = await w.emit(PROVIDER, 'receipt.funded', { intent, milestone: 'design', amount: 100_000, fee: 0, currency: 'USD', method: 'card', clearsAt: w.now });
		await expectRejected(w, again, 'already-settled');
		expect(milestone(w.state, 'design')!.funded).toBe(100_000);
	});

	it('unknown intent: a receipt that settles nothing in this contract', async () => {
		const w = new World();
		await w.active();
		const { accept } = { accept: w.log.heads()[0]! };
		const receipt = await w.emit(PROVIDER, 'receipt.funded', { intent: accept, milestone: 'design', amount: 100_000, fee: 0, currency: 'USD', method: 'card', clearsAt: w.now });
		await expectRejected(w, receipt, 'unknown-intent');
	});

	it('unknown milestone', async () => {
		const w = new World();
		await w.active();
		const id = await w.emit(CLIENT, 'milestone.fund', { milestone: 'nope', amount: 1, currency: 'USD', method: 'card' });
		await expectRejected(w, id, 'unknown-milestone');
	});

	it('too early: auto-release before the review window has passed', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const sub = await w.submit('design');
		w.advance(13);
		const claim = await w.emit(FREELANCER, 'milestone.autoRelease', { milestone: 'design', submission: sub });
		const receipt = await w.emit(PROVIDER, 'receipt.released', { intent: claim, milestone: 'design', amount: 100_000, currency: 'USD', auto: true });
		await expectRejected(w, receipt, 'too-early');
	});

	it('invalid state: auto-release after the client acted; Request Payment twice; ending with escrow held', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const sub = await w.submit('design');
		const twice = await w.emit(FREELANCER, 'milestone.submitted', { milestone: 'design', message: 'again', links: [] });
		await expectRejected(w, twice, 'invalid-state');
		await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'design', reason: 'More contrast.' });
		w.advance(20);
		const claim = await w.emit(FREELANCER, 'milestone.autoRelease', { milestone: 'design', submission: sub });
		await expectRejected(w, claim, 'invalid-state');
		const end = await w.emit(CLIENT, 'contract.ended', {});
		await expectRejected(w, end, 'invalid-state');
	});

	it('revision cap: changes beyond the agreed number need an amendment', async () => {
		const w = new World();
		await w.active();
		await w.fund('build', 200_000);
		await w.submit('build');
		await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'build', reason: 'One.' });
		await w.submit('build');
		const second = await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'build', reason: 'Two.' });
		await expectRejected(w, second, 'revision-cap');
		const amend = await w.emit(CLIENT, 'milestone.changeProposed', { change: { kind: 'amend', milestone: 'build', revisionCap: 2 } });
		await w.emit(FREELANCER, 'milestone.changeAccepted', { proposal: amend });
		const third = await w.emit(CLIENT, 'milestone.changesRequested', { milestone: 'build', reason: 'Two, agreed.' });
		expect(w.rejection(third)).toBeUndefined();
	});

	it('insufficient balance: withdrawing more than released', async () => {
		const w = new World();
		await w.active();
		const id = await w.emit(FREELANCER, 'withdrawal.requested', { amount: 1, currency: 'USD', method: 'bank' });
		await expectRejected(w, id, 'insufficient-balance');
	});

	it('a hand-built envelope signed over different bytes is a bad signature, not a crash', async () => {
		const w = new World();
		const { id, body } = encodeBody(w.draft(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() }));
		const sig = signSync(CLIENT, signingBytes(id).map((b, i) => (i === 0 ? b ^ 1 : b)));
		await w.put(id, encodeEnvelope(id, body, sig));
		await expectRejected(w, id, 'bad-signature');
	});
});
