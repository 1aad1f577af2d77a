import { expect, test, type Page } from '@playwright/test';
import { closeBrowsers, person, setUp } from './people';

test.afterEach(closeBrowsers);

// Settings → Your devices lists a device certified here before it has acted in any contract (its
// certificate is kept in this device's store), also after a reload; and the recovery file of a device
// holding the identity (the laptop, and the phone it was sent to locked) is made with the identity's
// own passphrase.

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();

test('a device added with no contract yet stays listed after a reload; the backup needs the identity passphrase', async ({ baseURL }) => {
	test.setTimeout(120_000);
	const laptop = await person('ada laptop', baseURL!);
	const phone = await person('ada phone', baseURL!);
	for (const [page, name] of [[laptop, 'Ada'], [phone, 'Ada’s phone']] as const) {
		await page.goto('/');
		await setUp(page, name);
		await nav(page, 'Settings');
	}
	await phone.getByRole('button', { name: 'Pair with my other device' }).click();
	const code = (await phone.getByTestId('pair-code').textContent({ timeout: 15_000 }))!.trim();
	await laptop.getByLabel('Code shown on the new device').fill(code);
	await laptop.getByRole('button', { name: 'Connect' }).click();
	await expect(laptop.getByTestId('pair-numbers')).toHaveText(/^\d{4} \d{4}$/, { timeout: 15_000 });
	await laptop.getByLabel(/Choose a passphrase for your identity key/).fill('harbour bakery 2026');
	await laptop.getByRole('button', { name: 'The numbers match: add this device' }).click();
	await phone.getByRole('button', { name: 'The numbers match' }).click();
	await expect(laptop.getByRole('status').filter({ hasText: '“Ada’s phone” is now one of your devices. It received your 0 contracts.' })).toBeVisible({ timeout: 30_000 });
	await expect(phone.getByTestId('paired')).toBeVisible({ timeout: 30_000 });

	// No contract holds the phone's certificate: the list comes from the laptop's own store.
	await laptop.reload();
	await expect(laptop.getByTestId('device-list')).toContainText('Ada’s phone', { timeout: 15_000 });
	await expect(laptop.getByRole('button', { name: 'Revoke Ada’s phone' })).toBeVisible();
	await phone.reload();
	await expect(phone.getByTestId('device-list').locator('li').filter({ hasText: 'Ada’s phone' })).toContainText('(this device)', { timeout: 15_000 });

	// The laptop holds the identity locked: its backup is made with that passphrase, typed once.
	await expect(laptop.getByLabel('Repeat the passphrase')).toHaveCount(0);
	await laptop.getByLabel('Your identity key’s passphrase').fill('not the passphrase');
	await laptop.getByRole('button', { name: 'Export backup' }).click();
	await expect(laptop.locator('#backup-pass')).toHaveAccessibleDescription(/This is not the passphrase of your identity key\./, { timeout: 15_000 });
	await laptop.locator('#backup-pass').fill('harbour bakery 2026');
	await laptop.getByRole('button', { name: 'Export backup' }).click();
	await expect(laptop.getByLabel(/^Backup text/)).toBeVisible({ timeout: 15_000 });
	// The phone received the identity locked when it was paired: its backup takes the same passphrase.
	await expect(phone.getByLabel('Your identity key’s passphrase')).toBeVisible();
	await expect(phone.getByLabel('Repeat the passphrase')).toHaveCount(0);
});
