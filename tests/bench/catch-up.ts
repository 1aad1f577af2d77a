/**
 * Catch-up benchmark (not a test): a device that missed 10,000 events of a contract pulls them
 * from a real relay and reaches the uploader's derived state; beside it, in the same run, a cold
 * open of the same contract from local storage (open.ts `coldOpen`). Target: catch-up ≤ 1.5× cold open.
 *
 * - The relay is the Node relay in its own process (src/relay/main.ts, SQLite, default limits), so
 *   its work does not share the device's event loop.
 * - One party uploads every event through the relay client (RelayRoom.push, as the app's queue does):
 *   the first four one by one, the rest as a backlog sealed in bundles (relay-sync.ts sends a queue of
 *   20 or more that way). CATCH_UP_UPLOAD=singles: every event went up on its own (live writes),
 *   then the uploader compacted the room (CATCH_UP_COMPACT=0: it did not).
 * - CATCH_UP_FRAMES=json: the catching-up device reads pages as JSON (a client from before binary frames).
 * - The catching-up device holds the contract's first events (the proposal up to the countersign's
 *   receipt, with its relay cursor past them) and missed the rest. Timed from nothing — its stored
 *   document applied, ContractDoc opened, a fresh relay connection, the room opened with its proof —
 *   to its derived state equal to the uploader's, through the app's path: RelaySync → RelayClient
 *   (pull, decrypt) → the contract document (verify, fold).
 *
 *   node --import tsx tests/bench/catch-up.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import * as Y from 'yjs';
import type { DerivedContract } from '../../src/lib/contract/log';
import { ContractDoc } from '../../src/lib/sync/contract-doc';
import { RelayClient, type SocketFactory } from '../../src/lib/sync/relay-client';
import { MemoryUploadQueue } from '../../src/lib/sync/relay-queue';
import { MemoryCursorStore, RELAY_ORIGIN, RelayPool, RelaySync } from '../../src/lib/sync/relay-sync';
import { loadWasmSha256 } from '../../src/lib/sync/wasm-sha256';
import { BENCH_CONTRACT, bigContract } from './fixture';
import { coldOpen } from './open';

const here = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const SECRET = 'catchupbenchsecretcatchupbench01';
/** What the catching-up device already holds: proposal, acceptance, countersign, its receipt. */
const HELD = 4;
const UPLOAD = process.env.CATCH_UP_UPLOAD === 'singles' ? 'singles' : 'bundles';
/**
 * With singles, the uploader then compacts the room, as a device that read it all does once it
 * holds COMPACT_FROM single items past the last compaction (relay-sync.ts); CATCH_UP_COMPACT=0: not.
 */
const COMPACT = UPLOAD === 'singles' && process.env.CATCH_UP_COMPACT !== '0';
/** CATCH_UP_FRAMES=json: pull pages as JSON, as a client from before binary frames did. */
const FRAMES = process.env.CATCH_UP_FRAMES !== 'json';

/** The same socket the app gets from the browser: default options (permessage-deflate offered). */
const socket: SocketFactory = (url) => new WebSocket(url) as unknown as ReturnType<SocketFactory>;

