/**
 * Pieces shared by simulations: an escrow adapter that records every answer the provider gave (and
 * can be told to lose the next one), replicas fed a pool of deliveries in random orders and batches
 * with duplicates, a comparable summary of a derived contract, the auditor that checks a healed
 * fold against the provider's own books, and a fast-check runner whose failures print how to replay.
 */
import fc from 'fast-check';
import { assertContractInvariants } from '../../src/lib/contract/fold';
import { ContractLog, type DerivedContract } from '../../src/lib/contract/log';
import type { ContractState } from '../../src/lib/contract/state';
import type { EscrowAdapter, EscrowRequest, Receipt, RecordRequest } from '../../src/lib/escrow/adapter';
import type { MockEscrowProvider, MockStatement } from '../../src/lib/escrow/mock';
import { authenticate } from '../../src/lib/identity/authenticate';
import { mulberry32 } from './random';

export type MoneyCall = 'fund' | 'release' | 'refund' | 'withdraw';

/** Every answer the provider gave, whoever asked: what the auditor holds the healed log to. */
export class Answers {
	/** Receipt id → envelope. */
	readonly receipts = new Map<string, string>();
	/** Event (intent or recorded event) id → the receipt ids answered for it. */
	readonly byEvent = new Map<string, Set<string>>();

	note(event: string, r: Receipt): void {
		this.receipts.set(r.id, r.envelope);
		let s = this.byEvent.get(event);
		if (!s) this.byEvent.set(event, (s = new Set()));
		s.add(r.id);
	}
}

/**
 * One device's connection to the provider. Every receipt that reaches the device is noted in
 * `answers`; `check` runs before each money call (a test's oracle); `loseNext()` makes the next
 * money call execute with its answer lost (the device then dies: see `crashed`).
 */
export class RecordingEscrow implements EscrowAdapter {
	private lose = false;
	/** Set when a money call executed and its answer was lost: the caller replaces the device. */
	crashed = false;

	constructor(
		readonly provider: MockEscrowProvider,
		readonly answers: Answers,
		private readonly check: (call: MoneyCall, req: EscrowRequest) => Promise<void> | void = () => {},
		private readonly after: (call: MoneyCall, req: EscrowRequest, outcome: Receipt | unknown) => void = () => {}
	) {}

	/** The next money call is executed by the provider, and its answer is lost on the way back. */
	loseNext(): void {
		this.lose = true;
	}

	get armed(): boolean {
		return this.lose;
	}

	disarm(): void {
		this.lose = false;
	}

	info() {
		return this.provider.info();
	}
	now() {
		return this.provider.now();
	}
	quoteFunding(...a: Parameters<EscrowAdapter['quoteFunding']>) {
		return this.provider.quoteFunding(...a);
	}
	quoteWithdrawal(...a: Parameters<EscrowAdapter['quoteWithdrawal']>) {
		return this.provider.quoteWithdrawal(...a);
	}
	record(req: RecordRequest): Promise<string[]> {
		return this.provider.record(req);
	}
	async attest(req: EscrowRequest): Promise<Receipt> {
		const r = await this.provider.attest(req);
		this.answers.note(req.event, r);
		return r;
	}
	fund(req: EscrowRequest) {
		return this.money('fund', req);
	}
	release(req: EscrowRequest) {
		return this.money('release', req);
	}
	refund(req: EscrowRequest) {
		return this.money('refund', req);
	}
	withdraw(req: EscrowRequest) {
		return this.money('withdraw', req);
	}

	private async money(call: MoneyCall, req: EscrowRequest): Promise<Receipt> {
		await this.check(call, req);
		// Armed right before the call (synchronously), so this very call loses its answer.
		if (this.lose) {
			this.lose = false;
			this.crashed = true;
			this.provider.loseNextAnswer('timeout');
		}
		try {
			const r = await this.provider[call](req);
			this.answers.note(req.event, r);
			this.after(call, req, r);
			return r;
		} catch (e) {
			this.after(call, req, e);
			throw e;
		}
	}
}

/** `pool` shuffled (Fisher–Yates, seeded), with `dups` random entries delivered twice. */
export function deliveryOrder<T>(pool: readonly T[], seed: number, dups: number): T[] {
	const rnd = mulberry32(seed);
	const out = [...pool];
	for (let i = 0; i < dups && pool.length; i++) out.push(pool[Math.floor(rnd() * pool.length)]!);
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(rnd() * (i + 1));
		[out[i], out[j]] = [out[j]!, out[i]!];
	}
	return out;
}

