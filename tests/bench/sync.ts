/**
 * Two headless Chromium browsers syncing a 10,000-event contract over loopback WebRTC through our
 * signaling server: time from the joining browser's connection to its showing the identical derived
 * state; beside it, the same document's plain Yjs sync between two in-process docs.
 *
 * Knobs: BENCH_NO_RELAY=1 (no relay on either device: WebRTC alone), BENCH_BUILD_DIR (serve a copy
 * of a build), BENCH_PROFILE=dir (CPU profiles of both pages), BENCH_TIMELINE=1 (both pages'
 * `sync:` performance marks, from peers.ts and the contract session, in ms from the join, on stderr:
 * where the joining device's time goes).
 */
import { chromium, type Page } from '@playwright/test';
import * as Y from 'yjs';
import { startSignaling } from '../../src/signaling/server.js';
import { CLIENT, FREELANCER } from '../support/world';
import { BENCH_CONTRACT } from './fixture';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { RelayClient, type SocketFactory } from '../../src/lib/sync/relay-client';

export const LAUNCH = {
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
};
const SECRET = 'benchsecretbenchsecretbenchsecret';

/** Put a device key, a contract entry and (optionally) the contract's Yjs update straight into the app's IndexedDB. */
export async function seed(
	page: Page,
	key: typeof CLIENT,
	name: string,
	update: Uint8Array | null,
	signaling: string,
	contract = BENCH_CONTRACT,
	relayCursor?: { relay: string; cursor: number }
): Promise<void> {
	await page.evaluate(
		async ({ key, name, contract, secret, update, signaling, relayCursor }) => {
			localStorage.setItem('milestone.network', JSON.stringify({ signaling: [signaling], iceServers: [] }));
			// BENCH_NO_RELAY=1: this device uses no relay (what WebRTC alone costs).
			if ((globalThis as { __benchNoRelay?: boolean }).__benchNoRelay) localStorage.setItem('milestone.relays', JSON.stringify({ relays: [] }));
			const open = (db: string, version: number, upgrade: (d: IDBDatabase, from: number) => void) =>
				new Promise<IDBDatabase>((resolve, reject) => {
					const r = indexedDB.open(db, version);
					r.onupgradeneeded = (e) => upgrade(r.result, e.oldVersion);
					r.onsuccess = () => resolve(r.result);
					r.onerror = () => reject(r.error);
				});
			const put = (db: IDBDatabase, store: string, value: unknown, k?: IDBValidKey) =>
				new Promise<void>((resolve, reject) => {
					const tx = db.transaction(store, 'readwrite');
					tx.objectStore(store).put(value, k);
					tx.oncomplete = () => resolve();
					tx.onerror = () => reject(tx.error);
				});
			// The app's device database (src/lib/sync/device-db.ts), version 3: with the intent outbox and the relay queue and cursors.
			const device = await open('milestone-device', 3, (d, from) => {
				if (from < 1) {
					d.createObjectStore('device');
					d.createObjectStore('contracts', { keyPath: 'contract' });
				}
				if (from < 2) d.createObjectStore('outbox', { keyPath: 'id' }).createIndex('contract', 'contract');
				if (!d.objectStoreNames.contains('relayQueue')) {
					const q = d.createObjectStore('relayQueue', { keyPath: ['relay', 'room', 'id'] });
					q.createIndex('order', ['relay', 'room', 'queuedAt']);
					q.createIndex('relay', 'relay');
				}
				if (!d.objectStoreNames.contains('relayCursors')) d.createObjectStore('relayCursors', { keyPath: ['contract', 'relay'] }).createIndex('contract', 'contract');
			});
			await put(device, 'device', { key, name, createdAt: Date.now() }, 'self');
			if (!update) return;
			await put(device, 'contracts', { contract, secret, title: contract, addedAt: Date.now() });
			// The device that wrote the contract uploaded it to its relay as it went: caught up there.
			if (relayCursor) await put(device, 'relayCursors', { contract, relay: relayCursor.relay, cursor: relayCursor.cursor, seeded: true });
			const doc = await open(`milestone-contract-${contract}`, 1, (d) => {
				d.createObjectStore('updates', { autoIncrement: true });
				d.createObjectStore('custom');
			});
			const bytes = Uint8Array.from(atob(update), (c) => c.charCodeAt(0));
			await put(doc, 'updates', bytes);
		},
		{ key, name, contract, secret: SECRET, update: update ? Buffer.from(update).toString('base64') : null, signaling, relayCursor }
	);
}

/** Main-thread task time of a page from now (CDP Performance metrics): read it with the function returned, in ms. */
export async function mainThreadWork(p: Page): Promise<() => Promise<number>> {
	const session = await p.context().newCDPSession(p);
	await session.send('Performance.enable');
	const read = async () => {
		const { metrics } = await session.send('Performance.getMetrics');
		return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) * 1000;
	};
	const start = await read();
	return async () => Math.round((await read()) - start);
}

