import AxeBuilder from '@axe-core/playwright';
import { chromium, expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { confirmCounterparty } from './binding';

// An hourly contract in two browsers. The freelancer logs time in two weeks, the client disputes two
// segments of week 1 and the freelancer accepts; week 1 is paid net of them, week 2 in full, each
// after its review window. Both browsers' clocks start on a chosen Monday (Playwright's clock: time
// then flows naturally, and jumps where the freelancer needs a later day to log time); the money
// clocks — the edit lock, the review window — are run out with the contract's TEST MODE clock.
// Grace works from Berlin, Ada from New York: the diary shows each of them their own local times.
let browsers: Browser[] = [];
test.afterEach(async () => {
	await Promise.all(browsers.map((b) => b.close()));
	browsers = [];
});

const utc = (s: string) => new Date(`${s}Z`);
const W1 = '2027-01-04';
const W2 = '2027-01-11';

async function person(name: string, baseURL: string, timezoneId: string): Promise<{ page: Page; context: BrowserContext }> {
	const browser = await chromium.launch(test.info().project.use.launchOptions ?? {});
	browsers.push(browser);
	const context = await browser.newContext({ baseURL, timezoneId });
	await context.clock.install({ time: utc(`${W1}T08:00:00`) });
	const page = await context.newPage();
	page.on('pageerror', (e) => console.error(`[${name}]`, e.message));
	return { page, context };
}

async function setUp(page: Page, name: string) {
	await page.getByLabel('Your name, as the other party will see it').fill(name);
	await page.getByRole('button', { name: 'Create my key' }).click();
	await expect(page.getByLabel('Your name, as the other party will see it')).toBeHidden();
}

const nav = (page: Page, link: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();

/** Back to the contract page through the app's own links (a changed hash from outside reloads the app). */
async function openContract(page: Page) {
	await nav(page, 'Contracts');
	await page.getByTestId('contract-row').getByRole('link').click();
	await expect(page.getByTestId('hourly')).toBeVisible({ timeout: 15_000 });
}

async function openDiary(page: Page, week: string) {
	await openContract(page);
	await page.getByTestId(`hourly-week-${week}`).getByRole('link', { name: /^Week of/ }).click();
	await expect(page.getByTestId('diary-week')).toBeVisible();
}

async function advanceTestClock(page: Page, days: number) {
	await page.getByLabel('Days to advance').fill(String(days));
	await page.getByRole('button', { name: 'Advance test clock' }).click();
}

async function addManualTime(page: Page, day: string, from: string, to: string, memo: string) {
	await page.getByLabel('Day', { exact: true }).fill(day);
	await page.getByLabel('From', { exact: true }).fill(from);
	await page.getByLabel('To', { exact: true }).fill(to);
	await page.getByLabel('Memo', { exact: true }).fill(memo);
	await page.getByRole('button', { name: 'Add manual time' }).click();
}

async function audit(page: Page, name: string) {
	for (const scheme of ['light', 'dark'] as const) {
		await page.emulateMedia({ colorScheme: scheme });
		await page.waitForTimeout(150);
		const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
		await page.screenshot({ path: `test-results/screenshots/${name}-${scheme}.png`, fullPage: true });
		expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), `${name} (${scheme})`).toEqual([]);
	}
}

test('hourly: two weeks logged, two segments disputed and accepted, week 1 paid net and week 2 in full', async ({ baseURL }) => {
	test.setTimeout(150_000);
	const { page: ada, context: adaContext } = await person('ada', baseURL!, 'America/New_York');
	const { page: grace, context: graceContext } = await person('grace', baseURL!, 'Europe/Berlin');
	const setTime = (s: string) => Promise.all([adaContext.clock.setSystemTime(utc(s)), graceContext.clock.setSystemTime(utc(s))]);

	// Ada proposes an hourly contract: $60 an hour, at most 10 hours a week.
	await ada.goto('/');
	await setUp(ada, 'Ada');
	await nav(ada, 'New contract');
	await ada.getByLabel('Hourly (paid per week from the Work Diary)').check();
	await ada.locator('#title').fill('Support retainer');
	await ada.getByLabel('Hourly rate (USD)').fill('60');
	await ada.getByLabel('Weekly limit (hours)').fill('10');
	await expect(ada.getByTestId('hourly-escrow')).toHaveText('Escrow each week: $600.00 (10 h × $60.00).');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	const link = await ada.getByTestId('share-link').inputValue();

	await grace.goto(link);
	await setUp(grace, 'Grace');
	await expect(grace.getByTestId('terms-weekly-limit')).toContainText('10 hours a week', { timeout: 15_000 });
	await grace.getByRole('button', { name: 'Accept contract' }).click();
	await confirmCounterparty(ada, 'Grace');
	await expect(grace.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });

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
