/**
 * Relay benchmark (not a test): ROOMS rooms × 2 clients append ITEMS items in all through the
 * Node relay (SQLite, WAL, synchronous=FULL, group commit), then the same workload through a
 * WebSocket relay that stores and checks nothing (the ceiling: hello, ack, forward). Each relay
 * runs in its own process so its resident memory is its own. Figures: appends per second (first
 * push to last acknowledgement), append-to-delivery p50/p99 (push called → the other client of
 * the room holds the decrypted envelope), peak and final RSS of the relay process.
 *
 *   node --import tsx tests/bench/relay.ts                    (1,000 rooms, 100,000 items)
 *   RELAY_BENCH_ITEMS=10000 RELAY_BENCH_ROOMS=100 node --import tsx tests/bench/relay.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { hashBody } from '../../src/lib/contract/envelope';
import { RelayClient, type RelayRoom, type SocketFactory } from '../../src/lib/sync/relay-client';
import { randomId } from '../../src/lib/sync/links';
import { DEFAULT_LIMITS, PROTOCOL, publicLimits } from '../../src/relay/protocol';

const here = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Limits that let one machine play 2,000 clients from one address. */
const BENCH_LIMITS = {
	maxConnectionsPerAddress: 100_000,
	maxRoomsPerAddress: 1_000_000,
	maxNewRoomsPerAddressPerHour: 1_000_000,
	maxMessagesPerSecond: 1_000_000,
	maxMessagesPerSecondPerAddress: 100_000_000,
	maxItemsPerRoom: 1_000_000
};

// —— the ceiling: a relay that stores nothing and checks nothing ——
function ceilingServer(port: number): void {
	const wss = new WebSocketServer({ port, host: '127.0.0.1' });
	const rooms = new Map<string, Set<WebSocket>>();
	const heads = new Map<string, number>();
	wss.on('connection', (ws) => {
		ws.send(JSON.stringify({ t: 'hello', protocol: PROTOCOL, challenge: 'none', mux: true, limits: publicLimits(DEFAULT_LIMITS) }));
		ws.on('message', (data) => {
			const m = JSON.parse(String(data));
			if (m.t === 'open') {
				let set = rooms.get(m.room);
				if (!set) rooms.set(m.room, (set = new Set()));
				set.add(ws);
				ws.send(JSON.stringify({ t: 'opened', id: m.id, room: m.room, head: heads.get(m.room) ?? 0 }));
			} else if (m.t === 'push') {
				let head = heads.get(m.room) ?? 0;
				const seqs: number[] = [];
				const out: string[] = [];
				for (const item of m.items) {
					seqs.push(++head);
					out.push(JSON.stringify({ t: 'item', room: m.room, seq: head, tag: item.tag, data: item.data }));
				}
				heads.set(m.room, head);
				ws.send(JSON.stringify({ t: 'acked', id: m.id, room: m.room, seqs, head }));
				for (const other of rooms.get(m.room) ?? []) if (other !== ws) for (const o of out) other.send(o);
			} else if (m.t === 'pull') ws.send(JSON.stringify({ t: 'items', id: m.id, room: m.room, items: [], head: heads.get(m.room) ?? 0, more: false }));
		});
	});
	wss.on('listening', () => console.log(`Ceiling on ws://localhost:${(wss.address() as { port: number }).port}`));
}

function startChild(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; url: string }> {
	const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
	return new Promise((resolve, reject) => {
		let out = '';
		child.stdout!.on('data', (d) => {
			out += String(d);
			const m = pattern.exec(out);
			if (m) resolve({ child, url: m[1]! });
		});
		child.on('exit', (code) => reject(new Error(`relay exited (${code}): ${out}`)));
	});
}

