/**
 * A Party writes through its contract store only (contract-store.ts): in the app the contract's Yjs
 * document, which takes the events in by the path a peer's take, so a local write is verified and
 * folded once. Before, the Party added its events to the log and verified them itself while the
 * document's observer verified the same events again.
 */
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import type { ContractLog } from '../../../src/lib/contract/log';
import { signingBytes } from '../../../src/lib/contract/envelope';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { signSync } from '../../../src/lib/identity/ed25519';
import { ContractDoc, LOCAL_WRITE } from '../../../src/lib/sync/contract-doc';
import { link, MemoryContract } from '../../../src/lib/sync/memory-contract';
import { Party } from '../../../src/lib/sync/party';
import { activePair } from '../../support/parties';
import { CLIENT, FREELANCER, terms } from '../../support/world';

/** A bound contract, and the client's device on the app's document holding it. */
async function onDocument() {
	const provider = new MockEscrowProvider();
	const info = await provider.info();
	const pair = await activePair({ escrow: provider, terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }) });
	const cdoc = new ContractDoc(pair.contract, new Y.Doc());
	const party = new Party(CLIENT, cdoc, provider);
	await party.receive(pair.client.log.envelopes());
	return { cdoc, party, pair };
}

/** The work a log does from now on: every signature it is asked to record, and each fold pass that applied events. */
function meter(log: ContractLog) {
	const checked: string[] = [];
	const folds: number[] = [];
	const record = log.recordSignatures.bind(log);
	log.recordSignatures = (checks, results) => {
		checked.push(...checks.map((c) => c.id));
		record(checks, results);
	};
	const derive = log.derive.bind(log);
	log.derive = () => {
		const before = log.folded;
		const d = derive();
		if (log.folded !== before) folds.push(log.folded - before);
		return d;
	};
	return { checked, folds };
}

describe('a Party writes through the contract document only', () => {
	it('one local write is one transaction, its signature checked once and the event folded once', async () => {
		const { cdoc, party } = await onDocument();
		await cdoc.settled();
		const work = meter(cdoc.log);
		const origins: unknown[] = [];
		cdoc.doc.on('afterTransaction', (tx: Y.Transaction) => origins.push(tx.origin));
		const message = await party.act('message.posted', { text: 'Checked once.' });
		// Resolved only once verified and folded: the document's state already has it.
		expect(cdoc.derived.state.applied.map((e) => e.id)).toContain(message.id);
		expect(cdoc.derived.unverified).toBe(0);
		await cdoc.settled();
		expect(origins).toEqual([LOCAL_WRITE]);
		expect(work.checked).toEqual([message.id]);
		expect(work.folds).toEqual([1]);
		expect(cdoc.log.refolds).toBe(0);
	});

	it('a money intent and its receipt are one write: one transaction, each folded once', async () => {
		const { cdoc, party } = await onDocument();
		await cdoc.settled();
		const work = meter(cdoc.log);
		const written: string[][] = [];
		cdoc.events.observe((e, tx) => tx.origin === LOCAL_WRITE && written.push([...e.keysChanged]));
		const { intent, receipt } = await party.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		await cdoc.settled();
		expect(written).toEqual([[intent.id, receipt.id]]);
		// The receipt's signature (the provider's) and the intent's: each asked once.
		expect([...work.checked].sort()).toEqual([intent.id, receipt.id].sort());
		expect(work.folds.reduce((a, b) => a + b, 0)).toBe(2);
		expect(cdoc.derived.state.milestones.find((m) => m.id === 'design')!.funded).toBe(100_000);
	});

	for (const attack of ['junk', 'delete', 'forged signature'] as const) {
		it(`a peer that overwrites the events of a write before it settles (${attack}) changes nothing`, async () => {
			const { cdoc, party } = await onDocument();
			await cdoc.settled();
			// The hostile peer holds the document and answers every local write at once.
			const hostile = new Y.Doc();
			Y.applyUpdate(hostile, Y.encodeStateAsUpdate(cdoc.doc), 'net');
			const theirs = hostile.getMap<string>('events');
			const fresh: string[] = [];
			cdoc.events.observe((e, tx) => tx.origin === LOCAL_WRITE && fresh.push(...e.keysChanged));
			hostile.on('update', (u: Uint8Array, origin: unknown) => origin !== 'net' && Y.applyUpdate(cdoc.doc, u, 'net'));
			cdoc.doc.on('update', (u: Uint8Array, origin: unknown) => {
				if (origin === 'net') return;
				Y.applyUpdate(hostile, u, 'net');
				if (origin !== LOCAL_WRITE) return;
				const ids = fresh.splice(0);
				hostile.transact(() => {
					for (const id of ids) {
						if (attack === 'delete') theirs.delete(id);
						else if (attack === 'junk') theirs.set(id, '{"id":"garbage"}');
						else {
							const env = JSON.parse(theirs.get(id)!) as { id: string; body: string; sig: string };
							theirs.set(id, JSON.stringify({ ...env, sig: signSync(FREELANCER, signingBytes(id)) }));
						}
					}
				});
			});
			const message = await party.act('message.posted', { text: 'Still mine.' });
			const envelope = cdoc.log.envelope(message.id);
			expect(envelope).toBe(message.envelope);
			const derived = await cdoc.settled();
			expect(derived.state.applied.map((e) => e.id)).toContain(message.id);
			expect(derived.rejected.map((r) => r.id)).not.toContain(message.id);
			// Written back: the map, and through it the peer, hold the signed envelope again.
			expect(cdoc.events.get(message.id)).toBe(message.envelope);
			expect(theirs.get(message.id)).toBe(message.envelope);
			// And the state is what a fresh replica derives from the document.
			const replica = new ContractDoc(cdoc.contract, new Y.Doc());
			Y.applyUpdate(replica.doc, Y.encodeStateAsUpdate(cdoc.doc));
			expect((await replica.settled()).state.applied.map((e) => e.id)).toEqual(derived.state.applied.map((e) => e.id));
		});
	}
});

