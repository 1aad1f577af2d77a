import { expect, test, type Page } from '@playwright/test';
import { audit } from './axe';
import { confirmCounterparty } from './binding';

// Every page, in both colour schemes, with zero axe-core violations; a screenshot of each is kept
// under test-results/screenshots for a person to look at.
async function nav(page: Page, link: string) {
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
}

test('every page passes axe-core in light and dark', async ({ browser, baseURL }) => {
	test.setTimeout(180_000);
	const ada = await (await browser.newContext({ baseURL })).newPage();
	const grace = await (await browser.newContext({ baseURL })).newPage();
	await ada.goto('/');
	await audit(ada, 'welcome');
	await ada.getByLabel('Your name, as the other party will see it').fill('Ada');
	await ada.getByRole('button', { name: 'Create my key' }).click();
	await expect(ada.getByRole('heading', { name: 'Contracts' })).toBeVisible();
	await audit(ada, 'contracts-empty');

	await nav(ada, 'New contract');
	await ada.locator('#title').fill('Website');
	await ada.locator('#m0-title').fill('Design');
	await ada.locator('#m0-amount').fill('12x');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	await expect(ada.locator('#m0-amount-error')).toBeVisible();
	await audit(ada, 'new-contract-with-errors');
	await ada.locator('#m0-amount').fill('1,200');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	const link = await ada.getByTestId('share-link').inputValue();
	await audit(ada, 'contract-proposed');

	await grace.goto(link);
	await grace.getByLabel('Your name, as the other party will see it').fill('Grace');
	await grace.getByRole('button', { name: 'Create my key' }).click();
	await expect(grace.getByRole('button', { name: 'Accept contract' })).toBeVisible({ timeout: 15_000 });
	await audit(grace, 'contract-invitation');
	await grace.getByRole('button', { name: 'Accept contract' }).click();
	await expect(grace.getByTestId('accepted-waiting')).toBeVisible();
	await expect(ada.getByRole('button', { name: 'Confirm Grace as the freelancer' })).toBeVisible({ timeout: 15_000 });
	await audit(ada, 'contract-who-accepted');
	await confirmCounterparty(ada, 'Grace');
	await expect(ada.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });
	await ada.getByTestId('milestone-m1').getByRole('button', { name: 'Fund milestone' }).click();
	await ada.getByTestId('milestone-m1').getByRole('button', { name: /^Fund / }).click();
	await expect(ada.getByTestId('status-m1')).toHaveText('Funded · in progress');
	await ada.getByRole('textbox', { name: 'Message' }).fill('Welcome!');
	await ada.getByRole('button', { name: 'Send message' }).click();
	// Scam warnings: the sender's hint as they type, then the receiver's warning next to the message.
	await ada.getByRole('textbox', { name: 'Message' }).fill('Please pay me by wire transfer instead.');
	await expect(ada.getByTestId('scam-hint')).toBeVisible();
	await audit(ada, 'contract-active');
	await ada.getByRole('button', { name: 'Send message' }).click();
	await expect(grace.getByTestId('messages').getByTestId('scam-warning')).toBeVisible({ timeout: 15_000 });
	await audit(grace, 'scam-warning');
	// Verify: the codes, a refused code with its reason, and the badge once verified.
	await grace.getByText('Verify with a QR code or a verification code instead').click();
	await grace.getByRole('button', { name: 'Check their code' }).click();
	await expect(grace.locator('#their-verify-code-error')).toBeVisible();
	await audit(grace, 'verify-code-error');
	await ada.getByRole('button', { name: 'Mark as verified' }).click();
	await expect(ada.getByTestId('party-freelancer').getByTestId('verified-badge')).toBeVisible();
	await audit(ada, 'contract-verified');
	await ada.getByTestId('milestone-m1').getByRole('button', { name: 'Release Payment' }).click();
	await ada.getByTestId('milestone-m1').getByRole('button', { name: 'Release everything' }).click();
	await audit(ada, 'release-confirmation');
	await ada.getByTestId('release-confirmation').getByRole('button', { name: 'Release Payment' }).click();
	await expect(ada.getByTestId('status-m1')).toHaveText('Released');

	await nav(ada, 'Contracts');
	await expect(ada.getByTestId('contract-row')).toBeVisible();
	await audit(ada, 'contracts');
	await nav(grace, 'Payments');
	await expect(grace.getByTestId('balance-USD')).toBeVisible({ timeout: 15_000 });
	await audit(grace, 'payments');
	// The Resolution Center with no dispute; tests/e2e/dispute.spec.ts audits it with an open one.
	await nav(grace, 'Resolution Center');
	await expect(grace.getByTestId('no-open-disputes')).toBeVisible({ timeout: 15_000 });
	await audit(grace, 'resolution-center-empty');
	await nav(grace, 'Inbox');
	await audit(grace, 'inbox');
	await nav(ada, 'Settings');
	await audit(ada, 'settings');
	await ada.goto('/#/join/short/x');
	await expect(ada.getByRole('heading', { name: 'This link is incomplete or damaged' })).toBeVisible();
	await audit(ada, 'damaged-link');
	await ada.goto('/#/demo');
	await expect(ada.getByTestId('contract-status')).toHaveText('active', { timeout: 20_000 });
	await audit(ada, 'demo');
});

test('phone width: no horizontal scrolling on the contract page', async ({ browser, baseURL }) => {
	const page = await (await browser.newContext({ baseURL, viewport: { width: 375, height: 740 } })).newPage();
	await page.goto('/');
	await page.getByLabel('Your name, as the other party will see it').fill('Ada');
	await page.getByRole('button', { name: 'Create my key' }).click();
	await nav(page, 'New contract');
	await page.locator('#title').fill('Phone contract');
	await page.locator('#m0-title').fill('Design');
	await page.locator('#m0-amount').fill('100');
	await page.getByRole('button', { name: 'Propose contract' }).click();
	await expect(page.getByTestId('share-link')).toBeVisible();
	await page.screenshot({ path: 'test-results/screenshots/contract-phone.png', fullPage: true });
	expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
});
