/**
 * `npm run bench`: prints JSON figures. A benchmark, not a test: nothing here fails on noise.
 * Figures are medians of several runs, and each comparison is a ratio measured in the same run.
 */
import * as Y from 'yjs';
import { ContractLog } from '../../src/lib/contract/log';
import { encodeBody, encodeEnvelope, signingBytes } from '../../src/lib/contract/envelope';
import { authenticate } from '../../src/lib/identity/authenticate';
import { sign } from '../../src/lib/identity/ed25519';
import { CLIENT } from '../support/world';
import { BENCH_CONTRACT, bigContract } from './fixture';
import { lateEventBench } from './late-event';
import { syncBench } from './sync';
import { pageBench } from './pages';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function openContract(update: Uint8Array): Promise<ContractLog> {
	const doc = new Y.Doc();
	Y.applyUpdate(doc, update);
	const log = new ContractLog(BENCH_CONTRACT);
	doc.getMap<string>('events').forEach((env, id) => log.add(id, env));
	await authenticate(log);
	log.derive();
	return log;
}

async function main() {
	const events = 10_000;
	const entries = await bigContract(events);
	const source = new Y.Doc();
	source.transact(() => {
		const map = source.getMap<string>('events');
		for (const [id, env] of entries) map.set(id, env);
	});
	const update = Y.encodeStateAsUpdate(source);

	// Warm up both paths once so JIT compilation is not measured.
	Y.applyUpdate(new Y.Doc(), update);
	await openContract(update);

	const plain: number[] = [];
	const cold: number[] = [];
	let heapPeak = 0;
	for (let i = 0; i < 7; i++) {
		gc();
		let t = performance.now();
		const d = new Y.Doc();
		Y.applyUpdate(d, update);
		d.getMap('events').size;
		plain.push(performance.now() - t);
		gc();
		const before = process.memoryUsage().heapUsed;
		t = performance.now();
		const log = await openContract(update);
		cold.push(performance.now() - t);
		heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - before);
		if (log.derive().state.applied.length !== events) throw new Error(`expected ${events} applied events`);
	}

	// Incremental: one new signed event on top of an open 10,000-event contract.
	const log = await openContract(update);
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
		plainYjsApplyMs: round(median(plain)),
		coldOpenMs: round(median(cold)),
		coldOpenToPlainYjsRatio: round(median(cold) / median(plain)),
		incrementalApplyMs: round(median(incremental), 3),
		heapRetainedAfterOpenMB: round(heapPeak / 2 ** 20, 1),
		peakRssMB: round(process.memoryUsage().rss / 2 ** 20, 1),
		targets: { coldOpenMs: 150, coldOpenToPlainYjsRatio: 2.5, incrementalApplyMs: 1 }
	};
	const out: object[] = [figures, await lateEventBench(BENCH_CONTRACT, entries)];
	if (!process.argv.includes('--no-browsers')) {
		out.push({ benchmark: 'two-browser-sync', events, ...(await syncBench(entries)), targets: { browsersConnectToIdenticalStateMs: 2000 } });
		out.push({ benchmark: 'pages', ...(await pageBench(update)), targets: { initialJsGzipKB: 150 } });
	}
	console.log(JSON.stringify(out, null, 2));
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
