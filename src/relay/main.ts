#!/usr/bin/env node
// Run the relay on its own: `node --import tsx src/relay/main.ts --port 4446 --data ./data/relay`.
// Behind a reverse proxy that sets X-Forwarded-For add `--trust-proxy-header x-forwarded-for`
// (never when clients can reach the relay directly). `--synchronous normal` trades power-cut
// durability for speed (see node.ts); `--limits '{"maxItemsPerRoom":1000}'` overrides limits.
import { DEFAULT_DATA_DIR, startRelay } from './node';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const relay = await startRelay({
	port: Number(flag('port', process.env.RELAY_PORT ?? '4446')),
	host: flag('host', '127.0.0.1'),
	dataDir: flag('data', process.env.RELAY_DATA ?? DEFAULT_DATA_DIR),
	trustProxy: flag('trust-proxy-header', '') || undefined,
	synchronous: flag('synchronous', 'full').toUpperCase() === 'NORMAL' ? 'NORMAL' : 'FULL',
	limits: JSON.parse(flag('limits', '{}')),
	// Web Push (push.ts): `--push-subject mailto:…` names the operator to push services; `--no-push` turns it off.
	push: args.includes('--no-push') ? false : { subject: flag('push-subject', process.env.RELAY_PUSH_SUBJECT ?? '') || undefined },
	log: console.log
});
const stop = () => relay.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
