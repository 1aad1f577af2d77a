/**
 * A real relay process (src/relay/main.ts, SQLite in WAL mode with synchronous=FULL) is killed with
 * SIGKILL in the middle of a write burst from several clients. After a restart over the same data
 * folder, every item the relay had acknowledged is there, under the sequence number it was
 * acknowledged with.
 */
import { afterAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { RelayClient, type ReceivedEnvelope, type SocketFactory } from '../../src/lib/sync/relay-client';
import { randomId } from '../../src/lib/sync/links';
import { envelope } from './harness';

const dir = mkdtempSync(join(tmpdir(), 'relay-crash-'));
const children: ChildProcess[] = [];
afterAll(() => {
	for (const c of children) c.kill('SIGKILL');
	rmSync(dir, { recursive: true, force: true });
});

/** Start the relay as its own process; resolves with its URL once it listens. */
function startChild(port = 0): Promise<{ child: ChildProcess; url: string }> {
	const child = spawn(process.execPath, ['--import', 'tsx', 'src/relay/main.ts', '--port', String(port), '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
	children.push(child);
	return new Promise((resolve, reject) => {
		let out = '';
		child.stdout!.on('data', (d) => {
			out += String(d);
			const m = /Relay on (ws:\/\/localhost:\d+)/.exec(out);
			if (m) resolve({ child, url: m[1]! });
		});
		child.stderr!.on('data', (d) => (out += String(d)));
		child.on('exit', (code) => reject(new Error(`relay exited (${code}): ${out}`)));
	});
}

const socket: SocketFactory = (url) => new WebSocket(url) as unknown as ReturnType<SocketFactory>;

it('SIGKILL during a write burst loses no acknowledged item', async () => {
	const { child, url } = await startChild();
	const secrets = Array.from({ length: 4 }, () => randomId(24));
	/** room secret → event id → acknowledged seq */
	const acked = new Map<string, Map<string, number>>(secrets.map((s) => [s, new Map()]));
	let killed = false;
	const clients: RelayClient[] = [];
	const writers = secrets.map(async (secret, w) => {
		const client = new RelayClient({ url, socket, reconnect: false, requestTimeoutMs: 5000 });
		clients.push(client);
		const room = await client.room(secret, { live: false });
		for (let n = 0; !killed; n++) {
			const batch = Array.from({ length: 1 + (n % 4) }, (_, j) => envelope(`writer ${w} push ${n} item ${j}`, 200));
			try {
				const seqs = await room.push(batch);
				batch.forEach((e, i) => acked.get(secret)!.set(e.id, seqs[i]!));
			} catch {
				return; // the relay died: this push was never acknowledged
			}
		}
	});
	// Let the burst run, then kill without warning once enough has been acknowledged.
	const total = () => [...acked.values()].reduce((s, m) => s + m.size, 0);
	const started = Date.now();
	while (total() < 400 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 5));
	child.kill('SIGKILL');
	killed = true;
	await Promise.all(writers);
	for (const c of clients) c.close();
	const before = total();
	expect(before).toBeGreaterThanOrEqual(400);

	const again = await startChild();
	const reader = new RelayClient({ url: again.url, socket, reconnect: false });
	for (const secret of secrets) {
		const got: ReceivedEnvelope[] = [];
		await (await reader.room(secret, { live: false, onEnvelopes: (e) => got.push(...e) })).pull();
		const stored = new Map(got.map((g) => [g.id, g.seq]));
		for (const [id, seq] of acked.get(secret)!) expect(stored.get(id), `acknowledged item ${id}`).toBe(seq);
		// Sequence numbers have no holes: what is stored is a prefix of what was sent.
		expect(got.map((g) => g.seq)).toEqual(got.map((_, i) => i + 1));
	}
	reader.close();
	again.child.kill('SIGTERM');
}, 40_000);
