import { expect, test, type Page } from '@playwright/test';
import { activeContract, card, confirmCounterparty, propose } from './contract-steps';
import { closeBrowsers, person, setUp } from './people';

test.afterEach(closeBrowsers);

// Client and freelancer in two browsers: a three-milestone contract from proposal to all released
// and withdrawn, with a declined card, one change request, a message exchange and an auto-release.
const status = (page: Page, m: string) => page.getByTestId(`status-${m}`);

async function fund(page: Page, m: string, method: string) {
	await card(page, m).getByRole('button', { name: 'Fund milestone' }).click();
	await card(page, m).getByLabel(method, { exact: true }).check();
	await expect(card(page, m).getByTestId('fund-quote')).toContainText('Fee');
	await card(page, m).getByRole('button', { name: /^Fund / }).click();
}

async function requestPayment(page: Page, m: string, message: string) {
	await card(page, m).getByRole('button', { name: 'Request Payment' }).click();
	await card(page, m).getByLabel('Message to the client').fill(message);
	await card(page, m).getByLabel('Deliverable links (one per line)').fill('https://example.com/deliverable');
	await card(page, m).getByRole('button', { name: 'Request Payment' }).click();
	await expect(status(page, m)).toHaveText('Submitted for review');
	// The provider's timestamp on the request starts the review window.
	await expect(card(page, m)).toContainText('Auto-releases on');
}

async function release(page: Page, m: string, amount: string) {
	await card(page, m).getByRole('button', { name: 'Release Payment' }).click();
	// An empty amount is no longer "everything": releasing all of it is its own choice.
	await card(page, m).getByRole('button', { name: 'Release everything' }).click();
	const confirm = card(page, m).getByTestId('release-confirmation');
	await expect(confirm).toContainText(amount);
	await expect(confirm).toContainText('Fee');
	await expect(confirm).toContainText('security period');
	await confirm.getByRole('button', { name: 'Release Payment' }).click();
	await expect(status(page, m)).toHaveText('Released');
}

// Navigate with the app's own links: SvelteKit's hash router reloads the page when the hash is
// changed from outside (address bar, page.goto), which would only slow the test down.
async function advanceClock(page: Page, days: number) {
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
	await page.getByLabel('Days to advance').fill(String(days));
	await page.getByRole('button', { name: 'Advance test clock' }).click();
}

async function openContract(page: Page) {
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contracts' }).click();
	await page.getByTestId('contract-row').getByRole('link').click();
}

