/**
 * Checkpoints: a reopen from one derives exactly what verifying and folding every event derives,
 * takes nothing unverified in, and anything wrong with it (corrupted, edited, another build, a
 * document value that is not what was verified) makes it ignored.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ContractLog, type DerivedContract, type LogCheckpoint } from '../../../src/lib/contract/log';
import { Ledger } from '../../../src/lib/contract/ledger';
import { authenticate } from '../../../src/lib/identity/authenticate';
import { verifyMany } from '../../../src/lib/identity/ed25519';
import { attachCheckpointStore, decodeCheckpoint, encodeCheckpoint, type StoredCheckpoint } from '../../../src/lib/sync/checkpoint';
import { ContractDoc } from '../../../src/lib/sync/contract-doc';
import { CLIENT, FREELANCER, STRANGER, World, terms } from '../../support/world';

function canonical(d: DerivedContract): string {
	return JSON.stringify(d, (_k, v: unknown) => (v instanceof Map ? { map: [...v] } : v instanceof Set ? { set: [...v] } : v));
}

/** A contract with money moved, messages, a forgery and an event waiting for one that never came. */
async function contract() {
	const w = new World();
	await w.active();
	await w.fund('design', 100_000, 300);
	await w.emit(CLIENT, 'message.posted', { text: 'Welcome — let’s start. 🚀' });
	await w.submit('design');
	await w.release('design', 40_000);
	await w.emit(FREELANCER, 'feedback.left', { rating: 5, text: 'Great client' });
	// Forged: the stranger signs an event naming the client as author.
	const forged = w.envelope(CLIENT, w.draft(CLIENT, 'message.posted', { text: 'forged' }), STRANGER);
	await w.put(...forged);
	// Waiting: it names a dep nobody has.
	const waiting = w.envelope(FREELANCER, w.draft(FREELANCER, 'message.posted', { text: 'early' }, { deps: ['A'.repeat(43)] }));
	await w.put(...waiting);
	const doc = new Y.Doc();
	doc.transact(() => {
		for (const [id, env] of w.written) doc.getMap<string>('events').set(id, env);
	});
	return { w, doc, forged: forged[0], waiting: waiting[0] };
}

async function full(contract: string, doc: Y.Doc): Promise<ContractLog> {
	const log = new ContractLog(contract);
	doc.getMap<string>('events').forEach((env, id) => log.add(id, env));
	await authenticate(log);
	log.derive();
	return log;
}

const lookup = (doc: Y.Doc) => (id: string) => doc.getMap<string>('events').get(id);

async function reopen(contract: string, doc: Y.Doc, cp: LogCheckpoint): Promise<ContractLog> {
	const log = new ContractLog(contract);
	log.restoreCheckpoint(cp);
	doc.getMap<string>('events').forEach((env, id) => log.add(id, env));
	await authenticate(log);
	log.derive();
	return log;
}