/** A fresh replica fed `deliveries` in batches of the given sizes (then the rest); the invariants hold after every batch. */
export async function replica(contract: string, deliveries: readonly [string, unknown][], batches: readonly number[] = []): Promise<{ log: ContractLog; derived: DerivedContract }> {
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
	const derived = log.derive();
	assertContractInvariants(derived.state);
	return { log, derived };
}

/** Everything a page could show, in a comparable form (Maps and Sets by their entries). */
export function summary(d: DerivedContract): string {
	return JSON.stringify(
		{ state: d.state, rejected: d.rejected.map((r) => `${r.id}:${r.code}`).sort(), waiting: d.waiting },
		(_k, v: unknown) => (v instanceof Map ? { map: [...v] } : v instanceof Set ? { set: [...v] } : v)
	);
}

/** What the contract was bound to, as a string: parties, terms, the binding countersign. */
export function bindingOf(s: ContractState): string {
	return JSON.stringify({ parties: s.parties, terms: s.terms, countersign: s.binding?.countersign, proposal: s.proposal?.id });
}

function typeOf(envelope: string): string | undefined {
	try {
		return (JSON.parse((JSON.parse(envelope) as { body: string }).body) as { type?: string }).type;
	} catch {
		return undefined;
	}
}

export interface AuditInput {
	/** The healed fold of a fresh replica, and its log. */
	derived: DerivedContract;
	log: ContractLog;
	/** The provider's own books for the contract. */
	books: MockStatement;
	/** Every answer the provider gave (collected by wrapping it). */
	answers: Answers;
	/** `bindingOf` the state right after the binding. */
	bound: string;
}

/**
 * The auditor: the healed fold against the provider's books. Nothing here is read from the fold to
 * predict the fold: the expectation is the provider's books and the receipts it handed out.
 * Returns the problems found (empty when the audit passes).
 */
