/**
 * Deterministic simulation, TigerBeetle-style. Three devices — two of the client (one key, each with
 * its own outbox storage) and the freelancer — act on one contract through one mock provider while
 * partitioned, in named steps (fund, submit, requestChanges, release, autoRelease, requestRefund,
 * answerRefund, refund, withdraw, endProposed/endAccepted, endAlone, amend/acceptChange (a milestone's amount
 * changed by agreement), message, sync, pull, open, tick, crash,
 * resume, outage, and the hostile kinds below), so a counterexample reads as a story. A history is
 * single steps and short episodes (a review window running out, a refund request answered or not,
 * money maturing and withdrawn, …) woven together at random. Devices write while partitioned; a
 * device about to pay first syncs with the shared map (see `Sim.paying` and KNOWN_LIMITS).
 *
 * A hostile actor joins in:
 * - a stranger holding the link grinds acceptances (the lowest id of many tries) and hangs them at
 *   random levels, before and after the binding;
 * - the proposer equivocates: a second countersign on a fork of its chain, naming a stranger's
 *   acceptance, which the stranger asks the provider to record;
 * - omission: the freelancer claims an auto-release sending the provider a log without the client's
 *   change and refund requests; the client claims an unanswered refund sending a log without the
 *   freelancer's answer. Each claim also goes to a provider without memory (a fresh mock), which
 *   shows whether the omission hid anything; the real one keeps its record and must judge as the
 *   replicas do;
 * - junk in the shared map under real and fresh keys: non-JSON, altered bodies, missing and forged
 *   signatures, receipts not signed by the contract's provider, role violations, strangers' events,
 *   another contract's events;
 * - concurrent money requests: both client devices release or refund the same escrow at the same
 *   moment (Promise.all);
 * - a crash between the provider's answer and the write: the provider executes, the answer is lost,
 *   the device dies and a new Party opens over its persisted log and outbox storage, and resumes.
 * Every provider call judged on a clock (auto-release, unanswered refund) is checked when it is made:
 * if the rule every replica applies refuses it on the provider's record (everything written so far),
 * the provider must refuse it too.
 *
 * After healing (every device has every envelope, opened the contract — recorded what it had to and
 * taken in the provider's record — and resumed its outbox), an auditor checks the fold against the
 * provider's own books (MockEscrowProvider.statement) and every receipt it handed out: counters
 * equal, nothing settled twice, nothing paid out beyond what was funded, every money receipt applied
 * exactly once, every intent in the log executed (a refused one leaves no trace), parties and terms
 * as bound. Every money receipt gets the same verdict in the healed fold as in the fold of its own
 * causal past (all its provider could know): no concurrent event decides it by sorting first.
 * Fresh replicas fed everything ever written, in random orders and batches with
 * duplicates, derive the identical state, and so does every device.
 *
 * Seeds: SIM_SEED (else random) and SIM_PATH replay a failure exactly (the report prints the line);
 * SIM_RUNS raises the run count; SIM_DEBUG=1 adds the provider's books after each step to the story.
 * Determinism: the proposal's nonce comes from the inputs, the clock is simulated, and concurrent
 * steps run with the synchronous signature backend, so their interleaving is the same on every replay.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compose } from '../../src/lib/contract/compose';
import { encodeBody, encodeEnvelope, signingBytes, withDerivedContract, type Draft } from '../../src/lib/contract/envelope';
import { endProposalFor } from '../../src/lib/contract/ending';
import { equivocations } from '../../src/lib/contract/equivocation';
import { applyEvent, assertContractInvariants, check } from '../../src/lib/contract/fold';
import { ContractLog } from '../../src/lib/contract/log';
import { unansweredRefundRefusal } from '../../src/lib/contract/refund';
import type { Rejection } from '../../src/lib/contract/rejections';
import { autoReleaseRefusal } from '../../src/lib/contract/release';
import { DEFAULT_CLOCKS, type EventType, type Payload, type Terms } from '../../src/lib/contract/schema';
import { DAY_MS, emptyState, escrowOf, milestone, outstandingOf, type ContractState, type Ev, type MilestoneState } from '../../src/lib/contract/state';
import { EscrowError, type EscrowRequest, type Receipt } from '../../src/lib/escrow/adapter';
import { MockEscrowProvider, TEST_MODE_KEY } from '../../src/lib/escrow/mock';
import { idOf } from '../../src/lib/escrow/provider-core';
import { linksOf } from '../../src/lib/escrow/record';
import { authenticate } from '../../src/lib/identity/authenticate';
import { setBackend, signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import { signEventSync, type SignedEvent } from '../../src/lib/identity/sign-event';
import { MemoryOutboxStorage } from '../../src/lib/sync/outbox';
import { MemoryContract } from '../../src/lib/sync/memory-contract';
import { ActionRefused, Party, PendingIntent } from '../../src/lib/sync/party';
import { Answers, RecordingEscrow, audit, bindingOf, checkReplayable, deliveryOrder, replica, summary, type MoneyCall } from '../support/sim';
import { mulberry32 } from '../support/random';
import { CLIENT, FREELANCER, PROVIDER, STRANGER, T0, World, terms } from '../support/world';

const FILE = 'tests/sim/convergence.test.ts';
/**
 * SIM_KNOWN_LIMITS=1 also walks into the fold's known order-dependent limitations, which
 * tests/sim/outbox.test.ts keeps out on purpose ("Kept out on purpose"): devices pay on a stale view,
 * fund a milestone again after a refund, and refund all of an escrow (after which a funding intent
 * left pending since before becomes executable). By default the simulation keeps them out the same way.
 */
const KNOWN_LIMITS = process.env.SIM_KNOWN_LIMITS === '1';
const RUNS = 150;
/** Room for shrinking a failure; SIM_RUNS beyond a few thousand needs more. */
const TIME_LIMIT_MS = Math.max(120_000, Number(process.env.SIM_RUNS ?? RUNS) * 400);
const MILESTONES = [
	{ id: 'm1', title: 'One', amount: 10_000, revisionCap: 1 },
	{ id: 'm2', title: 'Two', amount: 20_000, revisionCap: 1 },
	{ id: 'm3', title: 'Three', amount: 30_000, revisionCap: 2 }
];
const MILESTONE_IDS = ['m1', 'm2', 'm3'] as const;
type MilestoneId = (typeof MILESTONE_IDS)[number];
type ClientName = 'clientA' | 'clientB';
type DeviceName = ClientName | 'freelancer';
const CLIENTS: ClientName[] = ['clientA', 'clientB'];
const DEVICES: DeviceName[] = ['clientA', 'clientB', 'freelancer'];
const JUNK = [
	'malformed',
	'junkOverReal',
	'tampered',
	'unsigned',
	'forgedSignature',
	'forgedOverReal',
	'notTheProvider',
	'fakeProviderSignature',
	'wrongRole',
	'stranger',
	'otherContract'
] as const;
type JunkKind = (typeof JUNK)[number];
type RaceOp = { op: 'release' | 'refund'; pct: number };

type Step =
	| { kind: 'fund'; device: ClientName; milestone: MilestoneId }
	| { kind: 'submit'; milestone: MilestoneId }
	| { kind: 'requestChanges'; device: ClientName; milestone: MilestoneId }
	| { kind: 'release'; device: ClientName; milestone: MilestoneId; pct: number }
	| { kind: 'autoRelease'; milestone: MilestoneId }
	| { kind: 'requestRefund'; device: ClientName; milestone: MilestoneId; pct: number }
	| { kind: 'answerRefund'; approve: boolean }
	| { kind: 'refund'; device: DeviceName; milestone: MilestoneId; pct: number }
	| { kind: 'withdraw'; pct: number }
	| { kind: 'endProposed'; device: DeviceName }
	| { kind: 'endAccepted'; device: DeviceName }
	| { kind: 'endAlone'; device: DeviceName }
	| { kind: 'amend'; device: DeviceName; milestone: MilestoneId; pct: number }
	| { kind: 'acceptChange'; device: DeviceName }
	| { kind: 'message'; device: DeviceName }
	| { kind: 'sync'; from: DeviceName; to: DeviceName }
	| { kind: 'pull'; device: DeviceName }
	| { kind: 'open'; device: DeviceName }
	| { kind: 'tick'; days: number }
	| { kind: 'crash'; device: DeviceName }
	| { kind: 'resume'; device: DeviceName }
	| { kind: 'outage' }
	| { kind: 'groundAcceptance'; hang: number; tries: number }
	| { kind: 'equivocate'; hang: number }
	| { kind: 'omitChangeRequest'; milestone: MilestoneId }
	| { kind: 'omitRefundAnswer' }
	| { kind: 'junk'; junk: JunkKind; pick: number; salt: number }
	| { kind: 'race'; milestone: MilestoneId; a: RaceOp; b: RaceOp; synced: boolean };

// —— generators ————————————————————————————————————————————————————————————————————————

