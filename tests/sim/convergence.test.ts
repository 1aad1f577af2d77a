/**
 * Deterministic simulation, TigerBeetle-style: random histories from three devices (two devices of
 * the client sharing one key, and the freelancer) acting through the mock provider while partitioned,
 * mixed with invalid and forged events (wrong key, tampered bodies, role violations, provider-signed
 * receipts that break the rules, garbage). Every envelope is then delivered to three fresh replicas
 * in random orders, in random batches, with duplicates. After every batch the ledger invariants hold;
 * at the end all replicas derive the identical state.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBody, encodeEnvelope, signingBytes } from '../../src/lib/contract/envelope';
import { assertContractInvariants } from '../../src/lib/contract/fold';
import { ContractLog } from '../../src/lib/contract/log';
import { compose } from '../../src/lib/contract/compose';
import { signEventSync } from '../../src/lib/identity/sign-event';
import { DEFAULT_CLOCKS, type EventType, type Payload } from '../../src/lib/contract/schema';
import { DAY_MS, escrowOf, milestone, type ContractState } from '../../src/lib/contract/state';
import { EscrowError } from '../../src/lib/escrow/adapter';
import { MockEscrowProvider, TEST_MODE_KEY } from '../../src/lib/escrow/mock';
import { authenticate } from '../../src/lib/identity/authenticate';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import { ActionRefused, Party } from '../../src/lib/sync/party';
import { mulberry32 } from '../support/random';
import { CLIENT, FREELANCER, STRANGER, T0 } from '../support/world';

const MILESTONES = ['m1', 'm2', 'm3'] as const;
type Device = 'clientA' | 'clientB' | 'freelancer';
const DEVICES: Device[] = ['clientA', 'clientB', 'freelancer'];

type Step =
	| { kind: 'act'; device: Device; action: number; m: number; pct: number }
	| { kind: 'sync'; from: Device; to: Device }
	| { kind: 'tick'; days: number }
	| { kind: 'forge'; variant: number; pick: number; pct: number };

const step: fc.Arbitrary<Step> = fc.oneof(
	{ weight: 8, arbitrary: fc.record({ kind: fc.constant('act' as const), device: fc.constantFrom(...DEVICES), action: fc.nat(7), m: fc.nat(2), pct: fc.integer({ min: 1, max: 100 }) }) },
	{ weight: 4, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: fc.constantFrom(...DEVICES), to: fc.constantFrom(...DEVICES) }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), days: fc.integer({ min: 0, max: 16 }) }) },
	{ weight: 2, arbitrary: fc.record({ kind: fc.constant('forge' as const), variant: fc.nat(5), pick: fc.nat(1000), pct: fc.integer({ min: 1, max: 150 }) }) }
);

class Sim {
	now = T0;
	/** Derived from the proposal in setup(). */
	contract = '';
	readonly provider = new MockEscrowProvider({ now: () => this.now });
	devices!: Record<Device, Party>;
	/** Every envelope ever written anywhere, under one key each (as a Yjs map would hold it). */
	readonly pool = new Map<string, string>();
	private serial = 0;

	async setup(): Promise<void> {
		const info = await this.provider.info();
		const sink = (id: string, env: string) => void this.pool.set(id, env);
		const { party: clientA, proposal } = await Party.propose(CLIENT, this.provider, {
			role: 'client',
			name: 'Ada',
			terms: {
				title: 'Sim',
				scope: '',
				currency: 'USD',
				milestones: MILESTONES.map((id, i) => ({ id, title: id, amount: 10_000 * (i + 1), revisionCap: 1 })),
				provider: { id: 'mock', publicKey: info.publicKey, testMode: true },
				...DEFAULT_CLOCKS
			}
		}, sink, () => this.now);
		this.contract = clientA.log.contract;
		const party = (key: DeviceKey) => new Party(key, new ContractLog(this.contract), this.provider, sink, () => this.now);
		const clientB = party(CLIENT);
		const freelancer = party(FREELANCER);
		this.devices = { clientA, clientB, freelancer };
		await freelancer.receive(clientA.log.envelopes());
		const acceptance = await freelancer.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
		await clientA.receive(freelancer.log.envelopes());
		await clientA.countersign(acceptance.id);
		for (const d of [clientB, freelancer]) await d.receive(clientA.log.envelopes());
	}

	async run(s: Step): Promise<void> {
		if (s.kind === 'tick') this.now += s.days * DAY_MS;
		else if (s.kind === 'sync') await this.devices[s.to].receive(this.devices[s.from].log.envelopes());
		else if (s.kind === 'act') await this.act(s);
		else this.forge(s);
	}

	private async act(s: Extract<Step, { kind: 'act' }>): Promise<void> {
		const d = this.devices[s.device];
		const st = d.derived().state;
		// Mostly act on a milestone that has money in it, where the interesting rules are.
		const funded = MILESTONES.filter((id) => escrowOf(milestone(st, id)!) > 0);
		const m = milestone(st, s.pct > 30 && funded.length ? funded[s.m % funded.length]! : MILESTONES[s.m]!)!;
		const part = (n: number) => Math.max(1, Math.floor((n * s.pct) / 100));
		const held = escrowOf(m);
		try {
			if (s.device === 'freelancer') {
				switch (s.action) {
					case 0:
					case 1: {
						const sub = await d.act('milestone.submitted', { milestone: m.id, message: 'done', links: [] });
						await d.attest(sub.id);
						break;
					}
					case 2:
						if (m.submission) await d.settle('milestone.autoRelease', { milestone: m.id, submission: m.submission.id });
						break;
					case 3:
					case 4: {
						const open = [...st.refundRequests.values()].find((r) => r.status === 'open');
						if (open) await d.act(s.action === 3 ? 'refund.approved' : 'refund.disputed', s.action === 3 ? { request: open.id } : ({ request: open.id, reason: 'no' } as never));
						break;
					}
					case 5:
						await d.settle('milestone.refund', { milestone: m.id, amount: part(held), currency: 'USD', basis: 'freelancer' });
						break;
					case 6: {
						const owned = st.ledger.balance('freelancer:available') + st.ledger.balance('freelancer:pending');
						await d.settle('withdrawal.requested', { amount: part(owned), currency: 'USD', method: 'bank' });
						break;
					}
					default:
						await d.act('message.posted', { text: `f${this.serial++}` });
				}
			} else {
				switch (s.action) {
					case 0:
					case 1:
						await d.settle('milestone.fund', { milestone: m.id, amount: m.amount - (m.funded - m.refunded), currency: 'USD', method: 'card' });
						break;
					case 2:
					case 3:
						await d.settle('milestone.release', { milestone: m.id, amount: s.pct > 50 ? held : part(held), currency: 'USD', method: 'card' });
						break;
					case 4:
						await d.act('milestone.changesRequested', { milestone: m.id, reason: 'again' });
						break;
					case 5: {
						const req = await d.act('refund.requested', { milestone: m.id, amount: part(held), currency: 'USD', reason: 'less' });
						await d.attest(req.id);
						break;
					}
					case 6: {
						const r = [...st.refundRequests.values()].find((x) => x.status === 'approved' || x.status === 'open');
						if (r)
							await d.settle('milestone.refund', { milestone: r.milestone, amount: r.amount, currency: 'USD', basis: r.status === 'approved' ? 'approved-request' : 'unanswered-request', request: r.id });
						break;
					}
					default:
						await d.act('message.posted', { text: `c${this.serial++}` });
				}
			}
		} catch (e) {
			// A device refusing itself or the provider refusing is part of the simulation; anything else is a bug.
			if (!(e instanceof ActionRefused) && !(e instanceof EscrowError)) throw e;
		}
	}

	private sign<T extends EventType>(author: DeviceKey, type: T, payload: Payload<T>, signer = author, deps?: string[]): [string, string] {
		const log = this.devices.freelancer.log;
		const { id, body } = encodeBody({ contract: this.contract, author: author.publicKey, prev: type.startsWith('receipt.') ? null : log.lastOf(author.publicKey), deps: deps ?? log.heads(), at: this.now, type, payload });
		return [id, encodeEnvelope(id, body, signSync(signer, signingBytes(id)))];
	}

	private forge(s: Extract<Step, { kind: 'forge' }>): void {
		const all = [...this.pool];
		const target = all[s.pick % Math.max(1, all.length)];
		const intents = [...this.devices.freelancer.derived().state.intents.keys()];
		const intent = intents[s.pick % Math.max(1, intents.length)];
		const m = MILESTONES[s.pick % 3]!;
		let out: [string, string] | undefined;
		switch (s.variant) {
			case 0: // signed with the wrong key
				out = this.sign(CLIENT, 'message.posted', { text: 'forged' }, STRANGER);
				break;
			case 1: // tampered body under a fresh key
				if (target && target[1].startsWith('{"id":"')) {
					const e = JSON.parse(target[1]) as { body: string };
					out = [`tampered-${this.serial++}`, JSON.stringify({ ...e, body: e.body.replace(/"at":\d/, '"at":9') })];
				}
				break;
			case 2: // a validly signed role violation, bypassing the device's own check
				out = this.sign(FREELANCER, 'milestone.release', { milestone: m, amount: 1_000 * s.pct, currency: 'USD', method: 'card' });
				break;
			case 3: // a provider-signed receipt that breaks the rules (the TEST MODE key is public)
				if (intent)
					out = this.sign(TEST_MODE_KEY, 'receipt.released', { intent, milestone: m, amount: 1_000 * s.pct, currency: 'USD', auto: s.pct % 2 === 0 }, TEST_MODE_KEY, [intent]);
				break;
			case 4: // a stranger's validly signed event
				out = this.sign(STRANGER, 'milestone.fund', { milestone: m, amount: 10_000, currency: 'USD', method: 'card' });
				break;
			default:
				out = [`garbage-${this.serial++}`, '{"id":' + 'x'.repeat(s.pct)];
		}
		if (out) this.pool.set(out[0], out[1]);
	}
}

