import { expect, test, type Page } from '@playwright/test';
import { audit } from './axe';
import { advanceTestClock, closeBrowsers, hourlyContract, nav, openDiary, person, utc, W1 } from './hourly-steps';

// An hourly week's declined segment dispute in the Resolution Center, in two browsers. Grace logs an
// hour; Ada disputes its last twenty minutes and Grace declines. Ada opens a dispute on that time in
// the Resolution Center (the amount is what it bills: $20.00), Grace counters, Ada accepts the
// midpoint. The rest of the week is released as usual; both browsers agree on every balance.
test.afterEach(closeBrowsers);

const W2 = '2027-01-11';

/** The Resolution Center panel on the declined time of week 1, wherever it is shown. */
const panel = (page: Page) => page.getByRole('region', { name: `Resolution Center: the declined time of the week of ${W1}` });

test('hourly: declined segments go to the Resolution Center, settle at the midpoint, and both browsers agree', async ({ baseURL }) => {
	test.setTimeout(240_000);
	const { page: ada, context: adaContext } = await person('ada', baseURL!);
	const { page: grace, context: graceContext } = await person('grace', baseURL!);
	const setTime = (s: string) => Promise.all([adaContext.clock.setSystemTime(utc(s)), graceContext.clock.setSystemTime(utc(s))]);

	// An hourly contract: $60 an hour, at most 10 hours a week; Ada funds week 1.
	await hourlyContract(ada, grace);
	await ada.getByRole('button', { name: 'Fund the week of 4 Jan 2027 ($600.00)' }).click();
	await ada.getByRole('button', { name: 'Fund $600.00' }).click();
	await expect(ada.getByRole('button', { name: /Fund the week of 4 Jan/ })).toHaveCount(0);

	// Grace logs an hour on Monday of week 1.
	await setTime(`${W1}T12:00:00`);
	await grace.getByTestId('work-diary-link').click();
	await grace.getByLabel('Day', { exact: true }).fill(W1);
	await grace.getByLabel('From', { exact: true }).fill('09:00');
	await grace.getByLabel('To', { exact: true }).fill('10:00');
	await grace.getByLabel('Memo', { exact: true }).fill('Built the signup form');
	await grace.getByRole('button', { name: 'Add manual time' }).click();
	await expect(grace.getByTestId('diary-logged')).toContainText('1 h');

	// Week 2's Monday, a day on the provider's clock: week 1 locks and Grace's app submits its timesheet.
	await setTime(`${W2}T09:30:00`);
	await openDiary(grace, W1);
	await advanceTestClock(grace, 1);
	await expect(grace.getByTestId('diary-auto')).toContainText('this app submitted its timesheet for you: 1 h billing $60.00', { timeout: 15_000 });

	// Ada disputes the last twenty minutes; Grace declines.
	await openDiary(ada, W1);
	await expect(ada.getByTestId('diary-status')).toContainText('In review until', { timeout: 15_000 });
	await ada.getByTestId('segment').nth(4).click();
	await ada.getByTestId('segment').nth(5).click();
	await ada.getByLabel('Why do you dispute this time?').fill('The last twenty minutes were a coffee break.');
	await ada.getByRole('button', { name: 'Dispute', exact: true }).click();
	await expect(ada.getByTestId('dispute-status')).toContainText('Open: the freelancer answers by');
	await expect(grace.getByTestId('dispute')).toContainText('coffee break', { timeout: 15_000 });
	await grace.getByRole('button', { name: 'Decline dispute' }).click();
	await expect(grace.getByTestId('dispute-status')).toContainText('Declined: this time waits. Either party may open a dispute on it in the Resolution Center', { timeout: 15_000 });

	// The declined time has no clock of its own: Ada's Inbox says it waits until one of them opens a dispute.
	await nav(ada, 'Inbox');
	await expect(ada.getByTestId('todo')).toContainText(`The declined time of the Work Diary week of ${W1} stays in escrow until one of you opens a dispute on it (Resolution Center)`, { timeout: 15_000 });
	// Ada's Resolution Center lists the declined time; she opens a dispute there (the amount is fixed: what it bills).
	await nav(ada, 'Resolution Center');
	const declined = ada.getByTestId('declined-time');
	await expect(declined).toContainText(`Support retainer: Work Diary, week of ${W1}: 20 minutes declined`, { timeout: 15_000 });
	await panel(ada).getByRole('button', { name: 'Open a dispute' }).click();
	await expect(panel(ada)).toContainText('In dispute: $20.00, what the 20 declined minutes bill.');
	await panel(ada).getByRole('button', { name: 'Open the dispute' }).click();
	await expect(ada.getByLabel('What happened')).toHaveAccessibleDescription('Say what happened: the other party and any mediator read it.');
	await audit(ada, 'resolution-center-declined-time', { heading: false });
	await ada.getByLabel('What happened').fill('Twenty minutes of coffee are not work.');
	await ada.getByLabel(/^Your opening offer/).fill('0');
	await panel(ada).getByRole('button', { name: 'Open the dispute' }).click();
	const row = ada.getByTestId('dispute-row');
	await expect(row).toContainText(`Work Diary, week of ${W1}: 20 minutes declined`, { timeout: 15_000 });
	await expect(row).toContainText('Negotiating');
	await expect(row).toContainText('$20.00');
	await expect(row).toContainText("The freelancer's move");

	// Grace: her Inbox names the step; the row links to the Work Diary week, where she counters.
	await nav(grace, 'Inbox');
	await expect(grace.getByTestId('todo')).toContainText(`Answer the client's offer on the Work Diary week of ${W1} (Resolution Center)`, { timeout: 15_000 });
	await nav(grace, 'Resolution Center');
	await grace.getByTestId('dispute-row').getByRole('link').click();
	await expect(grace.getByTestId('diary-week')).toBeVisible();
	await expect(panel(grace)).toContainText('$20.00: what 20 minutes of the week of 2027-01-04 bill', { timeout: 15_000 });
	await panel(grace).getByLabel(/^Your new offer/).fill('20');
	await panel(grace).getByRole('button', { name: 'Make offer' }).click();
	await expect(panel(grace)).toContainText("The client's move");
	await audit(grace, 'work-diary-dispute-panel', { heading: false });

	// Ada accepts the midpoint from her Work Diary week.
	await openDiary(ada, W1);
	await panel(ada).getByRole('button', { name: 'Accept the midpoint ($10.00 to the freelancer, $10.00 back to the client)' }).click({ timeout: 15_000 });
	for (const p of [ada, grace]) {
		await expect(panel(p)).toContainText('(the midpoint was accepted): $10.00 released to the freelancer, $10.00 refunded to the client.', { timeout: 15_000 });
		await expect(p.getByTestId('dispute-status')).toContainText('Declined, then settled in the Resolution Center');
	}

	// Past the review window (4.5 days after the timesheet was recorded), Grace's app claims the rest of the week: 40 minutes, $40.00.
	await openDiary(grace, W1);
	await advanceTestClock(grace, 4);
	await setTime(`${W2}T23:00:00`);
	await expect(grace.getByTestId('diary-auto')).toContainText('this app claimed the week’s payment for you: $40.00 released', { timeout: 15_000 });

	// Both browsers agree: the Resolution Center's past dispute, and the money on Payments.
	for (const p of [ada, grace]) {
		await nav(p, 'Resolution Center');
		await expect(p.getByTestId('no-open-disputes')).toBeVisible({ timeout: 15_000 });
		await expect(p.getByTestId('past-dispute-row')).toContainText(`Work Diary, week of ${W1}: 20 minutes declined`);
		await expect(p.getByTestId('past-dispute-row')).toContainText('$20.00$10.00$10.00$0.00');
	}
	await nav(ada, 'Payments');
	await expect(ada.getByTestId('released-USD')).toHaveText('$50.00', { timeout: 15_000 });
	await expect(ada.getByTestId('refunded-USD')).toHaveText('$10.00');
	await nav(grace, 'Payments');
	await expect(grace.getByTestId('pending-USD')).toHaveText('$50.00', { timeout: 15_000 });
});
