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
 * - The same inside Chromium (browser-catch-up.ts: the page's WebSocket, WebCrypto and
 *   DecompressionStream, the app's device), against a cold open in that Chromium; skipped with
 *   `--no-browsers`; CATCH_UP_PROFILE=file writes a CPU profile of that page. The device that
 *   catches up is a browser, and the two runtimes differ: Node's web streams make opening bundles
 *   cost more, Chromium takes longer to receive a relay page over its WebSocket.
 *
 *   node --import tsx tests/bench/catch-up.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { build } from 'esbuild';
import WebSocket from 'ws';
import { RelayClient, type SocketFactory } from '../../src/lib/sync/relay-client';
import { loadWasmSha256 } from '../../src/lib/sync/wasm-sha256';
import { CATCH_UP_SECRET, HELD, catchUpFigures, docOf } from './catch-up-run';
import { bigContract } from './fixture';
import { LAUNCH } from './sync';

const here = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
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
const cpuMs = () => {
	const u = process.cpuUsage();
	return (u.user + u.system) / 1000;
};

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

/** The same figures inside Chromium: a blank page of a local origin (a secure context, for WebCrypto) runs browser-catch-up.ts. */
async function inChromium(url: string, update: Uint8Array, held: Uint8Array, total: number, runs: number): Promise<Record<string, number>> {
	const script = (await build({ entryPoints: ['tests/bench/browser-catch-up.ts'], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', write: false, minify: !process.env.CATCH_UP_PROFILE })).outputFiles[0]!.text;
	const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>catch-up</title>'));
	await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
	const browser = await chromium.launch(LAUNCH);
	try {
		const page = await browser.newPage();
		await page.goto(`http://localhost:${(server.address() as { port: number }).port}/`);
		await page.addScriptTag({ content: script });
		const b64 = (x: Uint8Array) => Buffer.from(x).toString('base64');
		// CATCH_UP_PROFILE=file: a CPU profile of the page over its runs.
		const cdp = process.env.CATCH_UP_PROFILE ? await page.context().newCDPSession(page) : undefined;
		if (cdp) {
			await cdp.send('Profiler.enable');
			await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
			await cdp.send('Profiler.start');
		}
		const figures = await page.evaluate(
			([url, update, held, total, runs, frames]) =>
				(globalThis as unknown as { benchCatchUp: (...a: unknown[]) => Promise<Record<string, number>> }).benchCatchUp(url, update, held, total, runs, frames),
			[url, b64(update), b64(held), total, runs, FRAMES] as const
		);
		if (cdp) {
			writeFileSync(process.env.CATCH_UP_PROFILE!, JSON.stringify((await cdp.send('Profiler.stop')).profile));
		}
		return figures;
	} finally {
		await browser.close();
		server.close();
	}
}

export async function catchUpBench(opts: { missed?: number; runs?: number; browsers?: boolean } = {}) {
	const missed = opts.missed ?? 10_000;
	const runs = opts.runs ?? 7;
	const total = HELD + missed;
	await loadWasmSha256();
	const entries = await bigContract(total);
	const update = docOf(entries);
	const held = docOf(entries.slice(0, HELD));

	const data = mkdtempSync(join(tmpdir(), 'catch-up-bench-'));
	const relay = await startRelay(data);
	try {
		const up = new RelayClient({ url: relay.url, socket, reconnect: false, requestTimeoutMs: 120_000 });
		const room = await up.room(CATCH_UP_SECRET);
		const events = entries.map(([id, envelope]) => ({ id, envelope }));
		const seqs = [...(await room.push(events.slice(0, HELD))), ...(await room.push(events.slice(HELD), { bundle: UPLOAD === 'bundles' }))];
		const compaction = COMPACT ? await room.compact(events) : undefined;
		if (compaction && compaction.covered !== total) throw new Error(`the compaction covers ${compaction.covered} of ${total} items`);
		up.close();
		if (seqs.length !== total || seqs[HELD - 1] !== HELD) throw new Error('the relay did not store the contract in order');

		const node = await catchUpFigures({ socket, frames: FRAMES, cpuMs }, relay.url, update, held, total, runs);
		const browser = opts.browsers === false ? {} : await inChromium(relay.url, update, held, total, runs);
		return {
			benchmark: 'catch-up',
			runtime: `node ${process.version}`,
			events: total,
			missedEvents: missed,
			relay: 'node, sqlite, own process',
			upload: UPLOAD,
			pullFrames: FRAMES ? 'binary' : 'json',
			compacted: COMPACT,
			...node,
			/** The same inside Chromium (its WebSocket, WebCrypto and DecompressionStream), against a cold open there. */
			...Object.fromEntries(Object.entries(browser).map(([k, v]) => [`inBrowser${k[0]!.toUpperCase()}${k.slice(1)}`, v])),
			targets: { catchUpToColdOpenRatio: 1.5 }
		};
	} finally {
		relay.child.kill('SIGTERM');
		rmSync(data, { recursive: true, force: true });
	}
}

if (process.argv[1] === here)
	catchUpBench({ runs: Number(process.env.CATCH_UP_RUNS ?? 7), browsers: !process.argv.includes('--no-browsers') })
		.then((r) => {
			console.log(JSON.stringify(r, null, 2));
			process.exit(0);
		})
		.catch((e) => {
			console.error(e);
			process.exit(1);
		});
