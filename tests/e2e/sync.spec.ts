import { chromium, expect, test, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confirmCounterparty } from './binding';
import { closeBrowsers, person, setUp } from './people';

test.afterEach(closeBrowsers);

// Two separate Chromium browsers on one machine (people.ts), the app and our signaling server on loopback.

async function propose(page: Page, title: string): Promise<string> {
	await page.goto('/#/new');
	await page.getByLabel('Title', { exact: true }).first().fill(title);
	await page.getByLabel('Scope of work').fill('Design and build the site.');
	await page.locator('#m0-title').fill('Design');
	await page.locator('#m0-amount').fill('1,200.00');
	await page.getByRole('button', { name: 'Propose contract' }).click();
	await expect(page.getByTestId('contract-status')).toHaveText('proposed');
	return page.getByTestId('share-link').inputValue();
}

async function send(page: Page, text: string): Promise<void> {
	await page.getByRole('textbox', { name: 'Message' }).fill(text);
	await page.getByRole('button', { name: 'Send message' }).click();
	await expect(page.getByTestId('messages')).toContainText(text);
}

test('a stranger holding the link accepts too: the proposer confirms the person it meant, and only they become a party', async ({ baseURL }) => {
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	const mallory = await person('mallory', baseURL!);
	await ada.goto('/');
	await setUp(ada, 'Ada');
	const link = await propose(ada, 'Logo design');
	for (const [page, name] of [[mallory, 'Mallory'], [grace, 'Grace']] as const) {
		await page.goto(link);
		await setUp(page, name);
		await page.getByRole('button', { name: 'Accept contract' }).click({ timeout: 15_000 });
		await expect(page.getByTestId('accepted-waiting')).toBeVisible();
	}
	// Ada sees both acceptances, each with its fingerprint, and confirms the one she invited.
	await expect(ada.getByTestId('acceptance')).toHaveCount(2, { timeout: 15_000 });
	const graceFingerprint = (await grace.getByTestId('accepted-waiting').locator('.digits').textContent())!;
	await expect(ada.getByTestId('acceptance').filter({ hasText: 'Grace' })).toContainText(graceFingerprint, { timeout: 15_000 });
	await confirmCounterparty(ada, 'Grace');
	for (const p of [ada, grace, mallory]) {
		await expect(p.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });
		await expect(p.getByTestId('party-freelancer')).toContainText('Grace');
	}
	// Mallory is no party: nothing to fund, submit or release on her screen.
	await expect(mallory.getByRole('button', { name: /Request Payment|Fund milestone|Release Payment/ })).toHaveCount(0);
});

