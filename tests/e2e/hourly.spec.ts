import { expect, test, type Page } from '@playwright/test';
import { audit as axeAudit } from './axe';
import { advanceTestClock, closeBrowsers, hourlyContract, nav, openContract, openDiary, person, setUp, utc, W1 } from './hourly-steps';

// An hourly contract in two browsers. The freelancer logs time in two weeks, the client disputes two
// segments of week 1 and the freelancer accepts; week 1 is paid net of them, week 2 in full, each
// after its review window. Both browsers' clocks start on a chosen Monday (Playwright's clock: time
// then flows naturally, and jumps where the freelancer needs a later day to log time); the money
// clocks — the edit lock, the review window — are run out with the contract's TEST MODE clock.
// Grace works from Berlin, Ada from New York: the diary shows each of them their own local times.
test.afterEach(closeBrowsers);

const W2 = '2027-01-11';

async function addManualTime(page: Page, day: string, from: string, to: string, memo: string) {
	await page.getByLabel('Day', { exact: true }).fill(day);
	await page.getByLabel('From', { exact: true }).fill(from);
	await page.getByLabel('To', { exact: true }).fill(to);
	await page.getByLabel('Memo', { exact: true }).fill(memo);
	await page.getByRole('button', { name: 'Add manual time' }).click();
}

/** axe-core in both colour schemes, with a screenshot of each. */
const audit = (page: Page, name: string) => axeAudit(page, name, { heading: false });

