/**
 * The relay on Cloudflare Workers: the same protocol core (session.ts, store.ts) with one Durable
 * Object per room (SQLite-backed storage, hibernating WebSockets). Also what miniflare runs under
 * workerd in tests/relay.
 *
 *  - Worker front: `GET /room/<room id>` with a WebSocket upgrade goes to that room's object
 *    (`ROOMS.idFromName(<room id>)`). A socket therefore carries ONE room here (hello says
 *    `mux: false`); the client library opens one socket per room on such a relay.
 *  - RelayRoomObject: accepts the socket with `state.acceptWebSocket` so the object can hibernate
 *    between messages; a session's challenge and open room live in the socket's attachment, so
 *    proofs stay valid across hibernation. Writes are acknowledged after `transactionSync`
 *    returned: the object's output gate holds the acknowledgement until the write is durable.
 *  - AddressObject (`ADDRESSES.idFromName(<client address>)`): per-address limits that need more
 *    than one room's view: open connections (leases, released when a socket closes, expiring after
 *    a day in case a close is never seen) and rooms created per hour. The address is
 *    `CF-Connecting-IP`, which Cloudflare sets (a client cannot).
 *  - workerd has no `bufferedAmount` on server WebSockets: a slow reader is caught by the protocol's
 *    read confirmations alone (items sent and not confirmed read, `maxUnreadBytes`).
 *  - Per-address message rate is not counted across objects (it would cost a call per message):
 *    each connection is held to `maxMessagesPerSecond`, and an address to
 *    `maxConnectionsPerAddress` connections.
 *  - Retention: an alarm deletes the room's storage once it was neither written nor opened for
 *    `retentionMs`.
 *  - No Web Push here: `web-push` needs Node (`https`, `crypto`), so push stays with the Node relay
 *    (push.ts). The host offers no `subscribe`, so a subscribe is answered `push-unavailable`, and
 *    hello announces no push key.
 *
 * Limits: DEFAULT_LIMITS, overridden by the `RELAY_LIMITS` variable (JSON) in wrangler.toml.
 */
import { checkLimits, CLOSE, DEFAULT_LIMITS, RelayError, type RelayLimits, type WireItem } from './protocol';
import { liveText, RelaySession, type RelayHost, type SessionState } from './session';
import { RelayStore, type Sql } from './store';

// —— the few Workers types used here (no @cloudflare/workers-types in this project) ——
interface SqlStorage {
	exec<T>(query: string, ...bindings: unknown[]): { toArray(): T[] };
}
interface DurableObjectStorage {
	sql: SqlStorage;
	transactionSync<T>(fn: () => T): T;
	deleteAll(): Promise<void>;
	setAlarm(at: number): Promise<void>;
	getAlarm(): Promise<number | null>;
}
interface WorkerSocket {
	send(data: string | ArrayBuffer | ArrayBufferView): void;
	close(code?: number, reason?: string): void;
	accept(): void;
	serializeAttachment(value: unknown): void;
	deserializeAttachment(): unknown;
}
interface DurableObjectState {
	storage: DurableObjectStorage;
	acceptWebSocket(ws: WorkerSocket, tags?: string[]): void;
	getWebSockets(tag?: string): WorkerSocket[];
}
interface DurableObjectNamespace {
	idFromName(name: string): unknown;
	get(id: unknown): { fetch(input: string | Request, init?: RequestInit): Promise<Response> };
}
declare const WebSocketPair: { new (): { 0: WorkerSocket; 1: WorkerSocket } };

export interface RelayEnv {
	ROOMS: DurableObjectNamespace;
	ADDRESSES: DurableObjectNamespace;
	/** JSON object of RelayLimits overrides. */
	RELAY_LIMITS?: string;
}

const ADDRESS_HEADER = 'x-relay-address';
const LEASE_HEADER = 'x-relay-lease';
const ROOM_PATH = /^\/room\/([A-Za-z0-9_-]{42}[AEIMQUYcgkosw048])\/?$/;
const LEASE_TTL_MS = 86_400_000;

function limitsOf(env: RelayEnv): RelayLimits {
	const limits = { ...DEFAULT_LIMITS, ...(env.RELAY_LIMITS ? (JSON.parse(env.RELAY_LIMITS) as Partial<RelayLimits>) : {}) };
	checkLimits(limits);
	return limits;
}

/** Answer an upgrade with a socket that is closed at once, with a reason the client can read. */
function refuse(code: number, reason: string): Response {
	const pair = new WebSocketPair();
	pair[1].accept();
	pair[1].close(code, reason);
	return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
}

