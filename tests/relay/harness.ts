/**
 * The relay builds the protocol suite runs against, and a raw protocol connection for the tests
 * that must speak to the relay without the client library (outsiders, forged signatures, slow
 * readers). Each test connects from its own made-up client address (the Node relay trusts
 * X-Forwarded-For here; the Worker front reads CF-Connecting-IP), so per-address limits do not
 * leak from one test into another.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { hashBody } from '../../src/lib/contract/envelope';
import { startRelay, type RunningRelay } from '../../src/relay/node';
import { bundleRelayWorker } from '../../src/relay/bundle';
import { afterAll, beforeAll } from 'vitest';
import { signSync } from '../../src/lib/identity/ed25519';
import { decodeItemsFrame, DEFAULT_LIMITS, openProof, type RelayLimits, type RelayMessage } from '../../src/relay/protocol';
import { deriveRelayKeys, RelayClient, type SocketFactory } from '../../src/lib/sync/relay-client';

/** Small limits, so each refusal is reached with a few items. */
export const TEST_LIMITS: RelayLimits = {
	...DEFAULT_LIMITS,
	maxBundleBytes: 24 * 1024,
	maxTagsPerBundle: 30,
	maxItemsPerPush: 20,
	maxItemsPerRoom: 40,
	maxBytesPerRoom: 300_000,
	maxPullItems: 10,
	maxPullBytes: 32 * 1024,
	maxConnectionsPerAddress: 6,
	maxRoomsPerAddress: 4,
	maxNewRoomsPerAddressPerHour: 5,
	maxMessagesPerSecond: 60,
	maxMessagesPerSecondPerAddress: 200,
	maxUnreadBytes: 128 * 1024,
	maxBufferedBytesPerSocket: 512 * 1024
};

export interface RelayTarget {
	name: 'node' | 'durable-object';
	/** One socket carries many rooms. */
	mux: boolean;
	url: string;
	start(): Promise<void>;
	/** Stop and start again over the same data. */
	restart(): Promise<void>;
	stop(): Promise<void>;
	/** Every byte the relay has stored on disk (database, WAL, everything in its data folder). */
	storedBytes(): Buffer;
	/** The header a client address travels in. */
	addressHeader: string;
}

function filesUnder(dir: string): string[] {
	const out: string[] = [];
	for (const name of readdirSync(dir)) {
		const p = join(dir, name);
		if (statSync(p).isDirectory()) out.push(...filesUnder(p));
		else out.push(p);
	}
	return out;
}

export function nodeTarget(limits: RelayLimits = TEST_LIMITS): RelayTarget {
	const dir = mkdtempSync(join(tmpdir(), 'relay-node-'));
	let relay: RunningRelay | undefined;
	let port = 0;
	const t: RelayTarget = {
		name: 'node',
		mux: true,
		url: '',
		addressHeader: 'x-forwarded-for',
		async start() {
			relay = await startRelay({ port, dataDir: dir, limits, trustProxy: true });
			port = relay.port;
			t.url = relay.url;
		},
		async restart() {
			await relay?.close();
			await t.start();
		},
		async stop() {
			await relay?.close();
			relay = undefined;
			rmSync(dir, { recursive: true, force: true });
		},
		storedBytes: () => Buffer.concat(filesUnder(dir).map((f) => readFileSync(f)))
	};
	return t;
}

export function durableTarget(limits: RelayLimits = TEST_LIMITS): RelayTarget {
	const persist = mkdtempSync(join(tmpdir(), 'relay-do-'));
	let script: string | undefined;
	let mf: Miniflare | undefined;
	let port = 0;
	const t: RelayTarget = {
		name: 'durable-object',
		mux: false,
		url: '',
		addressHeader: 'cf-connecting-ip',
		async start() {
			script ??= await bundleRelayWorker();
			mf = new Miniflare({
				modules: true,
				script,
				port,
				compatibilityDate: '2026-04-01',
				bindings: { RELAY_LIMITS: JSON.stringify(limits) },
				durableObjects: {
					ROOMS: { className: 'RelayRoomObject', useSQLite: true },
					ADDRESSES: { className: 'AddressObject', useSQLite: true }
				},
				durableObjectsPersist: persist
			});
			const url = await mf.ready;
			port = Number(url.port);
			t.url = `ws://127.0.0.1:${port}`;
		},
		async restart() {
			await mf?.dispose();
			await t.start();
		},
		async stop() {
			await mf?.dispose();
			mf = undefined;
			rmSync(persist, { recursive: true, force: true });
		},
		storedBytes: () => Buffer.concat(filesUnder(persist).map((f) => readFileSync(f)))
	};
	return t;
}

