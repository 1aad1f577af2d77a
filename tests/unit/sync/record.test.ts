/**
 * The provider's record through the app's Party and the mock provider: a withheld event still reaches
 * the other side, and a claim that leaves a recorded event out of its log is judged as if it were there.
 */
import { describe, expect, it } from 'vitest';
import { milestone, DAY_MS } from '../../../src/lib/contract/state';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { recordRequestMessage } from '../../../src/lib/escrow/protocol';
import { utf8 } from '../../../src/lib/contract/encoding';
import { signSync } from '../../../src/lib/identity/ed25519';
import { activePair } from '../../support/parties';
import { STRANGER, T0, terms } from '../../support/world';

async function funded() {
	let now = T0;
	const provider = new MockEscrowProvider({ now: () => now });
	const info = await provider.info();
	const pair = await activePair({ escrow: provider, terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }), clock: () => now });
	await pair.client.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
	await pair.freelancer.receive(pair.client.log.envelopes());
	return { ...pair, provider, advance: (days: number) => (now += days * DAY_MS) };
}

describe('the provider’s record reaches both parties', () => {
	it('a submission the freelancer never shares reaches the client from the provider, and its review clock runs', async () => {
		const { client, freelancer } = await funded();
		const sub = await freelancer.act('milestone.submitted', { milestone: 'design', message: 'Done', links: [] });
		// Recorded by the provider as it was written; the client has not seen it.
		expect(freelancer.derived().state.recorded.has(sub.id)).toBe(true);
		expect(client.log.has(sub.id)).toBe(false);
		expect(await client.fetchRecord()).toBeGreaterThan(0);
		const m = milestone(client.derived().state, 'design')!;
		expect(m.submission?.id).toBe(sub.id);
		expect(m.submission?.attestedAt).toBeDefined();
	});

	it('an auto-release claim that leaves out a recorded change request is refused', async () => {
		const { client, freelancer, provider, advance } = await funded();
		const sub = await freelancer.act('milestone.submitted', { milestone: 'design', message: 'Done', links: [] });
		await client.receive(freelancer.log.envelopes());
		await client.act('milestone.changesRequested', { milestone: 'design', reason: 'The logo is wrong' });
		advance(15);
		// The freelancer never received the change request: its own log says the review is still open.
		const intent = await (freelancer as unknown as { prepare: (t: string, p: unknown) => Promise<{ id: string; envelope: string }> }).prepare('milestone.autoRelease', { milestone: 'design', submission: sub.id });
		const log = [...freelancer.log.causalPast(...freelancer.log.heads()), intent.envelope];
		await expect(provider.release({ contract: freelancer.log.contract, log, event: intent.id })).rejects.toMatchObject({ code: 'not-authorised' });
		expect(milestone(client.derived().state, 'design')!.released).toBe(0);
	});

	it('only a party, with a fresh signature, may read the record', async () => {
		const { client, provider } = await funded();
		const contract = client.log.contract;
		const at = T0;
		const req = (key: typeof STRANGER, over = {}) => ({ contract, publicKey: key.publicKey, at, nonce: 'n0nce-0000000000000001', signature: signSync(key, utf8.encode(recordRequestMessage(contract, key.publicKey, at, 'n0nce-0000000000000001'))), ...over });
		await expect(provider.record(req(STRANGER))).rejects.toMatchObject({ code: 'not-authorised' });
		await expect(provider.record(req(STRANGER, { publicKey: client.key.publicKey }))).rejects.toMatchObject({ code: 'not-authorised' });
		await expect(provider.record({ ...req(STRANGER), publicKey: client.key.publicKey, at: at - 10 * 60_000 })).rejects.toMatchObject({ code: 'not-authorised' });
	});
});
