/**
 * `npm run bench`: prints JSON figures. A benchmark, not a test: nothing here fails on noise.
 * Figures are medians of several runs, and each comparison is a ratio measured in the same run.
 */
import * as Y from 'yjs';
import { encodeBody, encodeEnvelope, signingBytes } from '../../src/lib/contract/envelope';
import { authenticate } from '../../src/lib/identity/authenticate';
import { sign } from '../../src/lib/identity/ed25519';
import { CLIENT } from '../support/world';
import { BENCH_CONTRACT, bigContract } from './fixture';
import { lateEventBench } from './late-event';
import { coldOpen, openFigures } from './open';
import { syncBench } from './sync';
import { pageBench } from './pages';
import { relayBench } from './relay';
import { catchUpBench } from './catch-up';
import { hourlyYearBench } from './hourly-year';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function main() {
	const events = 10_000;
	const entries = await bigContract(events);
	const source = new Y.Doc();
	source.transact(() => {
		const map = source.getMap<string>('events');
		for (const [id, env] of entries) map.set(id, env);
	});
	const update = Y.encodeStateAsUpdate(source);

	const open = await openFigures(BENCH_CONTRACT, update, events, 7, gc);
	gc();
	const before = process.memoryUsage().heapUsed;
	const opened = await coldOpen(BENCH_CONTRACT, update);
	const heapRetained = process.memoryUsage().heapUsed - before;
	if (opened.size !== events) throw new Error('unequal log');

	// Incremental: one new signed event on top of an open 10,000-event contract.
	const log = await coldOpen(BENCH_CONTRACT, update);
	const incremental: number[] = [];
	for (let i = 0; i < 25; i++) {
		const draft = { contract: BENCH_CONTRACT, author: CLIENT.publicKey, prev: log.lastOf(CLIENT.publicKey), deps: log.heads(), at: Date.now(), type: 'message.posted' as const, payload: { text: `new ${i}` } };
		const { id, body } = encodeBody(draft);
		const env = encodeEnvelope(id, body, await sign(CLIENT, signingBytes(id)));
		const t = performance.now();
		log.add(id, env);
		await authenticate(log);
		log.derive();
		incremental.push(performance.now() - t);
	}
	if (log.refolds !== 0) throw new Error('incremental apply refolded');

	const figures = {
		benchmark: 'contract-open',
		events,
		updateBytes: update.byteLength,
		...open,
		incrementalApplyMs: round(median(incremental), 3),
		heapRetainedAfterOpenMB: round(heapRetained / 2 ** 20, 1),
		peakRssMB: round(process.memoryUsage().rss / 2 ** 20, 1),
		targets: { coldOpenToPlainYjsRatio: 2.5, reopenToPlainYjsRatio: 1.3, incrementalApplyMs: 1 }
	};
	const out: object[] = [figures, await lateEventBench(BENCH_CONTRACT, entries)];
	if (!process.argv.includes('--no-browsers')) {
		// One join of two fresh browsers moves ±40 % from run to run here: each figure is the median of
		// BENCH_SYNC_RUNS joins (the ratio: of the per-run ratios), with the ratios' range beside it.
		const syncRuns: Record<string, number>[] = [];
		for (let i = 0; i < Number(process.env.BENCH_SYNC_RUNS ?? 3); i++) syncRuns.push(await syncBench(entries));
		const sync = Object.fromEntries(Object.keys(syncRuns[0]!).map((k) => [k, median(syncRuns.map((r) => r[k]!))]));
		const ratios = syncRuns.map((r) => r.ratio!);
		out.push({ benchmark: 'two-browser-sync', events, runs: syncRuns.length, ...sync, ratioRange: [Math.min(...ratios), Math.max(...ratios)], targets: { ratio: 8 } });
		out.push({ benchmark: 'pages', ...(await pageBench(update, events)), targets: { initialJsGzipKB: 150, inBrowserColdOpenToPlainYjsRatio: 2.5, inBrowserReopenToPlainYjsRatio: 1.3, hourlyYearDiaryToFixedPriceRatio: 2 } });
	}
	out.push(await relayBench());
	out.push(await catchUpBench({ browsers: !process.argv.includes('--no-browsers') }));
	out.push(await hourlyYearBench());
	console.log(JSON.stringify(out, null, 2));
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
