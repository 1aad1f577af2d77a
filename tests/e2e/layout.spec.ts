import { expect, test, type Page } from '@playwright/test';
import { confirmCounterparty } from './binding';

// Phone width (375 px): Payments and Settings never scroll sideways, with their fullest content —
// long contract and milestone titles, both roles' figures, the balance chart, the withdrawal form
// with its errors, the Stripe fields and an exported key backup.
const PHONE = { width: 375, height: 740 };

async function nav(page: Page, link: string) {
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
}

/** The page's scroll width, and what sticks out past the viewport when it is too wide (for the failure message). */
async function expectNoSidewaysScroll(page: Page, what: string) {
	const { width, wide } = await page.evaluate(() => {
		const vw = document.documentElement.clientWidth;
		const wide = [...document.querySelectorAll('body *')]
			.filter((e) => e.getBoundingClientRect().right > vw + 0.5)
			.slice(0, 8)
			.map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''} → ${Math.round(e.getBoundingClientRect().right)}px`);
		return { width: document.scrollingElement!.scrollWidth, wide };
	});
	await page.screenshot({ path: `test-results/screenshots/${what}-phone.png`, fullPage: true });
	expect.soft(width, `${what} is ${width}px wide: ${wide.join(', ')}`).toBeLessThanOrEqual(PHONE.width);
}

test('Payments and Settings fit a 375 px wide phone', async ({ browser, baseURL }) => {
	test.setTimeout(240_000);
	const ada = await (await browser.newContext({ baseURL, viewport: PHONE, acceptDownloads: true })).newPage();
	const grace = await (await browser.newContext({ baseURL, viewport: PHONE })).newPage();
	for (const p of [ada, grace]) p.on('pageerror', (e) => console.error(e.message));

	await ada.goto('/');
	await ada.getByLabel('Your name, as the other party will see it').fill('Ada');
	await ada.getByRole('button', { name: 'Create my key' }).click();
	await nav(ada, 'New contract');
	await ada.locator('#title').fill('Complete redesign of the cooperative-bakery-association.example.org website and its multilingual ordering system');
	await ada.locator('#m0-title').fill('Discovery, wireframes, interactive prototypes and usability testing with customers');
	await ada.locator('#m0-amount').fill('12,345.67');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	const link = await ada.getByTestId('share-link').inputValue();

	await grace.goto(link);
	await grace.getByLabel('Your name, as the other party will see it').fill('Grace');
	await grace.getByRole('button', { name: 'Create my key' }).click();
	await grace.getByRole('button', { name: 'Accept contract' }).click();
	await confirmCounterparty(ada, 'Grace');

	const m1 = ada.getByTestId('milestone-m1');
	await m1.getByRole('button', { name: 'Fund milestone' }).click();
	await m1.getByRole('button', { name: /^Fund / }).click();
	await expect(ada.getByTestId('status-m1')).toHaveText('Funded · in progress');
	await m1.getByRole('button', { name: 'Release Payment' }).click();
	await m1.getByLabel(/^Amount to release/).fill('10,000');
	await m1.getByRole('button', { name: 'Review release' }).click();
	await ada.getByTestId('release-confirmation').getByRole('button', { name: 'Release Payment' }).click();
	await expect(ada.getByTestId('status-m1')).not.toHaveText('Funded · in progress');

	// The client's Payments: its figures and releases.
	await nav(ada, 'Payments');
	await expect(ada.getByTestId('client-releases')).toBeVisible({ timeout: 15_000 });
	await expectNoSidewaysScroll(ada, 'payments-client');

	// The freelancer's Payments: pending, then available with the withdrawal form showing its errors.
	await expect(grace.getByTestId('status-m1')).not.toHaveText('Funded · in progress', { timeout: 15_000 });
	await nav(grace, 'Payments');
	await expect(grace.getByTestId('pending-lots')).toBeVisible();
	await expect(grace.getByTestId('nothing-to-withdraw')).toHaveText(/^Nothing is available to withdraw yet\. \$10,000\.00 becomes available on \d+\/\d+\/\d{4}\.$/);
	await expectNoSidewaysScroll(grace, 'payments-pending');
	await nav(grace, 'Settings');
	await grace.getByLabel('Days to advance').fill('6');
	await grace.getByRole('button', { name: 'Advance test clock' }).click();
	await nav(grace, 'Payments');
	await expect(grace.getByTestId('available-USD')).toHaveText('$10,000.00');
	await grace.getByRole('button', { name: 'Withdraw' }).click();
	await expect(grace.locator('#wd-amount-error')).toBeVisible();
	await grace.getByText('Show the balance as a table').click();
	await expectNoSidewaysScroll(grace, 'payments-freelancer');

	// Settings with the Stripe fields open and an exported backup.
	await nav(ada, 'Settings');
	await expectNoSidewaysScroll(ada, 'settings');
	await ada.getByRole('radio', { name: /^Stripe Connect/ }).check();
	await expect(ada.getByLabel('Escrow function URL')).toBeVisible();
	await ada.getByLabel(/^Backup passphrase/).fill('correct horse battery');
	await ada.getByLabel('Repeat the passphrase').fill('correct horse battery');
	await ada.getByRole('button', { name: 'Export backup' }).click();
	await expect(ada.getByLabel(/^Backup text/)).toBeVisible();
	await expectNoSidewaysScroll(ada, 'settings-full');
});