const client = fc.constantFrom<ClientName>(...CLIENTS);
const device = fc.constantFrom<DeviceName>(...DEVICES);
const ms = fc.constantFrom<MilestoneId>(...MILESTONE_IDS);
/** Often everything, otherwise a part. */
const pct = fc.oneof(fc.constant(100), fc.integer({ min: 1, max: 99 }));
const k = <K extends Step['kind']>(kind: K) => fc.constant(kind);
const raceOp = fc.record({ op: fc.constantFrom<RaceOp['op']>('release', 'refund'), pct });
/** A new amount as a percentage of the current one: lower or higher. */
const amendPct = fc.integer({ min: 50, max: 150 });

const step: fc.Arbitrary<Step> = fc.oneof(
	{ weight: 5, arbitrary: fc.record({ kind: k('fund'), device: client, milestone: ms }) },
	{ weight: 4, arbitrary: fc.record({ kind: k('submit'), milestone: ms }) },
	{ weight: 2, arbitrary: fc.record({ kind: k('requestChanges'), device: client, milestone: ms }) },
	{ weight: 4, arbitrary: fc.record({ kind: k('release'), device: client, milestone: ms, pct }) },
	{ weight: 2, arbitrary: fc.record({ kind: k('autoRelease'), milestone: ms }) },
	{ weight: 2, arbitrary: fc.record({ kind: k('requestRefund'), device: client, milestone: ms, pct }) },
	{ weight: 2, arbitrary: fc.record({ kind: k('answerRefund'), approve: fc.boolean() }) },
	{ weight: 3, arbitrary: fc.record({ kind: k('refund'), device, milestone: ms, pct }) },
	{ weight: 2, arbitrary: fc.record({ kind: k('withdraw'), pct }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('endProposed'), device }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('endAccepted'), device }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('endAlone'), device }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('amend'), device, milestone: ms, pct: amendPct }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('acceptChange'), device }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('message'), device }) },
	{ weight: 5, arbitrary: fc.record({ kind: k('sync'), from: device, to: device }) },
	{ weight: 2, arbitrary: fc.record({ kind: k('pull'), device }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('open'), device }) },
	{ weight: 4, arbitrary: fc.record({ kind: k('tick'), days: fc.integer({ min: 0, max: 8 }) }) },
	{ weight: 2, arbitrary: fc.record({ kind: k('crash'), device }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('resume'), device }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('outage') }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('groundAcceptance'), hang: fc.nat(1000), tries: fc.integer({ min: 1, max: 24 }) }) },
	{ weight: 1, arbitrary: fc.record({ kind: k('equivocate'), hang: fc.nat(1000) }) },
	{ weight: 2, arbitrary: fc.record({ kind: k('omitChangeRequest'), milestone: ms }) },
	{ weight: 2, arbitrary: fc.record({ kind: k('omitRefundAnswer') }) },
	{ weight: 4, arbitrary: fc.record({ kind: k('junk'), junk: fc.constantFrom<JunkKind>(...JUNK), pick: fc.nat(1000), salt: fc.nat(1000) }) },
	{ weight: 2, arbitrary: fc.record({ kind: k('race'), milestone: ms, a: raceOp, b: raceOp, synced: fc.boolean() }) }
);

/**
 * Episodes: short stories that reach the interesting rules (a review window that runs out, a refund
 * request answered or not, money that matures and is withdrawn, an omission with something to omit).
 * A history is several episodes and single steps woven together at random, so they interleave.
 */
const days = fc.integer({ min: 4, max: 8 });
const episode: fc.Arbitrary<Step[]> = fc.oneof(
	fc.tuple(client, ms, pct).map(([c, m, p]): Step[] => [
		{ kind: 'fund', device: c, milestone: m },
		{ kind: 'sync', from: c, to: 'freelancer' },
		{ kind: 'submit', milestone: m },
		{ kind: 'sync', from: 'freelancer', to: c },
		{ kind: 'release', device: c, milestone: m, pct: p }
	]),
	fc.tuple(client, ms, days, days, days).map(([c, m, d1, d2, d3]): Step[] => [
		{ kind: 'fund', device: c, milestone: m },
		{ kind: 'pull', device: 'freelancer' },
		{ kind: 'submit', milestone: m },
		{ kind: 'tick', days: d1 },
		{ kind: 'tick', days: d2 },
		{ kind: 'tick', days: d3 },
		{ kind: 'autoRelease', milestone: m }
	]),
	fc.tuple(client, ms, pct, fc.boolean(), days).map(([c, m, p, approve, d]): Step[] => [
		{ kind: 'fund', device: c, milestone: m },
		{ kind: 'requestRefund', device: c, milestone: m, pct: p },
		{ kind: 'pull', device: 'freelancer' },
		{ kind: 'answerRefund', approve },
		{ kind: 'tick', days: d },
		{ kind: 'pull', device: c },
		{ kind: 'refund', device: c, milestone: m, pct: p }
	]),
	fc.tuple(client, ms, pct, days, days).map(([c, m, p, d1, d2]): Step[] => [
		{ kind: 'fund', device: c, milestone: m },
		{ kind: 'requestRefund', device: c, milestone: m, pct: p },
		{ kind: 'tick', days: d1 },
		{ kind: 'tick', days: d2 },
		{ kind: 'refund', device: c, milestone: m, pct: p }
	]),
	fc.tuple(client, ms, fc.boolean(), days, days).map(([c, m, refundRequest, d1, d2]): Step[] => [
		{ kind: 'fund', device: c, milestone: m },
		{ kind: 'pull', device: 'freelancer' },
		{ kind: 'submit', milestone: m },
		{ kind: 'pull', device: c },
		refundRequest ? { kind: 'requestRefund', device: c, milestone: m, pct: 50 } : { kind: 'requestChanges', device: c, milestone: m },
		{ kind: 'tick', days: d1 },
		{ kind: 'tick', days: d2 },
		{ kind: 'omitChangeRequest', milestone: m }
	]),
	fc.tuple(client, ms, pct, fc.boolean(), days, days).map(([c, m, p, approve, d1, d2]): Step[] => [
		{ kind: 'fund', device: c, milestone: m },
		{ kind: 'requestRefund', device: c, milestone: m, pct: p },
		{ kind: 'pull', device: 'freelancer' },
		{ kind: 'answerRefund', approve },
		{ kind: 'tick', days: d1 },
		{ kind: 'tick', days: d2 },
		{ kind: 'omitRefundAnswer' },
		// Then the client's own device takes what it is owed, honestly.
		{ kind: 'refund', device: c, milestone: m, pct: p }
	]),
	fc.tuple(client, ms, pct, days).map(([c, m, p, d]): Step[] => [
		{ kind: 'fund', device: c, milestone: m },
		{ kind: 'release', device: c, milestone: m, pct: 100 },
		{ kind: 'tick', days: d },
		{ kind: 'pull', device: 'freelancer' },
		{ kind: 'withdraw', pct: p }
	]),
	fc.tuple(device, ms, pct).map(([d, m, p]): Step[] => [
		{ kind: 'crash', device: d },
		d === 'freelancer' ? { kind: 'refund', device: d, milestone: m, pct: p } : { kind: 'release', device: d, milestone: m, pct: p }
	]),
	fc.tuple(ms, raceOp, raceOp, fc.boolean()).map(([m, a, b, synced]): Step[] => [
		{ kind: 'fund', device: 'clientA', milestone: m },
		{ kind: 'pull', device: 'clientB' },
		{ kind: 'race', milestone: m, a, b, synced }
	]),
	fc.tuple(device, device, client, ms, pct).map(([d1, d2, c, m, p]): Step[] => [
		{ kind: 'endProposed', device: d1 },
		{ kind: 'pull', device: d2 },
		{ kind: 'endAccepted', device: d2 },
		{ kind: 'pull', device: c },
		{ kind: 'refund', device: c, milestone: m, pct: p }
	]),
	// The freelancer ends alone (nothing held on its view) while the client funds; the client takes it back.
	fc.tuple(client, ms, pct).map(([c, m, p]): Step[] => [
		{ kind: 'fund', device: c, milestone: m },
		{ kind: 'endAlone', device: 'freelancer' },
		{ kind: 'pull', device: c },
		{ kind: 'pull', device: 'freelancer' },
		{ kind: 'refund', device: c, milestone: m, pct: p }
	]),
	// A milestone's amount changed by agreement while the client funds it, each side not seeing the other.
	fc.tuple(device, device, client, ms, amendPct).map(([d1, d2, c, m, p]): Step[] => [
		{ kind: 'amend', device: d1, milestone: m, pct: p },
		{ kind: 'pull', device: d2 },
		{ kind: 'fund', device: c, milestone: m },
		{ kind: 'acceptChange', device: d2 },
		{ kind: 'pull', device: c }
	])
);

const chunk: fc.Arbitrary<Step[]> = fc.oneof({ weight: 3, arbitrary: step.map((s) => [s]) }, { weight: 1, arbitrary: episode });

/** Chunks woven together: each keeps its order, and a seeded draw picks whose step comes next. */
function weave(chunks: Step[][], seed: number): Step[] {
	const rnd = mulberry32(seed);
	const queues = chunks.map((c) => [...c]);
	const out: Step[] = [];
	for (let left = queues.reduce((n, q) => n + q.length, 0); left > 0; left--) {
		let r = Math.floor(rnd() * left);
		const q = queues.find((x) => (r -= x.length) < 0)!;
		out.push(q.shift()!);
	}
	return out;
}