export async function syncBench(entries: [string, string][]): Promise<Record<string, number>> {
	const source = new Y.Doc();
	source.transact(() => {
		const map = source.getMap<string>('events');
		for (const [id, env] of entries) map.set(id, env);
	});
	const update = Y.encodeStateAsUpdate(source);

	const plain: number[] = [];
	for (let i = 0; i < 5; i++) {
		const target = new Y.Doc();
		const t = performance.now();
		Y.applyUpdate(target, Y.encodeStateAsUpdate(source, Y.encodeStateVector(target)));
		plain.push(performance.now() - t);
	}

	const signaling = await startSignaling({ port: 0 });
	const port = 4391;
	// The relay beside the app starts empty each run (not with what earlier runs left in data/relay).
	const relayData = mkdtempSync(join(tmpdir(), 'sync-bench-relay-'));
	// BENCH_BUILD_DIR: serve a copy of the build (another build may replace build/ meanwhile).
	const server = spawn(
		process.execPath,
		['scripts/serve.js', '--port', String(port), '--signaling-port', '4392', '--relay-data', relayData, '--no-push', '--dir', process.env.BENCH_BUILD_DIR ?? 'build'],
		{ stdio: 'ignore' }
	);
	let exited: number | null | undefined;
	server.on('exit', (code) => (exited = code));
	await new Promise((r) => setTimeout(r, 800));
	// Another server on these ports (a run that did not end cleanly) would serve another build.
	if (exited !== undefined) throw new Error(`the app server exited (${exited}): are ports ${port}, 4392 or 4446 taken?`);
	// As in use: the opener's device uploaded the contract to the relay the build names (its
	// default, next to the app) while writing it, and is caught up there; the joining device finds
	// it there too, as well as through WebRTC. BENCH_NO_RELAY=1: neither device uses a relay.
	let relayCursor: { relay: string; cursor: number } | undefined;
	if (!process.env.BENCH_NO_RELAY) {
		const relay = 'ws://localhost:4446';
		// The server starts its relay after a moment: try until it answers.
		for (let attempt = 0; ; attempt++) {
			const client = new RelayClient({ url: relay, socket: (u) => new WebSocket(u) as unknown as ReturnType<SocketFactory>, reconnect: false, requestTimeoutMs: 60_000 });
			try {
				const seqs = await (await client.room(SECRET)).push(entries.map(([id, envelope]) => ({ id, envelope })));
				relayCursor = { relay, cursor: seqs.length };
				break;
			} catch (e) {
				if (attempt >= 40 || exited !== undefined) {
					server.kill('SIGKILL');
					throw e;
				}
				await new Promise((r) => setTimeout(r, 500));
			} finally {
				client.close();
			}
		}
	}
	const a = await chromium.launch(LAUNCH);
	const b = await chromium.launch(LAUNCH);
	try {
		const origin = `http://localhost:${port}`;
		// tsx compiles the evaluated functions with esbuild's __name helper; give the pages a no-op one.
		const context = async (browser: typeof a) => {
			const c = await browser.newContext();
			await c.addInitScript('globalThis.__name = (f) => f;' + (process.env.BENCH_NO_RELAY ? ' globalThis.__benchNoRelay = true;' : ''));
			return c.newPage();
		};
		const ada = await context(a);
		const grace = await context(b);
		await ada.goto(origin + '/');
		await seed(ada, CLIENT, 'Ada', update, signaling.url, BENCH_CONTRACT, relayCursor);
		await grace.goto(origin + '/');
		await seed(grace, FREELANCER, 'Grace', null, signaling.url);
		const openStart = Date.now();
		await ada.goto('about:blank');
		await ada.goto(`${origin}/#/c/${BENCH_CONTRACT}`);
		await ada.getByTestId('event-count').filter({ hasText: `${entries.length} events` }).waitFor({ timeout: 60_000 });
		const adaOpenMs = Date.now() - openStart;
		await grace.goto('about:blank');
		await grace.goto(`${origin}/#/`);
		await grace.getByRole('heading', { name: 'Contracts' }).waitFor();
		// From the two browsers' connection — seen on the opener's page, which shows its peers (the
		// joining page shows the contract only once it has arrived) — to the joining page showing the
		// full derived state. Polls both pages (the join route hands over to the contract route, which
		// may replace the document).
		// Main-thread work of each page from the join to the identical state (CDP Performance
		// metrics): steadier than the wall clock on a loaded machine.
		const [joinerWork, openerWork] = await Promise.all([mainThreadWork(grace), mainThreadWork(ada)]);
		const cpuBefore = descendantsCpuMs();
		// BENCH_PROFILE=dir: CPU profiles of the joining and the opening page from the join to the identical state.
		const profiling = process.env.BENCH_PROFILE
			? await Promise.all(
					[grace, ada].map(async (p) => {
						const cdp = await p.context().newCDPSession(p);
						await cdp.send('Profiler.enable');
						await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
						await cdp.send('Profiler.start');
						return cdp;
					})
				)
			: undefined;
		const joinAt = Date.now();
		await grace.evaluate((join) => (location.hash = join), `#/join/${BENCH_CONTRACT}/${SECRET}`);
		const status = (p: Page) =>
			p.evaluate(() => [document.querySelector('[data-testid="sync-status"]')?.textContent ?? '', document.querySelector('[data-testid="event-count"]')?.textContent ?? '']).catch(() => ['', '']);
		let connectedAt = 0;
		let connectToStateMs = -1;
		const deadline = Date.now() + 60_000;
		while (Date.now() < deadline) {
			const [opener, joiner] = await Promise.all([status(ada), status(grace)]);
			const now = Date.now();
			if (!connectedAt && (opener[0]!.startsWith('Connected') || joiner[0]!.startsWith('Connected'))) connectedAt = now;
			if (joiner[1]!.startsWith(`${entries.length} events`)) {
				// Both seen in one poll: the connection came no later than the previous poll.
				connectToStateMs = now - (connectedAt || now);
				break;
			}
			await new Promise((r) => setTimeout(r, 10));
		}
		const cpuMs = descendantsCpuMs() - cpuBefore;
		// BENCH_TIMELINE=1: each page's marks on the way to the first sync (peers.ts, session), in ms from the join, on stderr.
		if (process.env.BENCH_TIMELINE) {
			const marks = (p: Page) =>
				p.evaluate(() => performance.getEntriesByType('mark').filter((m) => /^(sync|milestone):/.test(m.name)).map((m) => [m.name, performance.timeOrigin + m.startTime] as const));
			for (const [name, p] of [['joiner', grace], ['opener', ada]] as const) {
				const rows = (await marks(p)).map(([m, at]) => `  ${String(Math.round(at - joinAt)).padStart(6)}  ${m}`);
				console.error(`${name} (ms from the join; connected at ${connectedAt - joinAt}, identical state at ${connectedAt - joinAt + connectToStateMs}):\n${rows.join('\n')}`);
			}
		}
		const [joiningPageTaskMs, openerPageTaskMs] = await Promise.all([joinerWork(), openerWork()]);
		if (profiling) {
			const { writeFileSync } = await import('node:fs');
			for (const [cdp, name] of [[profiling[0]!, 'joining'], [profiling[1]!, 'opener']] as const) {
				const { profile } = await cdp.send('Profiler.stop');
				writeFileSync(`${process.env.BENCH_PROFILE}/${name}-page.cpuprofile`, JSON.stringify(profile));
			}
		}
		return {
			browsersConnectToIdenticalStateMs: Math.round(connectToStateMs),
			plainYjsSyncInProcessMs: Math.round(median(plain) * 100) / 100,
			ratio: Math.round((connectToStateMs / median(plain)) * 10) / 10,
			openerColdOpenInBrowserMs: adaOpenMs,
			/** Main-thread task time of each page over the same interval (includes rendering). */
			joiningPageTaskMs,
			openerPageTaskMs,
			/** CPU time of both browsers and the app's servers over the same interval (Linux). */
			allProcessesCpuMs: cpuMs
		};
	} finally {
		await a.close();
		await b.close();
		// At once: a server still closing its connections would hold the ports for the next run.
		server.kill('SIGKILL');
		await signaling.close();
		rmSync(relayData, { recursive: true, force: true });
	}
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/**
 * CPU time (user + system, ms) used so far by every process under this one: both browsers, the
 * app server with its signaling and relay. Unlike the wall clock it does not grow when other work
 * on the machine takes the processors. Linux only (/proc); 0 elsewhere.
 */
function descendantsCpuMs(): number {
	let entries: string[];
	try {
		entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
	} catch {
		return 0;
	}
	const stats = new Map<number, { ppid: number; ticks: number }>();
	for (const pid of entries) {
		try {
			const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
			// Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
			const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			stats.set(Number(pid), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
		} catch {
			// exited meanwhile
		}
	}
	let ticks = 0;
	for (const [pid, s] of stats) {
		for (let p = s.ppid, depth = 0; p > 1 && depth < 20; p = stats.get(p)?.ppid ?? 0, depth++) {
			if (p === process.pid) {
				ticks += s.ticks;
				break;
			}
		}
		void pid;
	}
	return ticks * 10; // USER_HZ is 100 on Linux
}
