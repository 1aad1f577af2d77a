/**
 * Property: any two replicas holding the same final entries derive identical states, whatever junk
 * came and went under the way, in whatever order and batches things arrived.
 *
 * A random honest history (client and freelancer writing concurrently from their own devices, the
 * freelancer's submissions timestamped by the provider, a stranger chiming in) is mixed with what
 * anyone holding the link can write into the shared map: non-JSON, bodies that no longer match
 * their id, envelopes without a signature, forged signatures on real bodies, junk under a real
 * event's key before (or after) the real event, junk in place of events that never come.
 *
 * "Same final entries" is what the shared Yjs map converges to: for each key, its last value — except
 * that a replica writes back an event it decoded when a peer overwrites it with junk, so a decoded
 * event is final over any junk written around it. Each replica sees some of the earlier values
 * (a replica may miss intermediate writes), then the final one.
 *
 * On failure fast-check prints the seed and path; replay with SEED=… SEED_PATH=… npx vitest run tests/sim/replicas.test.ts
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBody, encodeEnvelope, signingBytes, type Draft } from '../../src/lib/contract/envelope';
import { ContractLog, type DerivedContract } from '../../src/lib/contract/log';
import { authenticate } from '../../src/lib/identity/authenticate';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import { mulberry32 } from '../support/random';
import { CLIENT, FREELANCER, PROVIDER, STRANGER, World } from '../support/world';

// —— the honest history ——————————————————————————————————————————————————————————————

type Act = { kind: 'post'; who: 0 | 1 | 2 } | { kind: 'submit' } | { kind: 'sync'; to: 0 | 1 };

const act: fc.Arbitrary<Act> = fc.oneof(
	{ weight: 6, arbitrary: fc.record({ kind: fc.constant('post' as const), who: fc.constantFrom(0 as const, 1 as const, 2 as const) }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('submit' as const) }) },
	{ weight: 3, arbitrary: fc.record({ kind: fc.constant('sync' as const), to: fc.constantFrom(0 as const, 1 as const) }) }
);

interface Written {
	id: string;
	envelope: string;
	body: string;
	prev: string | null;
	deps: string[];
}

/** One device's view: the events it has, its heads, and the last event of each author in it. */
class View {
	readonly known = new Map<string, Written>();
	readonly referenced = new Set<string>();
	readonly last = new Map<string, { id: string; n: number }>();
	learn(e: Written, author: string, n: number): void {
		if (this.known.has(e.id)) return;
		this.known.set(e.id, e);
		if (e.prev) this.referenced.add(e.prev);
		for (const d of e.deps) this.referenced.add(d);
		const l = this.last.get(author);
		if (!l || l.n < n) this.last.set(author, { id: e.id, n });
	}
	heads(): string[] {
		return [...this.known.keys()].filter((id) => !this.referenced.has(id)).sort();
	}
}

async function history(acts: Act[]) {
	const w = new World();
	await w.active();
	const contract = w.log.contract;
	const order: Written[] = [];
	const meta = new Map<string, { author: string; n: number }>();
	const views = [new View(), new View()];
	let n = 0;
	const record = (e: Written, author: string) => {
		meta.set(e.id, { author, n: n++ });
		order.push(e);
	};
	for (const [id, envelope] of w.written) {
		const { body } = JSON.parse(envelope) as { body: string };
		const b = JSON.parse(body) as { author: string; prev: string | null; deps: string[] };
		const e = { id, envelope, body, prev: b.prev, deps: b.deps };
		record(e, b.author);
		for (const v of views) v.learn(e, b.author, meta.get(id)!.n);
	}
	let serial = 0;
	const write = (view: View, key: DeviceKey, type: Draft['type'], payload: unknown, receiptOf?: string): Written => {
		const draft: Draft = {
			contract,
			author: key.publicKey,
			prev: view.last.get(key.publicKey)?.id ?? null,
			deps: receiptOf !== undefined ? [receiptOf] : view.heads(),
			at: w.now + serial++ * 60_000,
			type,
			payload
		};
		const { id, body } = encodeBody(draft);
		const e = { id, envelope: encodeEnvelope(id, body, signSync(key, signingBytes(id))), body, prev: draft.prev, deps: [...draft.deps].sort() };
		record(e, key.publicKey);
		view.learn(e, key.publicKey, meta.get(id)!.n);
		return e;
	};
	for (const a of acts) {
		if (a.kind === 'sync') {
			const [from, to] = a.to === 0 ? [views[1]!, views[0]!] : [views[0]!, views[1]!];
			for (const e of from.known.values()) to.learn(e, meta.get(e.id)!.author, meta.get(e.id)!.n);
		} else if (a.kind === 'post') {
			const [view, key] = a.who === 0 ? [views[0]!, CLIENT] : a.who === 1 ? [views[1]!, FREELANCER] : [views[0]!, STRANGER];
			write(view, key, 'message.posted', { text: `m${serial}` });
		} else {
			const sub = write(views[1]!, FREELANCER, 'milestone.submitted', { milestone: 'design', message: 'Done.', links: [] });
			write(views[1]!, PROVIDER, 'receipt.attested', { event: sub.id, kind: 'submission' }, sub.id);
		}
	}
	return { contract, events: order, base: w.written.length };
}

