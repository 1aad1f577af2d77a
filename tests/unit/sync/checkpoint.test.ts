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
import { ContractDoc, checkpointWorthIt } from '../../../src/lib/sync/contract-doc';
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

const events = (doc: Y.Doc) => doc.getMap<string>('events');

/** The document as the next open loads it: applied from what was stored (the same Yjs items). */
function reloaded(doc: Y.Doc): Y.Doc {
	const copy = new Y.Doc();
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
	return copy;
}

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
		const stored = await encodeCheckpoint(original.checkpoint(), 'build-1', events(doc));
		// Only verified, folded events are in it.
		expect(stored.body).not.toContain(forged);
		expect(stored.body).not.toContain(waiting);

		const cp = await decodeCheckpoint(structuredClone(stored), w.contract, 'build-1', events(reloaded(doc)));
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
		const cp = await decodeCheckpoint(await encodeCheckpoint((await full(w.contract, doc)).checkpoint(), 'b', events(doc)), w.contract, 'b', events(doc));
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
		const stored = await encodeCheckpoint((await full(w.contract, doc)).checkpoint(), 'b', events(doc));
		const ok = await decodeCheckpoint(stored, w.contract, 'b', events(reloaded(doc)));
		expect(ok).not.toBeNull();
		const text = stored.body;
		expect(text).toContain('"amount":40000');
		const flipped = text.slice(0, 100) + String.fromCharCode(text.charCodeAt(100) ^ 1) + text.slice(101);
		const variants: [string, unknown][] = [
			['a changed amount', { ...stored, body: text.replace('"amount":40000', '"amount":99999') }],
			['a flipped bit', { ...stored, body: flipped }],
			['a checksum of something else', { ...stored, checksum: 'A'.repeat(22) }],
			['no checksum', { ...stored, checksum: undefined }],
			['another build', stored],
			['another format', { ...stored, format: 2 }],
			['truncated', { ...stored, body: text.slice(0, -10) }],
			['a byte body (format 2)', { ...stored, body: new TextEncoder().encode(text) }],
			['not a checkpoint', { format: 3 }],
			['nothing', undefined]
		];
		for (const [what, s] of variants) {
			const rules = what === 'another build' ? 'c' : 'b';
			expect(await decodeCheckpoint(s, w.contract, rules, events(doc)), what).toBeNull();
		}
		expect(await decodeCheckpoint(stored, 'another-contract-00000001', 'b', events(doc))).toBeNull();
		// Another contract's checkpoint, found in this contract's database, with this contract's document.
		const w2 = new World();
		await w2.active(terms({ title: 'Another contract' }));
		await w2.emit(CLIENT, 'message.posted', { text: 'Hello' });
		const doc2 = new Y.Doc();
		for (const [id, env] of w2.written) doc2.getMap<string>('events').set(id, env);
		expect(w2.contract).not.toBe(w.contract);
		const foreign = await encodeCheckpoint((await full(w2.contract, doc2)).checkpoint(), 'b', events(doc2));
		expect(await decodeCheckpoint(foreign, w.contract, 'b', events(doc))).toBeNull();
		expect(await decodeCheckpoint({ ...foreign, contract: w.contract }, w.contract, 'b', events(doc))).toBeNull();

		// A peer wrote another value under a checkpointed id since: another signature for the same
		// body, junk, the very same envelope again (a new Yjs item), or deleted it. The checkpoint
		// vouches for the item it verified, not for whatever the key holds now.
		const [id, env] = w.written[5]!;
		const other = env.replace(/"sig":"[^"]+"/, `"sig":"${'B'.repeat(86)}"`);
		for (const value of [other, 'junk', env, undefined]) {
			const peer = reloaded(doc);
			if (value === undefined) events(peer).delete(id);
			else events(peer).set(id, value);
			// Arrived as a peer's update: the document this device loads next holds it.
			const mine = reloaded(doc);
			Y.applyUpdate(mine, Y.encodeStateAsUpdate(peer, Y.encodeStateVector(mine)));
			expect(await decodeCheckpoint(stored, w.contract, 'b', events(mine)), String(value).slice(0, 20)).toBeNull();
		}
		// An update that reuses the verified item's id with other content changes nothing: Yjs keeps what it holds.
		const item = (events(doc) as unknown as { _map: Map<string, Y.Item> })._map.get(id)!;
		const forger = new Y.Doc();
		forger.clientID = item.id.client;
		const forgedMap = forger.getMap<string>('events');
		for (let clock = 0; clock <= item.id.clock; clock++) forgedMap.set(clock === item.id.clock ? id : `pad-${clock}`, clock === item.id.clock ? other : 'x');
		const attacked = reloaded(doc);
		Y.applyUpdate(attacked, Y.encodeStateAsUpdate(forger));
		expect(events(attacked).get(id)).toBe(env);
		expect(await decodeCheckpoint(stored, w.contract, 'b', events(attacked))).not.toBeNull();
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
		const stored = await encodeCheckpoint({ ...cp, state }, 'b', events(doc));
		const back = (await decodeCheckpoint(stored, w.contract, 'b', events(doc)))!.state as typeof state;
		expect(back.extra[0]).toBe(back.extra[1]);
		expect(back.extra).toStrictEqual([{ note: 'twice' }, { note: 'twice' }, undefined]);
		expect(back.odd.deep).toEqual(new Set([1]));
		await expect(encodeCheckpoint({ ...cp, state: { ...cp.state, when: new Date(0) } as never }, 'b', events(doc))).rejects.toThrow(/Date/);
		await expect(encodeCheckpoint({ ...cp, state: { ...cp.state, n: Infinity } as never }, 'b', events(doc))).rejects.toThrow(/non-finite/);
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

		const copy = reloaded(doc);
		attachCheckpointStore(copy, { loaded: await decodeCheckpoint(saved, w.contract, 'b', events(copy)), rules: 'b', save: async () => {} });
		const second = new ContractDoc(w.contract, copy);
		expect(second.restored).toBe(derived.state.applied.length + derived.state.rejected.length);
		expect(canonical(await second.settled())).toBe(canonical(derived));
	});

	it('is rewritten once enough is new to be worth its cost, not after every event', () => {
		expect(checkpointWorthIt(3, 0, 0)).toBe(true); // none yet
		expect(checkpointWorthIt(3, 3, 120_000)).toBe(false); // nothing new
		expect(checkpointWorthIt(3, 2, 0)).toBe(true); // a third of a small contract is new
		expect(checkpointWorthIt(10_001, 10_000, 1_000)).toBe(false); // one message on a big one
		expect(checkpointWorthIt(10_500, 10_000, 1_000)).toBe(true); // a twentieth is new
		expect(checkpointWorthIt(10_001, 10_000, 60_000)).toBe(true); // a minute since the last
	});
});
