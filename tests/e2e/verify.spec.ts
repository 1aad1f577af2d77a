import { expect, test, type Page } from '@playwright/test';
import { activeContract, card, fundMilestone } from './contract-steps';
import { closeBrowsers, person } from './people';

test.afterEach(closeBrowsers);

// A verified counterparty, in two browsers: both screens show the same safety number; the client
// marks the freelancer verified after comparing it, the freelancer pastes the client's verification
// code; the badge shows on the contract page, the Contracts list and the Inbox and survives a reload;
// the reminder next to money actions shows before and is gone after, and never blocks.
const nav = (page: Page, link: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
const safetyNumber = async (page: Page) => (await page.getByTestId('safety-number').innerText()).replace(/\s+/g, ' ').trim();

test('both parties see one safety number; verifying marks the other party everywhere and ends the reminder', async ({ baseURL }) => {
	test.setTimeout(150_000);
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await activeContract(ada, grace, { title: 'Logo', milestones: [{ title: 'Sketches', amount: '300' }] }, { openNewContract: (p) => nav(p, 'New contract') });
	await expect(grace.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });

	// The same 60 digits, in the same 12 groups, on both screens.
	await expect(ada.getByRole('heading', { name: 'Verify Grace' })).toBeVisible();
	await expect(grace.getByRole('heading', { name: 'Verify Ada' })).toBeVisible();
	const adaSees = await safetyNumber(ada);
	expect(adaSees).toMatch(/^\d{5}( \d{5}){11}$/);
	expect(await safetyNumber(grace)).toBe(adaSees);
	await expect(ada.getByTestId('verify-state')).toContainText('Not verified yet');

	// Before: a one-line reminder next to Fund, which still works.
	await expect(ada.getByTestId('verified-badge')).toHaveCount(0);
	await expect(card(ada, 'm1').getByTestId('verify-reminder')).toHaveText(/You have not verified Grace yet/);
	await fundMilestone(ada, 'm1');
	await expect(ada.getByTestId('status-m1')).toHaveText('Funded · in progress');
	await expect(card(ada, 'm1').getByTestId('verify-reminder')).toBeVisible();
	await expect(card(grace, 'm1').getByRole('button', { name: 'Request Payment' })).toBeVisible({ timeout: 15_000 });
	await expect(card(grace, 'm1').getByTestId('verify-reminder')).toHaveText(/You have not verified Ada yet/);

	// The client compares the digits and marks the freelancer verified.
	await ada.getByRole('button', { name: 'Mark as verified' }).click();
	const badge = ada.getByTestId('party-freelancer').getByTestId('verified-badge');
	await expect(badge).toHaveText("✓ Verified: you checked Grace's identity key on this device");
	await expect(ada.getByTestId('party-client').getByTestId('verified-badge')).toHaveCount(0);
	await expect(ada.getByTestId('verify-state')).toContainText("You verified Grace's identity key");
	await expect(ada.getByTestId('verify-state')).toContainText('by comparing the safety number');
	await expect(card(ada, 'm1').getByTestId('verify-reminder')).toHaveCount(0);
	await expect(card(ada, 'm1').getByRole('button', { name: 'Release Payment' })).toBeVisible();
	// Only this device knows: the freelancer's screen still reminds them.
	await expect(card(grace, 'm1').getByTestId('verify-reminder')).toBeVisible();

	// The Contracts list marks Grace too, and it is kept across a reload.
	await nav(ada, 'Contracts');
	await expect(ada.getByTestId('contract-row').getByTestId('verified-badge')).toBeVisible();
	await ada.reload();
	await expect(ada.getByTestId('contract-row')).toContainText('with Grace');
	await expect(ada.getByTestId('contract-row').getByTestId('verified-badge')).toBeVisible();
	await ada.getByTestId('contract-row').getByRole('link').click();
	await expect(ada.getByTestId('party-freelancer').getByTestId('verified-badge')).toBeVisible({ timeout: 15_000 });
	await expect(card(ada, 'm1').getByRole('button', { name: 'Release Payment' })).toBeVisible();
	await expect(card(ada, 'm1').getByTestId('verify-reminder')).toHaveCount(0);

	// The freelancer pastes the client's verification code.
	await ada.getByText('Verify with a QR code or a verification code instead').click();
	await expect(ada.getByRole('img', { name: 'QR code of your verification code, for Grace to scan' }).locator('svg')).toBeVisible();
	const adaCode = await ada.getByTestId('my-verification-code').inputValue();
	expect(adaCode).toMatch(/^milestone-verify:1:[\w-]{43}:[\w-]{43}$/);
	await grace.getByText('Verify with a QR code or a verification code instead').click();
	// Every browser with a camera API can scan (BarcodeDetector or jsQR: qr-scan.spec.ts); pasting works too.
	await expect(grace.getByRole('button', { name: "Scan Ada's QR code" })).toBeVisible();
	const field = grace.getByLabel("Ada's verification code");
	// Her own code, and a damaged one, are refused with the reason next to the field.
	await field.fill(await grace.getByTestId('my-verification-code').inputValue());
	await grace.getByRole('button', { name: 'Check their code' }).click();
	await expect(grace.locator('#their-verify-code-error')).toHaveText(/your own verification code/);
	await field.fill(adaCode.slice(0, -4));
	await grace.getByRole('button', { name: 'Check their code' }).click();
	await expect(grace.locator('#their-verify-code-error')).toHaveText(/damaged or incomplete/);
	await expect(grace.getByTestId('verified-badge')).toHaveCount(0);
	await field.fill(adaCode);
	await grace.getByRole('button', { name: 'Check their code' }).click();
	await expect(grace.getByTestId('party-client').getByTestId('verified-badge')).toBeVisible();
	await expect(grace.getByTestId('verify-state')).toContainText('with their verification code');
	await expect(card(grace, 'm1').getByTestId('verify-reminder')).toHaveCount(0);
	await expect(card(grace, 'm1').getByRole('button', { name: 'Request Payment' })).toBeVisible();
	// The Inbox's news of the contract with Ada is marked as well.
	await nav(grace, 'Inbox');
	await expect(grace.getByTestId('recent').getByRole('listitem').first().getByTestId('verified-badge')).toHaveText("✓ Verified: you checked Ada's identity key on this device", { timeout: 15_000 });

	// Removing the verification brings the reminder back.
	await ada.getByRole('button', { name: 'Remove verification' }).click();
	await expect(ada.getByTestId('verified-badge')).toHaveCount(0);
	await expect(card(ada, 'm1').getByTestId('verify-reminder')).toBeVisible();
	await expect(ada.getByTestId('verify-state')).toContainText('Not verified yet');
});
