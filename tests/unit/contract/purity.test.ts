import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// money and contract are plain synchronous TypeScript: no Svelte, no Yjs, no DOM, no network.
const FORBIDDEN = [/from '(svelte|yjs|y-webrtc|y-indexeddb)/, /\b(window|document|localStorage|indexedDB|navigator)\.|\bfetch\(|new (XMLHttpRequest|WebSocket|Worker)\b/, /\bawait\b|\basync\b/];

describe.each(['contract', 'money'])('src/lib/%s stays pure', (folder) => {
	const dir = fileURLToPath(new URL(`../../../src/lib/${folder}/`, import.meta.url));
	const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
	it.each(files)('%s imports and uses no UI, sync, DOM or network, and nothing async', (file) => {
		const code = readFileSync(dir + file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
		for (const pattern of FORBIDDEN) expect(code, `${file} matches ${pattern}`).not.toMatch(pattern);
		for (const m of code.matchAll(/from '([^']+)'/g)) expect(m[1]!.startsWith('.') || m[1] === 'zod', `${file} imports ${m[1]}`).toBe(true);
	});
});
