import { expect, test } from '@playwright/test';
import { confirmCounterparty } from './binding';
import { closeBrowsers, person, setUp } from './people';

test.afterEach(closeBrowsers);

// Scam warnings between two browsers: the sender sees a hint as they type (and can still send), the
// receiver a warning next to what arrived, which they can dismiss for good; ordinary words raise nothing.
test('a request to pay by wire: a hint for the sender, a dismissible warning for the receiver; a wireframe raises nothing', async ({ baseURL }) => {
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await ada.goto('/');
	await setUp(ada, 'Ada');

	// The proposer is told, under the scope, what the other party will be warned about.
	await ada.goto('/#/new');
	await ada.getByLabel('Title', { exact: true }).first().fill('Landing page');
	await ada.getByLabel('Scope of work').fill('Design and build the landing page. Email me at ada@example.com to discuss.');
	await expect(ada.getByTestId('scam-hint')).toContainText('This looks like a request to talk outside the app');
	await ada.locator('#m0-title').fill('Design');
	await ada.locator('#m0-amount').fill('800');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	const link = await ada.getByTestId('share-link').inputValue();

	// The invitation carries the warning, with what it means; accepting is not held back.
	await grace.goto(link);
	await setUp(grace, 'Grace');
	const invitation = grace.getByTestId('scam-warning');
	await expect(invitation).toContainText('contact details', { timeout: 15_000 });
	await expect(invitation.getByTestId('scam-warning-contact-details')).toContainText('ada@example.com');
	await grace.getByRole('button', { name: 'Accept contract' }).click();
	await confirmCounterparty(ada, 'Grace');
	await expect(grace.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });

	const box = ada.getByRole('textbox', { name: 'Message' });
	const send = ada.getByRole('button', { name: 'Send message' });

	// Ordinary work talk: no hint, no warning.
	await box.fill('I attached the wireframe for the homepage, and wired up the contact form.');
	await expect(ada.getByTestId('scam-hint')).toHaveCount(0);
	await send.click();
	await expect(grace.getByTestId('messages')).toContainText('wireframe', { timeout: 15_000 });
	await expect(grace.getByTestId('scam-warning')).toHaveCount(0);

	// A request to pay by wire: the hint shows before sending, and sending still works.
	await box.fill('Please send the payment by wire transfer to my bank account instead.');
	const hint = ada.getByTestId('scam-hint');
	await expect(hint).toContainText('This looks like a request to pay outside the app');
	await expect(hint.getByTestId('scam-hint-wire-transfer')).toBeVisible();
	await expect(send).toBeEnabled();
	await send.click();
	await expect(ada.getByTestId('scam-hint')).toHaveCount(0);
	// The sender's own message carries no warning on the sender's screen.
	await expect(ada.getByTestId('messages')).toContainText('by wire transfer');
	await expect(ada.getByTestId('messages').getByTestId('scam-warning')).toHaveCount(0);

	// The receiver sees the message whole, with the warning next to it (and in Activity).
	const messages = grace.getByTestId('messages');
	await expect(messages).toContainText('Please send the payment by wire transfer to my bank account instead.', { timeout: 15_000 });
	const warning = messages.getByRole('note', { name: 'Scam warning' });
	await expect(warning).toContainText('Be careful: this looks like a request to pay outside the app');
	await expect(warning.getByTestId('scam-warning-wire-transfer')).toContainText('wire transfer');
	await expect(grace.getByTestId('timeline').getByTestId('scam-warning')).toHaveCount(1);

	// Dismissed in one place, it is gone everywhere, and stays gone after a reload.
	await warning.getByRole('button', { name: 'Dismiss warning' }).click();
	await expect(grace.getByTestId('scam-warning')).toHaveCount(0);
	await grace.reload();
	await expect(grace.getByTestId('messages')).toContainText('by wire transfer', { timeout: 15_000 });
	await expect(grace.getByTestId('timeline')).toContainText('sent a message');
	await expect(grace.getByTestId('scam-warning')).toHaveCount(0);
});