const history = fc.record({ chunks: fc.array(chunk, { minLength: 12, maxLength: 36, size: 'max' }), weave: fc.integer() }).map(({ chunks, weave: w }) => weave(chunks, w));

/** The world before the first step: a proposal nonce, strangers' acceptances, an early equivocation. */
const setupPlan = fc.record({ nonce: fc.nat(), groundBefore: fc.nat(3), grind: fc.integer({ min: 1, max: 24 }), equivocateBefore: fc.boolean() });
type SetupPlan = { nonce: number; groundBefore: number; grind: number; equivocateBefore: boolean };

const replicaOrders = fc.array(fc.record({ seed: fc.integer(), dups: fc.nat(30), batches: fc.array(fc.integer({ min: 1, max: 16 }), { maxLength: 12 }) }), {
	minLength: 3,
	maxLength: 3
});

/** A step as a line of the story. */
function tell(s: Step): string {
	switch (s.kind) {
		case 'fund':
			return `${s.device} funds ${s.milestone}`;
		case 'submit':
			return `freelancer submits ${s.milestone}`;
		case 'requestChanges':
			return `${s.device} requests changes on ${s.milestone}`;
		case 'release':
			return `${s.device} releases ${s.pct}% of what ${s.milestone} holds`;
		case 'autoRelease':
			return `freelancer claims the auto-release of ${s.milestone}`;
		case 'requestRefund':
			return `${s.device} asks for a refund of ${s.pct}% of what ${s.milestone} holds`;
		case 'answerRefund':
			return `freelancer ${s.approve ? 'approves' : 'disputes'} the open refund request`;
		case 'refund':
			return s.device === 'freelancer' ? `freelancer refunds ${s.pct}% of what ${s.milestone} holds` : `${s.device} takes the refund it is owed on ${s.milestone}`;
		case 'withdraw':
			return `freelancer withdraws ${s.pct}% of its balance`;
		case 'endProposed':
			return `${s.device} proposes to end the contract`;
		case 'endAccepted':
			return `${s.device} accepts ending the contract`;
		case 'endAlone':
			return `${s.device} ends the contract alone`;
		case 'amend':
			return `${s.device} proposes ${s.pct}% of ${s.milestone}'s amount as its new amount`;
		case 'acceptChange':
			return `${s.device} accepts the other party's open milestone change`;
		case 'message':
			return `${s.device} posts a message`;
		case 'sync':
			return `${s.from}'s log reaches ${s.to}`;
		case 'pull':
			return `${s.device} syncs with the shared map, junk and all`;
		case 'open':
			return `${s.device} opens the contract: has the provider record what it wrote, and takes in the provider's record`;
		case 'tick':
			return `${s.days} day(s) pass`;
		case 'crash':
			return `${s.device} will die between the provider's answer and the write on its next payment`;
		case 'resume':
			return `${s.device} resumes its pending payments`;
		case 'outage':
			return `the provider fails its next call before executing it`;
		case 'groundAcceptance':
			return `a stranger grinds ${s.tries} acceptance(s) and hangs the lowest id off event #${s.hang}`;
		case 'equivocate':
			return `the client countersigns a stranger's acceptance on a fork of its chain (hung off event #${s.hang}); the stranger asks the provider to record it`;
		case 'omitChangeRequest':
			return `freelancer claims the auto-release of ${s.milestone} with a log that leaves out the client's change and refund requests`;
		case 'omitRefundAnswer':
			return `client claims an unanswered refund with a log that leaves out the freelancer's answer`;
		case 'junk':
			return `junk in the shared map: ${s.junk} (#${s.pick}, salt ${s.salt})`;
		case 'race':
			return `clientA (${s.a.op} ${s.a.pct}%) and clientB (${s.b.op} ${s.b.pct}%), ${s.synced || !KNOWN_LIMITS ? 'in sync' : 'apart'}, pay out of ${s.milestone} at the same moment`;
	}
}

// —— what the runs exercised ———————————————————————————————————————————————————————————

const seen = {
	runs: 0,
	releases: 0,
	autoReleases: 0,
	refunds: 0,
	unansweredRefunds: 0,
	withdrawals: 0,
	endedByAgreement: 0,
	/** Milestone amounts changed by agreement, and milestones holding more than a lower amount accepted unseen. */
	amountsChanged: 0,
	heldBeyondLowerAmount: 0,
	/** Fold rejections and intake failures, by code. */
	rejected: new Map<string, number>(),
	groundAcceptances: 0,
	groundAcceptancesRefused: 0,
	countersignEquivocationsShown: 0,
	forksShown: 0,
	equivocationsRefusedByProvider: 0,
	omissionAttempts: 0,
	/** The omission hid something: a provider without memory would have paid the claim. */
	omissionWouldPayWithoutRecord: 0,
	omissionsRefused: 0,
	/** The omission hid something, the replicas' rule refuses the claim on the provider's record, and the provider refused it. */
	omissionsCaught: 0,
	omissionsPaid: 0,
	clockClaimsRefusedByRule: 0,
	races: 0,
	raceOneRefused: 0,
	raceSameIntent: 0,
	raceBothPaid: 0,
	crashesAfterExecuting: 0,
	/** Events a device first learnt from the provider's record. */
	fromProviderRecord: 0,
	providerRefusals: new Map<string, number>(),
	deviceRefusals: 0
};
const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

// —— one device ————————————————————————————————————————————————————————————————————————

class Device {
	party!: Party;
	/** Its device-local outbox storage: survives the device's death, like IndexedDB. */
	readonly storage = new MemoryOutboxStorage();
	readonly escrow: RecordingEscrow;

	constructor(
		readonly name: DeviceName,
		readonly key: DeviceKey,
		private readonly sim: Sim
	) {
		this.escrow = new RecordingEscrow(sim.provider, sim.answers, (c, r) => sim.beforeMoney(name, c, r), (c, r, o) => sim.afterMoney(name, c, r, o));
	}

	/** The app opens: a new Party over this device's outbox storage and the log it had persisted. */
	async boot(persisted: Iterable<[string, string]>): Promise<void> {
		this.party = new Party(this.key, new MemoryContract(this.sim.contract, this.sim.sink), this.escrow, this.sim.clock, this.storage);
		await this.party.receive(persisted);
	}

	state(): ContractState {
		return this.party.derived().state;
	}
}

const part = (n: number, pct: number) => Math.max(1, Math.floor((n * pct) / 100));
/** A refund leaves something in escrow, unless SIM_KNOWN_LIMITS (see KNOWN_LIMITS). */
const refundPart = (held: number, pct: number) => (KNOWN_LIMITS ? part(held, pct) : Math.min(part(held, pct), held - 1));
const LEAVE_SOMETHING = 'skipped: a refund leaves something in escrow (see KNOWN_LIMITS)';

/** The refund the client may take on a milestone, as its device sees it. */
function clientRefund(st: ContractState, m: MilestoneState, pct: number): Payload<'milestone.refund'> | undefined {
	// A request for all that is left would empty the escrow (see KNOWN_LIMITS).
	const reqs = [...st.refundRequests.values()].filter((r) => r.milestone === m.id && (KNOWN_LIMITS || r.amount < escrowOf(m)));
	const approved = reqs.find((r) => r.status === 'approved');
	if (approved) return { milestone: m.id, amount: approved.amount, currency: 'USD', basis: 'approved-request', request: approved.id };
	const open = reqs.find((r) => r.status === 'open' && r.attestedAt !== undefined);
	if (open) return { milestone: m.id, amount: open.amount, currency: 'USD', basis: 'unanswered-request', request: open.id };
	const rest = refundPart(escrowOf(m), pct);
	if (st.status === 'ended' && rest >= 1) return { milestone: m.id, amount: rest, currency: 'USD', basis: 'ended-by-agreement' };
	return undefined;
}

function bodyOf(envelope: string): { type: EventType; payload: Record<string, unknown> } | undefined {
	try {
		return JSON.parse((JSON.parse(envelope) as { body: string }).body) as { type: EventType; payload: Record<string, unknown> };
	} catch {
		return undefined;
	}
}

/**
 * "No event that sorts first decides about money", checked: every receipt gets the verdict (applied,
 * or refused with the same code) in the healed fold that it gets in the fold of its own causal past,
 * which is all its provider could have known. Events concurrent with it must not change it. The fold
 * of a causal past is the log's own events in the log's order, folded by the rules with the causal
 * order restricted to that past (what ContractLog does; no signature is checked twice).
 */
