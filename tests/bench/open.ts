/**
 * Opening a contract against plain Yjs, in whatever runtime runs it (Node in run.ts, Chromium
 * through browser-open.ts): the same document, interleaved runs, medians, ratios in one run.
 *  - plain: `Y.applyUpdate` of the stored update (what loading the document costs anyway);
 *  - cold open: the same, then every event decoded, verified and folded (a first open);
 *  - reopen: the checkpoint read (from IndexedDB in the browser, where browser-open.ts passes a
 *    `CheckpointStorage`; a structured clone stands for it in Node), asked for before the same apply
 *    as the app asks for it before the document's updates load (persistence.ts), then checked against
 *    the document and restored, and the document's values added (an open of a contract this device
 *    has verified before). Its decoding (parseCheckpoint) runs as soon as the read is done, as in the
 *    app, where that is usually while the updates still load. Of it, `checkpointReadMs` is how long
 *    the read still took once the apply was done, `checkpointDecodeMs` decoding it and checking it
 *    against the document (parseCheckpoint, checkAgainst); the rest is restoring and adding.
 * The hash is the WebAssembly SHA-256 the app installs before it opens a contract.
 */
import * as Y from 'yjs';
import { ContractLog } from '../../src/lib/contract/log';
import { sha256Implementation } from '../../src/lib/contract/sha256';
import { authenticate } from '../../src/lib/identity/authenticate';
import { checkAgainst, encodeCheckpoint, parseCheckpoint, type StoredCheckpoint } from '../../src/lib/sync/checkpoint';
import { loadWasmSha256 } from '../../src/lib/sync/wasm-sha256';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const RULES = 'bench';

/** Where a cold open's time goes, per run: applying the update, decoding (add), authenticating, folding. */
export interface OpenPhases {
	apply: number[];
	add: number[];
	authenticate: number[];
	derive: number[];
}

export async function coldOpen(contract: string, update: Uint8Array, phases?: OpenPhases): Promise<ContractLog> {
	let t = performance.now();
	const doc = new Y.Doc();
	Y.applyUpdate(doc, update);
	const events = doc.getMap<string>('events');
	const t1 = performance.now();
	const log = new ContractLog(contract);
	events.forEach((env, id) => log.add(id, env));
	const t2 = performance.now();
	await authenticate(log);
	const t3 = performance.now();
	log.derive();
	if (phases) {
		phases.apply.push(t1 - t);
		phases.add.push(t2 - t1);
		phases.authenticate.push(t3 - t2);
		phases.derive.push(performance.now() - t3);
	}
	return log;
}

/** Where a reopen's time goes beside reading and decoding the checkpoint: applying the update, restoring, adding the document's values, authenticating and folding what is new. */
export interface ReopenPhases {
	apply: number[];
	restore: number[];
	add: number[];
	derive: number[];
}

/** Where the checkpoint is written once and read back at every reopen. */
export interface CheckpointStorage {
	name: string;
	write(stored: StoredCheckpoint): Promise<void>;
	read(): Promise<unknown>;
}

function inMemory(): CheckpointStorage {
	let kept: StoredCheckpoint | undefined;
	return {
		name: 'structuredClone',
		write: async (s) => void (kept = s),
		read: async () => structuredClone(kept)
	};
}

export async function reopen(contract: string, update: Uint8Array, storage: CheckpointStorage, readMs: number[] = [], decodeMs: number[] = [], phases?: ReopenPhases): Promise<ContractLog> {
	let t = performance.now();
	let decodedMs = 0;
	const reading = storage.read().then((stored) => {
		const t0 = performance.now();
		const parsed = parseCheckpoint(stored, contract, RULES);
		decodedMs = performance.now() - t0;
		return parsed;
	});
	const doc = new Y.Doc();
	Y.applyUpdate(doc, update);
	phases?.apply.push(performance.now() - t);
	const events = doc.getMap<string>('events');
	t = performance.now();
	const parsed = await reading;
	readMs.push(performance.now() - t - decodedMs);
	t = performance.now();
	const cp = parsed && checkAgainst(parsed, events);
	decodeMs.push(performance.now() - t + decodedMs);
	if (!cp) throw new Error('the checkpoint did not decode');
	t = performance.now();
	const log = new ContractLog(contract);
	log.restoreCheckpoint(cp);
	const t1 = performance.now();
	events.forEach((env, id) => log.add(id, env));
	const t2 = performance.now();
	await authenticate(log);
	log.derive();
	phases?.restore.push(t1 - t);
	phases?.add.push(t2 - t1);
	phases?.derive.push(performance.now() - t2);
	return log;
}