// —— junk ———————————————————————————————————————————————————————————————————————————

/** Values that never decode: each kind of intake failure. */
function junkValue(kind: number, e: Written | undefined, salt: number): unknown {
	switch (kind % 5) {
		case 0:
			return `{"id": oops ${salt}`;
		case 1: // the body altered after signing
			return e ? JSON.stringify({ ...(JSON.parse(e.envelope) as object), body: e.body.replace('"at":', `"at":${salt % 9}`) }) : `[${salt}]`;
		case 2: // no signature
			return e ? JSON.stringify({ id: e.id, body: e.body }) : `{"id":"${salt}"}`;
		case 3:
			return salt;
		default:
			return `${'x'.repeat(salt % 50)}`;
	}
}

/** The real body with someone else's signature: decodes, and fails verification. */
function forgedValue(e: Written, salt: number): string {
	const signer = [STRANGER, CLIENT, FREELANCER][salt % 3]!;
	const sig = signSync(signer, signingBytes(e.id));
	const real = (JSON.parse(e.envelope) as { sig: string }).sig;
	// Signed by the author after all (ed25519 is deterministic): sign with someone else.
	return encodeEnvelope(e.id, e.body, sig !== real ? sig : signSync(signer === STRANGER ? CLIENT : STRANGER, signingBytes(e.id)));
}

interface Plan {
	/** Per key: values that may arrive before the final one (a replica sees a random subset). */
	before: unknown[];
	/** The final value. */
	final: unknown;
	/** Values that may arrive after the final one and must change nothing. */
	after: unknown[];
}

const keyPlan = fc.record({
	/** 0: the real event; 1: junk instead (the real one never comes); 2: a forged signature instead. */
	fate: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }),
	noise: fc.array(fc.record({ kind: fc.nat(9), salt: fc.nat(1000) }), { maxLength: 3 })
});

function plan(events: Written[], base: number, fates: { fate: number; noise: { kind: number; salt: number }[] }[], extra: { kind: number; salt: number }[]): Map<string, Plan> {
	const out = new Map<string, Plan>();
	events.forEach((e, i) => {
		const f = fates[i % fates.length]!;
		const fate = i < base ? 0 : f.fate;
		const final = fate === 0 ? e.envelope : fate === 1 ? junkValue(f.noise[0]?.kind ?? 0, e, f.noise[0]?.salt ?? i) : forgedValue(e, i);
		const p: Plan = { before: [], final, after: [] };
		for (const { kind, salt } of f.noise) {
			// Decodable noise (a forged signature) only where the final value decodes too: a replica
			// writes a decoded event back over junk, so junk never outlives a decoded value.
			if (kind >= 5) {
				if (fate !== 1) (salt % 2 ? p.before : p.after).push(forgedValue(e, salt));
			} else if (fate === 1) p.before.push(junkValue(kind, e, salt));
			else (salt % 2 ? p.before : p.after).push(junkValue(kind, e, salt));
		}
		out.set(e.id, p);
	});
	extra.forEach(({ kind, salt }, i) => {
		// Junk under fresh keys, some shaped like event ids; and events by strangers that name them.
		const key = kind % 2 ? `junk-${i}-${salt}` : encodeBody({ contract: 'x', author: 'y', prev: null, deps: [], at: salt, type: 'message.posted', payload: { i } }).id;
		out.set(key, { before: [], final: junkValue(kind, undefined, salt), after: [] });
	});
	return out;
}

/** One replica's arrival order: per key a random subset of `before`, the final value, a random subset of `after`; keys interleaved at random. */
function deliveries(plans: Map<string, Plan>, seed: number): [string, unknown][] {
	const rnd = mulberry32(seed);
	const items: { at: number; key: string; value: unknown }[] = [];
	for (const [key, p] of plans) {
		const seq = [...p.before.filter(() => rnd() < 0.7), p.final, ...p.after.filter(() => rnd() < 0.7)];
		const times = seq.map(() => rnd()).sort((x, y) => x - y);
		seq.forEach((value, j) => items.push({ at: times[j]!, key, value }));
	}
	return items.sort((a, b) => a.at - b.at).map((i) => [i.key, i.value]);
}

