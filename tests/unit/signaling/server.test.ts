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

async function client(url: string): Promise<{ ws: WebSocket; inbox: unknown[]; next: () => Promise<any>; closed: Promise<number> }> {
	const ws = new WebSocket(url);
	sockets.push(ws);
	const inbox: unknown[] = [];
	const waiters: ((m: unknown) => void)[] = [];
	ws.on('message', (d) => {
		const m = JSON.parse(String(d));
		const w = waiters.shift();
		if (w) w(m);
		else inbox.push(m);
	});
	const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
	await new Promise<void>((resolve, reject) => {
		ws.once('open', () => resolve());
		ws.once('error', reject);
		ws.once('close', () => resolve());
	});
	const next = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => waiters.push(r)));
	return { ws, inbox, next, closed };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

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
});