function receiptsJudgedOnTheirPast(log: ContractLog, healed: ContractState, contract: string): string[] {
	const events = log.checkpoint().events.map((e) => e.ev);
	const byId = new Map(events.map((e) => [e.id as string, e]));
	const pasts = new Map<string, Set<string>>();
	const pastOf = (id: string): Set<string> => {
		let p = pasts.get(id);
		if (p) return p;
		p = new Set();
		pasts.set(id, p);
		const ev = byId.get(id)!;
		for (const r of ev.prev ? [ev.prev, ...ev.deps] : ev.deps) {
			if (!byId.has(r)) continue;
			p.add(r);
			for (const x of pastOf(r)) p.add(x);
		}
		return p;
	};
	const verdict = (rejected: { id: string; code: string }[], id: string) => rejected.find((r) => r.id === id)?.code ?? 'applied';
	const problems: string[] = [];
	for (const r of events) {
		// Not records yet: a record of a change request whose own check met a concurrent release, or of the
		// second of two concurrent end acceptances, is refused in the healed fold. Known limits.
		if (!r.type.startsWith('receipt.') || r.type === 'receipt.attested') continue;
		const past = pastOf(r.id);
		const s = emptyState(contract);
		const ctx = { reaches: (a: string, b: string) => pastOf(a).has(b) };
		for (const e of events) if (e.id === r.id || past.has(e.id)) applyEvent(s, e, ctx);
		const then = verdict(s.rejected, r.id);
		const now = verdict(healed.rejected, r.id);
		if (then !== now) problems.push(`receipt ${r.id.slice(0, 8)} (${r.type}) was ${then} on its own causal past, ${now} in the healed fold: ${healed.rejected.find((x) => x.id === r.id)?.message ?? s.rejected.find((x) => x.id === r.id)?.message}`);
	}
	return problems;
}

// —— the simulation ————————————————————————————————————————————————————————————————————

class Sim {
	now = T0;
	contract = '';
	proposal = '';
	acceptance = '';
	/** `bindingOf` the state right after the binding: it must never change. */
	bound = '';
	readonly provider = new MockEscrowProvider({ key: PROVIDER, now: () => this.now });
	readonly answers = new Answers();
	/** Every value ever written into the shared map, in order (junk included). */
	readonly deliveries: [string, string][] = [];
	/** Everything written so far, folded: what anyone holding the link knows, and the provider's record. */
	pool!: ContractLog;
	devices!: Record<DeviceName, Device>;
	/** The hostile actor's own line to the provider (a stranger, or a party bypassing its app). */
	attacker!: RecordingEscrow;
	/** Broken promises found while stepping (checked after every step). */
	readonly violations: string[] = [];
	readonly story: string[] = [];
	readonly sink = (id: string, envelope: string) => this.write(id, envelope);
	readonly clock = () => this.now;
	private readonly ground: string[] = [];
	private readonly clockClaims = new Map<string, { refusal: Rejection | null; executedBefore: boolean; type: string }>();
	/** The rule's verdict on the latest clock-judged claim. */
	private lastVerdict?: { event: string; refusal: Rejection | null };
	private serial = 0;

	write(id: string, value: string): void {
		this.deliveries.push([id, value]);
		this.pool.add(id, value);
	}

	async known(): Promise<ContractState> {
		await authenticate(this.pool);
		return this.pool.derive().state;
	}

	private executed(intent: string): boolean {
		return intent in this.provider.statement(this.contract).executed;
	}

	async setup(plan: SetupPlan): Promise<void> {
		const terms: Terms = {
			title: 'Sim',
			scope: '',
			currency: 'USD',
			milestones: MILESTONES,
			provider: { id: 'mock', publicKey: PROVIDER.publicKey, testMode: true },
			...DEFAULT_CLOCKS
		};
		// The proposal's nonce comes from the run's inputs (not crypto.getRandomValues), so the contract id
		// — and with it every event id and the fold order — is the same on every replay.
		const nonce = `n0nce${String(plan.nonce).padStart(17, '0')}`;
		const draft = withDerivedContract<Draft>({ contract: '', author: CLIENT.publicKey, prev: null, deps: [], at: this.now, type: 'contract.proposed', payload: { role: 'client', name: 'Ada', terms, nonce } });
		this.contract = draft.contract;
		this.pool = new ContractLog(this.contract);
		const proposal = signEventSync(CLIENT, draft);
		this.proposal = proposal.id;
		this.devices = { clientA: new Device('clientA', CLIENT, this), clientB: new Device('clientB', CLIENT, this), freelancer: new Device('freelancer', FREELANCER, this) };
		this.attacker = new RecordingEscrow(this.provider, this.answers, (c, r) => this.beforeMoney('attacker', c, r), (c, r, o) => this.afterMoney('attacker', c, r, o));
		for (const d of DEVICES) await this.devices[d].boot([]);
		const { clientA, freelancer } = this.devices;
		await clientA.party.publish([proposal]);
		await freelancer.party.receive(this.deliveries);
		// Strangers holding the link accept too, ground to sort first at their level.
		for (let i = 0; i < plan.groundBefore; i++) await this.groundAcceptance(0, plan.grind);
		const acceptance = await freelancer.party.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
		this.acceptance = acceptance.id;
		await clientA.party.receive(this.deliveries);
		const { recorded } = await clientA.party.countersign(acceptance.id);
		if (!recorded) throw new Error('the provider did not record the countersign');
		if (plan.equivocateBefore) await this.equivocate(0);
		for (const d of DEVICES) await this.devices[d].party.receive(this.deliveries);
		const s = clientA.state();
		expect(s.parties).toEqual({ client: CLIENT.publicKey, freelancer: FREELANCER.publicKey });
		this.bound = bindingOf(s);
	}

	// —— the provider's calls, checked as they are made ——

	/** Before a money call: what the rule every replica applies says of a clock-judged claim, on the provider's record. */
	async beforeMoney(_who: string, _call: MoneyCall, req: EscrowRequest): Promise<void> {
		const envelope = req.log.find((e) => idOf(e) === req.event);
		const body = envelope && bodyOf(envelope);
		if (!body) return;
		const p = body.payload as { milestone?: string; submission?: string; basis?: string; request?: string };
		const auto = body.type === 'milestone.autoRelease';
		if (!auto && !(body.type === 'milestone.refund' && p.basis === 'unanswered-request')) return;
		const s = await this.known();
		const refusal = auto ? autoReleaseRefusal(s, p.milestone!, p.submission!, this.now) : unansweredRefundRefusal(s, p.request!, this.now);
		this.clockClaims.set(req.event, { refusal, executedBefore: this.executed(req.event), type: body.type });
	}

	afterMoney(who: string, _call: MoneyCall, req: EscrowRequest, outcome: Receipt | unknown): void {
		if (outcome instanceof EscrowError && !(outcome instanceof PendingIntent)) bump(seen.providerRefusals, outcome.code);
		const claim = this.clockClaims.get(req.event);
		this.clockClaims.delete(req.event);
		if (claim) this.lastVerdict = { event: req.event, refusal: claim.refusal };
		if (!claim?.refusal || claim.executedBefore) return;
		// Executed now (even if the answer was lost on the way): the provider paid a claim the replicas refuse.
		if (this.executed(req.event))
			this.violations.push(`${who}: the provider executed ${claim.type} ${req.event} although, on its own record at ${new Date(this.now).toISOString()}, the replicas' rule refuses it: ${claim.refusal.message}`);
		else seen.clockClaimsRefusedByRule++;
	}

	// —— steps ——

	async run(s: Step): Promise<string> {
		// A minute between steps: two things happen at the same provider time only when a step says so (a race).
		this.now += 60_000;
		let out = await this.perform(s);
		for (const name of DEVICES) out += await this.recover(this.devices[name]);
		return out;
	}

	/**
	 * A device whose money call executed with the answer lost dies there; a new one opens over its
	 * persisted log and outbox storage and resumes, as the app does when it opens the contract.
	 */
	private async recover(d: Device): Promise<string> {
		if (!d.escrow.crashed) return '';
		d.escrow.crashed = false;
		const pending = (await d.storage.list()).map((x) => x.id);
		if (pending.some((id) => this.executed(id))) seen.crashesAfterExecuting++;
		await d.boot(d.party.log.envelopes());
		const r = await d.party.resume();
		return `; the answer was lost and ${d.name} died: a new ${d.name} opens over its log and its outbox (${pending.length} pending) and resumes: settled ${r.settled.length}, pending ${r.pending.length}, refused ${r.refused.length}`;
	}

