/**
 * The relay on one machine: a WebSocket server (one socket per client, any number of rooms on it)
 * over SQLite (better-sqlite3) in a data folder, default ./data/relay. `npm start` runs it beside
 * the signaling server (scripts/serve.js); `node --import tsx src/relay/main.ts` runs it alone.
 *
 * Durability: WAL journal with synchronous=FULL, so a commit has reached the disk (fsync of the
 * WAL) before it returns; an item is acknowledged only after the transaction holding it committed.
 * Pushes that arrive together are committed together (group commit: one transaction per turn of
 * the event loop), which keeps one fsync per batch rather than per item. A SIGKILL, or a power cut,
 * at any moment therefore loses no acknowledged item (tests/relay/crash.test.ts kills a real process).
 * `synchronous: 'NORMAL'` (flag --synchronous normal) survives a killed process but may lose the
 * last commits on a power cut; it is there for benchmarks and throwaway relays only.
 *
 * Per-address limits (connections, open rooms, new rooms per hour, messages per second) count the
 * socket's peer address, or with `trustProxy` the right-most address of that header, exactly as
 * the signaling server does (src/signaling/server.js).
 *
 * Web Push (push.ts): on by default, with a VAPID key pair kept in the data folder; `push: false`
 * turns it off (hello then announces no key and subscribes are refused).
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { WebSocketServer, type WebSocket } from 'ws';
import { clientAddress } from '../signaling/server.js';
import { checkLimits, CLOSE, DEFAULT_LIMITS, RelayError, type RelayLimits, type StoredItem, type WireItem } from './protocol';
import { RelayPusher, type PushOptions } from './push';
import { liveText, RelaySession, type RelayHost } from './session';
import { RelayStore, type AppendResult, type Sql } from './store';

export interface RelayOptions {
	port?: number;
	host?: string;
	/** Folder of the SQLite database (created if missing). Default ./data/relay. */
	dataDir?: string;
	limits?: Partial<RelayLimits>;
	/** Header a trusted reverse proxy puts the client address in ('x-forwarded-for'; true means that one). */
	trustProxy?: string | boolean;
	synchronous?: 'FULL' | 'NORMAL';
	/** Web Push to subscribed devices (default on); false: no push. */
	push?: PushOptions | false;
	log?: (line: string) => void;
}

export interface RunningRelay {
	port: number;
	url: string;
	/** The database file (tests read its bytes). */
	file: string;
	/** The VAPID public key pushes are signed with (absent with `push: false`). */
	pushKey?: string;
	/** Pushes waiting or in flight (tests wait for 0). */
	pushBusy(): number;
	stats(): Record<string, number>;
	close(): Promise<void>;
}

export const DEFAULT_DATA_DIR = './data/relay';
export const DB_FILE = 'relay.sqlite';

/** better-sqlite3 behind the store's SQL interface, with statements prepared once. */
function sqlOver(db: Database.Database): Sql {
	const statements = new Map<string, Database.Statement>();
	const prepare = (q: string) => {
		let s = statements.get(q);
		if (!s) statements.set(q, (s = db.prepare(q)));
		return s;
	};
	const args = (params: unknown[]) => params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
	return {
		all: <T>(q: string, ...params: unknown[]) => prepare(q).all(...args(params)) as T[],
		run: (q: string, ...params: unknown[]) => void prepare(q).run(...args(params)),
		transaction: <T>(fn: () => T) => db.transaction(fn)()
	};
}

const bufferCodec = {
	decode: (text: string) => Buffer.from(text, 'base64url'),
	encode: (bytes: Uint8Array) => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('base64url'),
	sha256: (bytes: Uint8Array) => createHash('sha256').update(bytes).digest()
};

interface AddressState {
	connections: number;
	rooms: number;
	rateStart: number;
	rateCount: number;
	/** Times this address created a room, within the last hour. */
	created: number[];
}

