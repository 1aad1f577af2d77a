/**
 * Bundles the Durable Object build of the relay (worker.ts) into one ES module for workerd:
 * what wrangler deploys and what miniflare runs in tests/relay. Same esbuild settings as the
 * escrow function's bundle (scripts/build-edge.ts).
 *   node --import tsx src/relay/bundle.ts   → dist-edge/relay-worker.js
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The bundle as text, or written to `outfile` (then its path). */
export async function bundleRelayWorker(outfile?: string): Promise<string> {
	const result = await build({
		entryPoints: [`${here}worker.ts`],
		bundle: true,
		format: 'esm',
		platform: 'neutral',
		target: 'es2022',
		conditions: ['workerd', 'worker', 'browser', 'import'],
		mainFields: ['module', 'main'],
		write: Boolean(outfile),
		outfile,
		logLevel: 'silent'
	});
	return outfile ? outfile : result.outputFiles![0]!.text;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
	console.log(await bundleRelayWorker(fileURLToPath(new URL('../../dist-edge/relay-worker.js', import.meta.url))));
}