/** Everything a page could show, in a comparable form. */
function summary(s: ContractState, rejected: { id: string; code: string }[]) {
	return JSON.stringify({
		status: s.status,
		applied: s.applied.map((e) => e.id),
		rejected: rejected.map((r) => `${r.id}:${r.code}`).sort(),
		balances: [...s.ledger.balances].sort(),
		milestones: s.milestones,
		intents: [...s.intents.values()].map((i) => [i.id, i.settledBy ?? null]).sort(),
		providerNow: s.providerNow
	});
}

async function replay(contract: string, deliveries: [string, string][], batches: number[]): Promise<string> {
	const log = new ContractLog(contract);
	let i = 0;
	for (const size of batches) {
		for (const [id, env] of deliveries.slice(i, i + size)) log.add(id, env);
		i += size;
		await authenticate(log);
		assertContractInvariants(log.derive().state);
	}
	for (const [id, env] of deliveries.slice(i)) log.add(id, env);
	await authenticate(log);
	const d = log.derive();
	assertContractInvariants(d.state);
	return summary(d.state, d.rejected);
}

/** The pool shuffled (Fisher–Yates), with `dups` random entries delivered twice. */
function deliveryOrder<T>(pool: T[], seed: number, dups: number): T[] {
	const rnd = mulberry32(seed);
	const out = [...pool];
	for (let i = 0; i < dups && pool.length; i++) out.push(pool[Math.floor(rnd() * pool.length)]!);
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(rnd() * (i + 1));
		[out[i], out[j]] = [out[j]!, out[i]!];
	}
	return out;
}

