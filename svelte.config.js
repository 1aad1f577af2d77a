import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
	preprocess: vitePreprocess(),
	kit: {
		// A single-page app: every route lives in the URL fragment, so secrets in share links never reach a server log.
		adapter: adapter({ fallback: 'index.html' }),
		router: { type: 'hash' }
	}
};
