import { expect, test, type Page } from '@playwright/test';

// New contract: every field error at once, next to its field, in words; percentages are an input aid
// that must add up to 100%; and the person accepting sees every term, revision caps included.

async function setUp(page: Page, name: string) {
	await page.getByLabel('Your name, as the other party will see it').fill(name);
	await page.getByRole('button', { name: 'Create my key' }).click();
	await expect(page.getByLabel('Your name, as the other party will see it')).toBeHidden();
}

async function newContract(page: Page) {
	await page.goto('/');
	await setUp(page, 'Ada');
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New contract' }).click();
	await expect(page.getByTestId('new-provider')).toBeVisible();
}

const propose = (page: Page) => page.getByRole('button', { name: 'Propose contract' }).click();

test('an empty form shows every field error at once, next to each field, in words', async ({ page }) => {
	await newContract(page);
	await page.getByRole('button', { name: 'Add a milestone' }).click();
	await page.locator('#review').fill('');
	await page.locator('#m1-revisions').fill('1.5');
	await propose(page);

	const expected: [field: string, message: string][] = [
		['#title', 'Title is required.'],
		['#review', 'Review window is required.'],
		['#m0-title', 'Milestone 1 title is required.'],
		['#m0-amount', 'Enter an amount.'],
		['#m1-title', 'Milestone 2 title is required.'],
		['#m1-amount', 'Enter an amount.'],
		['#m1-revisions', 'Milestone 2 revisions included must be a whole number.']
	];
	for (const [field, message] of expected) {
		// The sentence is the field's own description (what a screen reader reads with it), shown right under it.
		await expect(page.locator(field)).toHaveAttribute('aria-invalid', 'true');
		await expect(page.locator(field)).toHaveAccessibleDescription(new RegExp(message.replace(/[.]/g, '\\.')));
		await expect(page.locator(`${field} ~ .field-error`).first()).toHaveText(message);
	}
	await expect(page.getByTestId('error-summary')).toHaveText('7 fields need attention: see the message under each.');
	await expect(page.locator('#title')).toBeFocused();
	await expect(page.locator('form')).not.toContainText(/expected|Too small|>=|received/);
	// Nothing was proposed.
	await expect(page).toHaveURL(/#\/new$/);
});

test('percentages of a total must add up to exactly 100%, and only the amounts they give are shown as signed', async ({ page }) => {
	await newContract(page);
	await page.locator('#title').fill('Website');
	await page.locator('#total').fill('1,000');
	await page.getByRole('button', { name: 'Add a milestone' }).click();
	await page.locator('#m0-title').fill('Design');
	await page.locator('#m0-amount').fill('40%');
	await page.locator('#m1-title').fill('Build');
	await page.locator('#m1-amount').fill('70%');
	await expect(page.getByTestId('derived-total')).toContainText('Contract total: —');
	await propose(page);

	const refusal = 'The percentages add up to 110%; they must add up to exactly 100%.';
	await expect(page.locator('#total-error')).toHaveText(refusal);
	for (const field of ['#total', '#m0-amount', '#m1-amount']) await expect(page.locator(field)).toHaveAccessibleDescription(refusal);
	await expect(page).toHaveURL(/#\/new$/);

	await page.locator('#m1-amount').fill('60%');
	await expect(page.getByTestId('m0-share')).toHaveText('= $400.00');
	await expect(page.getByTestId('m1-share')).toHaveText('= $600.00');
	await expect(page.getByTestId('derived-total')).toContainText('Contract total: $1,000.00');
});

test('the invitation shows every term: scope, total, milestones with revision caps, every clock and the TEST MODE provider', async ({ browser, baseURL }) => {
	const ada = await (await browser.newContext({ baseURL })).newPage();
	const grace = await (await browser.newContext({ baseURL })).newPage();
	await newContract(ada);
	await ada.locator('#title').fill('Website');
	await ada.getByLabel('Scope of work').fill('Design and build a five-page site.');
	await ada.locator('#review').fill('10');
	await ada.locator('#total').fill('1,000');
	await ada.getByRole('button', { name: 'Add a milestone' }).click();
	await ada.locator('#m0-title').fill('Design');
	await ada.locator('#m0-amount').fill('33.33%');
	await expect(ada.locator('#m0-revisions')).toHaveValue('2');
	await ada.locator('#m0-revisions').fill('1');
	await ada.locator('#m1-title').fill('Build');
	await ada.locator('#m1-amount').fill('66.67%');
	await ada.locator('#m1-revisions').fill('');
	await propose(ada);
	await expect(ada.getByTestId('contract-status')).toHaveText('proposed');
	const link = await ada.getByTestId('share-link').inputValue();

	await grace.goto(link);
	await setUp(grace, 'Grace');
	const terms = grace.getByTestId('terms');
	await expect(terms).toBeVisible({ timeout: 15_000 });
	await expect(terms.getByTestId('terms-scope')).toHaveText('Design and build a five-page site.');
	await expect(terms.getByTestId('terms-total')).toContainText('$1,000.00');
	await expect(terms.getByTestId('terms-milestone-m1')).toContainText('Design · $333.30');
	await expect(terms.getByTestId('terms-revisions-m1')).toHaveText('1 revision included');
	await expect(terms.getByTestId('terms-milestone-m2')).toContainText('Build · $666.70');
	await expect(terms.getByTestId('terms-revisions-m2')).toHaveText('no limit on revisions');
	await expect(terms.getByTestId('terms-review')).toContainText('10 days');
	await expect(terms.getByTestId('terms-security')).toContainText('5 days');
	await expect(terms.getByTestId('terms-refund')).toContainText('7 days');
	await expect(terms.getByTestId('terms-provider')).toContainText('TEST MODE — no real money moves');
	await expect(grace.getByRole('button', { name: 'Accept contract' })).toBeVisible();
});
