/**
 * Two headless Chromium browsers syncing a 10,000-event contract over loopback WebRTC through our
 * signaling server: time from the joining browser's connection to its showing the identical derived
 * state; beside it, the same document's plain Yjs sync between two in-process docs.
 */
import { chromium, type Page } from '@playwright/test';
import * as Y from 'yjs';
import { startSignaling } from '../../src/signaling/server.js';
import { CLIENT, FREELANCER } from '../support/world';
import { BENCH_CONTRACT } from './fixture';
import { spawn } from 'node:child_process';

export const LAUNCH = {
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
};
const SECRET = 'benchsecretbenchsecretbenchsecret';

/** Put a device key, a contract entry and (optionally) the contract's Yjs update straight into the app's IndexedDB. */
export async function seed(page: Page, key: typeof CLIENT, name: string, update: Uint8Array | null, signaling: string, contract = BENCH_CONTRACT): Promise<void> {
	await page.evaluate(
		async ({ key, name, contract, secret, update, signaling }) => {
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
			const doc = await open(`milestone-contract-${contract}`, 1, (d) => {
				d.createObjectStore('updates', { autoIncrement: true });
				d.createObjectStore('custom');
			});
			const bytes = Uint8Array.from(atob(update), (c) => c.charCodeAt(0));
			await put(doc, 'updates', bytes);
		},
		{ key, name, contract, secret: SECRET, update: update ? Buffer.from(update).toString('base64') : null, signaling }
	);
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
	const server = spawn(process.execPath, ['scripts/serve.js', '--port', String(port), '--signaling-port', '4392'], { stdio: 'ignore' });
	await new Promise((r) => setTimeout(r, 800));
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
		await seed(ada, CLIENT, 'Ada', update, signaling.url);
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
		return {
			browsersConnectToIdenticalStateMs: Math.round(connectToStateMs),
			plainYjsSyncInProcessMs: Math.round(median(plain) * 100) / 100,
			ratio: Math.round((connectToStateMs / median(plain)) * 10) / 10,
			openerColdOpenInBrowserMs: adaOpenMs
		};
	} finally {
		await a.close();
		await b.close();
		server.kill();
		await signaling.close();
	}
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
