/**
 * Page figures: initial JavaScript of the first page (gzip), and time to interactive — from
 * navigation start to the app's own performance mark — of the Contracts page with 50 contracts
 * stored and of a contract page with 10,000 events. And the open figures of open.ts measured inside
 * Chromium: cold open and reopen from a checkpoint against Yjs in that same Chromium. And a Work Diary
 * week of a year of hourly work (hourly-year.ts) against a fixed-price contract page of as many events.
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { build } from 'esbuild';
import * as Y from 'yjs';
import { encodeBody, encodeEnvelope, signingBytes, withDerivedContract } from '../../src/lib/contract/envelope';
import { DEFAULT_CLOCKS } from '../../src/lib/contract/schema';
import { TEST_MODE_KEY } from '../../src/lib/escrow/mock';
import { sign } from '../../src/lib/identity/ed25519';
import { CLIENT, FREELANCER } from '../support/world';
import { BENCH_CONTRACT, bigContract } from './fixture';
import { HOURLY_CONTRACT, MID_WEEK, hourlyYear, updateOf } from './hourly-year';
import { LAUNCH, mainThreadWork, seed } from './sync';

async function smallContract(i: number): Promise<{ contract: string; update: Uint8Array }> {
	let contract = '';
	const doc = new Y.Doc();
	const map = doc.getMap<string>('events');
	let prev: Record<string, string | null> = {};
	let head: string | undefined;
	const emit = async (key: typeof CLIENT, type: string, payload: unknown) => {
		const draft =
			type === 'contract.proposed'
				? { contract, author: key.publicKey, prev: null, deps: [], at: Date.UTC(2026, 10, 1) + i * 60_000, type: type as never, payload }
				: { contract, author: key.publicKey, prev: prev[key.publicKey] ?? null, deps: head ? [head] : [], at: Date.UTC(2026, 10, 1) + i * 60_000, type: type as never, payload };
		const { id, body } = encodeBody(draft);
		map.set(id, encodeEnvelope(id, body, await sign(key, signingBytes(id))));
		prev = { ...prev, [key.publicKey]: id };
		head = id;
		return id;
	};
	const proposalDraft = withDerivedContract({
		contract: '',
		author: CLIENT.publicKey,
		prev: null,
		deps: [],
		at: Date.UTC(2026, 10, 1) + i * 60_000,
		type: 'contract.proposed' as const,
		payload: {
			role: 'client',
			name: 'Ada',
			nonce: `bench-small-nonce-${String(i).padStart(8, '0')}`,
			terms: { title: `Contract ${i + 1}`, scope: '', currency: 'USD', milestones: [{ id: 'm1', title: 'Design', amount: 10_000 + i }], provider: { id: 'mock', publicKey: TEST_MODE_KEY.publicKey, testMode: true }, ...DEFAULT_CLOCKS }
		}
	});
	contract = proposalDraft.contract;
	const proposal = await emit(CLIENT, 'contract.proposed', proposalDraft.payload);
	const acceptance = await emit(FREELANCER, 'contract.accepted', { proposal, name: 'Grace' });
	const countersign = await emit(CLIENT, 'contract.countersigned', { acceptance });
	await emit(TEST_MODE_KEY, 'receipt.attested', { event: countersign, kind: 'countersign' });
	for (let k = 0; k < 5; k++) await emit(k % 2 ? CLIENT : FREELANCER, 'message.posted', { text: `Note ${k}` });
	return { contract, update: Y.encodeStateAsUpdate(doc) };
}

async function mark(page: Page, name: string): Promise<number> {
	await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, { timeout: 60_000 });
	return page.evaluate((n) => Math.round(performance.getEntriesByName(n)[0]!.startTime), name);
}

/** browser-open.ts as one script for a page. */
async function browserOpenScript(): Promise<string> {
	const out = await build({ entryPoints: ['tests/bench/browser-open.ts'], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', write: false, minify: true });
	return out.outputFiles[0]!.text;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A first open (no checkpoint yet) of `route` on a fresh device holding only `update`: ms from navigation start to `milestone`. */
async function firstOpen(browser: Browser, origin: string, contract: string, update: Uint8Array, route: string, milestone: string, check?: (page: Page) => Promise<void>): Promise<number> {
	const ctx = await browser.newContext();
	try {
		await ctx.addInitScript('globalThis.__name = (f) => f;');
		const page = await ctx.newPage();
		await page.goto(origin + '/');
		await seed(page, CLIENT, 'Ada', update, 'ws://localhost:4394', contract);
		await page.goto('about:blank');
		await page.goto(`${origin}/#${route}`);
		const ms = await mark(page, milestone);
		await check?.(page);
		return ms;
	} finally {
		await ctx.close();
	}
}

/**
 * Issue 11: a Work Diary week (#/c/<contract>/diary/<week>) of a year of hourly work, first open, as a
 * ratio to a fixed-price contract page of the same number of events; interleaved runs, medians.
 */
export async function hourlyYearPages(browser: Browser, origin: string, runs = 3): Promise<Record<string, number>> {
	const hourly = await hourlyYear();
	const events = hourly.length;
	const fixed = await bigContract(events);
	const [hourlyUpdate, fixedUpdate] = [updateOf(hourly), updateOf(fixed)];
	// The week's 240 tracked cells must be on the page, or the figure measures something else.
	const cells = async (page: Page) => {
		const n = await page.getByTestId('segment').count();
		if (n !== 240) throw new Error(`the diary week shows ${n} cells, not 240`);
	};
	const diaryMs: number[] = [];
	const fixedMs: number[] = [];
	for (let i = 0; i < runs; i++) {
		diaryMs.push(await firstOpen(browser, origin, HOURLY_CONTRACT, hourlyUpdate, `/c/${HOURLY_CONTRACT}/diary/${MID_WEEK}`, 'milestone:diary-ready', cells));
		fixedMs.push(await firstOpen(browser, origin, BENCH_CONTRACT, fixedUpdate, `/c/${BENCH_CONTRACT}`, 'milestone:contract-ready'));
	}
	const [diary, fixedPrice] = [median(diaryMs), median(fixedMs)];
	return { hourlyYearEvents: events, hourlyYearDiaryWeekMs: diary, fixedPriceSameEventsContractMs: fixedPrice, hourlyYearDiaryToFixedPriceRatio: Math.round((diary / fixedPrice) * 100) / 100 };
}

export async function pageBench(bigUpdate: Uint8Array, events: number): Promise<Record<string, number | string>> {
	const port = 4393;
	// Ports of its own (relay too), so it runs beside the sync benchmark's server.
	const server = spawn(process.execPath, ['scripts/serve.js', '--port', String(port), '--signaling-port', '4394', '--relay-port', '4395'], { stdio: 'ignore' });
	await new Promise((r) => setTimeout(r, 800));
	const browser = await chromium.launch(LAUNCH);
	try {
		const origin = `http://localhost:${port}`;
		// 1. Initial JavaScript of the first page, as gzip would send it.
		const fresh = await browser.newPage();
		const scripts = new Set<string>();
		fresh.on('response', (r) => r.url().endsWith('.js') && scripts.add(new URL(r.url()).pathname));
		await fresh.goto(origin + '/', { waitUntil: 'networkidle' });
		let gzipBytes = 0;
		for (const path of scripts) if (!path.endsWith('service-worker.js')) gzipBytes += gzipSync(readFileSync(`build${path}`), { level: 9 }).byteLength;
		await fresh.close();

		// 2. Contracts page with 50 contracts stored.
		const ctx = await browser.newContext();
		await ctx.addInitScript('globalThis.__name = (f) => f;');
		const page = await ctx.newPage();
		await page.goto(origin + '/');
		await seed(page, CLIENT, 'Ada', null, 'ws://localhost:4394');
		for (let i = 0; i < 50; i++) {
			const { contract, update } = await smallContract(i);
			await seed(page, CLIENT, 'Ada', update, 'ws://localhost:4394', contract);
		}
		await page.goto('about:blank');
		await page.goto(origin + '/#/');
		const contractsMs = await mark(page, 'milestone:contracts-ready');

		// 3. A contract page with 10,000 events.
		await seed(page, CLIENT, 'Ada', bigUpdate, 'ws://localhost:4394', BENCH_CONTRACT);
		await page.goto('about:blank');
		await page.goto(`${origin}/#/c/${BENCH_CONTRACT}`);
		const contractMs = await mark(page, 'milestone:contract-ready');
		// 3b. The same page again once the app wrote the contract's checkpoint (after 1.5 s idle):
		// verified and folded before, so it opens from the checkpoint (persistence.ts).
		const hasCheckpoint = (db: string) =>
			new Promise<boolean>((resolve) => {
				const r = indexedDB.open(db);
				r.onsuccess = () => {
					const tx = r.result.transaction('custom', 'readonly');
					const get = tx.objectStore('custom').get('checkpoint'); // the header (checkpoint-records.ts)
					get.onsuccess = () => resolve(get.result !== undefined);
					get.onerror = () => resolve(false);
					tx.oncomplete = () => r.result.close();
				};
				r.onerror = () => resolve(false);
			});
		for (let waited = 0; !(await page.evaluate(hasCheckpoint, `milestone-contract-${BENCH_CONTRACT}`)); waited += 250) {
			if (waited > 60_000) throw new Error('the app wrote no checkpoint of the contract');
			await new Promise((r) => setTimeout(r, 250));
		}
		await page.goto('about:blank');
		await page.goto(`${origin}/#/c/${BENCH_CONTRACT}`);
		const contractReopenMs = await mark(page, 'milestone:contract-ready');
		// The page's thread once the contract is drawn: what a person's first clicks wait behind.
		const afterDrawn = await mainThreadWork(page);
		await new Promise((r) => setTimeout(r, 2500));
		const afterDrawnTaskMs = await afterDrawn();
		const restored = await page.evaluate(() => (performance.getEntriesByName('sync:checkpoint-restored')[0] as PerformanceMark | undefined)?.detail?.events ?? 0);
		if (restored < events) throw new Error(`the contract page reopened from ${restored} checkpointed events, not ${events}`);
		// 4. Open figures inside Chromium (a fresh page of the same origin).
		const bench = await browser.newPage();
		await bench.goto(origin + '/');
		await bench.addScriptTag({ content: await browserOpenScript() });
		const inBrowser = (await bench.evaluate(
			([contract, update, events]) => (globalThis as unknown as { benchOpen: (c: string, u: string, e: number) => Promise<Record<string, number | string>> }).benchOpen(contract, update, events),
			[BENCH_CONTRACT, Buffer.from(bigUpdate).toString('base64'), events] as const
		)) as Record<string, number | string>;
		// 5. A Work Diary week of a year of hourly work, against a fixed-price contract of as many events.
		const hourlyYearFigures = await hourlyYearPages(browser, origin);
		return {
			initialJsGzipKB: Math.round(gzipBytes / 102.4) / 10,
			contractsPage50ContractsMs: contractsMs,
			contractPage10kEventsMs: contractMs,
			/** The same page again, once this device holds the contract's checkpoint. */
			contractPage10kEventsReopenMs: contractReopenMs,
			/** Main-thread task time of that page in the 2.5 s after it is drawn (connecting, storing, drawing late parts). */
			contractPage10kEventsReopenTaskMsAfterDrawn: afterDrawnTaskMs,
			...Object.fromEntries(Object.entries(inBrowser).map(([k, v]) => [`inBrowser${k[0]!.toUpperCase()}${k.slice(1)}`, v])),
			...hourlyYearFigures
		};
	} finally {
		await browser.close();
		server.kill();
	}
}