	private async perform(s: Step): Promise<string> {
		const d = 'device' in s ? this.devices[s.device] : undefined;
		switch (s.kind) {
			case 'fund': {
				const m = milestone(await this.paying(d!), s.milestone)!;
				if (m.funded > 0 && !KNOWN_LIMITS) return 'skipped: funding again is a known limitation';
				return this.money(d!, () => d!.party.settle('milestone.fund', { milestone: m.id, amount: outstandingOf(m) || m.amount, currency: 'USD', method: 'card' }));
			}
			case 'submit':
				return this.act(this.devices.freelancer, 'milestone.submitted', { milestone: s.milestone, message: 'done', links: [] });
			case 'requestChanges':
				return this.act(d!, 'milestone.changesRequested', { milestone: s.milestone, reason: 'again' });
			case 'release': {
				const m = milestone(await this.paying(d!), s.milestone)!;
				return this.money(d!, () => d!.party.settle('milestone.release', { milestone: m.id, amount: part(escrowOf(m), s.pct), currency: 'USD', method: 'card' }));
			}
			case 'autoRelease': {
				const f = this.devices.freelancer;
				const sub = milestone(await this.paying(f), s.milestone)!.submission;
				if (!sub) return 'skipped: nothing submitted';
				return this.money(f, () => f.party.settle('milestone.autoRelease', { milestone: s.milestone, submission: sub.id }));
			}
			case 'requestRefund': {
				const m = milestone(d!.state(), s.milestone)!;
				const amount = refundPart(escrowOf(m), s.pct);
				if (amount < 1 && escrowOf(m) > 0) return LEAVE_SOMETHING;
				return this.act(d!, 'refund.requested', { milestone: m.id, amount: Math.max(1, amount), currency: 'USD', reason: 'less' });
			}
			case 'answerRefund': {
				const f = this.devices.freelancer;
				const open = [...f.state().refundRequests.values()].find((r) => r.status === 'open');
				if (!open) return 'skipped: no open request';
				return s.approve ? this.act(f, 'refund.approved', { request: open.id }) : this.act(f, 'refund.declined', { request: open.id, reason: 'no' });
			}
			case 'refund': {
				const st = await this.paying(d!);
				const m = milestone(st, s.milestone)!;
				if (s.device === 'freelancer') {
					const amount = refundPart(escrowOf(m), s.pct);
					if (amount < 1 && escrowOf(m) > 0) return LEAVE_SOMETHING;
					return this.money(d!, () => d!.party.settle('milestone.refund', { milestone: m.id, amount: Math.max(1, amount), currency: 'USD', basis: 'freelancer' }));
				}
				const payload = clientRefund(st, m, s.pct);
				if (!payload) return 'skipped: no basis for a refund';
				return this.money(d!, () => d!.party.settle('milestone.refund', payload));
			}
			case 'withdraw': {
				const f = this.devices.freelancer;
				const st = await this.paying(f);
				const owned = st.ledger.balance('freelancer:available') + st.ledger.balance('freelancer:pending');
				return this.money(f, () => f.party.settle('withdrawal.requested', { amount: part(owned, s.pct), currency: 'USD', method: 'bank' }));
			}
			case 'endProposed':
				return this.act(d!, 'contract.endProposed', {});
			case 'endAccepted': {
				const st = d!.state();
				const open = endProposalFor(st, s.device === 'freelancer' ? st.parties.freelancer : st.parties.client);
				if (!open?.theirs) return 'skipped: no proposal to end from the other party';
				return this.act(d!, 'contract.endAccepted', { proposal: open.proposal.id });
			}
			case 'endAlone':
				return this.act(d!, 'contract.ended', {});
			case 'amend': {
				const m = milestone(d!.state(), s.milestone)!;
				return this.act(d!, 'milestone.changeProposed', { change: { kind: 'amend', milestone: m.id, amount: Math.max(1, Math.round((m.amount * s.pct) / 100)) } });
			}
			case 'acceptChange': {
				const st = d!.state();
				const me = s.device === 'freelancer' ? st.parties.freelancer : st.parties.client;
				const open = [...st.changes.values()].find((c) => c.status === 'open' && c.author !== me);
				if (!open) return 'skipped: no change from the other party';
				return this.act(d!, 'milestone.changeAccepted', { proposal: open.id });
			}
			case 'message':
				return this.act(d!, 'message.posted', { text: `note ${this.serial++}` });
			case 'sync':
				await this.devices[s.to].party.receive(this.devices[s.from].party.log.envelopes());
				return 'done';
			case 'pull':
				await d!.party.receive(this.deliveries);
				return 'done';
			case 'open':
				return `${await this.open(d!)} event(s) new to it in the provider's record`;
			case 'tick':
				this.now += s.days * DAY_MS;
				return 'done';
			case 'crash':
				d!.escrow.loseNext();
				return 'armed';
			case 'resume': {
				const r = await d!.party.resume();
				return `settled ${r.settled.length}, pending ${r.pending.length}, refused ${r.refused.length}`;
			}
			case 'outage':
				this.provider.failNext('unavailable');
				return 'armed';
			case 'groundAcceptance':
				return this.groundAcceptance(s.hang, s.tries);
			case 'equivocate':
				return this.equivocate(s.hang);
			case 'omitChangeRequest':
				return this.omitChangeRequest(s.milestone);
			case 'omitRefundAnswer':
				return this.omitRefundAnswer();
			case 'junk':
				return this.junk(s.junk, s.pick, s.salt);
			case 'race':
				return this.race(s);
		}
	}

	/** What the app does when it opens a contract (Party.catchUp), with the provider's record counted. */
	private async open(d: Device): Promise<number> {
		await d.party.recordPending();
		const n = await d.party.fetchRecord();
		seen.fromProviderRecord += n;
		return n;
	}

	/**
	 * A device about to pay first syncs with the shared map, as the outbox simulation's devices do:
	 * what it does not know is then only what the faults and the hostile actor hide from it. With
	 * SIM_KNOWN_LIMITS=1 it pays on whatever view it has.
	 */
	private async paying(d: Device): Promise<ContractState> {
		if (!KNOWN_LIMITS) await d.party.receive(this.deliveries);
		return d.state();
	}

	private async act<T extends EventType>(d: Device, type: T, payload: Payload<T>): Promise<string> {
		try {
			await d.party.act(type, payload);
			return 'done';
		} catch (e) {
			if (!(e instanceof ActionRefused)) throw e;
			seen.deviceRefusals++;
			return `the device refused (${e.rejection.code})`;
		}
	}

	/** A money action: paid, refused (by the device or the provider), or pending. */
	private async money(d: Device, action: () => Promise<unknown>): Promise<string> {
		let out: string;
		try {
			await action();
			out = 'paid';
		} catch (e) {
			// A device refusing itself, the provider refusing, or no answer yet: all part of the simulation.
			if (e instanceof PendingIntent) out = `pending (${e.code})`;
			else if (e instanceof EscrowError) out = `the provider refused (${e.code})`;
			else if (e instanceof ActionRefused) {
				seen.deviceRefusals++;
				out = `the device refused (${e.rejection.code})`;
			} else throw e;
		}
		return out;
	}

	/** Both client devices pay out of the same escrow at the same moment. */
	private async race(s: Extract<Step, { kind: 'race' }>): Promise<string> {
		const { clientA, clientB } = this.devices;
		if (s.synced || !KNOWN_LIMITS) {
			await this.paying(clientA);
			await this.paying(clientB);
			await clientA.party.receive(clientB.party.log.envelopes());
			await clientB.party.receive(clientA.party.log.envelopes());
		}
		const pay = (d: Device, o: RaceOp) => {
			const st = d.state();
			const m = milestone(st, s.milestone)!;
			const refund = o.op === 'refund' ? clientRefund(st, m, o.pct) : undefined;
			return refund
				? () => d.party.settle('milestone.refund', refund)
				: () => d.party.settle('milestone.release', { milestone: m.id, amount: part(escrowOf(m), o.pct), currency: 'USD', method: 'card' });
		};
		const before = Object.keys(this.provider.statement(this.contract).executed).length;
		// The synchronous signature backend: the two requests interleave the same way on every replay.
		setBackend('noble');
		let outs: string[];
		try {
			outs = await Promise.all([this.money(clientA, pay(clientA, s.a)), this.money(clientB, pay(clientB, s.b))]);
		} finally {
			setBackend('auto');
		}
		const after = Object.keys(this.provider.statement(this.contract).executed).length;
		seen.races++;
		const paid = outs.filter((o) => o.startsWith('paid')).length;
		if (paid === 2 && after - before === 1) seen.raceSameIntent++;
		if (after - before === 2) seen.raceBothPaid++;
		if (paid === 1 && outs.some((o) => o.startsWith('the provider refused'))) seen.raceOneRefused++;
		return `clientA: ${outs[0]}; clientB: ${outs[1]}`;
	}

	// —— the hostile actor ——

	private authenticIds(): string[] {
		return this.pool.authenticEnvelopes().map(([id]) => id);
	}

	private sign(key: DeviceKey, draft: Omit<Draft, 'contract' | 'author'> & { contract?: string }, signer: DeviceKey = key): [string, string] {
		const { id, body } = encodeBody({ ...draft, contract: draft.contract ?? this.contract, author: key.publicKey } as Draft);
		return [id, encodeEnvelope(id, body, signSync(signer, signingBytes(id)))];
	}

	/** A stranger's acceptance: the lowest id of `tries`, hung off a pool event chosen by `hang`. */
	private async groundAcceptance(hang: number, tries: number): Promise<string> {
		await this.known();
		const ids = this.authenticIds();
		const dep = hang === 0 ? this.proposal : ids[hang % ids.length]!;
		let best: { id: string; at: number } | undefined;
		for (let i = 0; i < tries; i++) {
			const at = this.now + i;
			const { id } = encodeBody({ contract: this.contract, author: STRANGER.publicKey, prev: null, deps: [dep], at, type: 'contract.accepted', payload: { proposal: this.proposal, name: 'Mallory' } });
			if (!best || id < best.id) best = { id, at };
		}
		const [id, env] = this.sign(STRANGER, { prev: null, deps: [dep], at: best!.at, type: 'contract.accepted', payload: { proposal: this.proposal, name: 'Mallory' } });
		this.write(id, env);
		this.ground.push(id);
		seen.groundAcceptances++;
		return `acceptance ${id.slice(0, 8)} (sorts ${this.acceptance && id < this.acceptance ? 'before' : 'after'} the freelancer's at an equal level)`;
	}

