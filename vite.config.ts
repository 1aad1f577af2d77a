import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';
import { evidenceVerifier } from './src/lib/evidence/bundle-plugin.js';

export default defineConfig({
	plugins: [sveltekit(), evidenceVerifier()],
	test: {
		include: ['tests/unit/**/*.test.ts', 'tests/sim/**/*.test.ts', 'tests/edge/**/*.test.ts', 'tests/relay/**/*.test.ts'],
		environment: 'node',
		testTimeout: 30_000
	}
});
