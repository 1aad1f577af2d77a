import { defineConfig } from '@playwright/test';

const port = Number(process.env.E2E_PORT ?? 4319);

export default defineConfig({
	testDir: 'tests/e2e',
	timeout: 60_000,
	fullyParallel: false,
	workers: 1,
	// Two real browsers over loopback WebRTC on a busy 2-core machine: one retry in CI, none locally.
	retries: process.env.CI ? 1 : 0,
	reporter: process.env.CI ? 'list' : [['list']],
	outputDir: 'test-results',
	use: {
		baseURL: `http://localhost:${port}`,
		// The system Chromium, never a downloaded browser (there is no network for that here).
		launchOptions: {
			executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync'
			]
		}
	},
	webServer: {
		command: `node scripts/serve.js --port ${port} --signaling-port 4445 --relay-port 4447 --relay-data data/relay-e2e`,
		url: `http://localhost:${port}/`,
		reuseExistingServer: false,
		timeout: 30_000
	}
});
