/**
 * What a late event costs on an open 10,000-event contract: one that sorts at the very start (the
 * worst case: everything after it is replayed, with or without snapshots) and one that sorts a few
 * positions before the end (a concurrent event: it refolds from the nearest snapshot), each against
 * the full refold from the empty state the log did before snapshots, measured in the same run
 * (a log with `snapshotEvery: 0`). The figure is the time of `derive()` once the event is added and
 * verified, and the same with add and verification included.
 */
import { encodeBody, encodeEnvelope, signingBytes } from '../../src/lib/contract/envelope';
import { ContractLog, DEFAULT_SNAPSHOTS_KEPT, DEFAULT_SNAPSHOT_EVERY, type SnapshotOptions } from '../../src/lib/contract/log';
import { authenticate } from '../../src/lib/identity/authenticate';
import { sign } from '../../src/lib/identity/ed25519';
import { CLIENT } from '../support/world';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** Open as the document does: verify and fold, then (idle) build the snapshot the open skipped. */
async function open(contract: string, entries: [string, string][], options?: SnapshotOptions): Promise<ContractLog> {
	const log = new ContractLog(contract, options);
	for (const [id, env] of entries) log.add(id, env);
	await authenticate(log);
	log.derive();
	log.prepareSnapshots();
	return log;
}

interface Figures {
	deriveMs: number;
	totalMs: number;
	reappliedPerEvent: number;
}

/**
 * Late events naming `dep` (prev null, as a hostile party may write) into each log in turn, so that
 * machine noise falls on all of them alike: median derive ms and total ms per event, per log.
 */
async function lateEvents(logs: ContractLog[], dep: string, runs: number, label: string): Promise<Figures[]> {
	const derive = logs.map((): number[] => []);
	const total = logs.map((): number[] => []);
	const before = logs.map((l) => [l.reapplied, l.refolds]);
	for (let i = 0; i < runs; i++) {
		const draft = { contract: logs[0]!.contract, author: CLIENT.publicKey, prev: null, deps: [dep], at: 1 + i, type: 'message.posted' as const, payload: { text: `${label} ${i}` } };
		const { id, body } = encodeBody(draft);
		const env = encodeEnvelope(id, body, await sign(CLIENT, signingBytes(id)));
		// Alternate which log goes first, so that neither always runs on a cold cache.
		for (const [n, log] of i % 2 ? [...logs.entries()].reverse() : logs.entries()) {
			const t0 = performance.now();
			log.add(id, env);
			await authenticate(log);
			const t1 = performance.now();
			log.derive();
			const t2 = performance.now();
			derive[n]!.push(t2 - t1);
			total[n]!.push(t2 - t0);
		}
	}
	return logs.map((log, n) => {
		if (log.refolds - before[n]![1]! !== runs) throw new Error(`${label}: expected every event to refold`);
		return { deriveMs: median(derive[n]!), totalMs: median(total[n]!), reappliedPerEvent: Math.round((log.reapplied - before[n]![0]!) / runs) };
	});
}

export async function lateEventBench(contract: string, entries: [string, string][]) {
	const runs = 31;
	const proposal = entries[0]![0];
	const nearEnd = entries[entries.length - 10]![0];
	const off = { snapshotEvery: 0 };
	// Warm up both paths.
	await lateEvents([await open(contract, entries), await open(contract, entries, off)], nearEnd, 3, 'warm');

	const [snapStart, fullStart] = (await lateEvents([await open(contract, entries), await open(contract, entries, off)], proposal, runs, 'start')) as [Figures, Figures];
	const snapped = await open(contract, entries);
	const snapshots = snapped.snapshots;
	const [snapEnd, fullEnd] = (await lateEvents([snapped, await open(contract, entries, off)], nearEnd, runs, 'end')) as [Figures, Figures];

	// Memory the snapshots hold: the same log opened with and without them, after a collection.
	gc();
	const h0 = process.memoryUsage().heapUsed;
	const withSnaps = await open(contract, entries);
	gc();
	const h1 = process.memoryUsage().heapUsed;
	const withoutSnaps = await open(contract, entries, off);
	gc();
	const h2 = process.memoryUsage().heapUsed;
	const snapshotMB = (h1 - h0 - (h2 - h1)) / 2 ** 20;
	if (withSnaps.size !== withoutSnaps.size) throw new Error('unequal logs');

	return {
		benchmark: 'late-event',
		events: entries.length,
		snapshotEvery: DEFAULT_SNAPSHOT_EVERY,
		snapshotsKept: DEFAULT_SNAPSHOTS_KEPT,
		snapshotPositionsAfterOpen: snapshots,
		snapshotsHeapMB: round(snapshotMB, 1),
		/** The old behaviour: every late event refolds from the empty state. */
		fullRefoldDeriveMs: round(fullStart.deriveMs),
		/** Worst case: a late event that sorts at the very start. */
		worstCaseLateDeriveMs: round(snapStart.deriveMs),
		worstCaseToFullRefoldRatio: round(snapStart.deriveMs / fullStart.deriveMs),
		worstCaseLateTotalMs: round(snapStart.totalMs),
		fullRefoldTotalMs: round(fullStart.totalMs),
		/** A concurrent event: sorts ten positions before the end. */
		nearEndLateDeriveMs: round(snapEnd.deriveMs),
		nearEndFullRefoldDeriveMs: round(fullEnd.deriveMs),
		nearEndToFullRefoldRatio: round(snapEnd.deriveMs / fullEnd.deriveMs),
		nearEndReappliedPerEvent: snapEnd.reappliedPerEvent,
		fullRefoldReappliedPerEvent: fullEnd.reappliedPerEvent
	};
}
