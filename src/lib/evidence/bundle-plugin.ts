/**
 * Build step for the evidence file's verifier: `import code from 'virtual:evidence-verifier'` gives
 * page.ts and everything it imports (the app's envelope, signature, hash-chain and fold code) as one
 * minified IIFE string, which export.ts inlines into the HTML. A nested Vite build, so the verifier is
 * the same source as the app, bundled by the app's own toolchain; it works under `vite build`, the dev
 * server and vitest alike.
 */
import { fileURLToPath } from 'node:url';
import { build, type Plugin, type Rollup } from 'vite';

const ID = 'virtual:evidence-verifier';
const RESOLVED = '\0' + ID;
const ENTRY = fileURLToPath(new URL('./page.ts', import.meta.url));

export function evidenceVerifier(): Plugin {
	let cached: Promise<string> | undefined;
	return {
		name: 'evidence-verifier',
		resolveId: (source) => (source === ID ? RESOLVED : undefined),
		async load(id) {
			if (id !== RESOLVED) return;
			cached ??= bundle();
			return `export default ${JSON.stringify(await cached)};`;
		},
		// The dev server rebuilds it when its sources change.
		handleHotUpdate() {
			cached = undefined;
		}
	};
}

async function bundle(): Promise<string> {
	const out = await build({
		configFile: false,
		logLevel: 'warn',
		publicDir: false,
		build: {
			write: false,
			minify: true,
			target: 'es2020',
			emptyOutDir: false,
			lib: { entry: ENTRY, formats: ['iife'], name: 'milestoneEvidence', fileName: () => 'verifier.js' }
		}
	});
	const outputs = (Array.isArray(out) ? out : [out]) as Rollup.RollupOutput[];
	const chunk = outputs.flatMap((o) => o.output).find((o): o is Rollup.OutputChunk => o.type === 'chunk');
	if (!chunk) throw new Error('The evidence verifier did not build.');
	// Inline in a <script>: a literal "</script" inside the code would end the element early.
	return chunk.code.replace(/<\/(script)/gi, '<\\/$1');
}
