/**
 * Dependency resolution must not recurse: a long chain delivered newest-first (a peer sending its
 * map in reverse, or a device restoring from a store that lists newest keys first) used to overflow
 * the stack once the oldest event arrived, and the contract never opened again on that device.
 */
import { describe, expect, it } from 'vitest';
import { encodeBody, encodeEnvelope, signingBytes, type Draft } from '../../../src/lib/contract/envelope';
import { ContractLog } from '../../../src/lib/contract/log';
import { authenticate } from '../../../src/lib/identity/authenticate';
import { signSync } from '../../../src/lib/identity/ed25519';
import { CLIENT, World } from '../../support/world';

/** A well-formed signature that is not checked: only an author's head is (the hashes vouch for the rest). */
const UNCHECKED_SIG = 'A'.repeat(86);

/**
 * The World's active contract, then `count` messages of the client, each linked to the one before.
 * Only the client's last message is signed for real: the log checks one signature per author head.
 */
async function longChain(count: number): Promise<{ contract: string; envelopes: [string, string][] }> {
	const w = new World();
	await w.active();
	const contract = w.log.contract;
	const envelopes: [string, string][] = [...w.written];
	let prev = w.log.lastOf(CLIENT.publicKey);
	let deps = w.log.heads();
	for (let i = 0; i < count; i++) {
		const draft: Draft = { contract, author: CLIENT.publicKey, prev, deps, at: w.now + i, type: 'message.posted', payload: { text: `m${i}` } };
		const { id, body } = encodeBody(draft);
		envelopes.push([id, encodeEnvelope(id, body, i === count - 1 ? signSync(CLIENT, signingBytes(id)) : UNCHECKED_SIG)]);
		prev = id;
		deps = [];
	}
	return { contract, envelopes };
}

describe('a long chain delivered newest-first', () => {
	it('100,000 events arriving newest-first, in batches, derive with every event folded', async () => {
		const messages = 100_000;
		const { contract, envelopes } = await longChain(messages);
		const log = new ContractLog(contract);
		const newestFirst = [...envelopes].reverse();
		const started = performance.now();
		// Batches, each verified and derived: every batch waits on the next (older) one, and the last
		// one to arrive releases the whole chain at once.
		for (let i = 0; i < newestFirst.length; i += 20_000) {
			for (const [id, env] of newestFirst.slice(i, i + 20_000)) log.add(id, env);
			await authenticate(log);
			const d = log.derive();
			if (i + 20_000 < newestFirst.length) expect(d.state.applied).toHaveLength(0);
		}
		const d = log.derive();
		const elapsed = performance.now() - started;
		expect(d.waiting).toEqual([]);
		expect(d.unverified).toBe(0);
		expect(d.rejected).toEqual([]);
		expect(d.state.applied).toHaveLength(envelopes.length);
		expect(d.state.messages).toHaveLength(messages);
		expect(d.state.messages.at(-1)!.text).toBe(`m${messages - 1}`);
		expect(elapsed).toBeLessThan(30_000);
	}, 120_000);

	it('the same chain all at once, newest-first, then verified in one round', async () => {
		const { contract, envelopes } = await longChain(20_000);
		const log = new ContractLog(contract);
		for (const [id, env] of [...envelopes].reverse()) log.add(id, env);
		expect(await authenticate(log)).toBeLessThan(10);
		const d = log.derive();
		expect(d.state.applied).toHaveLength(envelopes.length);
		expect(d.waiting).toEqual([]);
	}, 60_000);
});
