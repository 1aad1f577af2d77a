import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import WebSocket, { WebSocketServer } from 'ws';
import { startSignaling } from '../../../src/signaling/server.js';
import { limitSyncAsks, PeerSync, STEP_ONE_EVERY_MS, storeFirstSyncLater } from '../../../src/lib/sync/peers';
import { installChunking } from '../../../src/lib/sync/chunking';
import { roomName } from '../../../src/lib/sync/links';

/** A document holding `n` events, as a Yjs update (another device's). */
function contractUpdate(n: number, prefix = 'e'): Uint8Array {
	const doc = new Y.Doc();
	doc.transact(() => {
		const map = doc.getMap<string>('events');
		for (let i = 0; i < n; i++) map.set(`${prefix}${i}`, `envelope ${prefix}${i}`);
	});
	return Y.encodeStateAsUpdate(doc);
}

/** What a storage listener (y-indexeddb) is handed, in order. */
function storage(doc: Y.Doc) {
	const got: { update: Uint8Array; origin: unknown }[] = [];
	doc.on('update', (update: Uint8Array, origin: unknown) => got.push({ update, origin }));
	return got;
}

function deferred() {
	let resolve!: () => void;
	const promise = new Promise<void>((r) => (resolve = r));
	return { promise, resolve };
}

describe('storeFirstSyncLater: a peer first sync is stored once shown', () => {
	it('hands the storage listeners nothing while the first sync is shown, then all it brought, once', async () => {
		const doc = new Y.Doc();
		const got = storage(doc);
		const room = { synced: false };
		const shown = deferred();
		storeFirstSyncLater(doc, room as never, () => shown.promise);
		Y.applyUpdate(doc, contractUpdate(300), room);
		Y.applyUpdate(doc, contractUpdate(50, 'f'), room);
		expect(doc.getMap('events').size).toBe(350);
		expect(got).toEqual([]);
		shown.resolve();
		await new Promise((r) => setTimeout(r, 0));
		expect(got).toHaveLength(1);
		expect(got[0]!.origin).toBe(room);
		// What was stored is the whole of it: a fresh document loaded from storage holds every event.
		const reloaded = new Y.Doc();
		Y.applyUpdate(reloaded, got[0]!.update);
		expect(reloaded.getMap('events').toJSON()).toEqual(doc.getMap('events').toJSON());
	});

	it('stores this device’s own writes at once, even one made while a peer’s first sync is applied', async () => {
		const doc = new Y.Doc();
		const got = storage(doc);
		const room = { synced: false };
		storeFirstSyncLater(doc, room as never, () => new Promise(() => {}));
		const events = doc.getMap<string>('events');
		// An observer writing in answer to the peer's transaction (as ContractDoc writes back an overwritten event).
		events.observe((_e, tr) => {
			if (tr.origin === room) doc.transact(() => events.set('mine', 'my envelope'), 'local');
		});
		Y.applyUpdate(doc, contractUpdate(100), room);
		expect(got.map((g) => g.origin)).toEqual(['local']);
		doc.transact(() => events.set('later', 'x'), 'local');
		expect(got.map((g) => g.origin)).toEqual(['local', 'local']);
		const reloaded = new Y.Doc();
		for (const g of got) Y.applyUpdate(reloaded, g.update);
		expect(reloaded.getMap('events').get('mine')).toBe('my envelope');
		expect(reloaded.getMap('events').get('later')).toBe('x');
	});

	it('stores at once after the first sync, and on flush (the session closing) without waiting', () => {
		const doc = new Y.Doc();
		const got = storage(doc);
		const room = { synced: false };
		const { flush } = storeFirstSyncLater(doc, room as never, () => new Promise(() => {}));
		Y.applyUpdate(doc, contractUpdate(20), room);
		expect(got).toEqual([]);
		flush();
		expect(got).toHaveLength(1);
		room.synced = true;
		Y.applyUpdate(doc, contractUpdate(5, 'g'), room);
		expect(got).toHaveLength(2);
		const reloaded = new Y.Doc();
		for (const g of got) Y.applyUpdate(reloaded, g.update);
		expect(reloaded.getMap('events').size).toBe(25);
	});

	it('stores nothing for a first sync that brought nothing new', async () => {
		const doc = new Y.Doc();
		const update = contractUpdate(10);
		Y.applyUpdate(doc, update, 'storage');
		const got = storage(doc);
		const room = { synced: false };
		storeFirstSyncLater(doc, room as never, () => Promise.resolve());
		Y.applyUpdate(doc, update, room);
		await new Promise((r) => setTimeout(r, 0));
		expect(got).toEqual([]);
	});
});

// —— presence: whether a relay catch-up waits for a peer about to connect ——

const sockets: WebSocket[] = [];
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
	for (const s of sockets.splice(0)) s.terminate();
	for (const c of closers.splice(0).reverse()) await c();
});

