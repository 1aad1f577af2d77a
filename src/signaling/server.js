/**
 * Self-hostable signaling server speaking the y-webrtc protocol: clients `subscribe` / `unsubscribe`
 * to topics (room names) and `publish` messages that are relayed to every other subscriber, with
 * `ping`/`pong` keep-alives. It sees only room names derived from link secrets and encrypted
 * signaling payloads: it cannot tell which contract a room is, nor read what passes through it.
 *
 * Limits keep one client from exhausting it: message size, topics per connection, connections and
 * messages per second per IP and per connection, and memory. A subscriber that stops reading is
 * dropped once the bytes queued for it pass `maxBufferedBytesPerSocket` (close 1008), and the bytes
 * queued across all sockets never pass `maxBufferedBytesTotal`: the slowest peers are dropped (1013)
 * and a publish that still cannot fit is refused with `{ type: 'error', reason: 'server-busy' }`.
 *
 * The client address used by the per-IP limits is the socket's peer address. Only when `trustProxy`
 * names a header (e.g. 'x-forwarded-for', set by a reverse proxy in front of this server) is the
 * right-most address of that header used instead: that is the one the trusted proxy appended; the
 * entries left of it are whatever the client sent. Without `trustProxy` the header is ignored.
 * `GET /health` answers with JSON counters and the configured limits.
 *
 * One addition to the protocol: `{ type: 'presence', topics }` asks how many connections are
 * subscribed to each of those topics (this one included) and is answered with
 * `{ type: 'presence', topics: { [topic]: count } }`, only for topics the asking connection itself
 * subscribed to. A device opening a contract learns at once whether the other party is in the room
 * (and about to connect), so its relay catch-up can wait for that peer instead of doing the same
 * work twice. The server tells nothing it was not told: a room's subscribers are the connections that
 * hold its name, and a name is derived from the link secret. y-webrtc clients never ask, and ignore
 * the answer's type.
 */
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';

/**
 * @typedef {{ maxMessageBytes: number, maxTopicsPerConnection: number, maxConnectionsPerIp: number, maxMessagesPerSecond: number,
 *   maxMessagesPerSecondPerIp: number, maxBufferedBytesPerSocket: number, maxBufferedBytesTotal: number, dropGraceMs: number,
 *   pingIntervalMs: number }} Limits
 */

/** @type {Limits} */
export const DEFAULT_LIMITS = {
	maxMessageBytes: 64 * 1024,
	maxTopicsPerConnection: 64,
	maxConnectionsPerIp: 50,
	maxMessagesPerSecond: 200,
	maxMessagesPerSecondPerIp: 1000,
	/** Bytes the server may queue for one socket that is not reading; past it the peer is dropped. */
	maxBufferedBytesPerSocket: 1024 * 1024,
	/** Bytes the server may queue across all sockets. */
	maxBufferedBytesTotal: 64 * 1024 * 1024,
	/** How long a peer dropped for reading too slowly gets to read its close frame before the socket is destroyed. */
	dropGraceMs: 2000,
	pingIntervalMs: 30_000
};

/** Close codes the server uses when it drops a peer. */
export const CLOSE_CODES = {
	/** Policy violation: too many connections from one address, or reading too slowly. */
	policy: 1008,
	/** Try again later: the server's send buffers are full. */
	overloaded: 1013
};

/** Worst-case bytes a WebSocket frame header adds to a message. */
const FRAME_OVERHEAD = 14;

/**
 * An address as a per-IP key: IPv4-mapped IPv6 folded to IPv4, brackets and an IPv4 port removed.
 * @param {string | undefined} raw
 * @returns {string | undefined} undefined when `raw` is not an IP address
 */
export function normalizeAddress(raw) {
	let a = (raw ?? '').trim();
	const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
	if (bracketed) a = bracketed[1] ?? '';
	else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
	if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a)) a = a.slice(7);
	return net.isIP(a) ? a.toLowerCase() : undefined;
}

/**
 * The address per-IP limits count a request against.
 * @param {import('node:http').IncomingMessage} req
 * @param {string | undefined} trustProxy lower-case header name set by a trusted proxy, or undefined to trust none
 */