export function audit({ derived, log, books, answers, bound }: AuditInput): string[] {
	const s = derived.state;
	const problems: string[] = [];
	const applied = new Map<string, number>();
	for (const e of s.applied) applied.set(e.id, (applied.get(e.id) ?? 0) + 1);
	const refused = new Map(derived.rejected.map((r) => [r.id, r.code]));

	// Parties and terms never changed after the binding.
	if (bindingOf(s) !== bound) problems.push(`the binding changed: ${bindingOf(s)} (bound as ${bound})`);

	// The counters on every milestone equal the provider's books; nothing was released or refunded twice.
	for (const m of s.milestones) {
		const b = books.milestones[m.id] ?? { funded: 0, released: 0, refunded: 0 };
		if (b.funded !== m.funded || b.released !== m.released || b.refunded !== m.refunded)
			problems.push(`${m.id}: the provider's books say ${JSON.stringify(b)}, the fold ${JSON.stringify({ funded: m.funded, released: m.released, refunded: m.refunded })}`);
		if (b.released + b.refunded > b.funded) problems.push(`${m.id}: the provider paid out more than was funded: ${JSON.stringify(b)}`);
		// A lower amount accepted while the client funded unseen leaves more held than the amount: never more than any amount agreed.
		const worth = Math.max(m.amount, ...(m.amounts ?? []).map((a) => a.amount));
		if (b.funded - b.refunded > worth) problems.push(`${m.id}: the provider holds more than the milestone was ever worth: ${JSON.stringify(b)}`);
	}
	const paidOut = s.payouts.reduce((sum, p) => sum + p.amount, 0);
	if (books.paidOut !== paidOut) problems.push(`paid out: the provider's books say ${books.paidOut}, the fold ${paidOut}`);
	if (Object.keys(books.processing).length) problems.push(`bank debits still processing: ${JSON.stringify(books.processing)}`);

	// Every receipt the provider issued for money is in the healed log exactly once, settling its intent.
	for (const [intent, receipt] of Object.entries(books.executed)) {
		const settled = s.intents.get(intent)?.settledBy;
		if (!log.has(receipt)) problems.push(`receipt ${receipt} for executed intent ${intent} never reached the log`);
		else if (applied.get(receipt) !== 1) problems.push(`receipt ${receipt} (${typeOf(log.envelope(receipt) ?? '')}) for executed intent ${intent} is not applied once: ${refused.get(receipt) ?? 'not folded'}`);
		if (settled !== receipt) problems.push(`intent ${intent}: executed by the provider with ${receipt}, settled in the fold by ${settled ?? 'nothing'}`);
	}
	// … and the fold settles nothing the provider did not execute, and no intent twice.
	const receiptsFor = new Map<string, string[]>();
	for (const e of s.applied)
		if (e.type.startsWith('receipt.') && e.type !== 'receipt.attested') {
			const intent = (e.payload as { intent: string }).intent;
			receiptsFor.set(intent, [...(receiptsFor.get(intent) ?? []), e.id]);
		}
	for (const [intent, rs] of receiptsFor) if (rs.length > 1) problems.push(`intent ${intent} is settled ${rs.length} times: ${rs.join(', ')}`);
	for (const i of s.intents.values()) {
		if (i.settledBy && books.executed[i.id] !== i.settledBy) problems.push(`intent ${i.type} ${i.id} is settled by ${i.settledBy}, which the provider did not issue for it`);
		// A refused or abandoned intent leaves no trace: every intent in the healed log was executed.
		if (!(i.id in books.executed)) problems.push(`intent ${i.type} ${i.id} is in the log but the provider never executed it${i.rejection ? ` (the fold refuses it: ${i.rejection.code})` : ''}`);
	}
	// The provider never answered one event with two different receipts.
	for (const [event, rs] of answers.byEvent) if (rs.size > 1) problems.push(`the provider answered ${event} with ${rs.size} different receipts`);
	// Every answer that reached a device is in the log and folded; one that moved money is applied. A
	// record (receipt.attested) may be refused by the fold — the event it records lost its place to a
	// concurrent one — and then counts for nobody: the provider folds its record with the same rules.
	for (const [id, envelope] of answers.receipts) {
		const type = typeOf(envelope);
		if (!log.has(id)) problems.push(`receipt ${id} (${type}) handed to a device never reached the log`);
		else if (applied.get(id) !== 1 && (type !== 'receipt.attested' || !refused.has(id)))
			problems.push(`receipt ${id} (${type}) handed to a device is not applied: ${refused.get(id) ?? 'not folded'}`);
	}
	return problems;
}

export interface ReplayOptions {
	/** Runs when SIM_RUNS is not set. */
	runs: number;
	/** How this file is run, for the replay line. */
	file: string;
	/**
	 * A time limit for the whole check, shrinking included (ms): past it, the smallest counterexample
	 * found so far is reported. Running out of time before any failure is reported as a failure too.
	 */
	timeLimitMs: number;
}

/**
 * fc.check with an explicit seed (SIM_SEED, else random) and path (SIM_PATH): a failure throws a
 * report that starts with the line that replays it exactly. The seed is also printed up front, so a
 * run killed from outside can be replayed.
 */
export async function checkReplayable<Ts>(property: fc.IAsyncProperty<Ts>, o: ReplayOptions): Promise<void> {
	const seed = process.env.SIM_SEED !== undefined ? Number(process.env.SIM_SEED) : Math.floor(Math.random() * 2 ** 31);
	const path = process.env.SIM_PATH || undefined;
	const numRuns = Number(process.env.SIM_RUNS ?? o.runs);
	console.info(`${o.file}: SIM_SEED=${seed}${path ? ` SIM_PATH=${path}` : ''} SIM_RUNS=${numRuns}`);
	// With a path, the very counterexample is run and reported (no further shrinking): an exact replay.
	const details = await fc.check(property, { seed, path, numRuns, interruptAfterTimeLimit: o.timeLimitMs, markInterruptAsFailure: true, endOnFailure: path !== undefined });
	if (!details.failed) return;
	const replay = `SIM_SEED=${details.seed} SIM_PATH=${details.counterexamplePath ?? ''} npx vitest run ${o.file}`;
	const report = (await fc.asyncDefaultReportMessage(details)) ?? '';
	const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance ?? 'interrupted: out of time');
	console.error(`Simulation failed. Replay exactly with:\n  ${replay}\n`);
	throw new Error(`Simulation failed. Replay exactly with:\n  ${replay}\n\n${error}\n\n${report}`);
}
