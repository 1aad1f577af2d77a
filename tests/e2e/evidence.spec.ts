import { readFileSync, writeFileSync } from 'node:fs';
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { activeContract } from './contract-steps';
import { closeBrowsers, person } from './people';

test.afterEach(closeBrowsers);

// The evidence file: exported from the contract page, opened in a fresh browser with the network
// off, it verifies every event; the same file with one byte of a message changed names that event
// and says why it fails.
const HOSTILE = 'Fine by me </script><script>alert("owned")</script><img src=x onerror=alert(1)>';

async function openOffline(browser: Browser, file: string): Promise<{ page: Page; requests: string[]; dialogs: string[] }> {
	const context = await browser.newContext();
	await context.setOffline(true);
	const requests: string[] = [];
	await context.route(/^(https?|wss?):/, (route) => {
		requests.push(route.request().url());
		return route.abort();
	});
	const page = await context.newPage();
	const dialogs: string[] = [];
	page.on('dialog', (d) => {
		dialogs.push(d.message());
		void d.dismiss();
	});
	await page.goto(`file://${file}`);
	await expect(page.locator('#verify-status')).not.toHaveAttribute('data-state', 'pending', { timeout: 20_000 });
	return { page, requests, dialogs };
}

test('the exported evidence file verifies offline, and one changed byte of a message fails that event', async ({ baseURL }, info) => {
	test.setTimeout(120_000);
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await activeContract(ada, grace, { title: 'Logo design', milestones: [{ title: 'Logo', amount: '400' }] });

	await ada.getByRole('textbox', { name: 'Message' }).fill('Please use the blue from our website.');
	await ada.getByRole('button', { name: 'Send message' }).click();
	await expect(grace.getByTestId('messages')).toContainText('Please use the blue', { timeout: 15_000 });
	await grace.getByRole('textbox', { name: 'Message' }).fill(HOSTILE);
	await grace.getByRole('button', { name: 'Send message' }).click();
	await expect(ada.getByTestId('messages')).toContainText('Fine by me', { timeout: 15_000 });
	const events = Number((await ada.getByTestId('event-count').textContent())!.match(/^(\d+)/)![1]);

	const [download] = await Promise.all([ada.waitForEvent('download'), ada.getByRole('button', { name: 'Export evidence', exact: true }).click()]);
	expect(download.suggestedFilename()).toMatch(/^milestone-evidence-logo-design-\d{4}-\d{2}-\d{2}\.html$/);
	const file = info.outputPath('evidence.html');
	await download.saveAs(file);

	// "Report this contract" says whom to report to (no company reads reports) and exports the same file.
	await ada.getByText('Report this contract').click();
	await expect(ada.getByText('A scam or fraud attempt: your country\'s fraud reporting service or the police.')).toBeVisible();
	await expect(ada.getByText('no real money has moved')).toBeVisible();
	const [report] = await Promise.all([ada.waitForEvent('download'), ada.getByRole('button', { name: 'Export evidence for the report' }).click()]);
	expect(report.suggestedFilename()).toBe(download.suggestedFilename());

	// A browser of its own, network off: everything it needs is in the file.
	const reader = await chromium.launch(info.project.use.launchOptions ?? {});
	try {
		const good = await openOffline(reader, file);
		await expect(good.page.locator('#verify-status')).toHaveAttribute('data-state', 'verified');
		await expect(good.page.locator('#verify-status')).toContainText(/^\d+ events, all signatures and hash chains verified: client key \d{5}/);
		await expect(good.page.locator('#verify-status')).toContainText('escrow provider key');
		const verified = await good.page.locator('#events > li[data-status=verified]').count();
		expect(verified).toBeGreaterThanOrEqual(events);
		await expect(good.page.locator('#events > li[data-status=failed]')).toHaveCount(0);
		// The hostile message is shown as the text it is, and nothing in it ran.
		await expect(good.page.getByText(HOSTILE, { exact: true })).toBeVisible();
		await expect(good.page.locator('img')).toHaveCount(0);
		expect(good.dialogs).toEqual([]);
		expect(good.requests).toEqual([]);

		// One byte of Ada's message, in the signed data, changed.
		const html = readFileSync(file, 'utf8');
		/** The file with the three letters at `at` ("use" of "use the blue") changed to "usE", saved as `name`. */
		const changed = (at: number, name: string) => {
			const path = info.outputPath(name);
			writeFileSync(path, html.slice(0, at) + 'usE' + html.slice(at + 3));
			return path;
		};
		const data = html.indexOf('<script type="application/json"');
		const at = html.indexOf('use the blue', data);
		expect(at).toBeGreaterThan(data);
		const tampered = changed(at, 'evidence-tampered.html');

		const bad = await openOffline(reader, tampered);
		await expect(bad.page.locator('#verify-status')).toHaveAttribute('data-state', 'failed');
		await expect(bad.page.locator('#verify-status')).toContainText('1 FAILED verification');
		const failed = bad.page.locator('#events > li[data-status=failed]');
		await expect(failed).toHaveCount(1);
		await expect(failed).toContainText('message.posted');
		await expect(failed).toContainText('changed after it was signed');
		await expect(bad.page.locator('#verify-failed')).toContainText('message.posted');
		await expect(bad.page.locator('#verify-failed')).toContainText('the SHA-256 of the body no longer matches the event id');
		// The message in the readable part is marked as failing too.
		await expect(bad.page.locator('[data-event][data-status=failed]')).toContainText('Please use the blue');
		expect(bad.requests).toEqual([]);

		// The signed data intact, the readable text of the message changed: caught as well.
		const shown = html.indexOf('use the blue');
		expect(shown).toBeLessThan(data);
		const edited = changed(shown, 'evidence-edited.html');
		const text = await openOffline(reader, edited);
		await expect(text.page.locator('#verify-status')).toHaveAttribute('data-state', 'failed');
		await expect(text.page.locator('#verify-status')).toContainText('differs from what was signed');
		await expect(text.page.locator('[data-event][data-status=failed]')).toContainText('the text shown here is not the text that was signed');
		await expect(text.page.locator('#events > li[data-status=failed]')).toHaveCount(0);
	} finally {
		await reader.close();
	}
});