export async function openFigures(contract: string, update: Uint8Array, events: number, runs = 7, gc: () => void = () => {}, storage: CheckpointStorage = inMemory()) {
	const wasm = await loadWasmSha256();
	// Warm up every path once so JIT compilation is not measured.
	Y.applyUpdate(new Y.Doc(), update);
	const first = await coldOpen(contract, update);
	// Every document applied from `update` holds the same Yjs items: this one stands for each reopen's.
	const written = new Y.Doc();
	Y.applyUpdate(written, update);
	let t = performance.now();
	const stored = await encodeCheckpoint(first.checkpoint(), RULES, written.getMap<string>('events'));
	const checkpointWriteMs = performance.now() - t;
	t = performance.now();
	first.prepareSnapshots();
	const idleSnapshotMs = performance.now() - t;
	await storage.write(stored);
	await reopen(contract, update, storage);

	const plain: number[] = [];
	const cold: number[] = [];
	const re: number[] = [];
	const read: number[] = [];
	const decode: number[] = [];
	const phases: OpenPhases = { apply: [], add: [], authenticate: [], derive: [] };
	const reopenPhases: ReopenPhases = { apply: [], restore: [], add: [], derive: [] };
	for (let i = 0; i < runs; i++) {
		gc();
		t = performance.now();
		const d = new Y.Doc();
		Y.applyUpdate(d, update);
		d.getMap('events').size;
		plain.push(performance.now() - t);
		gc();
		t = performance.now();
		const log = await coldOpen(contract, update, phases);
		cold.push(performance.now() - t);
		if (log.derive().state.applied.length !== events) throw new Error(`expected ${events} applied events`);
		gc();
		t = performance.now();
		const again = await reopen(contract, update, storage, read, decode, reopenPhases);
		re.push(performance.now() - t);
		if (again.derive().state.applied.length !== events) throw new Error(`reopen: expected ${events} applied events`);
	}
	return {
		sha256: wasm && sha256Implementation() === 'installed' ? 'wasm' : 'javascript',
		plainYjsApplyMs: round(median(plain)),
		coldOpenMs: round(median(cold)),
		/** The median of each run's ratio to the plain apply measured just before it: the machine's speed drifts between runs, less within one. */
		coldOpenToPlainYjsRatio: round(median(cold.map((c, i) => c / plain[i]!))),
		/** The cold open's phases (medians of each): applying the update, decoding every event, checking signatures, folding. */
		coldOpenPhasesMs: { apply: round(median(phases.apply)), add: round(median(phases.add)), authenticate: round(median(phases.authenticate)), derive: round(median(phases.derive)) },
		reopenMs: round(median(re)),
		reopenToPlainYjsRatio: round(median(re.map((r, i) => r / plain[i]!))),
		/** The reopen's phases (medians of each) beside `checkpointReadMs` and `checkpointDecodeMs`. */
		reopenPhasesMs: { apply: round(median(reopenPhases.apply)), restore: round(median(reopenPhases.restore)), add: round(median(reopenPhases.add)), derive: round(median(reopenPhases.derive)) },
		checkpointReadFrom: storage.name,
		checkpointReadMs: round(median(read)),
		checkpointDecodeMs: round(median(decode)),
		checkpointMB: round(stored.body.length / 2 ** 20, 1),
		/** Idle work after an open, off the path to the first view: writing the checkpoint, building the fold snapshot. */
		checkpointEncodeMs: round(checkpointWriteMs),
		idleSnapshotMs: round(idleSnapshotMs)
	};
}