	/** The proposer countersigns a stranger's acceptance on a fork of its chain; the stranger asks the provider to record it. */
	private async equivocate(hang: number): Promise<string> {
		if (!this.ground.length) await this.groundAcceptance(hang, 1);
		const target = this.ground[hang % this.ground.length]!;
		await this.known();
		const ids = this.authenticIds();
		const deps = [...new Set([target, hang === 0 ? target : ids[hang % ids.length]!])];
		// prev = the proposal: the client's real countersign has the same prev, so this forks its chain.
		const [id, env] = this.sign(CLIENT, { prev: this.proposal, deps, at: this.now, type: 'contract.countersigned', payload: { acceptance: target } });
		this.write(id, env);
		const log = this.pool.authenticEnvelopes().map(([, e]) => e);
		try {
			const r = await this.attacker.attest({ contract: this.contract, log: log.includes(env) ? log : [...log, env], event: id });
			this.write(r.id, r.envelope);
			this.violations.push(`the provider recorded a second countersign ${id} (receipt ${r.id})`);
			return 'the provider recorded it';
		} catch (e) {
			if (!(e instanceof EscrowError)) throw e;
			seen.equivocationsRefusedByProvider++;
			return `the provider refused (${e.code})`;
		}
	}

	/**
	 * The log the hostile party sends: everything it knows (the pool) except `omit` and everything that
	 * names it, directly or not.
	 */
	async without(omit: Set<string>): Promise<ContractLog> {
		await this.known();
		const removed = new Set(omit);
		const keep: [string, string][] = [];
		// Authentic envelopes come each after everything it names: one pass finds every descendant.
		for (const [id, env] of this.pool.authenticEnvelopes()) {
			if (removed.has(id) || linksOf(env).some((l) => removed.has(l))) removed.add(id);
			else keep.push([id, env]);
		}
		const partial = new ContractLog(this.contract);
		for (const [id, env] of keep) partial.add(id, env);
		await authenticate(partial);
		partial.derive(); // heads and chains are read from the fold
		return partial;
	}

	/** Sign an intent on the partial log and send it, with that log, to a provider without memory and to the real one. */
	private async claim<T extends 'milestone.autoRelease' | 'milestone.refund'>(key: DeviceKey, partial: ContractLog, type: T, payload: Payload<T>, call: 'release' | 'refund'): Promise<string> {
		const draft = compose(partial, key.publicKey, type, payload, this.now);
		const ev = { ...draft, id: encodeBody(draft).id } as unknown as Ev;
		const refused = check(partial.derive().state, ev);
		if (refused) return `skipped: even the partial log does not allow it (${refused.code})`;
		const intent: SignedEvent = signEventSync(key, draft);
		const req: EscrowRequest = { contract: this.contract, log: [...partial.authenticEnvelopes().map(([, e]) => e), intent.envelope], event: intent.id };
		seen.omissionAttempts++;
		// A provider that keeps no record and judges only the log it is sent: did the omission hide anything?
		const forgetful = new MockEscrowProvider({ key: PROVIDER, now: () => this.now });
		const wouldPay = await forgetful[call](req).then(
			() => true,
			() => false
		);
		if (wouldPay) seen.omissionWouldPayWithoutRecord++;
		const tail = wouldPay ? 'a provider without a record would have paid' : 'a provider without a record would have refused too';
		try {
			const r = await this.attacker[call](req);
			// Paid: the attacker publishes intent and receipt, to be paid on every replica too.
			this.write(intent.id, intent.envelope);
			this.write(r.id, r.envelope);
			seen.omissionsPaid++;
			return `the provider paid (${tail})`;
		} catch (e) {
			if (!(e instanceof EscrowError)) throw e;
			seen.omissionsRefused++;
			// Caught: the omission hid something, the rule refuses the claim on the provider's record, and the provider did.
			const verdict = this.lastVerdict?.event === intent.id ? this.lastVerdict.refusal : null;
			if (wouldPay && verdict) seen.omissionsCaught++;
			return `the provider refused (${e.code}; ${tail})`;
		}
	}

	private async omitChangeRequest(id: MilestoneId): Promise<string> {
		const s = await this.known();
		const m = milestone(s, id)!;
		if (!m.submission || !s.recorded.has(m.submission.id)) return 'skipped: no recorded submission';
		// The client's change and refund requests on this milestone, and the provider's records of them.
		const omit = new Set<string>();
		for (const e of s.applied) {
			const p = e.payload as { milestone?: string; event?: string };
			if ((e.type === 'milestone.changesRequested' || e.type === 'refund.requested') && p.milestone === id) omit.add(e.id);
		}
		for (const e of s.applied) if (e.type === 'receipt.attested' && omit.has((e.payload as { event: string }).event)) omit.add(e.id);
		if (!omit.size) return 'skipped: nothing to leave out';
		const partial = await this.without(omit);
		const sub = milestone(partial.derive().state, id)?.submission;
		if (!sub) return 'skipped: the submission depends on what is left out';
		return this.claim(FREELANCER, partial, 'milestone.autoRelease', { milestone: id, submission: sub.id }, 'release');
	}

	private async omitRefundAnswer(): Promise<string> {
		const s = await this.known();
		const r = [...s.refundRequests.values()].find((x) => x.answer && s.recorded.has(x.id));
		if (!r) return 'skipped: no answered refund request';
		const omit = new Set([r.answer!]);
		for (const e of s.applied) if (e.type === 'receipt.attested' && (e.payload as { event: string }).event === r.answer) omit.add(e.id);
		const partial = await this.without(omit);
		return this.claim(CLIENT, partial, 'milestone.refund', { milestone: r.milestone, amount: r.amount, currency: 'USD', basis: 'unanswered-request', request: r.id }, 'refund');
	}

	private async junk(kind: JunkKind, pick: number, salt: number): Promise<string> {
		await this.known();
		const real = this.pool.authenticEnvelopes();
		const [realId, realEnv] = real[pick % real.length]!;
		const dep = realId;
		const intents = [...(await this.known()).intents.keys()];
		const intent = intents.length ? intents[pick % intents.length]! : realId;
		const m = MILESTONE_IDS[pick % 3]!;
		const fresh = (key: DeviceKey, type: EventType, payload: unknown, signer?: DeviceKey, contract?: string) =>
			this.sign(key, { prev: null, deps: [dep], at: this.now + salt, type, payload, contract } as Omit<Draft, 'contract' | 'author'>, signer);
		let out: [string, string];
		switch (kind) {
			case 'malformed':
				out = [`junk-${this.serial++}`, '{"id":' + 'x'.repeat(salt % 40)];
				break;
			case 'junkOverReal':
				out = [realId, `{"id": oops ${salt}`];
				break;
			case 'tampered': {
				const e = JSON.parse(realEnv) as { id: string; body: string; sig: string };
				const altered = JSON.stringify({ ...e, body: e.body.replace(/"at":\d/, `"at":${(salt % 9) + 1}`) });
				out = [salt % 2 ? realId : `tampered-${this.serial++}`, altered];
				break;
			}
			case 'unsigned': {
				const [id, env] = fresh(CLIENT, 'message.posted', { text: `unsigned ${salt}` });
				out = [id, JSON.stringify({ id, body: (JSON.parse(env) as { body: string }).body })];
				break;
			}
			case 'forgedSignature':
				out = fresh(CLIENT, 'milestone.fund', { milestone: m, amount: 10_000, currency: 'USD', method: 'card' }, STRANGER);
				break;
			case 'forgedOverReal': {
				const e = JSON.parse(realEnv) as { id: string; body: string; sig: string };
				out = [realId, encodeEnvelope(realId, e.body, signSync(STRANGER, signingBytes(realId)))];
				break;
			}
			case 'notTheProvider':
				// Validly signed, by the published TEST MODE key: not this contract's provider.
				out = fresh(TEST_MODE_KEY, 'receipt.released', { intent, milestone: m, amount: 1_000 + salt, currency: 'USD', auto: false });
				break;
			case 'fakeProviderSignature':
				out = fresh(PROVIDER, 'receipt.refunded', { intent, milestone: m, amount: 1_000 + salt, currency: 'USD' }, STRANGER);
				break;
			case 'wrongRole':
				// The freelancer's own key, bypassing its app: a release is the client's.
				out = fresh(FREELANCER, 'milestone.release', { milestone: m, amount: 1_000 + salt, currency: 'USD', method: 'card' });
				break;
			case 'stranger':
				out = fresh(STRANGER, 'milestone.refund', { milestone: m, amount: 1 + salt, currency: 'USD', basis: 'freelancer' });
				break;
			case 'otherContract':
				out = fresh(CLIENT, 'message.posted', { text: 'elsewhere' }, CLIENT, 'another-contract-id-000');
				break;
		}
		this.write(out[0], out[1]);
		return `under ${out[0] === realId ? 'a real key' : 'a fresh key'}`;
	}