test('hourly: two weeks logged, two segments disputed and accepted, week 1 paid net and week 2 in full', async ({ baseURL }) => {
	test.setTimeout(240_000);
	const { page: ada, context: adaContext } = await person('ada', baseURL!, { timezoneId: 'America/New_York' });
	const { page: grace, context: graceContext } = await person('grace', baseURL!, { timezoneId: 'Europe/Berlin' });
	const setTime = (s: string) => Promise.all([adaContext.clock.setSystemTime(utc(s)), graceContext.clock.setSystemTime(utc(s))]);

	// Ada proposes an hourly contract: $60 an hour, at most 10 hours a week; Grace accepts.
	await hourlyContract(ada, grace, () => expect(ada.getByTestId('hourly-escrow')).toHaveText('Escrow each week: $600.00 (10 h × $60.00).'));
	// Only what an hourly contract has: no milestones, no fixed-price review window.
	for (const p of [ada, grace]) {
		await expect(p.getByRole('heading', { name: 'Milestones' })).toHaveCount(0);
		await expect(p.getByRole('button', { name: 'Propose a milestone' })).toHaveCount(0);
		await expect(p.getByText(/review window \d+ days/)).toHaveCount(0);
	}

	// Ada funds week 1: its limit × rate goes into escrow.
	await ada.getByRole('button', { name: 'Fund the week of 4 Jan 2027 ($600.00)' }).click();
	await ada.getByRole('button', { name: 'Fund $600.00' }).click();
	await expect(ada.getByTestId(`hourly-week-${W1}`)).toContainText('In progress');
	await expect(ada.getByRole('button', { name: /Fund the week of 4 Jan/ })).toHaveCount(0);

	// Tuesday: Grace logs Monday's hour by hand (10:00–11:00 in Berlin, 09:00–10:00 UTC).
	await setTime(`${W1}T12:00:00`);
	await grace.getByTestId('work-diary-link').click();
	await expect(grace.getByTestId('diary-week')).toHaveText('Week of 4 Jan 2027');
	await addManualTime(grace, W1, '10:00', '11:00', 'Built the signup form');
	await expect(grace.getByTestId('diary-logged')).toContainText('1 h');
	await expect(grace.getByTestId('segment')).toHaveCount(6);
	await expect(grace.getByTestId('diary-amount')).toContainText('$60.00');
	// The time in the future cannot be logged, and says so next to the field.
	await addManualTime(grace, '2027-01-05', '14:00', '15:00', 'This afternoon’s work');
	await expect(grace.locator('#manual-to-error')).toHaveText('That time has not ended yet: time in the future cannot be logged.');

	// Monday of week 2, before week 1's edits lock: an hour in week 2, and Ada funds week 2.
	await setTime(`${W2}T09:30:00`);
	await openDiary(grace, W2);
	await addManualTime(grace, W2, '09:00', '10:00', 'Wrote the tests');
	await expect(grace.getByTestId('diary-logged')).toContainText('1 h');
	// Then she tracks time: the tracker survives a reload, shows in the header, and logs the slot it ran in.
	await openContract(grace);
	await grace.getByLabel('Memo — what you are working on').fill('Reviewed the pull request');
	await grace.getByRole('button', { name: 'Start tracking' }).click();
	await expect(grace.getByTestId('tracker-badge')).toContainText('Tracking Support retainer');
	await grace.reload();
	await expect(grace.getByTestId('tracker-running')).toBeVisible({ timeout: 15_000 });
	await expect(grace.getByLabel('Memo — what you are working on')).toHaveValue('Reviewed the pull request');
	// Eleven minutes pass on both machines (timers fire: the tracker's heartbeat every 15 s).
	await Promise.all([adaContext.clock.runFor(11 * 60_000), graceContext.clock.runFor(11 * 60_000)]);
	await grace.getByRole('button', { name: 'Stop tracking', exact: true }).click();
	await expect(grace.getByTestId('tracker-badge')).toBeHidden();
	await openDiary(grace, W2);
	await expect(grace.getByTestId('diary-logged')).toContainText('1 h 10 min (10 min tracked, 1 h manual)');
	await expect(grace.locator('[data-testid="segment"]').filter({ hasText: 'Reviewed the pull request' })).toHaveCount(1);
	await openContract(ada);
	await ada.getByRole('button', { name: 'Fund the week of 11 Jan 2027 ($600.00)' }).click();
	await ada.getByRole('button', { name: 'Fund $600.00' }).click();
	await expect(ada.getByRole('button', { name: /Fund the week of 11 Jan/ })).toHaveCount(0);

	// One day on the provider's clock: week 1's edits have locked, and Grace's app submits its timesheet.
	await openDiary(grace, W1);
	await advanceTestClock(grace, 1);
	await expect(grace.getByTestId('diary-auto')).toContainText('this app submitted its timesheet for you: 1 h billing $60.00', { timeout: 15_000 });
	await expect(grace.getByTestId('diary-status')).toContainText('In review until');

	// Ada reviews week 1 (in New York time) and disputes two segments.
	await openDiary(ada, W1);
	await expect(ada.getByTestId('diary-status')).toContainText('In review until', { timeout: 15_000 });
	await expect(ada.getByTestId('diary-week-label')).toContainText('America/New_York');
	await expect(ada.locator('[data-testid="segment"][data-billing="billed"]')).toHaveCount(6);
	await audit(ada, 'work-diary-client');
	await ada.getByRole('button', { name: 'Dispute', exact: true }).click();
	await expect(ada.locator('#dispute-reason-error')).toHaveText('Say why you dispute this time: the freelancer reads it and accepts or declines.');
	await ada.getByTestId('segment').nth(4).click();
	await ada.getByTestId('segment').nth(5).click();
	await expect(ada.getByTestId('dispute-selected')).toHaveText('20 min selected.');
	await ada.getByLabel('Why do you dispute this time?').fill('The last twenty minutes were a coffee break.');
	await ada.getByRole('button', { name: 'Dispute', exact: true }).click();
	await expect(ada.getByTestId('dispute-status')).toContainText('Open: the freelancer answers by');
	await expect(ada.locator('[data-testid="segment"][data-billing="disputed"]')).toHaveCount(2);

	// Grace sees the dispute and accepts it: those twenty minutes go back to Ada.
	await expect(grace.getByTestId('dispute')).toContainText('coffee break', { timeout: 15_000 });
	await audit(grace, 'work-diary-freelancer');
	await grace.getByRole('button', { name: 'Accept dispute' }).click();
	await expect(grace.getByTestId('dispute-status')).toHaveText('Accepted: this time is refunded to the client.');
	await expect(ada.getByTestId('dispute-status')).toHaveText('Accepted: this time is refunded to the client.', { timeout: 15_000 });

	// Past week 1's review window: Grace's app claims it by itself, net of the accepted dispute.
	await advanceTestClock(grace, 5);
	await expect(grace.getByTestId('diary-auto')).toContainText('this app claimed the week’s payment for you: $40.00 released', { timeout: 15_000 });
	await expect(grace.getByTestId('diary-release')).toContainText('$40.00 released');
	await expect(grace.getByTestId('diary-release')).toContainText('pending until');
	await expect(ada.getByTestId('diary-status')).toHaveText('Released $40.00.', { timeout: 15_000 });

	// Week 2: its timesheet after its lock, then paid in full after its review window.
	await advanceTestClock(grace, 2);
	await openDiary(grace, W2);
	await expect(grace.getByTestId('diary-auto')).toContainText('this app submitted its timesheet for you: 1 h 10 min billing $70.00', { timeout: 15_000 });
	await advanceTestClock(grace, 5);
	await expect(grace.getByTestId('diary-auto')).toContainText('this app claimed the week’s payment for you: $70.00 released', { timeout: 15_000 });

	// Both browsers agree: the diaries, and the balances on Payments.
	for (const p of [ada, grace]) {
		await openDiary(p, W2);
		await expect(p.getByTestId('diary-status')).toHaveText('Released $70.00.', { timeout: 15_000 });
		await expect(p.getByTestId('diary-amount')).toContainText('$70.00');
		// Week 2's unused $530.00 was carried on to a later week, as week 1's $560.00 was.
		await expect(p.getByTestId('diary-escrow')).toHaveText('$0.00 held · $70.00 released');
		await openDiary(p, W1);
		await expect(p.getByTestId('diary-status')).toHaveText('Released $40.00.');
		await expect(p.getByTestId('diary-refunded')).toContainText('20 min');
		await expect(p.getByTestId('diary-escrow')).toHaveText('$0.00 held · $40.00 released');
	}
	// Week 1's $40 has passed its 5-day security period on the provider's clock; week 2's $70 has not.
	await nav(grace, 'Payments');
	await expect(grace.getByTestId('available-USD')).toHaveText('$40.00', { timeout: 15_000 });
	await expect(grace.getByTestId('pending-USD')).toHaveText('$70.00');
	await nav(ada, 'Payments');
	await expect(ada.getByTestId('released-USD')).toHaveText('$110.00', { timeout: 15_000 });
	await expect(ada.getByTestId('funded-USD')).toHaveText('$1,200.00');

	// Payments lists the hourly weeks. Ada (client): each billed week, its time, amount and status.
	const adaW1 = ada.getByTestId('client-weeks').getByTestId(`week-${W1}`);
	await expect(adaW1.getByTestId('week-hours')).toHaveText('1 h');
	await expect(adaW1.getByTestId('week-amount')).toContainText('$40.00');
	await expect(adaW1.getByTestId('week-amount')).toContainText('$60.00 billed, $20.00 refunded');
	await expect(adaW1.getByTestId('week-status')).toContainText('Paid: $40.00 paid');
	const adaW2 = ada.getByTestId('client-weeks').getByTestId(`week-${W2}`);
	await expect(adaW2.getByTestId('week-hours')).toHaveText('1 h 10 min');
	await expect(adaW2.getByTestId('week-status')).toContainText('Paid: $70.00 paid');
	// Grace (freelancer): each week's earnings, pending until the security period ends, or available.
	const graceW1 = grace.getByTestId('freelancer-weeks').getByTestId(`week-${W1}`);
	await expect(graceW1.getByTestId('week-status')).toContainText('$40.00 available since');
	const graceW2 = grace.getByTestId('freelancer-weeks').getByTestId(`week-${W2}`);
	await expect(graceW2.getByTestId('week-amount')).toHaveText('$70.00');
	await expect(graceW2.getByTestId('week-status')).toContainText('$70.00 pending until');
	await expect(grace.getByTestId('pending-lots')).toContainText('Support retainer · week of 11 Jan 2027');

	await audit(ada, 'payments-hourly-client');
	await audit(grace, 'payments-hourly-freelancer');

	// Week 1's invoice, from Payments: the time with its memo, the rate, and the amounts, in Ada's time zone.
	await adaW1.getByRole('link', { name: 'Invoice for the week of 4 Jan 2027, Support retainer' }).click();
	const invoice = ada.getByTestId('invoice');
	await expect(invoice.getByTestId('invoice-line')).toHaveCount(2, { timeout: 15_000 });
	await expect(invoice.getByTestId('invoice-line').nth(0)).toContainText('04:00–04:40');
	await expect(invoice.getByTestId('invoice-line').nth(0)).toContainText('Built the signup form');
	await expect(invoice.getByTestId('invoice-line').nth(0)).toContainText('40 min');
	await expect(invoice.getByTestId('invoice-line').nth(1)).toContainText('disputed, refunded to the client');
	await expect(invoice.getByTestId('invoice-from')).toHaveText('Grace');
	await expect(invoice.getByTestId('invoice-to')).toHaveText('Ada');
	await expect(invoice.getByTestId('invoice-rate')).toHaveText('$60.00 an hour');
	await expect(invoice.getByTestId('invoice-amount')).toHaveText('$60.00');
	await expect(invoice.getByTestId('invoice-refunded')).toHaveText('−$20.00');
	await expect(invoice.getByTestId('invoice-total')).toHaveText('$40.00');
	await audit(ada, 'invoice-client');
	const [file] = await Promise.all([ada.waitForEvent('download'), ada.getByRole('button', { name: 'Download invoice (HTML)' }).click()]);
	expect(file.suggestedFilename()).toMatch(new RegExp(`^invoice-[0-9A-Z_-]{8}-${W1}\\.html$`));
	const html = await (await import('node:fs/promises')).readFile((await file.path())!, 'utf8');
	expect(html).toContain('Built the signup form');
	expect(html).toContain('$40.00');

	// Week 2's invoice, from Grace's Work Diary: 1 h 10 min at $60.00, $70.00.
	await openDiary(grace, W2);
	await grace.getByTestId('invoice-link').click();
	await expect(grace.getByTestId('invoice-total')).toHaveText('$70.00', { timeout: 15_000 });
	await expect(grace.getByTestId('invoice-hours')).toHaveText('1 h 10 min');
	await expect(grace.getByTestId('invoice-line').filter({ hasText: 'Reviewed the pull request' })).toHaveCount(1);
	await expect(grace.getByTestId('invoice-status')).toContainText('pending until');

	// The Work Diary runs on the contract's TEST MODE clock: 13 days ahead, it reads Sunday 24 January
	// while the devices still read 11 January, and Grace logs Wednesday 20 January of that week.
	const W3 = '2027-01-18';
	await openDiary(grace, W3);
	await expect(grace.getByTestId('diary-week')).toHaveText('Week of 18 Jan 2027');
	await addManualTime(grace, '2027-01-20', '10:00', '10:30', 'Fixed the login bug');
	await expect(grace.getByTestId('diary-logged')).toContainText('30 min', { timeout: 15_000 });
	await expect(grace.locator('[data-testid="segment"]').filter({ hasText: 'Fixed the login bug' })).toHaveCount(3);
});