// —— replicas ———————————————————————————————————————————————————————————————————————

/** Everything derived in one string: the state (Maps and Sets by their entries, in order), the rejected list, what waits, what is unverified. */
function canonical(d: DerivedContract): string {
	return JSON.stringify(d, (_k, v: unknown) => (v instanceof Map ? { map: [...v] } : v instanceof Set ? { set: [...v] } : v));
}

async function replica(contract: string, arrivals: [string, unknown][], batches: number[], options?: { snapshotEvery?: number }): Promise<{ derived: string; refolds: number }> {
	const log = new ContractLog(contract, options);
	let i = 0;
	for (const size of [...batches, arrivals.length]) {
		for (const [key, value] of arrivals.slice(i, i + size)) log.add(key, value);
		i += size;
		await authenticate(log);
		log.derive();
	}
	return { derived: canonical(log.derive()), refolds: log.refolds };
}

describe('replicas with the same final entries derive identical states', () => {
	it('random honest histories, junk under real and fresh keys, random orders and batches', async () => {
		const seen = { junkBeforeReal: 0, refolds: 0, waiting: 0, badSignature: 0, malformed: 0, hashMismatch: 0 };
		const property = fc.asyncProperty(
			fc.array(act, { minLength: 3, maxLength: 28 }),
			fc.array(keyPlan, { minLength: 1, maxLength: 12 }),
			fc.array(fc.record({ kind: fc.nat(9), salt: fc.nat(1000) }), { maxLength: 4 }),
			fc.array(fc.record({ seed: fc.integer(), batches: fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 12 }) }), { minLength: 2, maxLength: 2 }),
			async (acts, fates, extra, orders) => {
				const { contract, events, base } = await history(acts);
				const plans = plan(events, base, fates, extra);
				const finals: [string, unknown][] = [...plans].map(([k, p]) => [k, p.final] as [string, unknown]).sort(([a], [b]) => (a < b ? -1 : 1));
				// The reference: only the final entries, all at once, no snapshots.
				const reference = await replica(contract, finals, [], { snapshotEvery: 0 });
				const a = deliveries(plans, orders[0]!.seed);
				const b = deliveries(plans, orders[1]!.seed);
				// One replica with the default snapshots, one snapshotting at every other position.
				const ra = await replica(contract, a, orders[0]!.batches);
				const rb = await replica(contract, b, orders[1]!.batches, { snapshotEvery: 2 });
				expect(ra.derived).toBe(reference.derived);
				expect(rb.derived).toBe(reference.derived);

				const d = JSON.parse(reference.derived) as { rejected: { code: string }[]; waiting: string[] };
				seen.refolds += ra.refolds + rb.refolds;
				seen.waiting += d.waiting.length;
				for (const r of d.rejected) {
					if (r.code === 'bad-signature') seen.badSignature++;
					if (r.code === 'malformed-json') seen.malformed++;
					if (r.code === 'hash-mismatch') seen.hashMismatch++;
				}
				for (const [key, p] of plans) {
					const i = a.findIndex(([k]) => k === key);
					if (p.before.length && typeof p.final === 'string' && p.final.startsWith('{"id"') && i >= 0 && a[i]![1] !== p.final) seen.junkBeforeReal++;
				}
			}
		);
		// The runs must really exercise what the property is about (a guard against a vacuous property).
		// Some of it is rare (a refold, a hash mismatch: a handful per 80 runs): while it has not been
		// seen often enough, another 80 random runs go on, up to four rounds, so the guard fails only
		// when the arbitraries stopped producing it, not on an unlucky seed. A failing run prints its seed.
		const covered = () => seen.junkBeforeReal > 10 && seen.refolds > 5 && seen.waiting > 0 && seen.badSignature > 0 && seen.malformed > 0 && seen.hashMismatch > 0;
		for (let round = 0; round < 4 && (round === 0 || !covered()); round++)
			await fc.assert(property, {
				numRuns: Number(process.env.SIM_RUNS ?? 80),
				seed: round === 0 && process.env.SEED ? Number(process.env.SEED) : undefined,
				path: round === 0 ? process.env.SEED_PATH : undefined
			});
		expect(seen.junkBeforeReal).toBeGreaterThan(10);
		expect(seen.refolds).toBeGreaterThan(5);
		expect(seen.waiting).toBeGreaterThan(0);
		expect(seen.badSignature).toBeGreaterThan(0);
		expect(seen.malformed).toBeGreaterThan(0);
		expect(seen.hashMismatch).toBeGreaterThan(0);
	}, 300_000);
});
