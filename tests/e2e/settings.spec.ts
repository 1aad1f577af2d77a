import { expect, test, type Browser, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fingerprint } from '../../src/lib/identity/fingerprint';
import { audit } from './axe';

const noAxeViolations = (page: Page, name: string) => audit(page, name, { heading: false, settleMs: 100, screenshot: false });

// Key backup across two devices: two fresh browser contexts (separate storage) in the system Chromium.
async function device(browser: Browser, baseURL: string, name: string): Promise<Page> {
	const context = await browser.newContext({ baseURL, acceptDownloads: true });
	const page = await context.newPage();
	page.on('pageerror', (e) => console.error(`[${name}] page error:`, e.message));
	await page.goto('/');
	await page.getByLabel('Your name, as the other party will see it').fill(name);
	await page.getByRole('button', { name: 'Create my key' }).click();
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
	await expect(page.getByTestId('my-fingerprint')).toHaveText(/^\d{5}( \d{5}){5}$/);
	return page;
}

test('a key backup moves a device key to another device with its contracts, only with the right passphrase', async ({ browser, baseURL }) => {
	const dir = mkdtempSync(join(tmpdir(), 'milestone-backup-'));
	try {
		const ada = await device(browser, baseURL!, 'Ada');
		const adaPrint = (await ada.getByTestId('my-fingerprint').textContent())!;
		// A contract before the backup: the backup carries its link, and the restored browser opens it.
		await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New contract' }).click();
		await ada.locator('#title').fill('Logo design');
		await ada.locator('#m0-title').fill('Sketches');
		await ada.locator('#m0-amount').fill('300');
		await ada.getByRole('button', { name: 'Propose contract' }).click();
		await expect(ada.getByTestId('contract-status')).toHaveText('proposed');
		await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
		await expect(ada.getByTestId('backup-contracts-note')).toContainText('links to your 1 contract on this device');

		// Field errors first: too short, then a mismatch.
		await expect(ada.getByText('lose access to your contracts')).toBeVisible();
		await ada.getByLabel(/^Backup passphrase/).fill('short');
		await ada.getByRole('button', { name: 'Export backup' }).click();
		await expect(ada.getByLabel(/^Backup passphrase/)).toHaveAccessibleDescription(/Choose a passphrase of at least 8 characters/);
		await ada.getByLabel(/^Backup passphrase/).fill('correct horse battery');
		await ada.getByLabel('Repeat the passphrase').fill('correct horse battery!');
		await ada.getByRole('button', { name: 'Export backup' }).click();
		await expect(ada.getByLabel('Repeat the passphrase')).toHaveAccessibleDescription(/passphrases differ/);

		await ada.getByLabel('Repeat the passphrase').fill('correct horse battery');
		const downloading = ada.waitForEvent('download');
		await ada.getByRole('button', { name: 'Export backup' }).click();
		const download = await downloading;
		expect(download.suggestedFilename()).toMatch(/^milestone-key-\d{5}-\d{5}\.json$/);
		const file = join(dir, download.suggestedFilename());
		await download.saveAs(file);
		const text = await ada.getByLabel(/^Backup text/).inputValue();
		expect(JSON.parse(text)).toMatchObject({ kind: 'milestone-key-backup', v: 2 });
		expect(text).not.toContain('Logo design');
		expect(readFileSync(file, 'utf8')).toBe(text);
		await noAxeViolations(ada, 'settings-exported');

		const grace = await device(browser, baseURL!, 'Grace');
		const gracePrint = (await grace.getByTestId('my-fingerprint').textContent())!;
		expect(gracePrint).not.toBe(adaPrint);

		// A wrong passphrase: the error is on the passphrase field and nothing changes.
		await grace.getByLabel('Backup file').setInputFiles(file);
		await expect(grace.getByLabel('Or paste the backup text')).toHaveValue(text);
		await grace.getByLabel('Passphrase of the backup').fill('wrong horse battery');
		await grace.getByRole('button', { name: 'Open backup' }).click();
		await expect(grace.getByLabel('Passphrase of the backup')).toHaveAccessibleDescription('The passphrase is wrong, or the backup was changed.', { timeout: 15_000 });
		await expect(grace.getByRole('button', { name: "Replace this device's key" })).toHaveCount(0);
		await noAxeViolations(grace, 'settings-import-error');
		await expect(grace.getByTestId('my-fingerprint')).toHaveText(gracePrint);

		// The right one (pasted this time): a confirmation, then the key is Ada's and the name stays Grace.
		await grace.getByLabel('Or paste the backup text').fill(text);
		await grace.getByLabel('Passphrase of the backup').fill('correct horse battery');
		await grace.getByRole('button', { name: 'Open backup' }).click();
		const confirm = grace.getByRole('alertdialog', { name: "Replace this device's key?" });
		await expect(confirm).toContainText('contracts signed with the old key will show you as a stranger', { timeout: 15_000 });
		await expect(confirm.getByTestId('backup-fingerprint')).toHaveText(adaPrint);
		await expect(confirm.getByTestId('backup-contracts')).toHaveText('1 contract');
		await expect(confirm).toBeFocused();
		// Cancel is harmless and gives the focus back; the keyboard alone then confirms.
		await confirm.getByRole('button', { name: 'Cancel' }).click();
		await expect(confirm).toHaveCount(0);
		await expect(grace.getByRole('button', { name: 'Open backup' })).toBeFocused();
		await grace.keyboard.press('Enter');
		await expect(confirm).toBeFocused({ timeout: 15_000 });
		await expect(grace.getByTestId('my-fingerprint')).toHaveText(gracePrint);
		await noAxeViolations(grace, 'settings-import-confirm');
		await confirm.getByRole('button', { name: "Replace this device's key" }).click();
		await expect(grace.getByRole('status').filter({ hasText: 'now uses the key from the backup' })).toContainText('1 contract from the backup added to Contracts');
		// The backup restores Ada's identity: this device gets a new key of its own, certified by it.
		await expect(grace.getByTestId('identity-fingerprint')).toHaveText(adaPrint);
		await expect(grace.getByTestId('my-fingerprint')).not.toHaveText(adaPrint);
		await expect(grace.getByTestId('my-fingerprint')).not.toHaveText(gracePrint);
		await expect(grace.getByLabel('Display name')).toHaveValue('Grace');
		// The backup's contract is listed again, and opens: its document syncs from the relay and Ada's browser.
		await grace.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contracts' }).click();
		await grace.getByRole('link', { name: 'Logo design' }).click();
		await expect(grace.getByTestId('contract-status')).toHaveText('proposed', { timeout: 15_000 });
		await ada.context().close();
		await grace.context().close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('the escrow provider: mock by default, a Stripe function that cannot be reached changes nothing', async ({ browser, baseURL }) => {
	const page = await device(browser, baseURL!, 'Ada');
	await expect(page.getByTestId('current-provider')).toContainText('Mock escrow (TEST MODE)');
	const mockPrint = (await page.getByTestId('provider-fingerprint').textContent())!;
	expect(mockPrint).toMatch(/^\d{5}( \d{5}){5}$/);

	await page.getByRole('radio', { name: /Stripe Connect/ }).check();
	await page.getByLabel('Escrow function URL').fill('http://escrow.example.org');
	await page.getByLabel('Stripe publishable key').fill('sk_test_1234567890');
	await page.getByRole('button', { name: 'Save escrow provider' }).click();
	await expect(page.getByLabel('Escrow function URL')).toHaveAccessibleDescription(/http:\/\/ only on localhost.*http:\/\/ only on localhost/);
	await expect(page.getByLabel('Stripe publishable key')).toHaveAccessibleDescription(/pk_test_ or pk_live_.*pk_test_ or pk_live_/);
	await noAxeViolations(page, 'settings-stripe-errors');

	// Nothing listens on this port: the error says so, and the mock stays the provider.
	await page.getByLabel('Escrow function URL').fill('http://localhost:9');
	await page.getByLabel('Stripe publishable key').fill('pk_test_1234567890');
	await page.getByRole('button', { name: 'Save escrow provider' }).click();
	await expect(page.getByRole('alert')).toContainText('Nothing was changed. The escrow function could not be reached');
	await expect(page.getByTestId('current-provider')).toContainText('Mock escrow (TEST MODE)');

	// The New contract page names the provider the terms will fix, with its fingerprint.
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New contract' }).click();
	await expect(page.getByTestId('new-provider')).toContainText('Mock escrow (TEST MODE)');
	await expect(page.getByTestId('new-provider-fingerprint')).toHaveText(mockPrint);
	await page.context().close();
});

test('a Stripe escrow function: its key fingerprint and onboarding status; new contracts name it', async ({ browser, baseURL }) => {
	const page = await device(browser, baseURL!, 'Ada');
	// A stand-in for the deployed function: only the two read-only endpoints Settings and New contract use.
	const functionKey = randomBytes(32).toString('base64url');
	const cors = { 'access-control-allow-origin': '*', 'content-type': 'application/json' };
	await page.context().route('http://localhost:8787/**', async (route) => {
		const url = new URL(route.request().url());
		if (url.pathname === '/.well-known/escrow-key')
			return route.fulfill({ headers: cors, body: JSON.stringify({ id: 'stripe', name: 'Stripe Connect escrow (TEST MODE)', publicKey: functionKey, testMode: true }) });
		if (url.pathname === '/onboarding/status')
			return route.fulfill({ headers: cors, body: JSON.stringify({ account: null, detailsSubmitted: false, payoutsEnabled: false, transfers: 'none' }) });
		return route.fulfill({ status: 404, headers: cors, body: JSON.stringify({ code: 'invalid-request', message: 'No such endpoint' }) });
	});

	await page.getByRole('radio', { name: /Stripe Connect/ }).check();
	await page.getByLabel('Escrow function URL').fill('http://localhost:8787/');
	// A live key against a TEST MODE function is refused, and nothing changes.
	await page.getByLabel('Stripe publishable key').fill('pk_live_1234567890');
	await page.getByRole('button', { name: 'Save escrow provider' }).click();
	await expect(page.getByRole('alert')).toContainText('Nothing was changed. The function runs in Stripe TEST MODE');
	await expect(page.getByTestId('current-provider')).toContainText('Mock escrow (TEST MODE)');

	await page.getByLabel('Stripe publishable key').fill('pk_test_1234567890');
	await page.getByRole('button', { name: 'Save escrow provider' }).click();
	await expect(page.getByTestId('current-provider')).toContainText('Stripe Connect escrow (TEST MODE)');
	await expect(page.getByTestId('provider-fingerprint')).toHaveText(fingerprint(functionKey));
	await expect(page.getByTestId('onboarding-status')).toContainText('Not started');
	await noAxeViolations(page, 'settings-stripe');

	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New contract' }).click();
	await expect(page.getByTestId('new-provider')).toContainText('Stripe Connect escrow (TEST MODE)');
	await expect(page.getByTestId('new-provider-fingerprint')).toHaveText(fingerprint(functionKey));
	await page.locator('#title').fill('Website');
	await page.locator('#m0-title').fill('Design');
	await page.locator('#m0-amount').fill('1,200');
	await page.getByRole('button', { name: 'Propose contract' }).click();
	await expect(page.getByTestId('contract-status')).toHaveText('proposed');

	// Back to the mock for new contracts: this contract keeps its provider, and its page still opens.
	const contractUrl = page.url();
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
	await page.getByRole('radio', { name: /^Mock/ }).check();
	await page.getByRole('button', { name: 'Save escrow provider' }).click();
	await expect(page.getByTestId('current-provider')).toContainText('Mock escrow (TEST MODE)');
	await page.goto(contractUrl);
	await expect(page.getByTestId('contract-status')).toHaveText('proposed');
	await page.context().close();
});

test('a new display name is saved and kept across a reload', async ({ browser, baseURL }) => {
	const page = await device(browser, baseURL!, 'Ada');
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
	await page.getByLabel('Display name').fill('Ada Lovelace');
	await page.getByRole('button', { name: 'Save settings' }).click();
	await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
	await page.reload();
	await expect(page.getByLabel('Display name')).toHaveValue('Ada Lovelace');
});

test('the TEST MODE clock is the contract’s: both parties see the same advanced date; it never goes back, and resets only before the provider signed on it', async ({ browser, baseURL }) => {
	test.setTimeout(120_000);
	const ada = await device(browser, baseURL!, 'Ada');
	const grace = await device(browser, baseURL!, 'Grace');
	await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New contract' }).click();
	await ada.locator('#title').fill('Website');
	await ada.locator('#m0-title').fill('Design');
	await ada.locator('#m0-amount').fill('1,200');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	const link = await ada.getByTestId('share-link').inputValue();
	await grace.goto(link);
	await grace.getByRole('button', { name: 'Accept contract' }).click({ timeout: 15_000 });
	await ada.getByRole('button', { name: 'Confirm Grace as the freelancer' }).click({ timeout: 15_000 });
	await ada.getByRole('button', { name: 'Yes, confirm Grace' }).click();
	for (const p of [ada, grace]) await expect(p.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });

	const clock = (p: Page) => p.getByRole('complementary', { name: 'Test mode' });
	const today = (await clock(ada).getByTestId('test-clock-date').textContent())!;
	await expect(clock(grace).getByTestId('test-clock-date')).toHaveText(today);
	await expect(clock(ada).getByTestId('test-clock-offset')).toContainText('today');

	// Never backwards: −5 days is refused next to the field, and nothing moves.
	await clock(ada).getByLabel('Days to advance').fill('-5');
	await clock(ada).getByRole('button', { name: 'Advance test clock' }).click();
	await expect(clock(ada).getByLabel('Days to advance')).toHaveAccessibleDescription(/whole number of days from 1 to 365/);
	await expect(clock(ada).getByTestId('test-clock-date')).toHaveText(today);

	// 15 days forward on Ada's side: Grace's provider date moves with it.
	await clock(ada).getByLabel('Days to advance').fill('15');
	await clock(ada).getByRole('button', { name: 'Advance test clock' }).click();
	await expect(clock(ada).getByTestId('test-clock-offset')).toContainText('15 days ahead of today, for both parties');
	const ahead = (await clock(ada).getByTestId('test-clock-date').textContent())!;
	expect(ahead).not.toBe(today);
	await expect(clock(grace).getByTestId('test-clock-date')).toHaveText(ahead, { timeout: 15_000 });
	await expect(clock(grace).getByTestId('test-clock-offset')).toContainText('15 days ahead');
	await noAxeViolations(grace, 'contract-test-clock');

	// Nothing was signed on the advanced clock yet: Grace resets it, for both.
	await clock(grace).getByRole('button', { name: 'Reset test clock to today' }).click();
	for (const p of [ada, grace]) await expect(clock(p).getByTestId('test-clock-date')).toHaveText(today, { timeout: 15_000 });

	// Forward again, and the provider signs a funding on that clock: from then on a reset is refused.
	await clock(ada).getByLabel('Days to advance').fill('15');
	await clock(ada).getByRole('button', { name: 'Advance test clock' }).click();
	await expect(clock(ada).getByTestId('test-clock-date')).toHaveText(ahead);
	await ada.getByTestId('milestone-m1').getByRole('button', { name: 'Fund milestone' }).click();
	await ada.getByTestId('milestone-m1').getByRole('button', { name: /^Fund / }).click();
	await expect(ada.getByTestId('status-m1')).toHaveText('Funded · in progress');
	for (const p of [ada, grace]) {
		await expect(clock(p).getByTestId('test-clock-reset-refused')).toContainText('start a new TEST MODE contract', { timeout: 15_000 });
		await expect(clock(p).getByRole('button', { name: 'Reset test clock to today' })).toHaveCount(0);
		await expect(clock(p).getByTestId('test-clock-date')).toHaveText(ahead);
	}
	await ada.context().close();
	await grace.context().close();
});