test('a new hourly contract shows every field error at once, next to its field; no weekly limit is plainly not protected', async ({ page }) => {
	await page.goto('/');
	await setUp(page, 'Ada');
	await nav(page, 'New contract');
	await page.getByLabel('Hourly (paid per week from the Work Diary)').check();
	await expect(page.getByTestId('new-hourly-clocks')).toContainText('Monday 12:00 UTC');
	await page.getByLabel('Weekly limit (hours)').fill('');
	await page.getByRole('button', { name: 'Propose contract' }).click();
	const expected: [string, string][] = [
		['#title', 'Title is required.'],
		['#rate', 'Enter the hourly rate.'],
		['#weekly-limit', 'Enter the weekly limit in hours, or choose “No weekly limit”.']
	];
	for (const [field, message] of expected) {
		await expect(page.locator(field)).toHaveAttribute('aria-invalid', 'true');
		await expect(page.locator(field)).toHaveAccessibleDescription(new RegExp(message.replace(/[.()]/g, '\\$&')));
	}
	await expect(page.getByTestId('error-summary')).toHaveText('3 fields need attention: see the message under each.');
	await page.locator('#rate').fill('60.555');
	await page.getByLabel('Weekly limit (hours)').fill('81');
	await page.getByRole('button', { name: 'Propose contract' }).click();
	await expect(page.locator('#rate-error')).toContainText('decimal');
	await expect(page.locator('#weekly-limit-error')).toHaveText('Weekly limit must be at most 80 hours.');

	await page.locator('#title').fill('Open-ended support');
	await page.locator('#rate').fill('45');
	await page.getByLabel(/No weekly limit/).check();
	await expect(page.getByLabel('Weekly limit (hours)')).toBeDisabled();
	await expect(page.getByTestId('no-limit-warning')).toContainText('not protected by escrow');
	await page.getByRole('button', { name: 'Propose contract' }).click();
	await expect(page.getByTestId('terms-weekly-limit')).toHaveText('No limit — hours are not protected by escrow.');
	await expect(page.getByTestId('hourly-terms')).toContainText('no weekly limit — not protected by escrow');
	await expect(page.getByTestId('terms-rate')).toContainText('$45.00 an hour');
});