export function clientAddress(req, trustProxy) {
	const peer = normalizeAddress(req.socket.remoteAddress) ?? 'unknown';
	if (!trustProxy) return peer;
	const raw = req.headers[trustProxy];
	const value = Array.isArray(raw) ? raw.join(',') : raw;
	if (!value) return peer;
	// The right-most entry is the one the trusted proxy added; anything left of it came from the client.
	return normalizeAddress(value.split(',').pop()) ?? peer;
}

/** @param {Limits} limits */
function checkLimits(limits) {
	for (const [name, value] of Object.entries(limits)) {
		if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`signaling limit ${name} must be a positive number, got ${value}`);
	}
	if (limits.maxBufferedBytesPerSocket < limits.maxMessageBytes + 1024)
		throw new RangeError('signaling limit maxBufferedBytesPerSocket must leave room for one message (maxMessageBytes + 1024)');
	if (limits.maxBufferedBytesTotal < limits.maxBufferedBytesPerSocket)
		throw new RangeError('signaling limit maxBufferedBytesTotal must be at least maxBufferedBytesPerSocket');
}

/**
 * @param {{ port?: number, host?: string, limits?: Partial<Limits>, trustProxy?: string | boolean, log?: (msg: string) => void }} [opts]
 *   `trustProxy`: the header a reverse proxy in front of this server puts the client address in
 *   ('x-forwarded-for'; `true` means that one). Leave it unset when clients connect directly.
 * @returns {Promise<{ port: number, url: string, close: () => Promise<void>, stats: () => object }>}
 */
