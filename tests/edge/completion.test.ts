/**
 * POST /completion: the Stripe function's completion attestation, signed from its own record. The
 * request carries no log at all, so a party cannot make the function attest a contract other than
 * the one it recorded; only a party may ask, once per signed request.
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/lib/contract/encoding';
import { contractHash } from '../../src/lib/contract/completion';
import { COMPLETION_PATH, completionRequestMessage, readAttestation } from '../../src/lib/escrow/attestation';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import type { SignedStatement } from '../../src/lib/identity/statement';
import { CLIENT, FREELANCER, STRANGER } from '../support/world';
import { edgeContract, type EdgeContract } from './contracts';
import { stack, type Stack } from './harness';

let nonces = 0;

function ask(s: Stack, contract: string, by: DeviceKey, o: { nonce?: string; at?: number; extra?: Record<string, unknown> } = {}): Promise<Response> {
	const at = o.at ?? s.clock.now;
	const nonce = o.nonce ?? `completion-${String(++nonces).padStart(10, '0')}`;
	const signature = signSync(by, utf8.encode(completionRequestMessage(contract, by.publicKey, at, nonce)));
	return s.call(COMPLETION_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contract, publicKey: by.publicKey, at, nonce, signature, ...o.extra }) });
}

/** Funded 100,000, released `released`, the rest refunded by the freelancer; ended unless `end` is false. */
async function finished(o: { released?: number; end?: boolean; records?: false } = {}): Promise<{ s: Stack; c: EdgeContract }> {
	const s = stack(o.records === false ? { records: false } : {});
	await s.onboard(FREELANCER);
	const c = await edgeContract(s);
	await c.client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
	const released = o.released ?? 100_000;
	await c.client.settle('milestone.release', { milestone: 'a', amount: released, currency: 'USD', method: 'card' });
	await c.sync();
	if (released < 100_000) await c.freelancer.settle('milestone.refund', { milestone: 'a', amount: 100_000 - released, currency: 'USD', basis: 'freelancer' });
	await c.sync();
	if (o.end !== false) await c.client.act('contract.ended', {});
	await c.sync();
	return { s, c };
}

describe('POST /completion', () => {
	it('attests from its record: both keys, the contract hash, the band, the outcome, no amounts', async () => {
		const { s, c } = await finished({ released: 60_000 });
		const res = await ask(s, c.id, FREELANCER);
		expect(res.status).toBe(200);
		const st = (await res.json()) as SignedStatement;
		const read = readAttestation(st);
		expect(read.ok).toBe(true);
		expect(read.ok && read.body).toMatchObject({
			provider: s.deps.key.publicKey,
			contract: contractHash(c.id),
			client: CLIENT.publicKey,
			freelancer: FREELANCER.publicKey,
			band: '500-1k',
			outcome: 'paid-in-part',
			disputed: false,
			currency: 'USD'
		});
		expect(Object.keys(JSON.parse(st.body)).sort()).toEqual(['at', 'band', 'client', 'contract', 'currency', 'disputed', 'endedAt', 'freelancer', 'outcome', 'provider', 'startedAt', 'type', 'v']);
	});

	it('attack: the requester sends a log of its own — refused: the body has no place for one', async () => {
		const { s, c } = await finished();
		const res = await ask(s, c.id, FREELANCER, { extra: { log: c.freelancer.log.envelopes().map(([, e]) => e) } });
		expect(res.status).toBe(400);
	});

	it('refuses before the record holds the end, a stranger, a stale request and a replayed one', async () => {
		const open = await finished({ end: false });
		expect((await (await ask(open.s, open.c.id, CLIENT)).json()).code).toBe('too-early');
		const { s, c } = await finished();
		expect((await ask(s, c.id, STRANGER)).status).toBe(403);
		expect((await ask(s, c.id, CLIENT, { at: s.clock.now - 60 * 60_000 })).status).toBe(403);
		expect((await ask(s, c.id, CLIENT, { nonce: 'the-same-nonce-0001' })).status).toBe(200);
		const replay = await ask(s, c.id, CLIENT, { nonce: 'the-same-nonce-0001' });
		expect(replay.status).toBe(403);
		expect((await replay.json()).message).toMatch(/used already/);
	});

	it('a deployment with no record attests nothing', async () => {
		const { s, c } = await finished({ records: false });
		const res = await ask(s, c.id, CLIENT);
		expect(res.ok).toBe(false);
		expect((await res.json()).message).toMatch(/keeps no record/);
	});
});