	// —— healing and the audit ——

	/**
	 * Every device gets every envelope, opens the contract (records what it has to, takes in the
	 * provider's record) and resumes its outbox, until nothing is pending.
	 */
	async heal(): Promise<void> {
		for (const d of DEVICES) {
			this.devices[d].escrow.disarm();
			await this.recover(this.devices[d]);
		}
		for (let round = 0; round < 8; round++) {
			// Healing takes time too: nothing the provider does now shares a millisecond with what came before.
			this.now += 60_000;
			for (const name of DEVICES) {
				const d = this.devices[name];
				await d.party.receive(this.deliveries);
				await this.open(d);
				await d.party.resume();
				if (d.escrow.crashed) throw new Error('a disarmed device crashed');
			}
			const left = await Promise.all(DEVICES.map((n) => this.devices[n].storage.list()));
			if (left.every((l) => l.length === 0)) break;
		}
		for (const d of DEVICES) await this.devices[d].party.receive(this.deliveries);
	}

	async audit(orders: { seed: number; dups: number; batches: number[] }[]): Promise<string[]> {
		const problems: string[] = [];
		for (const d of DEVICES) {
			const left = await this.devices[d].storage.list();
			if (left.length) problems.push(`${d} still has ${left.length} payment(s) pending after healing: ${left.map((e) => `${e.type} ${e.id} (${e.lastError?.code})`).join(', ')}`);
		}
		// The reference: everything, in the order it was written.
		const reference = await replica(this.contract, this.deliveries);
		const expected = summary(reference.derived);
		for (const [i, o] of orders.entries()) {
			const r = await replica(this.contract, deliveryOrder(this.deliveries, o.seed, o.dups), o.batches);
			if (summary(r.derived) !== expected) problems.push(`replica ${i} (order seed ${o.seed}) derives another state than the reference`);
		}
		for (const d of DEVICES) if (summary(this.devices[d].party.derived()) !== expected) problems.push(`${d} derives another state than the reference after healing`);
		problems.push(...audit({ derived: reference.derived, log: reference.log, books: this.provider.statement(this.contract), answers: this.answers, bound: this.bound }));
		problems.push(...receiptsJudgedOnTheirPast(reference.log, reference.derived.state, this.contract));

		// What this run exercised.
		const s = reference.derived.state;
		seen.runs++;
		for (const e of s.applied) {
			if (e.type === 'receipt.released') {
				seen.releases++;
				if (e.payload.auto) seen.autoReleases++;
			}
			if (e.type === 'receipt.refunded') {
				seen.refunds++;
				if (s.intents.get(e.payload.intent)?.refund?.basis === 'unanswered-request') seen.unansweredRefunds++;
			}
			if (e.type === 'receipt.paidOut') seen.withdrawals++;
		}
		if (s.endedByAgreement) seen.endedByAgreement++;
		for (const m of s.milestones) {
			seen.amountsChanged += (m.amounts?.length ?? 1) - 1;
			if (m.funded - m.refunded > m.amount) seen.heldBeyondLowerAmount++;
		}
		for (const r of reference.derived.rejected) {
			bump(seen.rejected, r.code);
			if (r.type === 'contract.accepted' && r.author === STRANGER.publicKey) seen.groundAcceptancesRefused++;
		}
		for (const q of equivocations(s)) {
			if (q.kind === 'countersign') seen.countersignEquivocationsShown++;
			else seen.forksShown++;
		}
		return problems;
	}
}

// —— the property ——————————————————————————————————————————————————————————————————————

async function simulate(plan: SetupPlan, steps: Step[], orders: { seed: number; dups: number; batches: number[] }[]): Promise<void> {
	const sim = new Sim();
	try {
		await sim.setup(plan);
		for (const [i, s] of steps.entries()) {
			const out = await sim.run(s);
			sim.story.push(`${String(i + 1).padStart(3)}. ${tell(s)} → ${out}`);
			if (process.env.SIM_DEBUG) sim.story.push(`       books ${JSON.stringify(sim.provider.statement(sim.contract).milestones)}`);
			if (sim.violations.length) throw new Error(sim.violations.join('\n'));
			for (const d of DEVICES) {
				const st = sim.devices[d].state();
				assertContractInvariants(st);
				if (bindingOf(st) !== sim.bound) throw new Error(`${d}: parties or terms changed after the binding: ${bindingOf(st)}`);
			}
		}
		await sim.heal();
		sim.story.push('     — healed: every device has every envelope, opened the contract (records, the provider’s record) and resumed its outbox —');
		if (sim.violations.length) throw new Error(sim.violations.join('\n'));
		const problems = await sim.audit(orders);
		if (problems.length) throw new Error(`The audit failed:\n${problems.join('\n')}`);
	} catch (e) {
		if (e instanceof Error) e.message = `${e.message}\n\nWhat happened (setup ${JSON.stringify(plan)}):\n${sim.story.join('\n')}`;
		throw e;
	}
}

describe('simulation: honest and hostile devices, audited against the provider', () => {
	afterAll(() => setBackend('auto'));

	it('random named histories with a hostile actor: the fold equals the provider’s books, replicas converge', async () => {
		await checkReplayable(
			fc.asyncProperty(setupPlan, history, replicaOrders, (plan, steps, orders) => simulate(plan, steps, orders)),
			{ runs: RUNS, file: FILE, timeLimitMs: TIME_LIMIT_MS }
		);
		const counts = { ...seen, rejected: Object.fromEntries(seen.rejected), providerRefusals: Object.fromEntries(seen.providerRefusals) };
		console.info(`simulation counts: ${JSON.stringify(counts)}`);
		// The histories really exercised the flows, the refusals and each hostile kind (no vacuous pass);
		// not asked of a replay (SIM_PATH) or of a handful of runs.
		if (process.env.SIM_PATH || Number(process.env.SIM_RUNS ?? RUNS) < 50) return;
		expect(seen.releases).toBeGreaterThan(5);
		expect(seen.autoReleases).toBeGreaterThan(0);
		expect(seen.refunds).toBeGreaterThan(0);
		expect(seen.withdrawals).toBeGreaterThan(0);
		expect([...seen.rejected.keys()]).toEqual(
			expect.arrayContaining(['bad-signature', 'hash-mismatch', 'malformed-json', 'bad-envelope', 'wrong-role', 'not-party', 'not-provider', 'wrong-contract'])
		);
		expect(seen.groundAcceptancesRefused).toBeGreaterThan(0);
		expect(seen.countersignEquivocationsShown).toBeGreaterThan(0);
		expect(seen.equivocationsRefusedByProvider).toBeGreaterThan(0);
		expect(seen.omissionAttempts).toBeGreaterThan(0);
		expect(seen.omissionWouldPayWithoutRecord).toBeGreaterThan(0);
		expect(seen.omissionsRefused).toBeGreaterThan(0);
		expect(seen.omissionsCaught).toBeGreaterThan(0);
		expect(seen.fromProviderRecord).toBeGreaterThan(0);
		expect(seen.races).toBeGreaterThan(0);
		expect(seen.amountsChanged).toBeGreaterThan(0);
		expect(seen.raceOneRefused + seen.raceSameIntent).toBeGreaterThan(0);
		expect(seen.crashesAfterExecuting).toBeGreaterThan(0);
	}, TIME_LIMIT_MS + 60_000);
});

// —— deterministic scenarios ——————————————————————————————————————————————————————————————

const PLAN: SetupPlan = { nonce: 1, groundBefore: 0, grind: 1, equivocateBefore: false };
const card = (milestone: string, amount: number) => ({ milestone, amount, currency: 'USD' as const, method: 'card' as const });