export function startSignaling(opts = {}) {
	/** @type {Limits} */
	const limits = { ...DEFAULT_LIMITS, ...opts.limits };
	checkLimits(limits);
	const trustProxy = opts.trustProxy === true ? 'x-forwarded-for' : opts.trustProxy ? String(opts.trustProxy).trim().toLowerCase() : undefined;
	const log = opts.log ?? (() => {});
	/** @type {Map<string, Set<import('ws').WebSocket>>} */
	const topics = new Map();
	/** @type {Map<string, number>} */
	const perIp = new Map();
	/** @type {Map<string, { start: number, count: number }>} */
	const ipRate = new Map();
	const counters = { connections: 0, messages: 0, refused: 0, dropped: 0, busy: 0 };

	// Send-buffer accounting. `live` maps each socket that may still hold queued bytes to the amount
	// last seen; `estimate` is their sum. Only sends grow a buffer and every send is followed by
	// `observe`, so `estimate` is an upper bound of the true total; `measure` makes it exact.
	/** @type {Map<import('ws').WebSocket, number>} */
	const live = new Map();
	let estimate = 0;
	/** @type {Map<import('ws').WebSocket, () => void>} sockets already dropped, waiting for their close frame to go out */
	const closing = new Map();
	/** @param {import('ws').WebSocket} ws */
	const observe = (ws) => {
		if (!live.has(ws)) return;
		const now = ws.bufferedAmount;
		estimate += now - (live.get(ws) ?? 0);
		live.set(ws, now);
	};
	const measure = () => {
		estimate = 0;
		for (const ws of live.keys()) {
			const now = ws.bufferedAmount;
			live.set(ws, now);
			estimate += now;
		}
		return estimate;
	};
	/** Forget a socket's queued bytes: once destroyed they are garbage, no longer growing. @param {import('ws').WebSocket} ws */
	const forget = (ws) => {
		estimate -= live.get(ws) ?? 0;
		live.delete(ws);
	};
	/** @param {import('ws').WebSocket} ws */
	const destroy = (ws) => {
		closing.get(ws)?.();
		forget(ws);
		ws.terminate();
	};

	/** Already dropped or closing: nothing more will be sent to it. @param {import('ws').WebSocket} ws */
	const gone = (ws) => closing.has(ws) || ws.readyState !== ws.OPEN;

	/**
	 * Make room for `bytes` more queued bytes: drop the slowest peers (closing sockets first, then
	 * those at least one full message behind, largest queue first). False when it still does not fit.
	 * @param {number} bytes
	 */
	const makeRoom = (bytes) => {
		if (estimate + bytes <= limits.maxBufferedBytesTotal) return true;
		if (measure() + bytes <= limits.maxBufferedBytesTotal) return true;
		const slowest = [...live]
			.filter(([ws, queued]) => gone(ws) || queued >= limits.maxMessageBytes)
			.sort(([a, qa], [b, qb]) => Number(gone(b)) - Number(gone(a)) || qb - qa);
		for (const [ws] of slowest) {
			if (estimate + bytes <= limits.maxBufferedBytesTotal) break;
			if (gone(ws)) destroy(ws);
			else drop(ws, CLOSE_CODES.overloaded, 'server send buffers full: try again later', true);
		}
		return estimate + bytes <= limits.maxBufferedBytesTotal;
	};

	/** @type {Map<import('ws').WebSocket, () => void>} how to take each socket out of all its topics */
	const leavers = new Map();

	/**
	 * Drop a peer: stop relaying to it at once and close it with `code` and `reason`. The close frame
	 * queues behind what it has not read yet; a peer that reads again within `dropGraceMs` learns why.
	 * Then (or at once with `now`, when memory is short) the socket is destroyed and its queue freed.
	 * @param {import('ws').WebSocket} ws @param {number} code @param {string} reason @param {boolean} [now]
	 */
	function drop(ws, code, reason, now = false) {
		if (closing.has(ws) || ws.readyState !== ws.OPEN) return;
		counters.dropped++;
		leavers.get(ws)?.();
		const timer = setTimeout(() => destroy(ws), limits.dropGraceMs);
		closing.set(ws, () => {
			clearTimeout(timer);
			closing.delete(ws);
		});
		ws.close(code, reason);
		observe(ws);
		if (now) destroy(ws);
	}

	/**
	 * Queue `data` for `ws` unless that would pass the per-socket cap, in which case `ws` is dropped.
	 * @param {import('ws').WebSocket} ws @param {string} data @param {number} bytes its size on the wire, frame header included
	 */
	const sendTo = (ws, data, bytes) => {
		if (ws.readyState !== ws.OPEN || closing.has(ws)) return false;
		if (ws.bufferedAmount + bytes > limits.maxBufferedBytesPerSocket) {
			drop(ws, CLOSE_CODES.policy, `reading too slowly: more than ${limits.maxBufferedBytesPerSocket} bytes queued`);
			return false;
		}
		ws.send(data);
		observe(ws);
		return true;
	};

	const server = http.createServer((req, res) => {
		if (req.url === '/health') {
			res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
			res.end(
				JSON.stringify({
					ok: true,
					connections: counters.connections,
					topics: topics.size,
					messages: counters.messages,
					refused: counters.refused,
					dropped: counters.dropped,
					busy: counters.busy,
					bufferedBytes: measure(),
					limits,
					trustProxy: trustProxy ?? null
				})
			);
			return;
		}
		res.writeHead(404, { 'content-type': 'text/plain' });
		res.end('Milestone signaling server: connect with a WebSocket.');
	});
	const wss = new WebSocketServer({ server, maxPayload: limits.maxMessageBytes });
	// Listen errors (a port in use) surface through the http server and reject the start below.
	wss.on('error', () => {});

	wss.on('connection', (conn, req) => {
		const ip = clientAddress(req, trustProxy);
		const count = (perIp.get(ip) ?? 0) + 1;
		if (count > limits.maxConnectionsPerIp) {
			counters.refused++;
			conn.close(1008, 'too many connections from this address');
			return;
		}
		perIp.set(ip, count);
		counters.connections++;
		live.set(conn, 0);
		/** @type {Set<string>} */
		const subscribed = new Set();
		let alive = true;
		let windowStart = Date.now();
		let inWindow = 0;
		const ping = setInterval(() => {
			if (!alive) return destroy(conn);
			alive = false;
			conn.ping();
			observe(conn);
		}, limits.pingIntervalMs);
		conn.on('pong', () => (alive = true));
		// ws answers protocol pings by itself (ws 8.23 terminates a client with more than
		// `maxPendingAutoPongs` unanswered); keep the pongs it queues in the accounting.
		conn.on('ping', () => observe(conn));
		// Oversized frames and protocol errors close the socket; count them, never crash the server.
		conn.on('error', () => counters.refused++);

		/** @param {object} message */
		const send = (message) => {
			const data = JSON.stringify(message);
			const bytes = Buffer.byteLength(data) + FRAME_OVERHEAD;
			if (makeRoom(bytes)) sendTo(conn, data, bytes);
		};

		conn.on('message', (data) => {
			if (closing.has(conn)) return;
			const now = Date.now();
			if (now - windowStart >= 1000) {
				windowStart = now;
				inWindow = 0;
			}
			let rate = ipRate.get(ip);
			if (!rate || now - rate.start >= 1000) ipRate.set(ip, (rate = { start: now, count: 0 }));
			if (++inWindow > limits.maxMessagesPerSecond || ++rate.count > limits.maxMessagesPerSecondPerIp) {
				counters.refused++;
				return;
			}
			/** @type {any} */
			let message;
			try {
				message = JSON.parse(String(data));
			} catch {
				counters.refused++;
				return;
			}
			if (!message || typeof message.type !== 'string') return;
			counters.messages++;
			switch (message.type) {
				case 'subscribe':
					for (const topic of Array.isArray(message.topics) ? message.topics : []) {
						if (typeof topic !== 'string' || topic.length > 256) continue;
						if (!subscribed.has(topic) && subscribed.size >= limits.maxTopicsPerConnection) {
							counters.refused++;
							continue;
						}
						let subs = topics.get(topic);
						if (!subs) topics.set(topic, (subs = new Set()));
						subs.add(conn);
						subscribed.add(topic);
					}
					break;
				case 'unsubscribe':
					for (const topic of Array.isArray(message.topics) ? message.topics : []) {
						topics.get(topic)?.delete(conn);
						if (topics.get(topic)?.size === 0) topics.delete(topic);
						subscribed.delete(topic);
					}
					break;
				case 'publish': {
					if (typeof message.topic !== 'string' || !subscribed.has(message.topic)) return;
					const subs = topics.get(message.topic);
					if (!subs) return;
					message.clients = subs.size;
					const out = JSON.stringify(message);
					const bytes = Buffer.byteLength(out) + FRAME_OVERHEAD;
					const peers = [...subs].filter((peer) => peer !== conn && peer.readyState === peer.OPEN && !closing.has(peer));
					// Room for the worst case, every recipient queueing the whole message, or no publish at all.
					if (!makeRoom(bytes * peers.length)) {
						counters.busy++;
						send({ type: 'error', topic: message.topic, reason: 'server-busy' });
						return;
					}
					for (const peer of peers) sendTo(peer, out, bytes);
					break;
				}
				case 'presence': {
					/** @type {Record<string, number>} */
					const counts = Object.create(null);
					for (const topic of Array.isArray(message.topics) ? message.topics : []) {
						if (typeof topic === 'string' && subscribed.has(topic)) counts[topic] = topics.get(topic)?.size ?? 0;
					}
					send({ type: 'presence', topics: counts });
					break;
				}
				case 'ping':
					send({ type: 'pong' });
					break;
			}
		});

		const leaveAll = () => {
			for (const topic of subscribed) {
				const subs = topics.get(topic);
				subs?.delete(conn);
				if (subs?.size === 0) topics.delete(topic);
			}
			subscribed.clear();
		};
		leavers.set(conn, leaveAll);

		conn.on('close', () => {
			clearInterval(ping);
			closing.get(conn)?.();
			forget(conn);
			leaveAll();
			leavers.delete(conn);
			const left = (perIp.get(ip) ?? 1) - 1;
			if (left <= 0) {
				perIp.delete(ip);
				ipRate.delete(ip);
			} else perIp.set(ip, left);
			counters.connections--;
		});
	});

	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(opts.port ?? 4444, opts.host ?? '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : (opts.port ?? 4444);
			log(`Signaling server on ws://localhost:${port} (health: http://localhost:${port}/health)`);
			resolve({
				port,
				url: `ws://localhost:${port}`,
				stats: () => ({ ...counters, topics: topics.size, bufferedBytes: measure() }),
				close: () =>
					new Promise((done) => {
						for (const release of [...closing.values()]) release();
						for (const c of wss.clients) c.terminate();
						wss.close();
						server.close(() => done());
					})
			});
		});
	});
}