describe('checkpoint', () => {
	it('a reopen from it derives what verifying and folding everything derives, with nothing left to verify', async () => {
		const { w, doc, forged, waiting } = await contract();
		const original = await full(w.contract, doc);
		const stored = await encodeCheckpoint(original.checkpoint(), 'build-1');
		// Only verified, folded events are in it.
		expect(new TextDecoder().decode(stored.body)).not.toContain(forged);
		expect(new TextDecoder().decode(stored.body)).not.toContain(waiting);

		const cp = await decodeCheckpoint(structuredClone(stored), w.contract, 'build-1', lookup(doc));
		expect(cp).not.toBeNull();
		let checked = -1;
		const log = new ContractLog(w.contract);
		log.restoreCheckpoint(cp!);
		doc.getMap<string>('events').forEach((env, id) => log.add(id, env));
		// The forged and the waiting event are back from the document and checked again; nothing restored is.
		checked = await authenticate(log, async (items) => {
			expect(items.map((i) => i.id).sort()).toEqual([forged, waiting].sort());
			return verifyMany(items);
		});
		expect(checked).toBe(2);
		const d = log.derive();
		expect(canonical(d)).toBe(canonical(original.derive()));
		expect(d.state).toStrictEqual(original.derive().state);
		expect(d.state.ledger).toBeInstanceOf(Ledger);
		expect(d.state.ledger.balance('escrow:design')).toBe(60_000);
		expect(d.rejected.find((r) => r.id === forged)?.code).toBe('bad-signature');
		expect(d.waiting).toEqual([waiting]);
		// The state's lists reference the restored events themselves.
		expect(d.state.applied.every((e) => log.envelope(e.id) !== undefined)).toBe(true);
		expect(log.heads()).toEqual(original.heads());
		expect(log.lastOf(CLIENT.publicKey)).toBe(original.lastOf(CLIENT.publicKey));
		expect(log.authenticEnvelopes()).toEqual(original.authenticEnvelopes());
	});

	it('events after the checkpoint, on time or late, are verified and folded as from scratch', async () => {
		const { w, doc } = await contract();
		const cp = await decodeCheckpoint(await encodeCheckpoint((await full(w.contract, doc)).checkpoint(), 'b'), w.contract, 'b', lookup(doc));
		const log = await reopen(w.contract, doc, cp!);
		const more: [string, string][] = [];
		more.push(w.envelope(CLIENT, w.draft(CLIENT, 'message.posted', { text: 'after' }, { prev: log.lastOf(CLIENT.publicKey), deps: log.heads() })));
		// Late: the freelancer answers the proposal again from the start (prev null): it sorts early.
		more.push(w.envelope(FREELANCER, w.draft(FREELANCER, 'message.posted', { text: 'late' }, { prev: null, deps: [w.written[0]![0]] })));
		for (const [id, env] of more) {
			log.add(id, env);
			doc.getMap<string>('events').set(id, env);
		}
		await authenticate(log);
		expect(canonical(log.derive())).toBe(canonical((await full(w.contract, doc)).derive()));
		expect(log.refolds).toBe(1);
	});

	it('is ignored when corrupted, edited, of another build, format or contract, or the document holds something else', async () => {
		const { w, doc } = await contract();
		const stored = await encodeCheckpoint((await full(w.contract, doc)).checkpoint(), 'b');
		const ok = await decodeCheckpoint(stored, w.contract, 'b', lookup(doc));
		expect(ok).not.toBeNull();
		const text = new TextDecoder().decode(stored.body);
		const bytes = (t: string) => new TextEncoder().encode(t);
		expect(text).toContain('"amount":40000');
		const flipped = stored.body.slice();
		flipped[100]! ^= 1;
		const variants: [string, unknown, (id: string) => unknown][] = [
			['a changed amount', { ...stored, body: bytes(text.replace('"amount":40000', '"amount":99999')) }, lookup(doc)],
			['a flipped bit', { ...stored, body: flipped }, lookup(doc)],
			['a hash of other envelopes', { ...stored, envelopes: 'A'.repeat(43) }, lookup(doc)],
			['no hash of the envelopes', { ...stored, envelopes: undefined }, lookup(doc)],
			['a checksum of something else', { ...stored, checksum: 'A'.repeat(22) }, lookup(doc)],
			['another build', stored, lookup(doc)],
			['another format', { ...stored, format: 0 }, lookup(doc)],
			['truncated', { ...stored, body: stored.body.slice(0, -10) }, lookup(doc)],
			['a string body', { ...stored, body: text }, lookup(doc)],
			['not a checkpoint', { format: 1 }, lookup(doc)],
			['nothing', undefined, lookup(doc)]
		];
		for (const [what, s, get] of variants) {
			const rules = what === 'another build' ? 'c' : 'b';
			expect(await decodeCheckpoint(s, w.contract, rules, get), what).toBeNull();
		}
		expect(await decodeCheckpoint(stored, 'another-contract-00000001', 'b', lookup(doc))).toBeNull();
		// Another contract's checkpoint, found in this contract's database, with this contract's document.
		const w2 = new World();
		await w2.active(terms({ title: 'Another contract' }));
		await w2.emit(CLIENT, 'message.posted', { text: 'Hello' });
		const doc2 = new Y.Doc();
		for (const [id, env] of w2.written) doc2.getMap<string>('events').set(id, env);
		expect(w2.contract).not.toBe(w.contract);
		const foreign = await encodeCheckpoint((await full(w2.contract, doc2)).checkpoint(), 'b');
		expect(await decodeCheckpoint(foreign, w.contract, 'b', lookup(doc))).toBeNull();
		expect(await decodeCheckpoint({ ...foreign, contract: w.contract }, w.contract, 'b', lookup(doc))).toBeNull();

		// The document's value under a checkpointed id is not the envelope that was verified: another
		// signature for the same body, or junk. The checkpoint cannot vouch for it.
		const [id, env] = w.written[5]!;
		const other = env.replace(/"sig":"[^"]+"/, `"sig":"${'B'.repeat(86)}"`);
		for (const value of [other, 'junk', undefined]) {
			const get = (x: string) => (x === id ? value : lookup(doc)(x));
			expect(await decodeCheckpoint(stored, w.contract, 'b', get)).toBeNull();
		}
	});

	it('a checkpoint that is not well formed leaves the log empty, ready for a full open', async () => {
		const { w, doc } = await contract();
		const cp = (await full(w.contract, doc)).checkpoint();
		const broken: [string, LogCheckpoint][] = [
			['out of fold order', { ...cp, events: [cp.events[1]!, cp.events[0]!, ...cp.events.slice(2)] }],
			['an event before what it names', { ...cp, events: cp.events.slice(1) }],
			['a wrong level', { ...cp, events: cp.events.map((e, i) => (i === 3 ? { ...e, level: e.level + 1 } : e)) }],
			['another contract', { ...cp, contract: 'x' }]
		];
		for (const [what, bad] of broken) {
			const log = new ContractLog(w.contract);
			expect(() => log.restoreCheckpoint(bad), what).toThrow();
			expect(log.size, what).toBe(0);
		}
	});

	it('keeps objects the state reaches twice as one, and refuses what it cannot encode', async () => {
		const { w, doc } = await contract();
		const log = await full(w.contract, doc);
		const cp = log.checkpoint();
		const shared = { note: 'twice' };
		const state = { ...cp.state, extra: [shared, shared, undefined], odd: { deep: new Set([1]) } };
		const stored = await encodeCheckpoint({ ...cp, state }, 'b');
		const back = (await decodeCheckpoint(stored, w.contract, 'b', lookup(doc)))!.state as typeof state;
		expect(back.extra[0]).toBe(back.extra[1]);
		expect(back.extra).toStrictEqual([{ note: 'twice' }, { note: 'twice' }, undefined]);
		expect(back.odd.deep).toEqual(new Set([1]));
		await expect(encodeCheckpoint({ ...cp, state: { ...cp.state, when: new Date(0) } as never }, 'b')).rejects.toThrow(/Date/);
		await expect(encodeCheckpoint({ ...cp, state: { ...cp.state, n: Infinity } as never }, 'b')).rejects.toThrow(/non-finite/);
	});

	it('a ContractDoc writes one when idle, and the next one opens from it', async () => {
		const { w, doc } = await contract();
		let saved: StoredCheckpoint | undefined;
		attachCheckpointStore(doc, { loaded: null, rules: 'b', save: async (s) => void (saved = s) });
		const first = new ContractDoc(w.contract, doc);
		const derived = await first.settled();
		expect(first.restored).toBe(0);
		await expect.poll(() => saved, { timeout: 5000 }).toBeDefined();
		expect(first.log.snapshots.length).toBe(0); // this contract is shorter than one snapshot interval

		const copy = new Y.Doc();
		Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
		attachCheckpointStore(copy, { loaded: await decodeCheckpoint(saved, w.contract, 'b', lookup(copy)), rules: 'b', save: async () => {} });
		const second = new ContractDoc(w.contract, copy);
		expect(second.restored).toBe(derived.state.applied.length + derived.state.rejected.length);
		expect(canonical(await second.settled())).toBe(canonical(derived));
	});
});
