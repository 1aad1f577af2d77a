/**
 * Three replicas of one contract exchanging real Yjs updates through a simulated network that drops,
 * delays, duplicates and reorders messages and partitions peers for a while. Parties keep acting on
 * whatever they have. After healing (the state-vector exchange y-webrtc does on reconnect) every
 * replica derives the identical state; a replica restarted from its stored update derives it too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DEFAULT_CLOCKS } from '../../src/lib/contract/schema';
import { DAY_MS, milestone, type ContractState } from '../../src/lib/contract/state';
import { EscrowError } from '../../src/lib/escrow/adapter';
import { MockEscrowProvider } from '../../src/lib/escrow/mock';
import type { DeviceKey } from '../../src/lib/identity/ed25519';
import { ContractDoc } from '../../src/lib/sync/contract-doc';
import { ActionRefused, Party } from '../../src/lib/sync/party';
import { mulberry32 } from '../support/random';
import { CLIENT, FREELANCER, T0 } from '../support/world';


interface Message {
	to: number;
	update: Uint8Array;
	at: number;
}

class Network {
	now = 0;
	queue: Message[] = [];
	partitioned = new Set<number>();
	constructor(private readonly rnd: () => number) {}

	send(from: number, update: Uint8Array, n: number): void {
		for (let to = 0; to < n; to++) {
			if (to === from || this.partitioned.has(to) || this.partitioned.has(from)) continue;
			if (this.rnd() < 0.2) continue; // dropped
			const copies = this.rnd() < 0.15 ? 2 : 1; // duplicated
			for (let c = 0; c < copies; c++) this.queue.push({ to, update, at: this.now + Math.floor(this.rnd() * 5) });
		}
	}

	/** Deliver what is due, in a random order among due messages (reordering). */
	due(): Message[] {
		const ready = this.queue.filter((m) => m.at <= this.now);
		this.queue = this.queue.filter((m) => m.at > this.now);
		for (let i = ready.length - 1; i > 0; i--) {
			const j = Math.floor(this.rnd() * (i + 1));
			[ready[i], ready[j]] = [ready[j]!, ready[i]!];
		}
		return ready;
	}
}

function summary(s: ContractState, rejected: { id: string; code: string }[]): string {
	return JSON.stringify({ applied: s.applied.map((e) => e.id), rejected: rejected.map((r) => r.id + r.code).sort(), balances: [...s.ledger.balances].sort(), milestones: s.milestones });
}