let addresses = 0;
/** A fresh client address (documentation range 198.18.0.0/15). */
export function newAddress(): string {
	addresses++;
	return `198.18.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
}

/** The client library's socket, connecting from `address`. */
export function socketFrom(target: RelayTarget, address: string): SocketFactory {
	return (url) => new WebSocket(url, { headers: { [target.addressHeader]: address } }) as unknown as ReturnType<SocketFactory>;
}

/** A protocol connection by hand. */
export class RawConnection {
	readonly ws: WebSocket;
	readonly hello: Promise<Extract<RelayMessage, { t: 'hello' }>>;
	readonly received: RelayMessage[] = [];
	/** Binary frames received. */
	frames = 0;
	readonly closed: Promise<{ code: number; reason: string }>;
	private waiters: (() => void)[] = [];
	private nextId = 1;

	constructor(target: RelayTarget, room: string, address: string, opts: { paused?: boolean } = {}) {
		this.ws = new WebSocket(`${target.url}/room/${room}`, { headers: { [target.addressHeader]: address } });
		this.hello = new Promise((resolve, reject) => {
			this.ws.on('message', (data, binary) => {
				// A binary frame is a pull page; it is kept as the `items` message it stands for.
				const m = binary ? (decodeItemsFrame(new Uint8Array(data as Buffer)) as RelayMessage) : (JSON.parse(String(data)) as RelayMessage);
				if (binary) this.frames++;
				if (m.t === 'hello') resolve(m);
				this.received.push(m);
				for (const w of this.waiters.splice(0)) w();
			});
			this.ws.on('close', (code, reason) => reject(new Error(`closed before hello: ${code} ${reason}`)));
			this.ws.on('error', () => {});
		});
		this.hello.catch(() => {});
		this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
		if (opts.paused) this.ws.on('open', () => (this.ws as unknown as { _socket: { pause(): void } })._socket.pause());
	}

	send(body: Record<string, unknown>): number {
		const id = this.nextId++;
		this.ws.send(JSON.stringify({ id, ...body }));
		return id;
	}

	/** The answer to request `id`. */
	async answer(id: number, timeoutMs = 5000): Promise<RelayMessage> {
		const until = Date.now() + timeoutMs;
		for (;;) {
			const m = this.received.find((r) => 'id' in r && r.id === id);
			if (m) return m;
			if (Date.now() > until) throw new Error(`no answer to request ${id}`);
			await new Promise<void>((r) => {
				this.waiters.push(r);
				setTimeout(r, 100);
			});
		}
	}

	async request(body: Record<string, unknown>): Promise<RelayMessage> {
		return this.answer(this.send(body));
	}

	close(): void {
		this.ws.terminate();
	}
}

/** A signed-envelope-shaped string: the relay never looks inside, the client checks the id. */
export function envelope(text: string, pad = 0): { id: string; envelope: string } {
	const body = JSON.stringify({ type: 'message.sent', payload: { text, pad: 'x'.repeat(pad) } });
	const id = hashBody(body);
	return { id, envelope: JSON.stringify({ id, body, sig: 'unsigned-in-this-test' }) };
}

/** Wait until `ok()` holds, polling every 10 ms; throws after `ms`. */
export async function until(ok: () => boolean, ms = 5000): Promise<void> {
	const end = Date.now() + ms;
	while (!ok()) {
		if (Date.now() > end) throw new Error('timed out');
		await new Promise((r) => setTimeout(r, 10));
	}
}

/**
 * One relay build for a describe block: started before its tests and stopped after them, with every
 * client and hand-made connection its tests opened. `openRaw` opens a room by hand with a valid proof.
 */
export function relayUnderTest(make: () => RelayTarget) {
	let target: RelayTarget | undefined;
	const clients: RelayClient[] = [];
	const raws: RawConnection[] = [];
	const started = (): RelayTarget => {
		if (!target) throw new Error('The relay starts in beforeAll.');
		return target;
	};
	beforeAll(async () => {
		target = make();
		await target.start();
	}, 30_000);
	afterAll(async () => {
		for (const c of clients) c.close();
		for (const r of raws) r.close();
		await target?.stop();
	});
	const client = (address = newAddress(), options: Partial<ConstructorParameters<typeof RelayClient>[0]> = {}) => {
		const t = started();
		const c = new RelayClient({ url: t.url, socket: socketFrom(t, address), reconnect: false, ...options });
		clients.push(c);
		return c;
	};
	const raw = (room: string, address = newAddress()) => {
		const r = new RawConnection(started(), room, address);
		raws.push(r);
		return r;
	};
	const openRaw = async (secret: string, address = newAddress()) => {
		const keys = deriveRelayKeys(secret);
		const conn = raw(keys.room, address);
		const { challenge } = await conn.hello;
		const opened = (await conn.request({ t: 'open', room: keys.room, key: keys.roomKey.publicKey, sig: signSync(keys.roomKey, openProof(challenge, keys.room)) })) as Extract<RelayMessage, { t: 'opened' }>;
		return { conn, keys, challenge, opened };
	};
	return { target: started, client, raw, openRaw };
}