describe('simulation: three replicas converge and the ledger holds', () => {
	it('random histories with forgeries, in random orders with duplicates', async () => {
		const seen = { releases: 0, refunds: 0, refused: new Set<string>() };
		await fc.assert(
			fc.asyncProperty(
				fc.array(step, { minLength: 20, maxLength: 80 }),
				fc.array(fc.record({ seed: fc.integer(), dups: fc.nat(30), batches: fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 20 }) }), { minLength: 3, maxLength: 3 }),
				async (steps, orders) => {
					const sim = new Sim();
					await sim.setup();
					for (const s of steps) {
						await sim.run(s);
						for (const d of DEVICES) assertContractInvariants(sim.devices[d].derived().state);
					}
					const pool = [...sim.pool];
					const results: string[] = [];
					for (const o of orders) results.push(await replay(sim.contract, deliveryOrder(pool, o.seed, o.dups), o.batches));
					expect(results[1]).toBe(results[0]);
					expect(results[2]).toBe(results[0]);
					// And the same as delivering everything at once in the order it was written.
					expect(await replay(sim.contract, pool, [])).toBe(results[0]);
					const final = JSON.parse(results[0]!) as { rejected: string[]; milestones: { released: number; refunded: number }[] };
					seen.releases += final.milestones.filter((m) => m.released > 0).length;
					seen.refunds += final.milestones.filter((m) => m.refunded > 0).length;
					for (const r of final.rejected) seen.refused.add(r.split(':')[1]!);
				}
			),
			{ numRuns: Number(process.env.SIM_RUNS ?? 100) }
		);
		// The histories really exercised the flows and the refusals (a guard against a vacuous property).
		expect(seen.releases).toBeGreaterThan(5);
		expect(seen.refunds).toBeGreaterThan(0);
		expect([...seen.refused]).toEqual(expect.arrayContaining(['bad-signature', 'hash-mismatch', 'malformed-json', 'wrong-role', 'not-party']));
	});
});