test('a link invites the counterparty; both sides work offline and converge', async ({ baseURL }) => {
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await ada.goto('/');
	await setUp(ada, 'Ada');
	await ada.goto('/#/settings');
	const adaFingerprint = await ada.getByTestId('my-fingerprint').textContent();
	const link = await propose(ada, 'Marketing site');
	// The proposer's relay rides along (percent-encoded), after the secret.
	expect(link).toMatch(/#\/join\/[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+\?relay=ws%3A%2F%2Flocalhost%3A4447$/);

	await grace.goto(link);
	await setUp(grace, 'Grace');
	// The join link is swapped for the contract's plain route: the secret is not left in history.
	await expect(grace).toHaveURL(/#\/c\/[A-Za-z0-9_-]+$/);
	await expect(grace.getByTestId('contract-title')).toHaveText('Marketing site', { timeout: 15_000 });
	await expect(grace.getByTestId('proposer-fingerprint')).toHaveText(adaFingerprint!);
	await grace.getByRole('button', { name: 'Accept contract' }).click();
	await confirmCounterparty(ada, 'Grace');
	for (const p of [ada, grace]) {
		await expect(p.getByTestId('contract-status')).toHaveText('active', { timeout: 10_000 });
		await expect(p.getByTestId('party-client')).toContainText('Ada');
		await expect(p.getByTestId('party-freelancer')).toContainText('Grace');
		// WebRTC may connect a little after the relay has already brought both sides together.
		await expect(p.getByTestId('sync-status')).toHaveText(/Connected/, { timeout: 15_000 });
	}
	await send(ada, 'Welcome aboard!');
	await expect(grace.getByTestId('messages')).toContainText('Welcome aboard!');

	// Grace goes offline (her app drops its peers; the network is blocked too) and both keep working.
	await grace.evaluate(() => navigator.serviceWorker.ready);
	await grace.context().setOffline(true);
	await expect(grace.getByTestId('sync-status')).toHaveText('Offline');
	await send(ada, 'Sent while you were away');
	await send(grace, 'Written offline');
	await expect(grace.getByTestId('messages')).not.toContainText('Sent while you were away');
	await expect(ada.getByTestId('messages')).not.toContainText('Written offline');

	// A reload with no network still opens the contract from this device's storage.
	await grace.reload();
	await expect(grace.getByTestId('contract-title')).toHaveText('Marketing site');
	await expect(grace.getByTestId('messages')).toContainText('Written offline');

	await grace.context().setOffline(false);
	for (const p of [ada, grace]) {
		await expect(p.getByTestId('messages')).toContainText('Sent while you were away', { timeout: 15_000 });
		await expect(p.getByTestId('messages')).toContainText('Written offline', { timeout: 15_000 });
	}
	const order = async (p: Page) => p.getByTestId('messages').locator('li p').allTextContents();
	expect(await order(ada)).toEqual(await order(grace));
	expect(await order(ada)).toHaveLength(3);

	// Pause sync is a visible control that really stops the flow.
	await grace.getByRole('button', { name: 'Pause sync' }).click();
	await expect(grace.getByTestId('sync-status')).toHaveText('Sync paused');
	await send(ada, 'During the pause');
	await expect(grace.getByTestId('messages')).not.toContainText('During the pause');
	await grace.getByRole('button', { name: 'Resume sync' }).click();
	await expect(grace.getByTestId('messages')).toContainText('During the pause', { timeout: 15_000 });
});

test('a contract well over 256 KiB syncs to a new device (chunked data channel)', async ({ baseURL }) => {
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await ada.goto('/');
	await setUp(ada, 'Ada');
	const link = await propose(ada, 'Big contract');
	const long = 'x'.repeat(9_900);
	for (let i = 0; i < 40; i++) await send(ada, `${i} ${long}`);
	const docBytes = await ada.evaluate(() => {
		let n = 0;
		for (const el of document.querySelectorAll('[data-testid="messages"] li p')) n += (el.textContent ?? '').length;
		return n;
	});
	expect(docBytes).toBeGreaterThan(300 * 1024);
	await grace.goto(link);
	await setUp(grace, 'Grace');
	await expect(grace.getByTestId('messages').locator('li')).toHaveCount(40, { timeout: 30_000 });
	// What the first sync brought is stored on this device a moment after it is shown (not on the
	// way, peers.ts): offline, a reload a second later still opens all of it.
	await grace.evaluate(() => navigator.serviceWorker.ready);
	await grace.waitForTimeout(1000);
	await grace.context().setOffline(true);
	await grace.reload();
	await expect(grace.getByTestId('messages').locator('li')).toHaveCount(40, { timeout: 15_000 });
});

test('the app is installable and a damaged link says so', async ({ baseURL }) => {
	// Installability needs a real profile: Chromium refuses to install from an incognito context.
	const profile = mkdtempSync(join(tmpdir(), 'milestone-profile-'));
	const context = await chromium.launchPersistentContext(profile, { ...test.info().project.use.launchOptions, baseURL });
	const page = context.pages()[0] ?? (await context.newPage());
	await page.goto('/');
	await setUp(page, 'Ada');
	await page.evaluate(() => navigator.serviceWorker.ready);
	const cdp = await page.context().newCDPSession(page);
	const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
	expect(installabilityErrors).toEqual([]);
	const manifest = await (await page.request.get('/manifest.webmanifest')).json();
	expect(manifest).toMatchObject({ name: expect.stringContaining('Milestone'), start_url: './', display: 'standalone' });
	expect(manifest.icons.map((i: { sizes: string }) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));

	await page.goto('/#/join/short/x');
	await expect(page.getByRole('heading', { name: 'This link is incomplete or damaged' })).toBeVisible();
	await page.goto('/#/');
	await expect(page.getByText('No contracts on this device yet.')).toBeVisible();
	await context.close();
	rmSync(profile, { recursive: true, force: true });
});

test('when this browser cannot store anything, the app says so instead of waiting forever', async ({ page }) => {
	// IndexedDB that never answers, as in some private modes or with a blocked upgrade.
	await page.addInitScript(() => {
		Object.defineProperty(window, 'indexedDB', { value: { open: () => ({}) } });
	});
	await page.goto('/');
	await expect(page.getByRole('heading', { name: 'Storage unavailable' })).toBeVisible({ timeout: 10_000 });
	await expect(page.getByRole('alert')).toContainText('cannot be used');
});

test('two tabs of one browser on one contract stay consistent', async ({ browser, baseURL }) => {
	const context = await browser.newContext({ baseURL });
	// No relay: what the tabs exchange goes over the browser's channel between them alone.
	await context.addInitScript(() => localStorage.setItem('milestone.relays', JSON.stringify({ relays: [] })));
	const first = await context.newPage();
	await first.goto('/');
	await setUp(first, 'Ada');
	await propose(first, 'Two tabs');
	const second = await context.newPage();
	await second.goto(first.url());
	await expect(second.getByTestId('contract-title')).toHaveText('Two tabs');
	await send(first, 'Written in the first tab');
	await expect(second.getByTestId('messages')).toContainText('Written in the first tab', { timeout: 10_000 });
	await send(second, 'Written in the second tab');
	await expect(first.getByTestId('messages')).toContainText('Written in the second tab', { timeout: 10_000 });
	// A tab that was paused tells the others what it wrote meanwhile when it is back (room-connect.ts).
	await first.getByRole('button', { name: 'Pause sync' }).click();
	await expect(first.getByTestId('sync-status')).toHaveText('Sync paused');
	await send(first, 'Written while paused');
	await expect(second.getByTestId('messages')).not.toContainText('Written while paused');
	await first.getByRole('button', { name: 'Resume sync' }).click();
	await expect(second.getByTestId('messages')).toContainText('Written while paused', { timeout: 10_000 });
	await context.close();
});
