import { expect, test, type Page } from '@playwright/test';
import { axeViolations } from './axe';
import { activeContract } from './contract-steps';
import { closeBrowsers, person, setUp } from './people';

test.afterEach(closeBrowsers);

// One person, two devices: Ada's laptop holds a contract with Grace; her phone pairs with the laptop
// by code through the relay (both screens show the same numbers), receives the contract, and a
// message written on the phone reaches Grace as Ada's.

/** axe-core on the devices section in the state it is in (the idle state is in a11y.spec.ts). */
async function audit(page: Page, what: string) {
	expect(await axeViolations(page, 'section[aria-labelledby="devices-h"]'), what).toEqual([]);
}

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();

test('a second device added by code acts on the contract as the same person', async ({ baseURL }) => {
	test.setTimeout(150_000);
	const laptop = await person('ada laptop', baseURL!);
	const grace = await person('grace', baseURL!);
	const phone = await person('ada phone', baseURL!);

	await activeContract(laptop, grace, { title: 'Bakery website', scope: 'Design and build the site.', milestones: [{ title: 'Design', amount: '800' }] });

	// The phone shows a code; the laptop enters it; both show the same numbers.
	await phone.goto('/');
	await setUp(phone, 'Ada’s phone');
	await nav(phone, 'Settings');
	await phone.getByRole('button', { name: 'Pair with my other device' }).click();
	const code = (await phone.getByTestId('pair-code').textContent({ timeout: 15_000 }))!.trim();
	expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
	await expect(phone.getByRole('img', { name: `QR code of the pairing code ${code}` })).toBeVisible();
	await audit(phone, 'the code shown');

	await nav(laptop, 'Settings');
	await laptop.getByLabel('Code shown on the new device').fill(code.toLowerCase().replace('-', ' '));
	await laptop.getByRole('button', { name: 'Connect' }).click();
	const numbers = laptop.getByTestId('pair-numbers');
	await expect(numbers).toHaveText(/^\d{4} \d{4}$/, { timeout: 15_000 });
	await expect(phone.getByTestId('pair-numbers')).toHaveText((await numbers.textContent())!, { timeout: 15_000 });
	await expect(laptop.getByRole('heading', { name: 'Compare these numbers with “Ada’s phone”' })).toBeVisible();
	await audit(laptop, 'the numbers to compare');
	await audit(phone, 'the numbers on the new device');

	// The laptop's key is Ada's identity: a passphrase too short is refused next to the field.
	await laptop.getByLabel(/Choose a passphrase for your identity key/).fill('short');
	await laptop.getByRole('button', { name: 'The numbers match: add this device' }).click();
	await expect(laptop.getByText('Choose a passphrase of at least 8 characters.')).toBeVisible();
	await laptop.getByLabel(/Choose a passphrase for your identity key/).fill('harbour bakery 2026');
	await laptop.getByRole('button', { name: 'The numbers match: add this device' }).click();
	await phone.getByRole('button', { name: 'The numbers match' }).click();
	await expect(laptop.getByRole('status').filter({ hasText: '“Ada’s phone” is now one of your devices' })).toBeVisible({ timeout: 30_000 });
	const identity = (await laptop.getByTestId('identity-fingerprint').textContent())!;
	await expect(phone.getByTestId('paired')).toContainText(`This device now acts for your identity ${identity}, and holds your 1 contract.`, { timeout: 30_000 });
	await expect(phone.getByTestId('identity-fingerprint')).toHaveText(identity);
	await expect(laptop.getByTestId('device-list')).toContainText('Ada’s phone');

	// The phone holds the contract, as Ada the client, and writes in it.
	await nav(phone, 'Contracts');
	await phone.getByTestId('contract-row').filter({ hasText: 'Bakery website' }).getByRole('link').click();
	await expect(phone.getByTestId('contract-status')).toHaveText('active', { timeout: 30_000 });
	await phone.getByRole('textbox', { name: 'Message' }).fill('Written on my phone: the photos are coming.');
	await phone.getByRole('button', { name: 'Send message' }).click();
	const fromPhone = (page: Page) => page.getByTestId('messages').locator('li').filter({ hasText: 'Written on my phone' });
	await expect(fromPhone(phone)).toHaveClass(/mine/);
	await expect(fromPhone(grace)).toContainText('Ada', { timeout: 30_000 });
	await expect(fromPhone(grace)).not.toHaveClass(/mine/);
	await nav(laptop, 'Contracts');
	await laptop.getByTestId('contract-row').filter({ hasText: 'Bakery website' }).getByRole('link').click();
	// On the laptop the phone's message is Ada's own.
	await expect(fromPhone(laptop)).toHaveClass(/mine/, { timeout: 30_000 });
	await expect(fromPhone(laptop).locator('strong')).toHaveText('Ada');

	// The laptop revokes the phone (identity passphrase); once the provider recorded it, what the phone
	// writes no longer counts for Ada.
	await nav(laptop, 'Settings');
	await laptop.getByRole('button', { name: 'Revoke Ada’s phone' }).click();
	await laptop.getByRole('button', { name: 'Revoke this device' }).click();
	await expect(laptop.getByText('Enter the passphrase of your identity key.')).toBeVisible();
	await laptop.getByLabel('Passphrase of your identity key').fill('not the passphrase');
	await laptop.getByRole('button', { name: 'Revoke this device' }).click();
	await expect(laptop.locator('#revoke-error')).toBeVisible({ timeout: 15_000 });
	await laptop.getByLabel('Passphrase of your identity key').fill('harbour bakery 2026');
	await laptop.getByRole('button', { name: 'Revoke this device' }).click();
	await expect(laptop.getByRole('status').filter({ hasText: '“Ada’s phone” is revoked in 1 contract.' })).toBeVisible({ timeout: 30_000 });
	await expect(laptop.getByTestId('device-list')).toContainText('Revoked');
	await nav(laptop, 'Contracts');
	await laptop.getByTestId('contract-row').filter({ hasText: 'Bakery website' }).getByRole('link').click();
	await laptop.getByRole('textbox', { name: 'Message' }).fill('The phone is gone; writing from the laptop.');
	await laptop.getByRole('button', { name: 'Send message' }).click();
	await expect(grace.getByTestId('messages')).toContainText('writing from the laptop', { timeout: 30_000 });
	// The phone learns of the revocation, and a message it writes now is not Ada's on Grace's side.
	await expect(phone.getByTestId('messages')).toContainText('writing from the laptop', { timeout: 30_000 });
	await phone.getByRole('textbox', { name: 'Message' }).fill('Sent from the revoked phone.');
	await phone.getByRole('button', { name: 'Send message' }).click();
	// The phone's own rules refuse it, with the reason next to the field (a hostile build that sends it
	// anyway is refused by every replica: tests/unit/identity/devices-party.test.ts).
	await expect(phone.getByRole('alert').filter({ hasText: 'The device “Ada’s phone” that signed it was revoked' })).toBeVisible({ timeout: 15_000 });
	await expect(phone.getByTestId('messages')).not.toContainText('Sent from the revoked phone.');
	await laptop.getByRole('textbox', { name: 'Message' }).fill('Laptop again.');
	await laptop.getByRole('button', { name: 'Send message' }).click();
	await expect(grace.getByTestId('messages')).toContainText('Laptop again.', { timeout: 30_000 });
	await expect(grace.getByTestId('messages')).not.toContainText('Sent from the revoked phone.');
});
