/**
 * Parties and terms are fixed once, and settled money never changes, whatever a hostile key writes:
 * acceptances ground to sort first at every level of random honest histories, the proposer
 * countersigning a second acceptance (equivocation), a second proposal for the same id, a forged
 * provider record. Every replica derives the same outcome in every arrival order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countersignEquivocation } from '../../src/lib/contract/proposal';
import type { ContractState } from '../../src/lib/contract/state';
import { ContractLog } from '../../src/lib/contract/log';
import { authenticate } from '../../src/lib/identity/authenticate';
import { mulberry32 } from '../support/random';
import { CLIENT, FREELANCER, PROVIDER, STRANGER, World, terms } from '../support/world';

type Honest = 'fund' | 'submit' | 'release' | 'changes' | 'message';
const honest = fc.constantFrom<Honest>('fund', 'submit', 'release', 'changes', 'message');

/** What must never change once settled: parties, terms, binding, and every money figure. */
function fixed(s: ContractState): string {
	return JSON.stringify({
		status: s.status,
		parties: s.parties,
		terms: s.terms,
		binding: s.binding,
		money: s.milestones.map((m) => [m.id, m.funded, m.released, m.refunded]),
		ledger: [...s.ledger.balances].sort()
	});
}

async function honestHistory(w: World, steps: Honest[]): Promise<void> {
	await w.active();
	for (const step of steps) {
		const s = w.state;
		const m = s.milestones.find((x) => x.funded - x.released - x.refunded > 0) ?? s.milestones.find((x) => x.funded === 0);
		if (!m) break;
		w.advance(1);
		if (step === 'fund' && m.funded === 0) await w.fund(m.id, m.amount);
		else if (step === 'submit' && m.funded > 0 && m.phase !== 'submitted') await w.submit(m.id);
		else if (step === 'release' && m.funded - m.released - m.refunded > 0) await w.release(m.id, m.funded - m.released - m.refunded);
		else if (step === 'changes' && m.phase === 'submitted') {
			const cr = await w.emit(CLIENT, 'milestone.changesRequested', { milestone: m.id, reason: 'again' });
			await w.emit(PROVIDER, 'receipt.attested', { event: cr, kind: 'change-request' });
		} else await w.emit(FREELANCER, 'message.posted', { text: 'note' });
	}
}

/** Hostile events against `w`, each hung off a random earlier event (any level), with ids ground by `at`. */
function hostile(w: World, seed: number): [string, string][] {
	const rnd = mulberry32(seed);
	const ids = w.written.map(([id]) => id);
	const pick = () => ids[Math.floor(rnd() * ids.length)]!;
	const proposal = w.written[0]![0];
	const out: [string, string][] = [];
	// Ground acceptances by a stranger: many variants, so some sort before the real one at their level.
	const acceptances: string[] = [];
	for (let i = 0; i < 6; i++) {
		const deps = rnd() < 0.3 ? [proposal] : [pick()];
		const [id, env] = w.envelope(STRANGER, { contract: w.contract, author: STRANGER.publicKey, prev: null, deps, at: Math.floor(rnd() * 1e12), type: 'contract.accepted', payload: { proposal, name: 'Mallory' } });
		acceptances.push(id);
		out.push([id, env]);
	}
	// The proposer equivocates: countersigns a stranger's acceptance too (on a fork of its own chain).
	const target = acceptances[Math.floor(rnd() * acceptances.length)]!;
	const [cs2, cs2env] = w.envelope(CLIENT, { contract: w.contract, author: CLIENT.publicKey, prev: proposal, deps: [target], at: Math.floor(rnd() * 1e12), type: 'contract.countersigned', payload: { acceptance: target } });
	out.push([cs2, cs2env]);
	// A "provider record" of it, signed by someone who is not the provider.
	out.push(w.envelope(STRANGER, { contract: w.contract, author: STRANGER.publicKey, prev: null, deps: [cs2], at: Math.floor(rnd() * 1e12), type: 'receipt.attested', payload: { event: cs2, kind: 'countersign' } }));
	// A second proposal written under this contract id (it cannot hash to it).
	out.push(
		w.envelope(STRANGER, {
			contract: w.contract,
			author: STRANGER.publicKey,
			prev: null,
			deps: [],
			at: Math.floor(rnd() * 1e12),
			type: 'contract.proposed',
			payload: { role: 'freelancer', name: 'Mallory', terms: terms({ title: 'Mine now' }), nonce: 'mallory-nonce-000000000' }
		})
	);
	// The stranger then acts as if it were the freelancer.
	out.push(w.envelope(STRANGER, { contract: w.contract, author: STRANGER.publicKey, prev: null, deps: [pick()], at: Math.floor(rnd() * 1e12), type: 'milestone.refund', payload: { milestone: 'design', amount: 1, currency: 'USD', basis: 'freelancer' } }));
	return out;
}

async function replica(contract: string, entries: [string, string][], seed: number): Promise<ContractLog> {
	const rnd = mulberry32(seed);
	const order = [...entries];
	for (let i = order.length - 1; i > 0; i--) {
		const j = Math.floor(rnd() * (i + 1));
		[order[i], order[j]] = [order[j]!, order[i]!];
	}
	const log = new ContractLog(contract);
	for (let i = 0; i < order.length; i += 1 + Math.floor(rnd() * 7)) {
		for (const [id, env] of order.slice(i, i + 1 + Math.floor(rnd() * 7))) log.add(id, env);
		await authenticate(log);
		log.derive();
	}
	for (const [id, env] of order) log.add(id, env);
	await authenticate(log);
	return log;
}

describe('parties and terms are fixed once', () => {
	it('no ground acceptance, second countersign, second proposal or forged record changes parties, terms or money', async () => {
		let equivocationsSeen = 0;
		await fc.assert(
			fc.asyncProperty(fc.array(honest, { minLength: 3, maxLength: 25 }), fc.integer(), fc.integer(), async (steps, hostileSeed, orderSeed) => {
				const w = new World();
				await honestHistory(w, steps);
				const expected = fixed(w.state);
				const attack = hostile(w, hostileSeed);
				const all = [...w.written, ...attack];
				// Late: the attack arrives after everything honest, on the replica that did the work.
				for (const [id, env] of attack) await w.put(id, env);
				expect(fixed(w.state)).toBe(expected);
				// Any arrival order, any batching: the same outcome on every replica.
				const a = (await replica(w.contract, all, orderSeed)).derive();
				const b = (await replica(w.contract, all, orderSeed ^ 0x5bd1e995)).derive();
				expect(fixed(a.state)).toBe(expected);
				expect(fixed(b.state)).toBe(expected);
				// The proposer's equivocation is visible to everyone, by content.
				expect(countersignEquivocation(a.state)).toEqual(countersignEquivocation(w.state));
				if (countersignEquivocation(a.state).length === 2) equivocationsSeen++;
				for (const [id] of attack) expect(a.state.applied.some((e) => e.id === id && e.type !== 'contract.accepted' && e.type !== 'contract.countersigned')).toBe(false);
			}),
			{ numRuns: Number(process.env.SIM_RUNS ?? 40) }
		);
		expect(equivocationsSeen).toBeGreaterThan(0);
	});
});
