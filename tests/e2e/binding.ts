import { expect, type Page } from '@playwright/test';

/**
 * The proposer confirms who accepted (the countersign): it compares the fingerprint shown, confirms,
 * and the escrow provider records it. Only then is the contract active on both sides.
 */
export async function confirmCounterparty(proposer: Page, name: string, role: 'freelancer' | 'client' = 'freelancer'): Promise<void> {
	await proposer.getByRole('button', { name: `Confirm ${name} as the ${role}` }).click({ timeout: 15_000 });
	await proposer.getByRole('button', { name: `Yes, confirm ${name}` }).click();
	await expect(proposer.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });
}
