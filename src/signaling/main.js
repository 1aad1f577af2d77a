#!/usr/bin/env node
// Run the signaling server on its own: `node src/signaling/main.js --port 4444 --host 0.0.0.0`.
import { startSignaling } from './server.js';

const args = process.argv.slice(2);
/** @param {string} name @param {string} fallback */
const flag = (name, fallback) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
await startSignaling({ port: Number(flag('port', process.env.SIGNALING_PORT ?? '4444')), host: flag('host', '127.0.0.1'), log: console.log });
