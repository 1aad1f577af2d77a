import { expect, test } from '@playwright/test';

// The skeleton's page: a contract played through two devices in the browser, with real WebCrypto
// signatures, the real fold and the mock provider. What it shows must be what the ledger says.
test('the demo contract is derived from signed events in the browser', async ({ page }) => {
	await page.goto('/#/demo');
	await expect(page.getByRole('heading', { name: 'Demo contract' })).toBeVisible();
	await expect(page.getByText('TEST MODE')).toBeVisible();
	await expect(page.getByTestId('contract-status')).toHaveText('active', { timeout: 20_000 });

	await expect(page.getByTestId('milestone-design')).toContainText('Released');
	await expect(page.getByTestId('milestone-build')).toContainText('Released');
	await expect(page.getByTestId('milestone-test')).toContainText('Awaiting funding');
	// 1,200 + 2,500 released, 1,000 withdrawn: 2,700 available.
	await expect(page.getByTestId('available')).toHaveText('$2,700.00');

	const timeline = page.getByTestId('timeline');
	await expect(timeline).toContainText('freelancer: milestone.autoRelease');
	await expect(timeline).toContainText('escrow provider: receipt.paidOut');

	const rejected = page.getByTestId('rejected');
	await expect(rejected).toContainText('wrong-role');
	await expect(rejected).toContainText('hash-mismatch');
});