describe('omission: the provider judges a claim on its own record, not on the log it is sent', () => {
	it('a log without the change request would fool a provider without a record; this one refuses, as the replicas do', async () => {
		const sim = new Sim();
		await sim.setup(PLAN);
		const { clientA, freelancer } = sim.devices;
		await clientA.party.settle('milestone.fund', card('m1', 10_000));
		await freelancer.party.receive(sim.deliveries);
		const sub = await freelancer.party.act('milestone.submitted', { milestone: 'm1', message: 'done', links: [] });
		await clientA.party.receive(sim.deliveries);
		const changes = await clientA.party.act('milestone.changesRequested', { milestone: 'm1', reason: 'again' });
		sim.now += 15 * DAY_MS;
		const s = await sim.known();
		expect(s.recorded.get(sub.id)?.kind).toBe('submission');
		expect(s.recorded.get(changes.id)?.kind).toBe('change-request');
		// The freelancer leaves the change request and its record out, and claims the auto-release.
		const record = s.applied.find((e) => e.type === 'receipt.attested' && e.payload.event === changes.id)!;
		const partial = await sim.without(new Set([changes.id, record.id]));
		expect(partial.has(changes.id)).toBe(false);
		const intent = signEventSync(FREELANCER, compose(partial, FREELANCER.publicKey, 'milestone.autoRelease', { milestone: 'm1', submission: sub.id }, sim.now));
		const request = (log: ContractLog): EscrowRequest => ({ contract: sim.contract, log: [...log.authenticEnvelopes().map(([, e]) => e), intent.envelope], event: intent.id });
		const forgetful = () => new MockEscrowProvider({ key: PROVIDER, now: () => sim.now });
		// The experiment: the same claim with the full log and with the omission, to a provider that keeps no record.
		await expect(forgetful().release(request(sim.pool))).rejects.toMatchObject({ code: 'not-authorised' });
		await expect(forgetful().release(request(partial))).resolves.toMatchObject({ id: expect.any(String) });
		// The real provider has the change request on record: the omission changes nothing.
		await expect(sim.provider.release(request(partial))).rejects.toMatchObject({ code: 'not-authorised' });
		await expect(sim.provider.release(request(sim.pool))).rejects.toMatchObject({ code: 'not-authorised' });
		// … which is what every replica's rule says.
		expect(autoReleaseRefusal(s, 'm1', sub.id, sim.now)?.code).toBe('invalid-state');
		expect(sim.provider.statement(sim.contract).milestones.m1).toEqual({ funded: 10_000, released: 0, refunded: 0 });
	});
});

describe('two offline devices of the client', () => {
	it('releasing the same milestone settles once', async () => {
		const sim = new Sim();
		await sim.setup(PLAN);
		const [clientA, clientB, freelancer] = [sim.devices.clientA.party, sim.devices.clientB.party, sim.devices.freelancer.party];
		await clientA.settle('milestone.fund', card('m1', 10_000));
		await freelancer.receive(clientA.log.envelopes());
		await freelancer.act('milestone.submitted', { milestone: 'm1', message: 'done', links: [] });
		for (const d of [clientA, clientB]) await d.receive(freelancer.log.envelopes());
		const twin = new Party(CLIENT, new MemoryContract(sim.contract), sim.provider, () => sim.now);
		await twin.receive(clientB.log.envelopes());
		// Both devices are offline from each other and both click Release Payment, a moment apart.
		const first = await clientA.settle('milestone.release', card('m1', 10_000));
		// The very same click on a third device (same second, same state) is the very same intent: one receipt.
		const same = await twin.settle('milestone.release', card('m1', 10_000));
		expect(same.receipt.id).toBe(first.receipt.id);
		sim.now += 60_000;
		await expect(clientB.settle('milestone.release', card('m1', 10_000))).rejects.toMatchObject({ code: 'unfunded' });
		// Back online: every device agrees it was released once.
		for (const to of [clientA, clientB, freelancer]) for (const from of [clientA, clientB, freelancer]) await to.receive(from.log.envelopes());
		for (const d of [clientA, clientB, freelancer]) {
			const st = d.derived().state;
			expect(milestone(st, 'm1')!.released).toBe(10_000);
			expect(st.ledger.balance('freelancer:pending')).toBe(10_000);
			expect(st.ledger.transfers.filter((t) => t.kind === 'release')).toHaveLength(1);
		}
	});

	it('even if the provider signed both releases, the fold settles only one', async () => {
		const sim = new Sim();
		await sim.setup(PLAN);
		const [clientA, clientB] = [sim.devices.clientA.party, sim.devices.clientB.party];
		await clientA.settle('milestone.fund', card('m2', 20_000));
		await clientB.receive(clientA.log.envelopes());
		sim.now += 60_000;
		const a = await clientA.settle('milestone.release', card('m2', 20_000));
		sim.now += 60_000;
		// A buggy provider signs a second release, for clientB's own intent on the same escrow.
		const intent = signEventSync(CLIENT, compose(clientB.log, CLIENT.publicKey, 'milestone.release', card('m2', 20_000), sim.now));
		const receipt = signEventSync(PROVIDER, { contract: sim.contract, author: PROVIDER.publicKey, prev: null, deps: [intent.id], at: sim.now, type: 'receipt.released', payload: { intent: intent.id, milestone: 'm2', amount: 20_000, currency: 'USD', auto: false } });
		await clientB.receive([[intent.id, intent.envelope], [receipt.id, receipt.envelope]]);
		await clientA.receive(clientB.log.envelopes());
		const d = clientA.derived();
		expect(milestone(d.state, 'm2')!.released).toBe(20_000);
		const refused = d.rejected.find((r) => r.id === receipt.id || r.id === a.receipt.id);
		expect(refused?.code).toBe('unfunded');
	});
});

// —— what the simulation found, as scenarios of their own ——————————————————————————————————

describe('found by the simulation', () => {
	it('a refused intent leaves no trace, even through the provider’s record (mock.ts record())', async () => {
		const sim = new Sim();
		await sim.setup(PLAN);
		const [clientA, freelancer] = [sim.devices.clientA.party, sim.devices.freelancer.party];
		await clientA.settle('milestone.fund', card('m1', 10_000));
		await clientA.act('refund.requested', { milestone: 'm1', amount: 1_000, currency: 'USD', reason: 'less' });
		const request = [...clientA.derived().state.refundRequests.keys()][0]!;
		// Too early to claim it unanswered: the provider refuses, and the client's device writes nothing.
		sim.now += 60_000;
		await expect(clientA.settle('milestone.refund', { milestone: 'm1', amount: 1_000, currency: 'USD', basis: 'unanswered-request', request })).rejects.toMatchObject({ code: 'too-early' });
		expect(clientA.pending()).toEqual([]);
		// The freelancer opens the contract and takes in the provider's record.
		await freelancer.receive(sim.deliveries);
		await freelancer.fetchRecord();
		const executed = sim.provider.statement(sim.contract).executed;
		const ghosts = [...freelancer.derived().state.intents.values()].filter((i) => !(i.id in executed)).map((i) => i.type);
		expect(ghosts).toEqual([]);
	});

	it('an auto-release of what the provider held counts when an earlier refund’s receipt sorts after it (release.ts)', async () => {
		const w = new World();
		await w.active(terms());
		await w.fund('design', 100_000);
		const sub = await w.submit('design');
		const recorded = w.log.lastOf(PROVIDER.publicKey)!;
		// The freelancer gives 10,000 back (its intent composed after a client message: higher in the fold) …
		const note = await w.emit(CLIENT, 'message.posted', { text: 'thanks' }, { deps: [recorded] });
		const refund = await w.emit(FREELANCER, 'milestone.refund', { milestone: 'design', amount: 10_000, currency: 'USD', basis: 'freelancer' }, { prev: sub, deps: [note] });
		await w.emit(PROVIDER, 'receipt.refunded', { intent: refund, milestone: 'design', amount: 10_000, currency: 'USD' }, { prev: recorded });
		// … then, on a view without that refund (its answer was lost, or it was left out), claims the
		// auto-release; the provider releases the 90,000 its books hold. Both receipts are right.
		w.advance(15);
		const claim = await w.emit(FREELANCER, 'milestone.autoRelease', { milestone: 'design', submission: sub }, { prev: sub, deps: [recorded] });
		const released = await w.emit(PROVIDER, 'receipt.released', { intent: claim, milestone: 'design', amount: 90_000, currency: 'USD', auto: true }, { prev: recorded });
		expect(w.rejection(released)).toBeUndefined();
		expect(milestone(w.state, 'design')).toMatchObject({ funded: 100_000, released: 90_000, refunded: 10_000 });
	});

	it('a refund executed on a recorded request stays when the client’s other device wrote a second request meanwhile (refund.ts)', async () => {
		const w = new World();
		await w.active(terms());
		const { intent: funding, receipt: funded } = await w.fund('design', 100_000);
		// The client's laptop asks for 10,000 back (after a message: higher in the fold), the provider
		// records it, nobody answers, and a week later the provider refunds it as unanswered.
		const note = await w.emit(FREELANCER, 'message.posted', { text: 'on it' }, { deps: [funded] });
		const first = await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 10_000, currency: 'USD', reason: 'less' }, { deps: [note] });
		await w.emit(PROVIDER, 'receipt.attested', { event: first, kind: 'refund-request' });
		w.advance(8);
		const refund = await w.emit(CLIENT, 'milestone.refund', { milestone: 'design', amount: 10_000, currency: 'USD', basis: 'unanswered-request', request: first });
		const refunded = await w.emit(PROVIDER, 'receipt.refunded', { intent: refund, milestone: 'design', amount: 10_000, currency: 'USD' });
		expect(milestone(w.state, 'design')!.refunded).toBe(10_000);
		// The client's phone, offline since the funding, asks for a refund too (the same key, so its
		// chain forks). It sorts before the laptop's request, which then "finds one already open".
		w.advance(1);
		await w.emit(CLIENT, 'refund.requested', { milestone: 'design', amount: 5_000, currency: 'USD', reason: 'less' }, { prev: funding, deps: [funded] });
		// What the provider recorded and executed must stay so.
		expect(w.rejection(refunded)).toBeUndefined();
		expect(milestone(w.state, 'design')!.refunded).toBe(10_000);
	});
});
