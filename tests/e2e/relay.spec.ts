import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveRelayKeys } from '../../src/lib/sync/relay-client';
import { confirmCounterparty } from './binding';

// Sync later: the client and the freelancer are NEVER open at the same time (each closes its browser
// before the other opens), so nothing can pass over WebRTC: everything goes through the relay. Each
// person is a persistent browser profile, so closing and reopening keeps its device and contracts.

const profiles: string[] = [];
test.afterAll(() => {
	for (const p of profiles.splice(0)) rmSync(p, { recursive: true, force: true });
});

/** One person's browser, opened for a while and then closed; the profile (IndexedDB) stays. */
class Person {
	readonly profile = mkdtempSync(join(tmpdir(), 'milestone-relay-'));
	context?: BrowserContext;

	constructor(
		readonly name: string,
		private readonly baseURL: string,
		/** This device's relays in Settings (stored before the app loads), instead of the build's default. */
		private readonly relays?: string[]
	) {
		profiles.push(this.profile);
	}

	async open(): Promise<Page> {
		this.context = await chromium.launchPersistentContext(this.profile, { ...test.info().project.use.launchOptions, baseURL: this.baseURL });
		if (this.relays) {
			const relays = this.relays;
			await this.context.addInitScript((r) => localStorage.setItem('milestone.relays', JSON.stringify({ relays: r })), relays);
		}
		const page = this.context.pages()[0] ?? (await this.context.newPage());
		page.on('pageerror', (e) => console.error(`[${this.name}] page error:`, e.message));
		return page;
	}

	async close(): Promise<void> {
		await this.context?.close();
		this.context = undefined;
	}
}

async function setUp(page: Page, name: string): Promise<void> {
	await page.getByLabel('Your name, as the other party will see it').fill(name);
	await page.getByRole('button', { name: 'Create my key' }).click();
	await expect(page.getByLabel('Your name, as the other party will see it')).toBeHidden();
}

/** Wait until the relay acknowledged everything this device wrote: only then may it close. */
async function allSaved(page: Page): Promise<void> {
	await expect(page.getByTestId('relay-saved')).toHaveText('All saved to relay', { timeout: 20_000 });
}

async function send(page: Page, text: string): Promise<void> {
	await page.getByRole('textbox', { name: 'Message' }).fill(text);
	await page.getByRole('button', { name: 'Send message' }).click();
	await expect(page.getByTestId('messages')).toContainText(text);
}

/** A relay this spec starts, kills and starts again over the same data (the app's webServer relay cannot be). */
class OwnRelay {
	readonly dir = mkdtempSync(join(tmpdir(), 'milestone-relay-data-'));
	private child?: ChildProcess;
	constructor(readonly port: number) {}
	get url(): string {
		return `ws://localhost:${this.port}`;
	}
	async start(): Promise<void> {
		this.child = spawn(process.execPath, ['--import', 'tsx', 'src/relay/main.ts', '--port', String(this.port), '--data', this.dir], { stdio: 'ignore' });
		const until = Date.now() + 15_000;
		for (;;) {
			try {
				if ((await fetch(`http://127.0.0.1:${this.port}/health`)).ok) return;
			} catch {
				// not listening yet
			}
			if (Date.now() > until) throw new Error('the relay did not start');
			await new Promise((r) => setTimeout(r, 100));
		}
	}
	/** A hard kill, as a crash would: whatever it acknowledged must still be there after start(). */
	async kill(): Promise<void> {
		const child = this.child;
		if (!child || child.exitCode !== null) return;
		const exited = new Promise((r) => child.once('exit', r));
		child.kill('SIGKILL');
		await exited;
		this.child = undefined;
	}
	dispose(): void {
		void this.kill();
		rmSync(this.dir, { recursive: true, force: true });
	}
}

/** Every byte under a relay's data folder: the SQLite database, its WAL and anything else. */
function storedBytes(dir: string): Buffer {
	const files: string[] = [];
	const walk = (d: string) => {
		for (const n of readdirSync(d)) {
			const p = join(d, n);
			if (statSync(p).isDirectory()) walk(p);
			else files.push(p);
		}
	};
	walk(dir);
	return Buffer.concat(files.map((f) => readFileSync(f)));
}

/** The relay holds this contract's room, and none of its plaintext nor the link secret. */
function expectOnlyCiphertext(dir: string, secret: string, plaintext: string[]): void {
	const bytes = storedBytes(dir);
	expect(bytes.includes(Buffer.from(deriveRelayKeys(secret).room)), 'the relay stored the contract’s room').toBe(true);
	for (const text of [...plaintext, secret]) expect(bytes.includes(Buffer.from(text)), `the relay's files contain “${text}”`).toBe(false);
}

const secretOf = (link: string) => /#\/join\/[^/]+\/([A-Za-z0-9_-]+)/.exec(link)![1]!;

interface Story {
	title: string;
	client: string;
	freelancer: string;
	message: string;
}

const story = (): Story => {
	const tag = randomBytes(4).toString('hex');
	return {
		title: `Harbour Bakery rebrand ${tag}`,
		client: `Adelheid Quarrington ${tag}`,
		freelancer: `Grace Okonkwo ${tag}`,
		message: `The deposit is in escrow, welcome aboard ${tag}`
	};
};

