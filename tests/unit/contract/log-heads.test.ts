/**
 * The log's heads (what a new event depends on) are kept between calls and brought up to date with
 * what was folded since (log.ts `heads`). Whatever the arrival order — late events that refold,
 * batches, events waiting for what they name — they are the heads a log counting from scratch finds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBody, encodeEnvelope, signingBytes } from '../../../src/lib/contract/envelope';
import { ContractLog } from '../../../src/lib/contract/log';
import { authenticate } from '../../../src/lib/identity/authenticate';
import { signSync } from '../../../src/lib/identity/ed25519';
import { CLIENT, FREELANCER, World } from '../../support/world';

/** An active contract, then messages of both parties: each names its author's last, and every `crossEvery`th the heads (two concurrent chains that meet). */
async function conversation(count: number, crossEvery: number) {
	const w = new World();
	await w.active();
	const contract = w.log.contract;
	const out: [string, string][] = [...w.written];
	const last = new Map([CLIENT, FREELANCER].map((k) => [k.publicKey, w.log.lastOf(k.publicKey)]));
	let heads = w.log.heads();
	for (let i = 0; i < count; i++) {
		const key = i % 3 === 0 ? FREELANCER : CLIENT;
		const deps = i % crossEvery === 0 ? heads : [];
		const { id, body } = encodeBody({ contract, author: key.publicKey, prev: last.get(key.publicKey) ?? null, deps, at: w.now + i, type: 'message.posted', payload: { text: `m${i}` } });
		out.push([id, encodeEnvelope(id, body, signSync(key, signingBytes(id)))]);
		last.set(key.publicKey, id);
		heads = [...last.values()].filter((h): h is string => h !== null);
	}
	return { contract, entries: out };
}

async function fresh(contract: string, entries: [string, string][]): Promise<string[]> {
	const log = new ContractLog(contract);
	for (const [id, env] of entries) log.add(id, env);
	await authenticate(log);
	log.derive();
	return log.heads().sort();
}

describe('the heads a log keeps between calls', () => {
	it('equal the heads counted from scratch after every batch, in any arrival order', async () => {
		const { contract, entries } = await conversation(60, 4);
		let refolds = 0;
		await fc.assert(
			fc.asyncProperty(fc.shuffledSubarray(entries.map((_, i) => i), { minLength: entries.length }), fc.integer({ min: 1, max: 20 }), async (order, batch) => {
				const log = new ContractLog(contract);
				const seen: [string, string][] = [];
				for (let i = 0; i < order.length; i += batch) {
					for (const k of order.slice(i, i + batch)) {
						log.add(entries[k]![0], entries[k]![1]);
						seen.push(entries[k]!);
					}
					await authenticate(log);
					log.derive();
					expect(log.heads().sort()).toEqual(await fresh(contract, seen));
				}
				refolds += log.refolds;
			}),
			{ numRuns: 25 }
		);
		// Late events happened: the kept heads were brought up to date across refolds.
		expect(refolds).toBeGreaterThan(0);
	});
});
