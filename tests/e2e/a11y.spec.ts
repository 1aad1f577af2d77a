import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { confirmCounterparty } from './binding';

// Every page, in both colour schemes, with zero axe-core violations; a screenshot of each is kept
// under test-results/screenshots for a person to look at.
const SCHEMES = ['light', 'dark'] as const;

async function audit(page: Page, name: string, scheme: string) {
	await page.emulateMedia({ colorScheme: scheme as 'light' | 'dark' });
	// Every page has its heading once it has rendered: audit what a person sees, not a page still loading.
	await expect(page.locator('h1').first()).toBeVisible();
	await page.waitForTimeout(150);
	const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
	await page.screenshot({ path: `test-results/screenshots/${name}-${scheme}.png`, fullPage: true });
	expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), `${name} (${scheme})`).toEqual([]);
}

async function nav(page: Page, link: string) {
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
}

test('every page passes axe-core in light and dark', async ({ browser, baseURL }) => {
	test.setTimeout(180_000);
	const ada = await (await browser.newContext({ baseURL })).newPage();
	const grace = await (await browser.newContext({ baseURL })).newPage();
	await ada.goto('/');
	for (const scheme of SCHEMES) await audit(ada, 'welcome', scheme);
	await ada.getByLabel('Your name, as the other party will see it').fill('Ada');
	await ada.getByRole('button', { name: 'Create my key' }).click();
	await expect(ada.getByRole('heading', { name: 'Contracts' })).toBeVisible();
	for (const scheme of SCHEMES) await audit(ada, 'contracts-empty', scheme);

	await nav(ada, 'New contract');
	await ada.locator('#title').fill('Website');
	await ada.locator('#m0-title').fill('Design');
	await ada.locator('#m0-amount').fill('12x');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	await expect(ada.locator('#m0-amount-error')).toBeVisible();
	for (const scheme of SCHEMES) await audit(ada, 'new-contract-with-errors', scheme);
	await ada.locator('#m0-amount').fill('1,200');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	const link = await ada.getByTestId('share-link').inputValue();
	for (const scheme of SCHEMES) await audit(ada, 'contract-proposed', scheme);

	await grace.goto(link);
	await grace.getByLabel('Your name, as the other party will see it').fill('Grace');
	await grace.getByRole('button', { name: 'Create my key' }).click();
	await expect(grace.getByRole('button', { name: 'Accept contract' })).toBeVisible({ timeout: 15_000 });
	for (const scheme of SCHEMES) await audit(grace, 'contract-invitation', scheme);
	await grace.getByRole('button', { name: 'Accept contract' }).click();
	await expect(grace.getByTestId('accepted-waiting')).toBeVisible();
	await expect(ada.getByRole('button', { name: 'Confirm Grace as the freelancer' })).toBeVisible({ timeout: 15_000 });
	for (const scheme of SCHEMES) await audit(ada, 'contract-who-accepted', scheme);
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
	for (const scheme of SCHEMES) await audit(ada, 'contract-active', scheme);
	await ada.getByRole('button', { name: 'Send message' }).click();
	await expect(grace.getByTestId('messages').getByTestId('scam-warning')).toBeVisible({ timeout: 15_000 });
	for (const scheme of SCHEMES) await audit(grace, 'scam-warning', scheme);
	// Verify: the codes, a refused code with its reason, and the badge once verified.
	await grace.getByText('Verify with a QR code or a verification code instead').click();
	await grace.getByRole('button', { name: 'Check their code' }).click();
	await expect(grace.locator('#their-verify-code-error')).toBeVisible();
	for (const scheme of SCHEMES) await audit(grace, 'verify-code-error', scheme);
	await ada.getByRole('button', { name: 'Mark as verified' }).click();
	await expect(ada.getByTestId('party-freelancer').getByTestId('verified-badge')).toBeVisible();
	for (const scheme of SCHEMES) await audit(ada, 'contract-verified', scheme);
	await ada.getByTestId('milestone-m1').getByRole('button', { name: 'Release Payment' }).click();
	await ada.getByTestId('milestone-m1').getByRole('button', { name: 'Release everything' }).click();
	for (const scheme of SCHEMES) await audit(ada, 'release-confirmation', scheme);
	await ada.getByTestId('release-confirmation').getByRole('button', { name: 'Release Payment' }).click();
	await expect(ada.getByTestId('status-m1')).toHaveText('Released');

	await nav(ada, 'Contracts');
	await expect(ada.getByTestId('contract-row')).toBeVisible();
	for (const scheme of SCHEMES) await audit(ada, 'contracts', scheme);
	await nav(grace, 'Payments');
	await expect(grace.getByTestId('balance-USD')).toBeVisible({ timeout: 15_000 });
	for (const scheme of SCHEMES) await audit(grace, 'payments', scheme);
	// The Resolution Center with no dispute; tests/e2e/dispute.spec.ts audits it with an open one.
	await nav(grace, 'Resolution Center');
	await expect(grace.getByTestId('no-open-disputes')).toBeVisible({ timeout: 15_000 });
	for (const scheme of SCHEMES) await audit(grace, 'resolution-center-empty', scheme);
	await nav(grace, 'Inbox');
	for (const scheme of SCHEMES) await audit(grace, 'inbox', scheme);
	await nav(ada, 'Settings');
	for (const scheme of SCHEMES) await audit(ada, 'settings', scheme);
	await ada.goto('/#/join/short/x');
	await expect(ada.getByRole('heading', { name: 'This link is incomplete or damaged' })).toBeVisible();
	for (const scheme of SCHEMES) await audit(ada, 'damaged-link', scheme);
	await ada.goto('/#/demo');
	await expect(ada.getByTestId('contract-status')).toHaveText('active', { timeout: 20_000 });
	for (const scheme of SCHEMES) await audit(ada, 'demo', scheme);
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