describe('two offline devices of the client', () => {
	it('releasing the same milestone settles once', async () => {
		const sim = new Sim();
		await sim.setup();
		const { clientA, clientB, freelancer } = sim.devices;
		await clientA.settle('milestone.fund', { milestone: 'm1', amount: 10_000, currency: 'USD', method: 'card' });
		await freelancer.receive(clientA.log.envelopes());
		const sub = await freelancer.act('milestone.submitted', { milestone: 'm1', message: 'done', links: [] });
		await freelancer.attest(sub.id);
		for (const d of [clientA, clientB]) await d.receive(freelancer.log.envelopes());
		const twin = new Party(CLIENT, new ContractLog(sim.contract), sim.provider, undefined, () => sim.now);
		await twin.receive(clientB.log.envelopes());
		// Both devices are offline from each other and both click Release Payment, a moment apart.
		const first = await clientA.settle('milestone.release', { milestone: 'm1', amount: 10_000, currency: 'USD', method: 'card' });
		// The very same click on a third device (same second, same state) is the very same intent: one receipt.
		const same = await twin.settle('milestone.release', { milestone: 'm1', amount: 10_000, currency: 'USD', method: 'card' });
		expect(same.receipt.id).toBe(first.receipt.id);
		sim.now += 60_000;
		await expect(clientB.settle('milestone.release', { milestone: 'm1', amount: 10_000, currency: 'USD', method: 'card' })).rejects.toMatchObject({ code: 'unfunded' });
		// Back online: every device agrees it was released once.
		for (const to of [clientA, clientB, freelancer]) for (const from of [clientA, clientB, freelancer]) await to.receive(from.log.envelopes());
		for (const d of [clientA, clientB, freelancer]) {
			const s = d.derived().state;
			expect(milestone(s, 'm1')!.released).toBe(10_000);
			expect(s.ledger.balance('freelancer:pending')).toBe(10_000);
			expect(s.ledger.transfers.filter((t) => t.kind === 'release')).toHaveLength(1);
		}
	});

	it('even if a provider signed both releases, the fold settles only one', async () => {
		const sim = new Sim();
		await sim.setup();
		const { clientA, clientB } = sim.devices;
		await clientA.settle('milestone.fund', { milestone: 'm2', amount: 20_000, currency: 'USD', method: 'card' });
		await clientB.receive(clientA.log.envelopes());
		sim.now += 60_000;
		const a = await clientA.settle('milestone.release', { milestone: 'm2', amount: 20_000, currency: 'USD', method: 'card' });
		sim.now += 60_000;
		// A buggy provider that signs a second release for clientB's own intent (the TEST MODE key is public).
		const intent = signEventSync(CLIENT, compose(clientB.log, CLIENT.publicKey, 'milestone.release', { milestone: 'm2', amount: 20_000, currency: 'USD', method: 'card' }, sim.now));
		const receipt = signEventSync(TEST_MODE_KEY, { contract: sim.contract, author: TEST_MODE_KEY.publicKey, prev: null, deps: [intent.id], at: sim.now, type: 'receipt.released', payload: { intent: intent.id, milestone: 'm2', amount: 20_000, currency: 'USD', auto: false } });
		const b = { receipt };
		await clientB.receive([[intent.id, intent.envelope], [receipt.id, receipt.envelope]]);
		await clientA.receive(clientB.log.envelopes());
		const d = clientA.derived();
		expect(milestone(d.state, 'm2')!.released).toBe(20_000);
		const refused = d.rejected.find((r) => r.id === b.receipt.id || r.id === a.receipt.id);
		expect(refused?.code).toBe('unfunded');
	});
});