export async function startRelay(opts: RelayOptions = {}): Promise<RunningRelay> {
	const limits: RelayLimits = { ...DEFAULT_LIMITS, ...opts.limits };
	checkLimits(limits);
	const log = opts.log ?? (() => {});
	const trustProxy = opts.trustProxy === true ? 'x-forwarded-for' : opts.trustProxy ? String(opts.trustProxy).trim().toLowerCase() : undefined;
	const dir = resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
	mkdirSync(dir, { recursive: true });
	const file = join(dir, DB_FILE);
	const db = new Database(file);
	db.pragma('journal_mode = WAL');
	db.pragma(`synchronous = ${opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
	const sql = sqlOver(db);
	const store = new RelayStore(sql, limits, bufferCodec);
	store.init();
	const pusher = opts.push === false ? undefined : new RelayPusher(sql, dir, limits, opts.push ?? {}, log);
	const counters = { connections: 0, pushes: 0, items: 0, commits: 0, refused: 0, dropped: 0 };

	// —— group commit: every push that arrives in one turn of the event loop, one transaction ——
	type Pending = { room: string; items: WireItem[]; done: (r: AppendResult | Error) => void };
	let pending: Pending[] = [];
	const flush = () => {
		const batch = pending;
		pending = [];
		const results: (AppendResult | Error)[] = [];
		const now = Date.now();
		try {
			sql.transaction(() => {
				for (const p of batch) {
					try {
						results.push(store.append(p.room, p.items, now));
					} catch (e) {
						if (!(e instanceof RelayError)) throw e; // a storage failure aborts the whole batch
						results.push(e);
					}
				}
			});
			counters.commits++;
		} catch (e) {
			log(`relay: commit failed: ${(e as Error).message}`);
			for (const p of batch) p.done(e as Error);
			return;
		}
		batch.forEach((p, i) => p.done(results[i]!));
	};
	const append = (room: string, items: WireItem[]) =>
		new Promise<AppendResult>((ok, fail) => {
			if (pending.length === 0) setImmediate(flush);
			pending.push({ room, items, done: (r) => (r instanceof Error ? fail(r) : ok(r)) });
		});

	// —— retention ——
	const sweep = () => {
		const gone = store.expire(Date.now());
		pusher?.expire(gone);
		if (gone.length) log(`relay: retention deleted ${gone.length} room(s) unused for ${Math.round(limits.retentionMs / 86_400_000)} days`);
	};
	sweep();
	const sweeper = setInterval(sweep, 3_600_000);
	sweeper.unref();

	// —— connections ——
	const rooms = new Map<string, Set<RelaySession>>();
	const addresses = new Map<string, AddressState>();
	const closing = new Set<WebSocket>();

	const server = http.createServer((req, res) => {
		if (req.url === '/health') {
			res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
			res.end(JSON.stringify({ ok: true, protocol: 'milestone-relay/1', ...counters, ...pusher?.stats, liveRooms: rooms.size, limits, pushKey: pusher?.publicKey }));
			return;
		}
		res.writeHead(404, { 'content-type': 'text/plain' });
		res.end('Milestone relay: connect with a WebSocket.');
	});
	// Messages a little over the limit get a clear error from the session; far over it, ws closes (1009).
	const wss = new WebSocketServer({ server, maxPayload: limits.maxMessageBytes * 2 });
	wss.on('error', () => {});

	wss.on('connection', (ws, req) => {
		const ip = clientAddress(req, trustProxy);
		let addr = addresses.get(ip);
		if (!addr) addresses.set(ip, (addr = { connections: 0, rooms: 0, rateStart: 0, rateCount: 0, created: [] }));
		if (addr.connections >= limits.maxConnectionsPerAddress) {
			counters.refused++;
			ws.close(CLOSE.policy, `too many connections from this address (at most ${limits.maxConnectionsPerAddress})`);
			return;
		}
		const a = addr;
		a.connections++;
		counters.connections++;

		const host: RelayHost = {
			limits,
			mux: true,
			// Binary frames are ciphertext: nothing for permessage-deflate to gain (it is off here anyway).
			send: (data) => (typeof data === 'string' ? ws.send(data) : ws.send(data, { binary: true, compress: false })),
			buffered: () => ws.bufferedAmount,
			close: (code, reason) => {
				counters.dropped++;
				leaveAll();
				closing.add(ws);
				ws.close(code, reason);
				// A reader that does not read its close frame either is cut off.
				setTimeout(() => ws.terminate(), 2000).unref();
			},
			admit: () => {
				const now = Date.now();
				if (now - a.rateStart >= 1000) {
					a.rateStart = now;
					a.rateCount = 0;
				}
				if (++a.rateCount > limits.maxMessagesPerSecondPerAddress)
					return new RelayError('rate-limited', `Too many requests from this address: at most ${limits.maxMessagesPerSecondPerAddress} messages a second. Slow down and retry.`);
			},
			mayOpen: () => {
				if (a.rooms >= limits.maxRoomsPerAddress)
					return new RelayError('too-many-rooms', `This address has ${a.rooms} rooms open, the most allowed at once (${limits.maxRoomsPerAddress}). Leave one first.`);
			},
			opened: (room) => {
				a.rooms++;
				let set = rooms.get(room);
				if (!set) rooms.set(room, (set = new Set()));
				set.add(session);
				store.touch(room, Date.now());
			},
			left: (room) => {
				a.rooms--;
				const set = rooms.get(room);
				set?.delete(session);
				if (set?.size === 0) rooms.delete(room);
			},
			append: async (room, items) => {
				const now = Date.now();
				const isNew = !store.room(room);
				if (isNew) {
					a.created = a.created.filter((t) => t > now - 3_600_000);
					if (a.created.length >= limits.maxNewRoomsPerAddressPerHour)
						throw new RelayError('too-many-new-rooms', `This address created ${a.created.length} rooms in the last hour, the most allowed (${limits.maxNewRoomsPerAddressPerHour}). Try again later.`);
				}
				const result = await append(room, items);
				if (result.created) a.created.push(now);
				counters.pushes++;
				counters.items += result.fresh.length;
				return result;
			},
			read: (room, after) => store.read(room, after),
			readRaw: (room, after) => store.readRaw(room, after),
			readCompacted: (room, after) => store.readCompacted(room, after),
			loose: (room) => store.loose(room),
			// Rare and small (one per many events): its own transaction, outside the group commit.
			compact: async (room, items) => {
				if (pending.length) flush();
				return sql.transaction(() => store.compact(room, items));
			},
			head: (room) => store.room(room)?.head ?? 0,
			pushKey: pusher?.publicKey,
			subscribe: pusher && ((room, sub) => pusher.subscribe(room, sub)),
			unsubscribe: pusher && ((room, endpoint) => pusher.unsubscribe(room, endpoint)),
			notify: pusher && ((room, except) => pusher.notify(room, except)),
			publish: (room, items: StoredItem[]) => {
				const set = rooms.get(room);
				if (!set) return;
				for (const item of items) {
					const text = liveText(room, item);
					for (const other of set) if (other !== session && other.isLive(room)) other.sendText(text, true);
				}
			}
		};
		const session = new RelaySession(host);
		const leaveAll = () => {
			for (const room of session.rooms()) host.left(room);
			for (const room of session.rooms()) delete session.state.rooms[room];
		};

		let alive = true;
		const ping = setInterval(() => {
			if (!alive) return ws.terminate();
			alive = false;
			ws.ping();
		}, limits.pingIntervalMs);
		ws.on('pong', () => (alive = true));
		ws.on('error', () => counters.refused++);
		ws.on('message', (data, binary) => {
			if (binary) return session.drop('the relay speaks JSON text messages only');
			session.receive(String(data));
		});
		ws.on('close', () => {
			clearInterval(ping);
			closing.delete(ws);
			session.closed = true;
			leaveAll();
			a.connections--;
			counters.connections--;
			if (a.connections === 0 && a.created.length === 0) addresses.delete(ip);
		});
		session.hello();
	});

	return new Promise((done, fail) => {
		server.once('error', fail);
		server.listen(opts.port ?? 4446, opts.host ?? '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : (opts.port ?? 4446);
			log(`Relay on ws://localhost:${port} (data: ${file}, health: http://localhost:${port}/health)`);
			done({
				port,
				url: `ws://localhost:${port}`,
				file,
				pushKey: pusher?.publicKey,
				pushBusy: () => pusher?.busy() ?? 0,
				stats: () => ({ ...counters, ...pusher?.stats, liveRooms: rooms.size }),
				close: () =>
					new Promise<void>((closed) => {
						clearInterval(sweeper);
						pusher?.close();
						for (const c of wss.clients) c.terminate();
						wss.close();
						server.close(() => {
							if (pending.length) flush();
							db.close();
							closed();
						});
					})
			});
		});
	});
}
