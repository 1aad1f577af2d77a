/**
 * One catch-up and the catch-up figures, in whatever runtime runs them: Node (catch-up.ts, with the
 * `ws` socket) and Chromium (browser-catch-up.ts, with the page's WebSocket). No Node module here.
 */
import * as Y from 'yjs';
import type { DerivedContract } from '../../src/lib/contract/log';
import { ContractDoc } from '../../src/lib/sync/contract-doc';
import type { SocketFactory } from '../../src/lib/sync/relay-client';
import { MemoryUploadQueue } from '../../src/lib/sync/relay-queue';
import { MemoryCursorStore, RELAY_ORIGIN, RelayPool, RelaySync } from '../../src/lib/sync/relay-sync';
import { BENCH_CONTRACT } from './fixture';
import { coldOpen } from './open';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export const CATCH_UP_SECRET = 'catchupbenchsecretcatchupbench01';
/** What the catching-up device already holds: proposal, acceptance, countersign, its receipt. */
export const HELD = 4;

export interface CatchUpRuntime {
	socket: SocketFactory;
	/** Pull pages as binary frames (false: as JSON, as a client from before binary frames did). */
	frames: boolean;
	/** CPU time of this process so far, in ms, where the runtime can tell (Node); else undefined. */
	cpuMs?: () => number;
}

/** The derived state as one string: Maps and Sets as sorted entries, so equal states compare equal. */
export function fingerprint(d: DerivedContract): string {
	return JSON.stringify({ state: d.state, rejected: d.rejected, waiting: d.waiting }, (_k, v: unknown) =>
		v instanceof Map ? [...v].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)) : v instanceof Set ? [...v].sort() : v
	);
}

export const docOf = (entries: readonly [string, string][]) => {
	const doc = new Y.Doc();
	doc.transact(() => {
		const map = doc.getMap<string>('events');
		for (const [id, env] of entries) map.set(id, env);
	});
	return Y.encodeStateAsUpdate(doc);
};

/**
 * One catch-up from nothing to the expected state: the milliseconds it took, the CPU it used (where
 * known) and how many transactions the pulled events were written to the document in.
 */
export async function catchUp(rt: CatchUpRuntime, url: string, held: Uint8Array, total: number, expected: string): Promise<{ ms: number; cpuMs: number; batches: number }> {
	const cursors = new MemoryCursorStore();
	await cursors.put({ contract: BENCH_CONTRACT, relay: url, cursor: HELD, seeded: true });
	const t = performance.now();
	const cpu = rt.cpuMs?.() ?? 0;
	const doc = new Y.Doc();
	Y.applyUpdate(doc, held);
	const cdoc = new ContractDoc(BENCH_CONTRACT, doc);
	await cdoc.settled();
	let batches = 0;
	doc.on('afterTransaction', (tx: Y.Transaction) => void (tx.origin === RELAY_ORIGIN && batches++));
	const sync = new RelaySync({
		cdoc,
		secret: CATCH_UP_SECRET,
		relays: [url],
		pool: new RelayPool({ socket: rt.socket, frames: rt.frames }),
		queue: () => new MemoryUploadQueue(),
		cursors,
		offline: false,
		events: new EventTarget()
	});
	const done = new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`catch-up stalled at ${cdoc.derived.state.applied.length} events`)), 120_000);
		const off = cdoc.subscribe((d) => {
			if (d.state.applied.length < total) return;
			clearTimeout(timer);
			queueMicrotask(() => off());
			resolve();
		});
	});
	await sync.start();
	await done;
	const ms = performance.now() - t;
	const cpuMs = (rt.cpuMs?.() ?? 0) - cpu;
	if (fingerprint(cdoc.derived) !== expected) throw new Error('the caught-up state differs from the uploader’s');
	await sync.stop();
	return { ms, cpuMs, batches };
}

/**
 * A cold open of `update` (the whole contract, from local storage) and a catch-up of what `held`
 * lacks from the relay at `url`, interleaved `runs` times after one warm-up of each: medians, and
 * their ratio measured in the same run.
 */
export async function catchUpFigures(rt: CatchUpRuntime, url: string, update: Uint8Array, held: Uint8Array, total: number, runs: number) {
	const uploader = await coldOpen(BENCH_CONTRACT, update);
	if (uploader.derive().state.applied.length !== total) throw new Error(`expected ${total} applied events`);
	const expected = fingerprint(uploader.derive());
	// Warm up both paths once (JIT), then interleave them.
	await catchUp(rt, url, held, total, expected);
	await coldOpen(BENCH_CONTRACT, update);
	const cold: number[] = [];
	const coldCpu: number[] = [];
	const caught: number[] = [];
	const caughtCpu: number[] = [];
	let batches = 0;
	for (let i = 0; i < runs; i++) {
		const t = performance.now();
		const cpu = rt.cpuMs?.() ?? 0;
		const log = await coldOpen(BENCH_CONTRACT, update);
		cold.push(performance.now() - t);
		coldCpu.push((rt.cpuMs?.() ?? 0) - cpu);
		if (log.derive().state.applied.length !== total) throw new Error('cold open: unequal log');
		const r = await catchUp(rt, url, held, total, expected);
		caught.push(r.ms);
		caughtCpu.push(r.cpuMs);
		batches = r.batches;
	}
	return {
		catchUpMs: round(median(caught)),
		coldOpenMs: round(median(cold)),
		catchUpToColdOpenRatio: round(median(caught) / median(cold)),
		...(rt.cpuMs
			? {
					/** The same in CPU time of this process (all its threads): steadier on a loaded machine. */
					catchUpCpuMs: round(median(caughtCpu)),
					coldOpenCpuMs: round(median(coldCpu)),
					cpuRatio: round(median(caughtCpu) / median(coldCpu))
				}
			: {}),
		/** Transactions the pulled events were written to the document in. */
		catchUpTransactions: batches
	};
}
