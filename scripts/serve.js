#!/usr/bin/env node
// Serves the static build on localhost: the app is a static SPA, so any file server would do;
// this one has no dependencies and falls back to index.html like the hosting we target.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { startSignaling } from '../src/signaling/server.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const port = Number(flag('port', process.env.PORT ?? 4173));
const host = flag('host', '127.0.0.1');
const root = resolve(flag('dir', 'build'));
const signalingPort = Number(flag('signaling-port', process.env.SIGNALING_PORT ?? 4444));
const relayPort = Number(flag('relay-port', process.env.RELAY_PORT ?? 4446));
const relayData = flag('relay-data', process.env.RELAY_DATA ?? 'data/relay');

const TYPES = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.json': 'application/json',
	'.webmanifest': 'application/manifest+json',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.ico': 'image/x-icon',
	'.txt': 'text/plain; charset=utf-8',
	'.woff2': 'font/woff2'
};

async function file(path) {
	try {
		const s = await stat(path);
		return s.isFile() ? path : null;
	} catch {
		return null;
	}
}

const server = createServer(async (req, res) => {
	const url = new URL(req.url ?? '/', 'http://localhost');
	const safe = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
	const candidate = join(root, safe);
	const path = (candidate.startsWith(root) && ((await file(candidate)) ?? (await file(join(candidate, 'index.html'))))) || join(root, 'index.html');
	try {
		const body = await readFile(path);
		const immutable = path.includes(`${join('_app', 'immutable')}`);
		res.writeHead(200, {
			'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
			'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
			'x-content-type-options': 'nosniff',
			'referrer-policy': 'no-referrer'
		});
		res.end(body);
	} catch {
		res.writeHead(500, { 'content-type': 'text/plain' });
		res.end('The app has not been built: run npm run build.');
	}
});

// The app finds peers through our own signaling server, started beside it (never a public one).
await startSignaling({ port: signalingPort, host, log: console.log });
// The relay keeps each contract's encrypted events for devices that are never online together (src/relay/).
const { startRelay } = await tsImport('../src/relay/node.ts', import.meta.url);
// Web Push as in src/relay/main.ts: `--push-subject mailto:…` names the operator, `--no-push` turns it off.
const push = args.includes('--no-push') ? false : { subject: flag('push-subject', process.env.RELAY_PUSH_SUBJECT ?? '') || undefined };
await startRelay({ port: relayPort, host, dataDir: relayData, push, log: console.log });
server.listen(port, host, () => {
	console.log(`Milestone is served at http://${host === '127.0.0.1' ? 'localhost' : host}:${port}/ (mock escrow, TEST MODE)`);
});