/** Resident memory of a process, MB: now and its peak. */
function rss(pid: number): { rssMB: number; peakRssMB: number } {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
	return { rssMB: round(kb('VmRSS') / 1024), peakRssMB: round(kb('VmHWM') / 1024) };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

async function workload(url: string, rooms: number, items: number) {
	const socket: SocketFactory = (u) => new WebSocket(u, { perMessageDeflate: false }) as unknown as ReturnType<SocketFactory>;
	const clients: RelayClient[] = [];
	const latencies: number[] = [];
	const perClient = Math.ceil(items / (rooms * 2));
	const pairs: [RelayRoom, RelayRoom][] = [];
	let delivered = 0;
	/** Items from the other client of the room only (a pull may also return one's own). */
	const onEnvelopes = (side: number) => (es: { envelope: string }[]) => {
		const now = performance.now();
		for (const e of es) {
			const body = JSON.parse(JSON.parse(e.envelope).body) as { sentAt: number; side: number };
			if (body.side === side) continue;
			latencies.push(now - body.sentAt);
			delivered++;
		}
	};
	// Open in waves, so the connection storm itself is not what is measured.
	for (let r = 0; r < rooms; r += 100) {
		await Promise.all(
			Array.from({ length: Math.min(100, rooms - r) }, async () => {
				const secret = randomId(24);
				const pair = await Promise.all(
					[0, 1].map(async (side) => {
						const c = new RelayClient({ url, socket, reconnect: false, requestTimeoutMs: 120_000 });
						clients.push(c);
						return c.room(secret, { onEnvelopes: onEnvelopes(side) });
					})
				);
				pairs.push(pair as [RelayRoom, RelayRoom]);
			})
		);
	}
	const pushed = perClient * rooms * 2;
	const started = performance.now();
	await Promise.all(
		pairs.flatMap(([a, b], r) =>
			[a, b].map(async (room, side) => {
				for (let i = 0; i < perClient; i++) {
					const body = JSON.stringify({ type: 'message.posted', payload: { text: `room ${r} client ${side} message ${i}: the quick brown fox jumps over the lazy dog` }, side, sentAt: performance.now() });
					const id = hashBody(body);
					await room.push([{ id, envelope: JSON.stringify({ id, body, sig: 'S'.repeat(86) }) }]);
				}
			})
		)
	);
	const appendSeconds = (performance.now() - started) / 1000;
	const end = Date.now() + 60_000;
	while (delivered < pushed && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
	for (const c of clients) c.close();
	latencies.sort((x, y) => x - y);
	return {
		items: pushed,
		delivered,
		appendsPerSecond: Math.round(pushed / appendSeconds),
		deliveryP50Ms: round(percentile(latencies, 50), 2),
		deliveryP99Ms: round(percentile(latencies, 99), 2)
	};
}

export async function relayBench(opts: { rooms?: number; items?: number } = {}) {
	const rooms = opts.rooms ?? Number(process.env.RELAY_BENCH_ROOMS ?? 1000);
	const items = opts.items ?? Number(process.env.RELAY_BENCH_ITEMS ?? 100_000);
	const data = mkdtempSync(join(tmpdir(), 'relay-bench-'));
	const relay = await startChild(['src/relay/main.ts', '--port', '0', '--data', data, '--limits', JSON.stringify(BENCH_LIMITS)], /Relay on (ws:\/\/localhost:\d+)/);
	let stored;
	try {
		stored = { ...(await workload(relay.url, rooms, items)), ...rss(relay.child.pid!) };
	} finally {
		relay.child.kill('SIGTERM');
		rmSync(data, { recursive: true, force: true });
	}
	const ceiling = await startChild([here, '--ceiling-server', '0'], /Ceiling on (ws:\/\/localhost:\d+)/);
	let nothing;
	try {
		nothing = { ...(await workload(ceiling.url, rooms, items)), ...rss(ceiling.child.pid!) };
	} finally {
		ceiling.child.kill('SIGTERM');
	}
	return {
		benchmark: 'relay',
		rooms,
		clientsPerRoom: 2,
		relay: { storage: 'sqlite wal synchronous=FULL', ...stored },
		ceiling: { storage: 'none', ...nothing },
		throughputRatio: round(stored.appendsPerSecond / nothing.appendsPerSecond, 2),
		p99Ratio: round(stored.deliveryP99Ms / nothing.deliveryP99Ms, 2),
		targets: { throughputRatioAtLeast: 0.5, p99RatioAtMost: 2 }
	};
}

if (process.argv[1] === here) {
	const i = process.argv.indexOf('--ceiling-server');
	if (i >= 0) ceilingServer(Number(process.argv[i + 1] ?? 0));
	else
		relayBench()
			.then((r) => console.log(JSON.stringify(r, null, 2)))
			.catch((e) => {
				console.error(e);
				process.exit(1);
			});
}
