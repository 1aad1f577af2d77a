import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startSignaling } from '../../../src/signaling/server.js';

type Server = Awaited<ReturnType<typeof startSignaling>>;
let server: Server | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
	for (const s of sockets.splice(0)) s.terminate();
	await server?.close();
	server = undefined;
});

type Client = { ws: WebSocket; inbox: unknown[]; next: () => Promise<any>; closed: Promise<number>; reason: () => string };

async function client(url: string, headers?: Record<string, string>): Promise<Client> {
	const ws = new WebSocket(url, { headers });
	sockets.push(ws);
	// A dropped socket may also report ECONNRESET; the close code is what the tests look at.
	ws.on('error', () => {});
	const inbox: unknown[] = [];
	const waiters: ((m: unknown) => void)[] = [];
	ws.on('message', (d) => {
		const m = JSON.parse(String(d));
		const w = waiters.shift();
		if (w) w(m);
		else inbox.push(m);
	});
	let closeReason = '';
	const closed = new Promise<number>((r) =>
		ws.on('close', (code, reason) => {
			closeReason = String(reason);
			r(code);
		})
	);
	await new Promise<void>((resolve, reject) => {
		ws.once('open', () => resolve());
		ws.once('error', reject);
		ws.once('close', () => resolve());
	});
	const next = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => waiters.push(r)));
	return { ws, inbox, next, closed, reason: () => closeReason };
}

const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));
/** Resolves with `fallback` after `ms`, so no test waits on the network for ever. */
const within = <T>(p: Promise<T>, ms: number, fallback: T) => Promise.race([p, settle(ms).then(() => fallback)]);
const subscribe = (c: Client, ...topics: string[]) => c.ws.send(JSON.stringify({ type: 'subscribe', topics }));