async function simulate(seed: number, steps: number): Promise<void> {
	const rnd = mulberry32(seed);
	let now = T0;
	const provider = new MockEscrowProvider({ now: () => now });
	const info = await provider.info();
	const net = new Network(rnd);
	const proposal = await Party.signProposal(CLIENT, {
		role: 'client',
		name: 'Ada',
		terms: { title: 'Net', scope: '', currency: 'USD', milestones: [{ id: 'a', title: 'A', amount: 50_000 }, { id: 'b', title: 'B', amount: 70_000 }], provider: { id: 'mock', publicKey: info.publicKey, testMode: true }, ...DEFAULT_CLOCKS }
	}, now);
	const CONTRACT = proposal.contract;
	const docs = [0, 1, 2].map(() => new ContractDoc(CONTRACT, new Y.Doc()));
	docs.forEach((d, i) =>
		d.doc.on('update', (update: Uint8Array, origin: unknown) => {
			if (origin !== 'net') net.send(i, update, docs.length);
		})
	);
	const keys: DeviceKey[] = [CLIENT, FREELANCER, CLIENT];
	const parties = docs.map((d, i) => new Party(keys[i]!, d, provider, () => now));
	const settle = () => Promise.all(docs.map((d) => d.settled()));

	await docs[0]!.write([proposal]);
	await settle();
	// Bootstrap: the freelancer opens the link (a full sync), accepts, and the client binds it.
	Y.applyUpdate(docs[1]!.doc, Y.encodeStateAsUpdate(docs[0]!.doc), 'net');
	await settle();
	const acceptance = await parties[1]!.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
	Y.applyUpdate(docs[0]!.doc, Y.encodeStateAsUpdate(docs[1]!.doc), 'net');
	await settle();
	await parties[0]!.countersign(acceptance.id);
	for (const i of [1, 2]) Y.applyUpdate(docs[i]!.doc, Y.encodeStateAsUpdate(docs[0]!.doc), 'net');
	await settle();

	for (let step = 0; step < steps; step++) {
		net.now++;
		if (rnd() < 0.1) net.partitioned = new Set(rnd() < 0.5 ? [Math.floor(rnd() * 3)] : []);
		for (const m of net.due()) Y.applyUpdate(docs[m.to]!.doc, m.update, 'net');
		await settle();
		const who = Math.floor(rnd() * 3);
		const p = parties[who]!;
		const s = docs[who]!.derived.state;
		const m = milestone(s, rnd() < 0.5 ? 'a' : 'b');
		try {
			if (!m) continue;
			const r = rnd();
			if (who === 1) {
				if (r < 0.4) await p.act('milestone.submitted', { milestone: m.id, message: 'done', links: [] });
				else await p.act('message.posted', { text: `f${step}` });
			} else if (r < 0.35) await p.settle('milestone.fund', { milestone: m.id, amount: m.amount - (m.funded - m.refunded), currency: 'USD', method: 'card' });
			else if (r < 0.6) await p.settle('milestone.release', { milestone: m.id, amount: Math.max(1, m.funded - m.released - m.refunded), currency: 'USD', method: 'card' });
			else await p.act('message.posted', { text: `c${who}-${step}` });
		} catch (e) {
			if (!(e instanceof ActionRefused) && !(e instanceof EscrowError)) throw e;
		}
		if (rnd() < 0.05) now += DAY_MS;
	}

	// Heal: no partition, drain the network, then the state-vector exchange done on reconnect.
	net.partitioned.clear();
	net.now += 10;
	for (const m of net.due()) Y.applyUpdate(docs[m.to]!.doc, m.update, 'net');
	for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc)), 'net');
	const finals = (await settle()).map((d) => summary(d.state, d.rejected));
	expect(finals[1]).toBe(finals[0]);
	expect(finals[2]).toBe(finals[0]);
	expect(JSON.parse(finals[0]!).applied.length).toBeGreaterThan(2);

	// Persistence round trip: restart replica 1 from its stored update.
	const stored = Y.encodeStateAsUpdate(docs[1]!.doc);
	const restarted = new ContractDoc(docs[1]!.log.contract, new Y.Doc());
	Y.applyUpdate(restarted.doc, stored);
	const again = await restarted.settled();
	expect(summary(again.state, again.rejected)).toBe(finals[0]);
}

describe('simulation over a lossy network', () => {
	it('three replicas converge after drops, delays, duplicates, reordering and partitions', async () => {
		await fc.assert(fc.asyncProperty(fc.integer(), async (seed) => simulate(seed, 60)), { numRuns: Number(process.env.SIM_RUNS ?? 25) });
	});

	it('a peer that deletes or overwrites events cannot take them away from this replica', async () => {
		const provider = new MockEscrowProvider();
		const info = await provider.info();
		const proposal = await Party.signProposal(CLIENT, {
			role: 'client',
			name: 'Ada',
			terms: { title: 'T', scope: '', currency: 'USD', milestones: [{ id: 'a', title: 'A', amount: 1 }], provider: { id: 'mock', publicKey: info.publicKey, testMode: true }, ...DEFAULT_CLOCKS }
		}, Date.now());
		const a = new ContractDoc(proposal.contract, new Y.Doc());
		const b = new ContractDoc(proposal.contract, new Y.Doc());
		a.doc.on('update', (u: Uint8Array, o: unknown) => o !== 'net' && Y.applyUpdate(b.doc, u, 'net'));
		b.doc.on('update', (u: Uint8Array, o: unknown) => o !== 'net' && Y.applyUpdate(a.doc, u, 'net'));
		await a.write([proposal]);
		await b.settled();
		// The hostile peer deletes the proposal and writes garbage over it.
		b.events.delete(proposal.id);
		await Promise.all([a.settled(), b.settled()]);
		expect(a.events.get(proposal.id)).toBe(proposal.envelope);
		b.events.set(proposal.id, '{"id":"garbage"}');
		await Promise.all([a.settled(), b.settled()]);
		expect(a.events.get(proposal.id)).toBe(proposal.envelope);
		expect((await a.settled()).state.status).toBe('proposed');
	});
});