export function startRelay(data: string): Promise<{ child: ChildProcess; url: string }> {
	// CATCH_UP_RELAY_NODE_ARGS: extra node flags for the relay process (e.g. --cpu-prof to profile it).
	const extra = (process.env.CATCH_UP_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
	const child = spawn(process.execPath, [...extra, '--import', 'tsx', 'src/relay/main.ts', '--port', '0', '--data', data, '--no-push'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
	return new Promise((resolve, reject) => {
		let out = '';
		child.stdout!.on('data', (d) => {
			out += String(d);
			const m = /Relay on (ws:\/\/localhost:\d+)/.exec(out);
			if (m) resolve({ child, url: m[1]! });
		});
		child.on('exit', (code) => reject(new Error(`relay exited (${code}): ${out}`)));
	});
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

/** One catch-up from nothing to the expected state; the milliseconds it took, and how many pulls/batches. */
export async function catchUp(url: string, held: Uint8Array, total: number, expected: string): Promise<{ ms: number; cpuMs: number; batches: number }> {
	const cursors = new MemoryCursorStore();
	await cursors.put({ contract: BENCH_CONTRACT, relay: url, cursor: HELD, seeded: true });
	const t = performance.now();
	const cpu = process.cpuUsage();
	const doc = new Y.Doc();
	Y.applyUpdate(doc, held);
	const cdoc = new ContractDoc(BENCH_CONTRACT, doc);
	await cdoc.settled();
	let batches = 0;
	doc.on('afterTransaction', (tx: Y.Transaction) => void (tx.origin === RELAY_ORIGIN && batches++));
	const sync = new RelaySync({ cdoc, secret: SECRET, relays: [url], pool: new RelayPool({ socket, frames: FRAMES }), queue: () => new MemoryUploadQueue(), cursors, offline: false, events: new EventTarget() });
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
	const used = process.cpuUsage(cpu);
	if (fingerprint(cdoc.derived) !== expected) throw new Error('the caught-up state differs from the uploader’s');
	await sync.stop();
	return { ms, cpuMs: (used.user + used.system) / 1000, batches };
}

export async function catchUpBench(opts: { missed?: number; runs?: number } = {}) {
	const missed = opts.missed ?? 10_000;
	const runs = opts.runs ?? 7;
	const total = HELD + missed;
	await loadWasmSha256();
	const entries = await bigContract(total);
	const update = docOf(entries);
	const held = docOf(entries.slice(0, HELD));

	// The uploader's derived state: what the catching-up device must reach.
	const uploader = await coldOpen(BENCH_CONTRACT, update);
	const expected = fingerprint(uploader.derive());
	if (uploader.derive().state.applied.length !== total) throw new Error(`expected ${total} applied events`);

	const data = mkdtempSync(join(tmpdir(), 'catch-up-bench-'));
	const relay = await startRelay(data);
	try {
		const up = new RelayClient({ url: relay.url, socket, reconnect: false, requestTimeoutMs: 120_000 });
		const room = await up.room(SECRET);
		const events = entries.map(([id, envelope]) => ({ id, envelope }));
		const seqs = [...(await room.push(events.slice(0, HELD))), ...(await room.push(events.slice(HELD), { bundle: UPLOAD === 'bundles' }))];
		const compaction = COMPACT ? await room.compact(events) : undefined;
		if (compaction && compaction.covered !== total) throw new Error(`the compaction covers ${compaction.covered} of ${total} items`);
		up.close();
		if (seqs.length !== total || seqs[HELD - 1] !== HELD) throw new Error('the relay did not store the contract in order');

		// Warm up both paths once (JIT), then interleave them.
		await catchUp(relay.url, held, total, expected);
		await coldOpen(BENCH_CONTRACT, update);
		const cold: number[] = [];
		const coldCpu: number[] = [];
		const caught: number[] = [];
		const caughtCpu: number[] = [];
		let batches = 0;
		for (let i = 0; i < runs; i++) {
			const t = performance.now();
			const cpu = process.cpuUsage();
			const log = await coldOpen(BENCH_CONTRACT, update);
			cold.push(performance.now() - t);
			const used = process.cpuUsage(cpu);
			coldCpu.push((used.user + used.system) / 1000);
			if (log.derive().state.applied.length !== total) throw new Error('cold open: unequal log');
			const r = await catchUp(relay.url, held, total, expected);
			caught.push(r.ms);
			caughtCpu.push(r.cpuMs);
			batches = r.batches;
		}
		return {
			benchmark: 'catch-up',
			runtime: `node ${process.version}`,
			events: total,
			missedEvents: missed,
			relay: 'node, sqlite, own process',
			upload: UPLOAD,
			pullFrames: FRAMES ? 'binary' : 'json',
			compacted: COMPACT,
			catchUpMs: round(median(caught)),
			coldOpenMs: round(median(cold)),
			catchUpToColdOpenRatio: round(median(caught) / median(cold)),
			/** The same in CPU time of this process (all its threads): steadier on a loaded machine. */
			catchUpCpuMs: round(median(caughtCpu)),
			coldOpenCpuMs: round(median(coldCpu)),
			cpuRatio: round(median(caughtCpu) / median(coldCpu)),
			/** Transactions the pulled events were written to the document in. */
			catchUpTransactions: batches,
			targets: { catchUpToColdOpenRatio: 1.5 }
		};
	} finally {
		relay.child.kill('SIGTERM');
		rmSync(data, { recursive: true, force: true });
	}
}

if (process.argv[1] === here)
	catchUpBench({ runs: Number(process.env.CATCH_UP_RUNS ?? 7) })
		.then((r) => {
			console.log(JSON.stringify(r, null, 2));
			process.exit(0);
		})
		.catch((e) => {
			console.error(e);
			process.exit(1);
		});
