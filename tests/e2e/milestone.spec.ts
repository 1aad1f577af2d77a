import { expect, test, type Page } from '@playwright/test';
import { activeContract, card, fundMilestone } from './contract-steps';
import { closeBrowsers, person } from './people';

test.afterEach(closeBrowsers);

// Client and freelancer in two browsers: the money story on one milestone as each of them reads it —
// the reason for a change request, a release amount that must be valid before its confirmation,
// "Release everything" as its own choice, and an ending that is confirmed with what happens to escrow.
const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();

test('the freelancer reads why changes were asked; a release amount is checked first; ending is confirmed', async ({ baseURL }) => {
	test.setTimeout(90_000);
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await activeContract(ada, grace, { title: 'Logo', milestones: [{ title: 'Design', amount: '1,000' }] }, { acceptTimeout: 15_000 });
	await expect(grace.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });

	const adaCard = card(ada, 'm1');
	const graceCard = card(grace, 'm1');
	await fundMilestone(ada, 'm1');
	await expect(graceCard.getByTestId('status-m1')).toHaveText('Funded · in progress', { timeout: 15_000 });
	await expect(graceCard.getByTestId('money-m1')).toContainText('$1,000.00 in escrow for you');

	await graceCard.getByRole('button', { name: 'Request Payment' }).click();
	await graceCard.getByLabel('Message to the client').fill('First drafts.');
	await graceCard.getByRole('button', { name: 'Request Payment' }).click();
	await expect(graceCard.getByTestId('status-m1')).toHaveText('Submitted for review');

	// A change request needs its reason, and the freelancer reads it on the milestone, in the activity and the Inbox.
	await adaCard.getByRole('button', { name: 'Request changes' }).click({ timeout: 15_000 });
	await adaCard.getByRole('button', { name: 'Send change request' }).click();
	await expect(adaCard.getByLabel('What needs to change')).toHaveAccessibleDescription('Say what needs to change: the freelancer sees it with your request.');
	await adaCard.getByLabel('What needs to change').fill('Make the logo blue.');
	await adaCard.getByRole('button', { name: 'Send change request' }).click();
	await expect(graceCard.getByTestId('status-m1')).toHaveText('Changes requested', { timeout: 15_000 });
	await expect(graceCard.getByTestId('change-reason-m1')).toHaveText('Ada asked for changes: “Make the logo blue.”');
	// The revision cap the terms set (New contract's default) with the changes used so far.
	await expect(graceCard.getByTestId('money-m1')).toContainText(/1 of \d+ changes? used/);
	await expect(grace.getByTestId('timeline')).toContainText('requested changes to Design: “Make the logo blue.”');
	await nav(grace, 'Inbox');
	await expect(grace.getByText('Ada requested changes to Design: “Make the logo blue.”')).toBeVisible();
	await nav(grace, 'Contracts');
	await grace.getByTestId('contract-row').getByRole('link').click();
	await graceCard.getByRole('button', { name: 'Request Payment' }).click();
	await graceCard.getByLabel('Message to the client').fill('Blue now.');
	await graceCard.getByRole('button', { name: 'Request Payment' }).click();
	await expect(adaCard).toContainText('Blue now.', { timeout: 15_000 });

	// A release amount must be valid before the confirmation; empty or zero is never "everything".
	await adaCard.getByRole('button', { name: 'Release Payment' }).click();
	const amount = adaCard.getByLabel('Amount to release (USD)');
	await adaCard.getByRole('button', { name: 'Review release' }).click();
	await expect(amount).toHaveAccessibleDescription('Enter the amount to release. To release all of it, choose “Release everything”.');
	await amount.fill('0');
	await adaCard.getByRole('button', { name: 'Review release' }).click();
	await expect(amount).toHaveAccessibleDescription(/Enter an amount above \$0\.00/);
	await amount.fill('2,000');
	await adaCard.getByRole('button', { name: 'Review release' }).click();
	await expect(amount).toHaveAccessibleDescription('Escrow holds $1,000.00 for this milestone: enter at most that.');
	await expect(adaCard.getByTestId('release-confirmation')).toHaveCount(0);
	await adaCard.getByRole('button', { name: 'Release everything ($1,000.00)' }).click();
	await expect(adaCard.getByTestId('release-confirmation')).toContainText('$1,000.00 — everything escrow holds for this milestone');
	await adaCard.getByRole('button', { name: 'Back' }).click();
	await amount.fill('400');
	await adaCard.getByRole('button', { name: 'Review release' }).click();
	const confirm = adaCard.getByTestId('release-confirmation');
	await expect(confirm).toContainText('$400.00 (the rest, $600.00, stays in escrow)');
	await confirm.getByRole('button', { name: 'Release Payment' }).click();
	// The review clock stopped with the release: the chip no longer says "Submitted for review".
	await expect(adaCard.getByTestId('status-m1')).toHaveText('Partly released · rest in escrow');
	await expect(graceCard.getByTestId('status-m1')).toHaveText('Partly released · rest in escrow', { timeout: 15_000 });

	// Ending is confirmed with what happens to escrow, by each side.
	await ada.getByRole('button', { name: 'Propose to end the contract' }).click();
	await expect(ada.getByTestId('end-confirmation')).toContainText('Escrow holds $600.00 (Design $600.00)');
	await ada.getByRole('button', { name: 'Keep the contract' }).click();
	await expect(ada.getByTestId('end-confirmation')).toHaveCount(0);
	await ada.getByRole('button', { name: 'Propose to end the contract' }).click();
	await ada.getByRole('button', { name: 'Yes, propose to end it' }).click();
	await expect(ada.getByTestId('end-proposal')).toContainText('You proposed');
	await expect(ada.getByTestId('contract-status')).toHaveText('active');
	await grace.getByRole('button', { name: 'Agree to end the contract' }).click({ timeout: 15_000 });
	await expect(grace.getByTestId('end-confirmation')).toContainText('Escrow holds $600.00');
	await expect(grace.getByTestId('contract-status')).toHaveText('active');
	await grace.getByRole('button', { name: 'Yes, end the contract' }).click();
	await expect(grace.getByTestId('contract-status')).toHaveText('ended');
	await expect(graceCard.getByTestId('money-m1')).toContainText('$600.00 in escrow, going back to the client');
	await expect(graceCard.getByTestId('money-m1')).not.toContainText('for you');
	await expect(ada.getByTestId('contract-status')).toHaveText('ended', { timeout: 15_000 });
	await expect(adaCard.getByRole('button', { name: 'Take back $600.00 from escrow' })).toBeVisible();
});