async function addressCall<T>(env: RelayEnv, address: string, body: Record<string, unknown>): Promise<T> {
	const res = await env.ADDRESSES.get(env.ADDRESSES.idFromName(address)).fetch('https://address.internal/', { method: 'POST', body: JSON.stringify(body) });
	return (await res.json()) as T;
}

export default {
	async fetch(req: Request, env: RelayEnv): Promise<Response> {
		const url = new URL(req.url);
		if (url.pathname === '/health') return Response.json({ ok: true, protocol: 'milestone-relay/1', mux: false });
		const m = ROOM_PATH.exec(url.pathname);
		if (!m) return new Response('Milestone relay: connect a WebSocket to /room/<room id>.', { status: 404 });
		if (req.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('Expected a WebSocket upgrade.', { status: 426 });
		const limits = limitsOf(env);
		const address = req.headers.get('cf-connecting-ip') ?? 'unknown';
		const lease = await addressCall<{ ok: boolean; lease?: string }>(env, address, { op: 'acquire', max: limits.maxConnectionsPerAddress, now: Date.now() });
		if (!lease.ok) return refuse(CLOSE.policy, `too many connections from this address (at most ${limits.maxConnectionsPerAddress})`);
		const headers = new Headers(req.headers);
		headers.set(ADDRESS_HEADER, address);
		headers.set(LEASE_HEADER, lease.lease!);
		return env.ROOMS.get(env.ROOMS.idFromName(m[1]!)).fetch(new Request(req, { headers }));
	}
};

interface Attachment {
	room: string;
	address: string;
	lease: string;
	session: SessionState;
}

/** One room: its items, and the sockets of everyone who opened it. */
export class RelayRoomObject {
	private readonly limits: RelayLimits;
	private readonly store: RelayStore;
	private ready = false;
	private readonly sessions = new Map<WorkerSocket, RelaySession>();

	constructor(
		private readonly state: DurableObjectState,
		private readonly env: RelayEnv
	) {
		this.limits = limitsOf(env);
		const storage = state.storage;
		const sql: Sql = {
			all: <T>(q: string, ...p: unknown[]) => storage.sql.exec<T>(q, ...p).toArray(),
			run: (q: string, ...p: unknown[]) => void storage.sql.exec(q, ...p).toArray(),
			transaction: <T>(fn: () => T) => storage.transactionSync(fn)
		};
		this.store = new RelayStore(sql, this.limits);
	}

	private init(): void {
		if (this.ready) return;
		this.store.init();
		this.ready = true;
	}

	async fetch(req: Request): Promise<Response> {
		const room = ROOM_PATH.exec(new URL(req.url).pathname)?.[1];
		if (!room) return new Response('No room named.', { status: 400 });
		this.init();
		const pair = new WebSocketPair();
		const server = pair[1];
		this.state.acceptWebSocket(server);
		const attachment: Attachment = { room, address: req.headers.get(ADDRESS_HEADER) ?? 'unknown', lease: req.headers.get(LEASE_HEADER) ?? '', session: { challenge: '', rooms: {} } };
		const session = this.session(server, attachment);
		attachment.session = session.state;
		server.serializeAttachment(attachment);
		session.hello();
		return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
	}

	async webSocketMessage(ws: WorkerSocket, message: string | ArrayBuffer): Promise<void> {
		this.init();
		const session = this.session(ws);
		if (typeof message !== 'string') return session.drop('the relay speaks JSON text messages only');
		session.receive(message);
		await session.idle();
	}

	async webSocketClose(ws: WorkerSocket, code: number, reason: string): Promise<void> {
		await this.closed(ws);
		try {
			ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
		} catch {
			// already closed
		}
	}

	async webSocketError(ws: WorkerSocket): Promise<void> {
		await this.closed(ws);
	}

	private async closed(ws: WorkerSocket): Promise<void> {
		const a = ws.deserializeAttachment() as Attachment | null;
		const s = this.sessions.get(ws);
		if (s) s.closed = true;
		this.sessions.delete(ws);
		if (a?.lease) await addressCall(this.env, a.address, { op: 'release', lease: a.lease }).catch(() => undefined);
	}

	async alarm(): Promise<void> {
		this.init();
		const now = Date.now();
		const row = this.store.room(this.anyRoom() ?? '');
		if (this.store.expire(now).length) {
			for (const ws of this.state.getWebSockets()) ws.close(1001, 'this room expired');
			await this.state.storage.deleteAll();
		} else if (row) await this.state.storage.setAlarm(row.touched + this.limits.retentionMs);
	}

	private anyRoom(): string | undefined {
		return this.store.roomNames()[0];
	}

	/** The session of a socket; rebuilt from its attachment after the object hibernated. */
	private session(ws: WorkerSocket, fresh?: Attachment): RelaySession {
		const known = this.sessions.get(ws);
		if (known) return known;
		const a = fresh ?? (ws.deserializeAttachment() as Attachment);
		const store = this.store;
		const limits = this.limits;
		const host: RelayHost = {
			limits,
			mux: false,
			send: (text) => ws.send(text),
			buffered: () => 0,
			close: (code, reason) => ws.close(code, reason),
			admit: () => undefined,
			mayOpen: (room) => {
				if (room !== a.room) return new RelayError('too-many-rooms', 'This relay serves one room per connection: open a connection to /room/<room id> for that room.');
			},
			opened: (room) => {
				const r = store.room(room);
				if (r && r.touched < Date.now() - 3_600_000) {
					store.touch(room, Date.now());
					void this.state.storage.setAlarm(Date.now() + limits.retentionMs);
				}
			},
			left: () => {},
			persist: (state) => ws.serializeAttachment({ ...a, session: state }),
			append: async (room, items: WireItem[]) => {
				if (!store.room(room)) {
					const ok = await addressCall<{ ok: boolean; count: number }>(this.env, a.address, { op: 'take', limit: limits.maxNewRoomsPerAddressPerHour, windowMs: 3_600_000, now: Date.now() });
					if (!ok.ok)
						throw new RelayError('too-many-new-rooms', `This address created ${ok.count} rooms in the last hour, the most allowed (${limits.maxNewRoomsPerAddressPerHour}). Try again later.`);
				}
				const now = Date.now();
				const result = this.state.storage.transactionSync(() => store.append(room, items, now));
				if (result.created) await this.state.storage.setAlarm(now + limits.retentionMs);
				return result;
			},
			read: (room, after) => store.read(room, after),
			readRaw: (room, after) => store.readRaw(room, after),
			readCompacted: (room, after) => store.readCompacted(room, after),
			loose: (room) => store.loose(room),
			compact: (room, items) => this.state.storage.transactionSync(() => store.compact(room, items)),
			head: (room) => store.room(room)?.head ?? 0,
			publish: (room, items) => {
				for (const other of this.state.getWebSockets()) {
					if (other === ws) continue;
					const s = this.session(other);
					if (!s.isLive(room)) continue;
					for (const item of items) s.sendText(liveText(room, item), true);
				}
			}
		};
		const session = new RelaySession(host, a.session.challenge ? a.session : undefined);
		this.sessions.set(ws, session);
		return session;
	}
}

/** Per-address counters: connection leases and rooms created per window. */
export class AddressObject {
	private ready = false;
	constructor(private readonly state: DurableObjectState) {}

	async fetch(req: Request): Promise<Response> {
		const sql = this.state.storage.sql;
		if (!this.ready) {
			sql.exec('CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, expires INTEGER NOT NULL)').toArray();
			sql.exec('CREATE TABLE IF NOT EXISTS hits (at INTEGER NOT NULL)').toArray();
			this.ready = true;
		}
		const q = (await req.json()) as { op: string; max?: number; now?: number; lease?: string; limit?: number; windowMs?: number };
		switch (q.op) {
			case 'acquire': {
				const now = q.now!;
				const result = this.state.storage.transactionSync(() => {
					sql.exec('DELETE FROM leases WHERE expires <= ?', now).toArray();
					const n = Number(sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM leases').toArray()[0]?.n ?? 0);
					if (n >= q.max!) return { ok: false };
					const id = crypto.randomUUID();
					sql.exec('INSERT INTO leases (id, expires) VALUES (?, ?)', id, now + LEASE_TTL_MS).toArray();
					return { ok: true, lease: id };
				});
				return Response.json(result);
			}
			case 'release':
				sql.exec('DELETE FROM leases WHERE id = ?', q.lease).toArray();
				return Response.json({ ok: true });
			case 'take': {
				const since = q.now! - q.windowMs!;
				const result = this.state.storage.transactionSync(() => {
					sql.exec('DELETE FROM hits WHERE at <= ?', since).toArray();
					const n = Number(sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM hits').toArray()[0]?.n ?? 0);
					if (n >= q.limit!) return { ok: false, count: n };
					sql.exec('INSERT INTO hits (at) VALUES (?)', q.now).toArray();
					return { ok: true, count: n + 1 };
				});
				return Response.json(result);
			}
		}
		return Response.json({ ok: false }, { status: 400 });
	}
}
