#!/usr/bin/env node
// Run the signaling server on its own: `node src/signaling/main.js --port 4444 --host 0.0.0.0`.
// Behind a reverse proxy that sets X-Forwarded-For, add `--trust-proxy-header x-forwarded-for` so the
// per-IP limits count the client's address (never set it when clients can reach the server directly).
// `--max-buffered-bytes-per-socket N` and `--max-buffered-bytes-total N` change the send-buffer caps.
import { startSignaling } from './server.js';

const args = process.argv.slice(2);
/** @param {string} name @param {string} fallback */
const flag = (name, fallback) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
/** @type {{ maxBufferedBytesPerSocket?: number, maxBufferedBytesTotal?: number }} */
const limits = {};
const perSocket = flag('max-buffered-bytes-per-socket', '');
if (perSocket) limits.maxBufferedBytesPerSocket = Number(perSocket);
const total = flag('max-buffered-bytes-total', '');
if (total) limits.maxBufferedBytesTotal = Number(total);
await startSignaling({
	port: Number(flag('port', process.env.SIGNALING_PORT ?? '4444')),
	host: flag('host', '127.0.0.1'),
	trustProxy: flag('trust-proxy-header', '') || undefined,
	limits,
	log: console.log
});
