/**
 * Property: a log restored from a checkpoint, then given the document's values and whatever arrives
 * afterwards, derives exactly what a log that verified and folded every value from scratch derives.
 *
 * Random histories: both parties posting (sometimes from a fork of their own chain, so the event
 * sorts early: a late event), releases the rules may refuse, forgeries (a stranger signing in the
 * client's name), junk under fresh keys, forged second signatures for real events, and events
 * that wait for an event delivered later or never. The checkpoint is taken at a random point; what
 * the document holds then is what the log had seen (an event's first decoded envelope stays: the
 * ContractDoc writes it back over anything a peer writes under its key).
 *
 * On failure fast-check prints the seed and path; replay with SEED=… SEED_PATH=… npx vitest run tests/unit/sync/checkpoint-property.test.ts
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../../src/lib/contract/envelope';
import { ContractLog, type DerivedContract } from '../../../src/lib/contract/log';
import { authenticate } from '../../../src/lib/identity/authenticate';
import * as Y from 'yjs';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/lib/sync/checkpoint';
import { CLIENT, FREELANCER, STRANGER, World } from '../../support/world';

type Op =
	| { kind: 'post'; who: 0 | 1 }
	| { kind: 'late'; who: 0 | 1; back: number }
	| { kind: 'release'; amount: number }
	| { kind: 'forge' }
	| { kind: 'junk'; json: boolean }
	| { kind: 'second-signature'; back: number }
	| { kind: 'wait' }
	| { kind: 'deliver' };

const op: fc.Arbitrary<Op> = fc.oneof(
	{ weight: 6, arbitrary: fc.record({ kind: fc.constant('post' as const), who: fc.constantFrom(0 as const, 1 as const) }) },
	{ weight: 2, arbitrary: fc.record({ kind: fc.constant('late' as const), who: fc.constantFrom(0 as const, 1 as const), back: fc.nat(40) }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), amount: fc.integer({ min: 1, max: 60_000 }) }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('forge' as const) }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('junk' as const), json: fc.boolean() }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('second-signature' as const), back: fc.nat(40) }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const) }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('deliver' as const) }) }
);

function canonical(d: DerivedContract): string {
	return JSON.stringify(d, (_k, v: unknown) => (v instanceof Map ? { map: [...v] } : v instanceof Set ? { set: [...v] } : v));
}

/** Every value written, in order: the start of a contract with money in escrow, then `ops`. */
async function history(ops: Op[]): Promise<{ contract: string; arrivals: [string, string][] }> {
	const w = new World();
	await w.active();
	await w.fund('design', 100_000, 300);
	await w.submit('design');
	const arrivals: [string, string][] = [...w.written];
	let seen = w.written.length;
	const take = () => {
		arrivals.push(...w.written.slice(seen));
		seen = w.written.length;
	};
	const pending: [string, string][] = [];
	const decoded = () => arrivals.filter(([id, env]) => decodeEnvelope(id, env, w.contract).ok).map(([id]) => id);
	let n = 0;
	for (const o of ops) {
		const key = 'who' in o ? [CLIENT, FREELANCER][o.who]! : CLIENT;
		const text = `note ${n++}`;
		switch (o.kind) {
			case 'post':
				await w.emit(key, 'message.posted', { text });
				break;
			case 'late': {
				// A fork of the author's own chain, naming only an early event: it sorts before later events.
				const ids = decoded();
				await w.emit(key, 'message.posted', { text }, { prev: null, deps: [ids[Math.min(o.back, ids.length - 1)]!] });
				break;
			}
			case 'release':
				await w.release('design', o.amount);
				break;
			case 'forge':
				await w.put(...w.envelope(CLIENT, w.draft(CLIENT, 'message.posted', { text }), STRANGER));
				break;
			case 'junk':
				await w.put(`junk${String(n).padStart(39, '0')}`, o.json ? '{"id":"x","body":"{}","sig":"y"}' : 'not json');
				break;
			case 'second-signature': {
				const ids = decoded();
				const [id, env] = arrivals.find(([x]) => x === ids[Math.max(0, ids.length - 1 - o.back)])!;
				const body = (JSON.parse(env) as { body: string }).body;
				const forged = w.envelope(CLIENT, JSON.parse(body) as never, STRANGER);
				expect(forged[0]).toBe(id);
				await w.put(id, forged[1]);
				break;
			}
			case 'wait': {
				// The client's event is held back; the freelancer's names it and waits for it.
				const held = w.envelope(CLIENT, w.draft(CLIENT, 'message.posted', { text: `${text} (held)` }));
				pending.push(held);
				await w.emit(FREELANCER, 'message.posted', { text }, { deps: [...w.log.heads(), held[0]] });
				break;
			}
			case 'deliver': {
				const next = pending.shift();
				if (next) await w.put(...next);
				break;
			}
		}
		take();
	}
	return { contract: w.contract, arrivals };
}