describe('signaling server (y-webrtc protocol)', () => {
	it('relays publishes to the other subscribers of a topic only, and answers ping', async () => {
		server = await startSignaling({ port: 0 });
		const a = await client(server.url);
		const b = await client(server.url);
		const c = await client(server.url);
		a.ws.send(JSON.stringify({ type: 'subscribe', topics: ['room-1'] }));
		b.ws.send(JSON.stringify({ type: 'subscribe', topics: ['room-1'] }));
		c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['room-2'] }));
		await settle();
		a.ws.send(JSON.stringify({ type: 'publish', topic: 'room-1', data: 'hello' }));
		expect(await b.next()).toEqual({ type: 'publish', topic: 'room-1', data: 'hello', clients: 2 });
		await settle();
		expect(a.inbox).toEqual([]);
		expect(c.inbox).toEqual([]);
		c.ws.send(JSON.stringify({ type: 'ping' }));
		expect(await c.next()).toEqual({ type: 'pong' });
		b.ws.send(JSON.stringify({ type: 'unsubscribe', topics: ['room-1'] }));
		await settle();
		a.ws.send(JSON.stringify({ type: 'publish', topic: 'room-1', data: 'again' }));
		await settle();
		expect(b.inbox).toEqual([]);
	});

	it('refuses oversized messages, too many topics and too many connections per address', async () => {
		server = await startSignaling({ port: 0, limits: { maxMessageBytes: 1024, maxTopicsPerConnection: 2, maxConnectionsPerIp: 3 } });
		const a = await client(server.url);
		const b = await client(server.url);
		a.ws.send(JSON.stringify({ type: 'subscribe', topics: ['t1', 't2', 't3'] }));
		b.ws.send(JSON.stringify({ type: 'subscribe', topics: ['t3'] }));
		await settle();
		a.ws.send(JSON.stringify({ type: 'publish', topic: 't3', data: 'not subscribed' }));
		await settle();
		expect(b.inbox).toEqual([]);
		await client(server.url);
		const fourth = await client(server.url);
		expect(await fourth.closed).toBe(1008);
		a.ws.send(JSON.stringify({ type: 'publish', topic: 't1', data: 'x'.repeat(2000) }));
		expect(await a.closed).toBe(1009);
		const health = await (await fetch(server.url.replace('ws:', 'http:') + '/health')).json();
		expect(health).toMatchObject({ ok: true });
		expect(health.refused).toBeGreaterThanOrEqual(2);
	});

	it('drops a subscriber that stops reading instead of buffering a flood for it (memory stays under the per-socket cap)', async () => {
		const cap = 256 * 1024;
		server = await startSignaling({ port: 0, limits: { maxBufferedBytesPerSocket: cap, maxMessagesPerSecond: 10_000 } });
		const slow = await client(server.url);
		const reader = await client(server.url);
		const publisher = await client(server.url);
		for (const c of [slow, reader, publisher]) subscribe(c, 'flood');
		await settle();
		// The slow peer stops reading: the kernel buffers fill, then every relay to it queues in the server.
		(slow.ws as any)._socket.pause();
		let received = 0;
		reader.ws.on('message', () => received++);

		const payload = 'x'.repeat(60 * 1024);
		const stats = () => server!.stats() as { bufferedBytes: number; dropped: number };
		let peak = 0;
		const sample = () => (peak = Math.max(peak, stats().bufferedBytes ?? Number.NaN));
		const sampler = setInterval(sample, 1);
		const deadline = Date.now() + 2500;
		let sent = 0;
		// At most 400 messages of 60 KiB (24 MiB), 20 at a time; stop once the slow peer is dropped.
		while (sent < 400 && Date.now() < deadline && !(stats().dropped >= 1)) {
			for (let i = 0; i < 20; i++, sent++) publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'flood', data: payload }));
			await settle(5);
			sample();
		}
		await settle(20);
		sample();
		clearInterval(sampler);
		console.info(`[slow subscriber] sent ${sent} x 60 KiB, peak server buffered bytes ${peak}, cap ${cap}`);

		// The figure is the server's total: the reader that keeps up may hold up to its own cap too on a
		// loaded machine. Without the cap the slow peer alone would queue the whole flood (up to 24 MiB).
		expect(peak).toBeLessThanOrEqual(2 * cap);
		expect(stats().dropped).toBe(1);
		// Once it reads again, the slow peer learns why it was dropped; the reading peer was not touched.
		(slow.ws as any)._socket.resume();
		expect(await within(slow.closed, 2000, -1)).toBe(1008);
		expect(slow.reason()).toMatch(/too slowly/);
		expect(reader.ws.readyState).toBe(WebSocket.OPEN);
		expect(publisher.ws.readyState).toBe(WebSocket.OPEN);
		expect(received).toBeGreaterThan(0);
	});

	it('keeps the whole server under its total buffer cap by dropping the slowest peers', async () => {
		const perSocket = 256 * 1024;
		const total = 384 * 1024;
		server = await startSignaling({ port: 0, limits: { maxBufferedBytesPerSocket: perSocket, maxBufferedBytesTotal: total, maxMessagesPerSecond: 10_000 } });
		const slow = [await client(server.url), await client(server.url), await client(server.url)];
		const publisher = await client(server.url);
		for (const c of [...slow, publisher]) subscribe(c, 'flood');
		await settle();
		for (const c of slow) (c.ws as any)._socket.pause();

		const payload = 'x'.repeat(60 * 1024);
		const stats = () => server!.stats() as { bufferedBytes: number; dropped: number; connections: number };
		let peak = 0;
		const sampler = setInterval(() => (peak = Math.max(peak, stats().bufferedBytes ?? Number.NaN)), 1);
		const deadline = Date.now() + 2500;
		let sent = 0;
		while (sent < 400 && Date.now() < deadline && !(stats().dropped >= 3)) {
			for (let i = 0; i < 20; i++, sent++) publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'flood', data: payload }));
			await settle(5);
			peak = Math.max(peak, stats().bufferedBytes ?? Number.NaN);
		}
		clearInterval(sampler);
		console.info(`[three slow subscribers] sent ${sent} x 60 KiB, peak server buffered bytes ${peak}, total cap ${total}`);
		expect(peak).toBeLessThanOrEqual(total);
		expect(stats().dropped).toBe(3);
		expect(publisher.ws.readyState).toBe(WebSocket.OPEN);
		const health = await (await fetch(server.url.replace('ws:', 'http:') + '/health')).json();
		expect(health).toMatchObject({ ok: true, limits: { maxBufferedBytesPerSocket: perSocket, maxBufferedBytesTotal: total } });
		expect(health.bufferedBytes).toBeLessThanOrEqual(total);
	});

	it('refuses a publish that cannot fit under the total cap, and tells the publisher', async () => {
		// A fan-out of 3 x ~3 KiB cannot fit in 8 KiB and nobody is behind: refuse it rather than drop peers that keep up.
		server = await startSignaling({ port: 0, limits: { maxMessageBytes: 4096, maxBufferedBytesPerSocket: 8192, maxBufferedBytesTotal: 8192 } });
		const first = await client(server.url);
		const subs = [first, await client(server.url), await client(server.url)];
		const publisher = await client(server.url);
		for (const c of [...subs, publisher]) subscribe(c, 'room');
		await settle();
		publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'room', data: 'x'.repeat(3000) }));
		expect(await within(publisher.next(), 1000, null)).toEqual({ type: 'error', topic: 'room', reason: 'server-busy' });
		expect(subs.map((c) => c.inbox.length)).toEqual([0, 0, 0]);
		publisher.ws.send(JSON.stringify({ type: 'publish', topic: 'room', data: 'small' }));
		expect(await within(first.next(), 1000, null)).toMatchObject({ type: 'publish', data: 'small' });
		expect(server.stats()).toMatchObject({ dropped: 0 });
	});

	it('ignores X-Forwarded-For unless a trusted proxy header is configured (limits count the real address)', async () => {
		server = await startSignaling({ port: 0, limits: { maxConnectionsPerIp: 2 } });
		const a = await client(server.url, { 'x-forwarded-for': '198.51.100.1' });
		const b = await client(server.url, { 'x-forwarded-for': '198.51.100.2' });
		const c = await client(server.url, { 'x-forwarded-for': '198.51.100.3' });
		// All three come from 127.0.0.1: the third is refused whatever it claims.
		expect(await within(c.closed, 1000, -1)).toBe(1008);
		expect(a.ws.readyState).toBe(WebSocket.OPEN);
		expect(b.ws.readyState).toBe(WebSocket.OPEN);
	});

	it('with trustProxy, counts clients by the right-most forwarded address (the one the proxy added)', async () => {
		server = await startSignaling({ port: 0, trustProxy: 'x-forwarded-for', limits: { maxConnectionsPerIp: 1 } });
		const a = await client(server.url, { 'x-forwarded-for': '203.0.113.7, 198.51.100.1' });
		const b = await client(server.url, { 'x-forwarded-for': '198.51.100.2' });
		await settle();
		expect(a.ws.readyState).toBe(WebSocket.OPEN);
		expect(b.ws.readyState).toBe(WebSocket.OPEN);
		// Same proxy-added address behind a different spoofed left-hand entry: still the same client.
		const c = await client(server.url, { 'x-forwarded-for': '192.0.2.99, 198.51.100.1' });
		expect(await within(c.closed, 1000, -1)).toBe(1008);
	});

	it('applies the per-address message rate to the real address, or to the trusted forwarded one', async () => {
		const pongs = async (trustProxy?: string) => {
			server = await startSignaling({ port: 0, trustProxy, limits: { maxMessagesPerSecondPerIp: 5 } });
			const a = await client(server.url, { 'x-forwarded-for': '198.51.100.1' });
			const b = await client(server.url, { 'x-forwarded-for': '198.51.100.2' });
			for (let i = 0; i < 5; i++) a.ws.send(JSON.stringify({ type: 'ping' }));
			await settle();
			for (let i = 0; i < 5; i++) b.ws.send(JSON.stringify({ type: 'ping' }));
			await settle();
			await server.close();
			server = undefined;
			return [a.inbox.length, b.inbox.length];
		};
		expect(await pongs()).toEqual([5, 0]);
		expect(await pongs('x-forwarded-for')).toEqual([5, 5]);
	});
});