test('a three-milestone contract from proposal to everything released and withdrawn', async ({ baseURL }) => {
	test.setTimeout(180_000);
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await activeContract(ada, grace, {
		title: 'Website',
		milestones: [
			{ title: 'Design', amount: '1,000' },
			{ title: 'Build', amount: '2,000.50' },
			{ title: 'Launch', amount: '500' }
		]
	});

	// A declined card leaves the milestone unfunded and says why; then it goes through.
	await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
	await ada.getByRole('button', { name: 'Decline the next payment' }).click();
	await openContract(ada);
	await fund(ada, 'm1', 'Card');
	await expect(card(ada, 'm1').getByRole('alert')).toContainText('declined');
	await expect(status(ada, 'm1')).toHaveText('Awaiting funding');
	await card(ada, 'm1').getByRole('button', { name: /^Fund / }).click();
	await expect(status(ada, 'm1')).toHaveText('Funded · in progress');
	await expect(status(grace, 'm1')).toHaveText('Funded · in progress', { timeout: 15_000 });

	// Milestone 1: Request Payment → Release Payment.
	await requestPayment(grace, 'm1', 'The designs are ready.');
	await expect(card(ada, 'm1')).toContainText('The designs are ready.', { timeout: 15_000 });
	await release(ada, 'm1', '$1,000.00');
	await expect(status(grace, 'm1')).toHaveText('Released', { timeout: 15_000 });

	// Messages both ways.
	await ada.getByRole('textbox', { name: 'Message' }).fill('Great work on the designs.');
	await ada.getByRole('button', { name: 'Send message' }).click();
	await expect(grace.getByTestId('messages')).toContainText('Great work on the designs.', { timeout: 15_000 });
	await grace.getByRole('textbox', { name: 'Message' }).fill('Thanks! Starting the build.');
	await grace.getByRole('button', { name: 'Send message' }).click();
	await expect(ada.getByTestId('messages')).toContainText('Starting the build.', { timeout: 15_000 });

	// Milestone 2: one round of changes.
	await fund(ada, 'm2', 'PayPal');
	await expect(status(grace, 'm2')).toHaveText('Funded · in progress', { timeout: 15_000 });
	await requestPayment(grace, 'm2', 'The site is built.');
	await expect(card(ada, 'm2').getByRole('button', { name: 'Request changes' })).toBeVisible({ timeout: 15_000 });
	await card(ada, 'm2').getByRole('button', { name: 'Request changes' }).click();
	await card(ada, 'm2').getByLabel('What needs to change').fill('The contact form does not send.');
	await card(ada, 'm2').getByRole('button', { name: 'Send change request' }).click();
	await expect(status(grace, 'm2')).toHaveText('Changes requested', { timeout: 15_000 });
	await requestPayment(grace, 'm2', 'Contact form fixed.');
	await expect(card(ada, 'm2')).toContainText('Contact form fixed.', { timeout: 15_000 });
	await release(ada, 'm2', '$2,000.50');

	// Milestone 3: the client does not answer; after the review window the freelancer's app claims it when it opens, and says so.
	// A bank debit takes the days its quote says, in TEST MODE too: processing until the provider's clock gets there.
	await fund(ada, 'm3', 'Bank transfer (ACH)');
	await expect(card(ada, 'm3')).toContainText('Processing — expected by', { timeout: 15_000 });
	await expect(status(ada, 'm3')).not.toHaveText('Funded · in progress');
	await advanceClock(ada, 5);
	await openContract(ada);
	await expect(status(ada, 'm3')).toHaveText('Funded · in progress', { timeout: 20_000 });
	await expect(status(grace, 'm3')).toHaveText('Funded · in progress', { timeout: 15_000 });
	await requestPayment(grace, 'm3', 'Launched.');
	await advanceClock(grace, 15);
	await openContract(grace);
	await expect(card(grace, 'm3').getByTestId('auto-claim-m3')).toContainText('this app claimed the payment for you', { timeout: 15_000 });
	await expect(status(grace, 'm3')).toHaveText('Released');
	await expect(status(ada, 'm3')).toHaveText('Released', { timeout: 15_000 });

	// The freelancer's Payments: Design and Build are past their security period; Launch is pending,
	// with the date it becomes available. No client figures: Grace is only a freelancer so far.
	const gracePay = async () => grace.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments' }).click();
	await gracePay();
	await expect(grace.getByTestId('available-USD')).toHaveText('$3,000.50');
	await expect(grace.getByTestId('pending-USD')).toHaveText('$500.00');
	await expect(grace.getByTestId('pending-lots')).toContainText(/\$500\.00 from Website · Launch — available on \d+\/\d+\/\d{4}/);
	await expect(grace.getByRole('heading', { name: 'As client' })).toHaveCount(0);
	await expect(grace.getByRole('img', { name: /Balance over time \(USD\): now \$500\.00 pending, \$3,000\.50 available, \$0\.00 withdrawn/ })).toBeVisible();

	// The freelancer withdraws everything once the security period has passed.
	await advanceClock(grace, 6);
	await gracePay();
	await expect(grace.getByTestId('available-USD')).toHaveText('$3,500.50');
	await expect(grace.getByTestId('pending-USD')).toHaveText('$0.00');
	// The contract select shows the contract it will withdraw from, never a blank.
	await expect(grace.getByLabel('From contract')).toHaveValue(/.+/);
	await expect(grace.locator('#wd-from option:checked')).toHaveText('Website — $3,500.50 available');
	// Radios are radio-sized, not stretched to the form's width.
	for (const m of ['Direct to local bank', 'PayPal', 'Wire transfer']) {
		const box = (await grace.getByLabel(m, { exact: true }).boundingBox())!;
		expect(box.width).toBeLessThanOrEqual(24);
		expect(box.height).toBeLessThanOrEqual(24);
	}
	// Errors are next to the field, in words, money formatted; they follow the input, so none is left under a valid amount.
	const amount = grace.getByLabel('Amount (USD)');
	await grace.getByRole('button', { name: 'Withdraw' }).click();
	await expect(amount).toHaveAccessibleDescription('Enter an amount.');
	await amount.fill('5,000');
	await expect(amount).toHaveAccessibleDescription('You can withdraw at most $3,500.50 from this contract now.');
	await expect(amount).toHaveAttribute('aria-invalid', 'true');
	await amount.fill('3,500.50');
	await expect(grace.locator('#wd-amount-error')).toHaveCount(0);
	await expect(amount).not.toHaveAttribute('aria-invalid', 'true');
	await expect(grace.getByTestId('withdraw-quote')).toContainText('Fee $0.99');
	// In TEST MODE nothing is sent to a bank: the page says what really happens.
	await expect(grace.getByText('no payout account is needed')).toBeVisible();
	await grace.getByRole('button', { name: 'Withdraw' }).click();
	const done = grace.getByRole('status').filter({ hasText: 'Withdrawal of' });
	await expect(done).toContainText('Withdrawal of $3,500.50 recorded by the mock escrow provider (TEST MODE): no real money moves, so no payout account is needed.');
	await expect(done).toContainText('Fee $0.99; $3,499.51 would arrive by Direct to local bank on');
	await expect(grace.getByTestId('available-USD')).toHaveText('$0.00');
	await expect(grace.getByTestId('withdrawn-USD')).toHaveText('$3,500.50');
	await expect(grace.getByTestId('payout-fees-USD')).toHaveText('$0.99');
	await expect(grace.getByTestId('history')).toContainText('Withdrawn (received)');
	await expect(grace.getByTestId('history')).toContainText('-$3,499.51');
	await grace.getByText('Show the balance as a table').click();
	await expect(grace.getByTestId('balance-table-USD').locator('tbody tr').last()).toContainText('$0.00$0.00$3,500.50');

	// The client's Payments: what it funded, released, was refunded, still holds and paid in fees —
	// and none of the freelancer's money (no balance to withdraw, no withdrawals).
	await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments' }).click();
	await expect(ada.getByTestId('escrow-client-USD')).toHaveText('$0.00', { timeout: 15_000 });
	await expect(ada.getByTestId('funded-USD')).toHaveText('$3,500.50');
	await expect(ada.getByTestId('released-USD')).toHaveText('$3,500.50');
	await expect(ada.getByTestId('refunded-USD')).toHaveText('$0.00');
	await expect(ada.getByTestId('fees-USD')).not.toHaveText('$0.00');
	await expect(ada.getByTestId('client-releases')).toContainText('Website · Design');
	await expect(ada.getByTestId('client-releases')).toContainText('$2,000.50');
	await expect(ada.getByTestId('history')).toContainText('Funded escrow');
	await expect(ada.getByTestId('history')).not.toContainText('Withdraw');
	await expect(ada.getByText('Available to withdraw')).toHaveCount(0);
	await expect(ada.getByRole('heading', { name: 'As freelancer' })).toHaveCount(0);
	await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contracts' }).click();
	await expect(ada.getByTestId('contract-row').first()).toContainText('You are the client · with Grace');
	// The contract's activity list is the client's too: the freelancer's withdrawal is not in it.
	await ada.getByTestId('contract-row').first().getByRole('link').click();
	const activity = ada.getByRole('region', { name: 'Activity' });
	await expect(activity).toContainText('confirmed the release');
	await expect(activity).not.toContainText('withdraw');
	await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contracts' }).click();

	// Grace hires Ada for another job: client on one contract, freelancer on the other, she sees both.
	await grace.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New contract' }).click();
	await grace.getByLabel('Client (I pay)').check();
	const logo = await propose(grace, { title: 'Logo', milestones: [{ title: 'Sketches', amount: '300' }] });
	await ada.goto(logo);
	await ada.getByRole('button', { name: 'Accept contract' }).click();
	await confirmCounterparty(grace, 'Ada');
	await fund(grace, 'm1', 'Card');
	await expect(status(grace, 'm1')).toHaveText('Funded · in progress');
	await gracePay();
	await expect(grace.getByRole('heading', { name: 'As client' })).toBeVisible();
	await expect(grace.getByRole('heading', { name: 'As freelancer' })).toBeVisible();
	await expect(grace.getByTestId('escrow-client-USD')).toHaveText('$300.00');
	await expect(grace.getByTestId('withdrawn-USD')).toHaveText('$3,500.50');
});

test('milestones given as a percentage of the total add up to it exactly', async ({ baseURL }) => {
	const ada = await person('ada', baseURL!);
	await ada.goto('/');
	await setUp(ada, 'Ada');
	await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New contract' }).click();
	await ada.locator('#title').fill('Thirds');
	await ada.getByLabel(/Contract total/).fill('1,000');
	await ada.getByRole('button', { name: 'Add a milestone' }).click();
	await ada.getByRole('button', { name: 'Add a milestone' }).click();
	for (const [i, share] of ['33.33%', '33.33%', '33.34%'].entries()) {
		await ada.locator(`#m${i}-title`).fill(`Part ${i + 1}`);
		await ada.locator(`#m${i}-amount`).fill(share);
	}
	await ada.locator('#m0-description').fill('Wireframes for every page.');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	await expect(card(ada, 'm1')).toContainText('$333.30');
	await expect(card(ada, 'm2')).toContainText('$333.30');
	await expect(card(ada, 'm3')).toContainText('$333.40');
	await expect(card(ada, 'm1')).toContainText('Wireframes for every page.');
});