/** The client proposes and closes. Returns the share link and the contract's address. */
async function clientProposes(ada: Person, s: Story): Promise<{ link: string; contractUrl: string }> {
	const page = await ada.open();
	await page.goto('/');
	await setUp(page, s.client);
	await page.goto('/#/new');
	await page.getByLabel('Title', { exact: true }).first().fill(s.title);
	await page.getByLabel('Scope of work').fill('A new logo, signage and packaging.');
	await page.locator('#m0-title').fill('Logo');
	await page.locator('#m0-amount').fill('500.00');
	await page.getByRole('button', { name: 'Propose contract' }).click();
	await expect(page.getByTestId('contract-status')).toHaveText('proposed');
	const link = await page.getByTestId('share-link').inputValue();
	const contractUrl = page.url();
	await allSaved(page);
	await ada.close();
	return { link, contractUrl };
}

/** The freelancer opens the link (nobody else is online), accepts and closes. */
async function freelancerAccepts(grace: Person, link: string, s: Story, beforeContract?: (page: Page) => Promise<void>): Promise<string> {
	const page = await grace.open();
	await page.goto(link);
	await setUp(page, s.freelancer);
	await beforeContract?.(page);
	await expect(page.getByTestId('contract-title')).toHaveText(s.title, { timeout: 30_000 });
	await expect(page.getByTestId('party-client')).toContainText(s.client);
	await page.getByRole('button', { name: 'Accept contract' }).click();
	await expect(page.getByTestId('accepted-waiting')).toBeVisible();
	await allSaved(page);
	const contractUrl = page.url();
	await grace.close();
	return contractUrl;
}

/** The freelancer opens once more and sees all of it: bound, funded, and the message. */
async function freelancerSeesAll(grace: Person, contractUrl: string, s: Story): Promise<void> {
	const page = await grace.open();
	await page.goto(contractUrl);
	await expect(page.getByTestId('contract-status')).toHaveText('active', { timeout: 30_000 });
	await expect(page.getByTestId('party-client')).toContainText(s.client);
	await expect(page.getByTestId('party-freelancer')).toContainText(s.freelancer);
	await expect(page.getByTestId('status-m1')).toHaveText('Funded · in progress');
	await expect(page.getByTestId('messages')).toContainText(s.message);
	await expect(page.getByTestId('waiting-earlier')).toHaveCount(0);
	await expect(page.getByTestId('sync-status')).not.toHaveText(/Connected/);
	await grace.close();
}

async function fundMilestone(page: Page): Promise<void> {
	const card = page.getByTestId('milestone-m1');
	await card.getByRole('button', { name: 'Fund milestone' }).click();
	await card.getByRole('button', { name: /^Fund / }).click();
	await expect(page.getByTestId('status-m1')).toHaveText('Funded · in progress');
}

test('two people who are never online together converge through the relay, which holds only ciphertext', async ({ baseURL }) => {
	test.setTimeout(180_000);
	const s = story();
	// The build's default relay: the one the e2e server runs (VITE_RELAY_URL=ws://localhost:4447).
	const ada = new Person('ada', baseURL!);
	const grace = new Person('grace', baseURL!);

	const { link, contractUrl } = await clientProposes(ada, s);
	expect(link).toContain('?relay=ws%3A%2F%2Flocalhost%3A4447');
	const graceUrl = await freelancerAccepts(grace, link, s);

	// The client opens later: the acceptance is there; it confirms the freelancer, funds, writes, closes.
	const page = await ada.open();
	await page.goto(contractUrl);
	await confirmCounterparty(page, s.freelancer);
	await fundMilestone(page);
	await send(page, s.message);
	await allSaved(page);
	await expect(page.getByTestId('relay-reach')).toContainText('relay reachable');
	await ada.close();

	await freelancerSeesAll(grace, graceUrl, s);
	expectOnlyCiphertext('data/relay-e2e', secretOf(link), [s.title, s.client, s.freelancer, s.message]);
});

test('the same with the relay killed and restarted in the middle; writes wait in a queue that survives a reload', async ({ baseURL }) => {
	test.setTimeout(240_000);
	const relay = new OwnRelay(4448);
	await relay.start();
	try {
		const s = story();
		const ada = new Person('ada', baseURL!, [relay.url]);
		const grace = new Person('grace', baseURL!, [relay.url]);
		const { link, contractUrl } = await clientProposes(ada, s);
		expect(link).toContain(`?relay=${encodeURIComponent(relay.url)}`);

		// The relay dies before the freelancer opens the link: the contract arrives once it is back.
		await relay.kill();
		const graceUrl = await freelancerAccepts(grace, link, s, async (page) => {
			await expect(page.getByText('Looking for the contract')).toBeVisible();
			await relay.start();
		});

		// The client confirms and funds; the relay dies; the message waits in the queue, across a reload.
		const page = await ada.open();
		await page.goto(contractUrl);
		await confirmCounterparty(page, s.freelancer);
		await fundMilestone(page);
		await allSaved(page);
		await relay.kill();
		await expect(page.getByTestId('relay-reach')).toHaveText('relay unreachable', { timeout: 15_000 });
		await send(page, s.message);
		await expect(page.getByTestId('relay-saved')).toHaveText('1 event waiting to upload');
		await page.reload();
		await expect(page.getByTestId('messages')).toContainText(s.message);
		await expect(page.getByTestId('relay-saved')).toHaveText('1 event waiting to upload');
		await relay.start();
		await allSaved(page);
		await ada.close();

		await freelancerSeesAll(grace, graceUrl, s);
		expectOnlyCiphertext(relay.dir, secretOf(link), [s.title, s.client, s.freelancer, s.message]);
	} finally {
		relay.dispose();
	}
});