/** What the document holds after `arrivals`: per key the first value that decodes, else the latest. */
function documentAfter(contract: string, arrivals: [string, string][]): Map<string, string> {
	const doc = new Map<string, string>();
	const fixed = new Set<string>();
	for (const [id, env] of arrivals) {
		if (fixed.has(id)) continue;
		doc.set(id, env);
		if (decodeEnvelope(id, env, contract).ok) fixed.add(id);
	}
	return doc;
}

async function fromScratch(contract: string, values: Iterable<[string, string]>): Promise<ContractLog> {
	const log = new ContractLog(contract);
	for (const [id, env] of values) log.add(id, env);
	await authenticate(log);
	log.derive();
	return log;
}

describe('checkpoint (property)', () => {
	it('a reopen from a checkpoint derives what verifying and folding everything derives', async () => {
		// What the runs covered, so the property cannot quietly stop testing the hard cases.
		let refolded = 0;
		let waitedAcross = 0;
		const property = fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), fc.integer({ min: 1, max: 99 }), async (ops, percent) => {
			const { contract, arrivals } = await history(ops);
			const k = Math.floor((percent / 100) * arrivals.length);
			const before = documentAfter(contract, arrivals.slice(0, k));
			const first = await fromScratch(contract, arrivals.slice(0, k));
			// The document as a ContractDoc leaves it: the envelope the log verified written back over another value.
			const written = new Y.Doc();
			const map = written.getMap<string>('events');
			written.transact(() => before.forEach((env, id) => map.set(id, env)));
			written.transact(() => before.forEach((_, id) => first.envelope(id) !== undefined && first.envelope(id) !== map.get(id) && map.set(id, first.envelope(id)!)));
			const stored = await encodeCheckpoint(first.checkpoint(), 'build', map);
			// Reopen: the document loaded again from its update (the same items), the checkpoint checked against it.
			const loaded = new Y.Doc();
			Y.applyUpdate(loaded, Y.encodeStateAsUpdate(written));
			const cp = await decodeCheckpoint(structuredClone(stored), contract, 'build', loaded.getMap<string>('events'));
			expect(cp).not.toBeNull();

			// Reopen: the checkpoint, the document's values, then what arrives afterwards.
			const reopened = new ContractLog(contract);
			reopened.restoreCheckpoint(cp!);
			loaded.getMap<string>('events').forEach((env, id) => reopened.add(id, env));
			for (const [id, env] of arrivals.slice(k)) reopened.add(id, env);
			await authenticate(reopened);
			const all = await fromScratch(contract, arrivals);
			expect(canonical(reopened.derive())).toBe(canonical(all.derive()));
			expect(reopened.authenticEnvelopes()).toEqual(all.authenticEnvelopes());
			expect(reopened.heads()).toEqual(all.heads());
			if (reopened.refolds > 0 && cp!.events.length > 10) refolded++;
			if (first.derive().waiting.some((id) => !all.derive().waiting.includes(id))) waitedAcross++;
		});
		// A refold after the checkpoint comes up in a few of 60 random runs, and in none of them about
		// one time in ten (1 of 12 here): while the hard cases have not both been seen, another 60 runs
		// go on, up to four rounds, so the guard fails when the arbitraries stop producing them, not on
		// an unlucky seed.
		for (let round = 0; round < 4 && (round === 0 || !(refolded > 0 && waitedAcross > 0)); round++)
			await fc.assert(property, {
				numRuns: 60,
				// Always among the first runs: an event that waits for a held one at the checkpoint, resolved
				// after it (random runs reach this case only now and then).
				examples: round === 0 ? [[[{ kind: 'post', who: 0 }, { kind: 'wait' }, { kind: 'post', who: 1 }, { kind: 'post', who: 0 }, { kind: 'deliver' }, { kind: 'post', who: 1 }], 80]] : []
			});
		expect(refolded).toBeGreaterThan(0);
		expect(waitedAcross).toBeGreaterThan(0);
	}, 120_000);
});
