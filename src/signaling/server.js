/**
 * Self-hostable signaling server speaking the y-webrtc protocol: clients `subscribe` / `unsubscribe`
 * to topics (room names) and `publish` messages that are relayed to every other subscriber, with
 * `ping`/`pong` keep-alives. It sees only room names derived from link secrets and encrypted
 * signaling payloads: it cannot tell which contract a room is, nor read what passes through it.
 *
 * Limits keep one client from exhausting it: message size, topics per connection, connections per
 * IP, and messages per second. `GET /health` answers with JSON counters.
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';

/** @typedef {{ maxMessageBytes: number, maxTopicsPerConnection: number, maxConnectionsPerIp: number, maxMessagesPerSecond: number, pingIntervalMs: number }} Limits */

/** @type {Limits} */
export const DEFAULT_LIMITS = {
	maxMessageBytes: 64 * 1024,
	maxTopicsPerConnection: 64,
	maxConnectionsPerIp: 50,
	maxMessagesPerSecond: 200,
	pingIntervalMs: 30_000
};

/**
 * @param {{ port?: number, host?: string, limits?: Partial<Limits>, log?: (msg: string) => void }} [opts]
 * @returns {Promise<{ port: number, url: string, close: () => Promise<void>, stats: () => object }>}
 */
export function startSignaling(opts = {}) {
	const limits = { ...DEFAULT_LIMITS, ...opts.limits };
	const log = opts.log ?? (() => {});
	/** @type {Map<string, Set<import('ws').WebSocket>>} */
	const topics = new Map();
	/** @type {Map<string, number>} */
	const perIp = new Map();
	const counters = { connections: 0, messages: 0, refused: 0 };

	const server = http.createServer((req, res) => {
		if (req.url === '/health') {
			res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
			res.end(JSON.stringify({ ok: true, connections: counters.connections, topics: topics.size, messages: counters.messages, refused: counters.refused }));
			return;
		}
		res.writeHead(404, { 'content-type': 'text/plain' });
		res.end('Milestone signaling server: connect with a WebSocket.');
	});
	const wss = new WebSocketServer({ server, maxPayload: limits.maxMessageBytes });
	// Listen errors (a port in use) surface through the http server and reject the start below.
	wss.on('error', () => {});

	wss.on('connection', (conn, req) => {
		const ip = req.socket.remoteAddress ?? 'unknown';
		const count = (perIp.get(ip) ?? 0) + 1;
		if (count > limits.maxConnectionsPerIp) {
			counters.refused++;
			conn.close(1008, 'too many connections from this address');
			return;
		}
		perIp.set(ip, count);
		counters.connections++;
		/** @type {Set<string>} */
		const subscribed = new Set();
		let alive = true;
		let windowStart = Date.now();
		let inWindow = 0;
		const ping = setInterval(() => {
			if (!alive) return conn.terminate();
			alive = false;
			conn.ping();
		}, limits.pingIntervalMs);
		conn.on('pong', () => (alive = true));
		// Oversized frames and protocol errors close the socket; count them, never crash the server.
		conn.on('error', () => counters.refused++);

		/** @param {object} message */
		const send = (message) => {
			if (conn.readyState === conn.OPEN) conn.send(JSON.stringify(message));
		};

		conn.on('message', (data) => {
			const now = Date.now();
			if (now - windowStart >= 1000) {
				windowStart = now;
				inWindow = 0;
			}
			if (++inWindow > limits.maxMessagesPerSecond) {
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
					for (const peer of subs) if (peer !== conn && peer.readyState === peer.OPEN) peer.send(out);
					break;
				}
				case 'ping':
					send({ type: 'pong' });
					break;
			}
		});

		conn.on('close', () => {
			clearInterval(ping);
			for (const topic of subscribed) {
				const subs = topics.get(topic);
				subs?.delete(conn);
				if (subs?.size === 0) topics.delete(topic);
			}
			const left = (perIp.get(ip) ?? 1) - 1;
			if (left <= 0) perIp.delete(ip);
			else perIp.set(ip, left);
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
				stats: () => ({ ...counters, topics: topics.size }),
				close: () =>
					new Promise((done) => {
						for (const c of wss.clients) c.terminate();
						wss.close();
						server.close(() => done());
					})
			});
		});
	});
}