describe('the in-memory contract store', () => {
	it('hands writes to a linked peer, and checks a signature once even when the same event arrives during the write', async () => {
		const provider = new MockEscrowProvider();
		const info = await provider.info();
		const pair = await activePair({ escrow: provider, terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }) });
		const message = await pair.client.act('message.posted', { text: 'Linked.' });
		const before = pair.client.log.envelopes().filter(([id]) => id !== message.id);
		const mine = new MemoryContract(pair.contract);
		const theirs = new MemoryContract(pair.contract);
		await mine.receive(before);
		await theirs.receive(before);
		link(mine, theirs);
		const work = meter(mine.log);
		const [written] = await Promise.all([mine.write([message]), mine.receive([[message.id, message.envelope]])]);
		expect(work.checked).toEqual([message.id]);
		expect(work.folds).toEqual([1]);
		expect(written.state.applied.map((e) => e.id)).toContain(message.id);
		const received = await theirs.receive([]);
		expect(received.state.applied.map((e) => e.id)).toEqual(written.state.applied.map((e) => e.id));
	});
});

describe('a forged copy that reaches the document first', () => {
	it('attack: the same body with a forged signature, written before the real envelope, does not keep the real one out', async () => {
		const { cdoc, pair } = await onDocument();
		await cdoc.settled();
		// The freelancer writes a message; a link holder who saw it first writes the same body with a
		// signature of its own (it cannot sign as the freelancer) under the same id.
		const real = await pair.freelancer.act('message.posted', { text: 'Real words.' });
		const env = JSON.parse(real.envelope) as { id: string; body: string; sig: string };
		const forged = JSON.stringify({ id: env.id, body: env.body, sig: signSync(CLIENT, signingBytes(env.id)) });
		cdoc.doc.transact(() => cdoc.events.set(real.id, forged), 'hostile peer');
		await cdoc.settled();
		expect(cdoc.derived.rejected.map((r) => [r.id, r.code])).toContainEqual([real.id, 'bad-signature']);
		// The real envelope arrives (another peer, a relay): it counts, and it is what the map holds.
		cdoc.doc.transact(() => cdoc.events.set(real.id, real.envelope), 'honest peer');
		await cdoc.settled();
		await new Promise((r) => setTimeout(r, 0));
		await cdoc.settled();
		expect(cdoc.derived.state.applied.map((e) => e.id)).toContain(real.id);
		expect(cdoc.derived.rejected.map((r) => r.id)).not.toContain(real.id);
		expect(cdoc.events.get(real.id)).toBe(real.envelope);
		// And a forged copy written after it changes nothing.
		cdoc.doc.transact(() => cdoc.events.set(real.id, forged), 'hostile peer');
		await cdoc.settled();
		expect(cdoc.events.get(real.id)).toBe(real.envelope);
		expect(cdoc.derived.state.applied.map((e) => e.id)).toContain(real.id);
	});

	it('a peer that never stops writing cannot keep this device from showing what it folded', async () => {
		const { cdoc, pair } = await onDocument();
		await cdoc.settled();
		// Signed before the flood (afterwards it would name the flood's messages, and wait for them).
		const message = await pair.client.act('message.posted', { text: 'Through the flood' });
		const flood: { id: string; envelope: string }[] = [];
		for (let i = 0; i < 80; i++) flood.push(await pair.freelancer.act('message.posted', { text: `flood ${i}` }));
		let floodLeftWhenTold = -1;
		cdoc.subscribe((d) => {
			if (floodLeftWhenTold < 0 && d.state.applied.some((e) => e.id === message.id)) floodLeftWhenTold = flood.length;
		});
		// The counterparty's next signed message lands while this device verifies the last one: every
		// round of verification finds something new that arrived meanwhile.
		const record = cdoc.log.recordSignatures.bind(cdoc.log);
		cdoc.log.recordSignatures = (checks, results) => {
			record(checks, results);
			const next = flood.shift();
			if (next) cdoc.events.set(next.id, next.envelope);
		};
		cdoc.events.set(flood[0]!.id, flood.shift()!.envelope);
		cdoc.events.set(message.id, message.envelope);
		// The page is told it while the flood goes on, not once it stops.
		await expect.poll(() => floodLeftWhenTold, { timeout: 5_000 }).toBeGreaterThan(40);
		await cdoc.settled();
		await expect.poll(() => flood.length).toBe(0);
	});
});
