/**
 * Bundles the escrow edge function into one ES module per runtime: `worker` for Cloudflare
 * Workers / workerd (what miniflare runs in the tests; it also exports the Durable Object classes
 * `ContractRecordObject` and `AccountsObject` that wrangler.toml binds) and `deno` for Deno /
 * Supabase Edge Functions (a single file with no bare imports left, so no import map is needed
 * there; it has no store).
 * Uses esbuild, which the toolchain already ships (vite, tsx).
 *   node --import tsx scripts/build-edge.ts            → dist-edge/worker.js, dist-edge/deno.js
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export type EdgeTarget = 'worker' | 'deno';

/** The bundle as text (write: false), or written to `outfile`. */
export async function bundleEdge(target: EdgeTarget, outfile?: string): Promise<string> {
	const result = await build({
		entryPoints: [`${root}src/edge/${target}.ts`],
		bundle: true,
		format: 'esm',
		platform: 'neutral',
		target: 'es2022',
		// The `stripe` package picks its fetch/SubtleCrypto build under these conditions.
		conditions: target === 'worker' ? ['workerd', 'worker', 'browser', 'import'] : ['deno', 'worker', 'browser', 'import'],
		mainFields: ['module', 'main'],
		write: Boolean(outfile),
		outfile,
		logLevel: 'silent'
	});
	return outfile ? outfile : result.outputFiles![0]!.text;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
	for (const t of ['worker', 'deno'] as const) console.log(await bundleEdge(t, `${root}dist-edge/${t}.js`));
}