const settings = (url: string) => ({ signaling: [url], iceServers: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function subscriber(url: string, topic: string): Promise<WebSocket> {
	const ws = new WebSocket(url);
	sockets.push(ws);
	await new Promise((r) => ws.once('open', r));
	ws.send(JSON.stringify({ type: 'subscribe', topics: [topic] }));
	return ws;
}

function peerSync(secret: string, url: string): PeerSync {
	const p = new PeerSync(new Y.Doc(), secret, settings(url));
	closers.push(() => p.destroy());
	return p;
}

/** Polls until `f` is true (or fails after `ms`). */
async function until(f: () => boolean, ms = 3000): Promise<number> {
	const start = Date.now();
	while (!f()) {
		if (Date.now() - start > ms) throw new Error('timed out');
		await sleep(10);
	}
	return Date.now() - start;
}

describe('signaling presence', () => {
	// y-webrtc's signaling client uses the browser's WebSocket; ws speaks the same API.
	beforeAll(() => void ((globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket));

	it('counts a room’s subscribers for a connection in that room, and tells one outside it nothing', async () => {
		const server = await startSignaling({ port: 0 });
		closers.push(() => server.close());
		const a = await subscriber(server.url, 'room-a');
		await subscriber(server.url, 'room-a');
		const outsider = await subscriber(server.url, 'room-b');
		const answer = (ws: WebSocket) => new Promise<unknown>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
		await sleep(30);
		let heard = answer(a);
		a.send(JSON.stringify({ type: 'presence', topics: ['room-a'] }));
		expect(await heard).toEqual({ type: 'presence', topics: { 'room-a': 2 } });
		// The attack: probing a room one has not joined (a guessed name) learns nothing of it.
		heard = answer(outsider);
		outsider.send(JSON.stringify({ type: 'presence', topics: ['room-a', '__proto__', 7] }));
		expect(await heard).toEqual({ type: 'presence', topics: {} });
	});

	it('a relay catch-up waits for a device the server says is in the room, and not when none is', async () => {
		const server = await startSignaling({ port: 0 });
		closers.push(() => server.close());
		// Nobody else in the room: once the server has answered, nothing to wait for.
		const alone = peerSync('presence-alone-secret-0123456789', server.url);
		expect(await until(() => alone.settled() === undefined)).toBeLessThan(900);
		// The other party's device is in the room (it will answer this device's announcement).
		const secret = 'presence-other-secret-0123456789';
		await subscriber(server.url, roomName(secret));
		const joining = peerSync(secret, server.url);
		await until(() => joining.settled() !== undefined);
		await sleep(1200);
		// Past the wait for an answer: still held, for the device that is there.
		const held = joining.settled(300);
		expect(held).toBeInstanceOf(Promise);
		// Bounded: resolves by the given limit though no peer connected.
		const t = Date.now();
		await held;
		expect(Date.now() - t).toBeLessThan(1000);
	});

	it('the signaling server is told the room name only, and answers it did not ask for are ignored (attack: holding the relay)', async () => {
		const contract = 'c-presence-attack';
		const secret = 'presence-attack-secret-0123456789';
		const seen: string[] = [];
		const wss = new WebSocketServer({ port: 0 });
		const sockets: WebSocket[] = [];
		closers.push(() => {
			for (const ws of sockets) ws.terminate();
			return new Promise<void>((r) => wss.close(() => r()));
		});
		wss.on('connection', (ws) => {
			sockets.push(ws);
			ws.on('message', (d) => {
				seen.push(String(d));
				const m = JSON.parse(String(d));
				// Answers truthfully: nobody else is here.
				if (m.type === 'presence') ws.send(JSON.stringify({ type: 'presence', topics: Object.fromEntries(m.topics.map((t: string) => [t, 1])) }));
			});
		});
		const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
		const p = peerSync(secret, url);
		await until(() => seen.some((s) => s.includes('"presence"')));
		await until(() => p.settled() === undefined);
		// A lying server then claims, unasked and again and again, that devices are in the room.
		for (let i = 0; i < 5; i++) for (const ws of sockets) ws.send(JSON.stringify({ type: 'presence', topics: { [roomName(secret)]: 9 } }));
		await sleep(50);
		expect(p.settled()).toBeUndefined();
		// What the server learned: the room name, never the contract or the secret.
		const all = seen.join('\n');
		expect(all).toContain(roomName(secret));
		expect(all).not.toContain(secret);
		expect(all).not.toContain(contract);
		for (const s of seen) expect(['subscribe', 'publish', 'presence', 'ping', 'unsubscribe']).toContain(JSON.parse(s).type);
	});
});

describe('a peer asking for a full sync again and again', () => {
	/** A data channel's peer as y-webrtc's simple-peer has it, patched by chunking.ts: `got` is what reaches y-webrtc. */
	class FakePeer {
		got: Uint8Array[] = [];
		send() {}
		_onChannelMessage(event: { data: ArrayBuffer }) {
			this.got.push(new Uint8Array(event.data));
		}
	}
	installChunking(FakePeer as never);
	const message = (bytes: number[]) => ({ data: new Uint8Array(bytes).buffer });
	// y-webrtc's sync step 1 with an empty state vector: "send me everything" (a 6 MB encoding for 10,000 events).
	const everything = [0, 0, 1, 0];

	it('attack: a link holder sending sync step 1 in a loop makes this device encode the document once per interval, not once per message', () => {
		let now = 1_000_000;
		const peer = new FakePeer();
		limitSyncAsks(peer, () => now);
		for (let i = 0; i < 50; i++) peer._onChannelMessage(message(everything));
		expect(peer.got).toHaveLength(1);
		// Updates, step 2 and awareness are not limited.
		const update = [0, 2, 3, 9, 9, 9];
		const stepTwo = [0, 1, 1, 0];
		const awareness = [1, 1, 0];
		for (const m of [update, stepTwo, awareness, update]) peer._onChannelMessage(message(m));
		expect(peer.got).toHaveLength(5);
		// Later the same connection may ask again (y-webrtc asks once per connection; a reconnect is a new one).
		now += STEP_ONE_EVERY_MS;
		peer._onChannelMessage(message(everything));
		peer._onChannelMessage(message(everything));
		expect(peer.got).toHaveLength(6);
		// Another connection has its own allowance.
		const other = new FakePeer();
		limitSyncAsks(other, () => now);
		other._onChannelMessage(message(everything));
		expect(other.got).toHaveLength(1);
	});
});
