import { expect, test, type Page } from '@playwright/test';
import { audit as axeAudit } from './axe';
import { closeBrowsers, hourlyContract, nav, person as hourlyPerson } from './hourly-steps';

// Screenshots on an hourly contract, in two browsers. Grace (freelancer) turns screenshots on — the
// browser's screen-sharing picker is answered by a launch flag that picks the app's own tab — and
// tracks twenty minutes: each segment carries a thumbnail taken at a random moment in it. Ada
// (client) sees the thumbnails in her Work Diary and opens one large. Grace discards one before the
// week's lock: its segment disappears from both diaries. (What a phone says instead is a unit test:
// tests/unit/sync/screenshots.test.ts.)
test.afterEach(closeBrowsers);

// Without a flag headless Chromium's screen picker never answers; this one picks the tab titled "Milestone".
const person = (name: string, baseURL: string) => hourlyPerson(name, baseURL, { timezoneId: 'UTC', args: ['--auto-select-tab-capture-source-by-title=Milestone'] });

async function openDiary(page: Page) {
	await nav(page, 'Contracts');
	await page.getByTestId('contract-row').getByRole('link').click();
	await expect(page.getByTestId('hourly')).toBeVisible({ timeout: 15_000 });
	await page.getByTestId('work-diary-link').click();
	await expect(page.getByTestId('diary-week')).toHaveText('Week of 4 Jan 2027');
}

test('screenshots: taken per segment while tracking, seen by the client, one discarded before the lock with its segment on both sides', async ({ baseURL }) => {
	test.setTimeout(180_000);
	const { page: ada, context: adaContext } = await person('ada', baseURL!);
	const { page: grace, context: graceContext } = await person('grace', baseURL!);

	await hourlyContract(ada, grace);

	// Grace turns screenshots on (the browser asks which screen to share once), then tracks.
	const settings = grace.getByTestId('screenshot-settings');
	await expect(settings).toContainText('never sent to the escrow provider');
	await settings.getByRole('button', { name: 'Take screenshots while tracking' }).click();
	await expect(grace.getByTestId('screenshots-on')).toBeVisible({ timeout: 15_000 });
	await grace.getByLabel('Memo — what you are working on').fill('Answered support tickets');
	await grace.getByRole('button', { name: 'Start tracking' }).click();
	await expect(grace.getByTestId('tracker-badge-screenshots')).toHaveText('screenshots on');
	// Twenty-one minutes pass: the slots 08:00 and 08:10 UTC end, each with its screenshot.
	await Promise.all([adaContext.clock.runFor(21 * 60_000), graceContext.clock.runFor(21 * 60_000)]);
	await grace.getByRole('button', { name: 'Stop tracking', exact: true }).click();

	await openDiary(grace);
	await expect(grace.getByTestId('segment')).toHaveCount(2, { timeout: 15_000 });
	await expect(grace.getByTestId('screenshot')).toHaveCount(2, { timeout: 15_000 });

	// Ada sees both thumbnails, and opens one large; she cannot discard it.
	await openDiary(ada);
	await expect(ada.getByTestId('segment')).toHaveCount(2, { timeout: 15_000 });
	await expect(ada.getByTestId('screenshot')).toHaveCount(2, { timeout: 15_000 });
	await ada.getByTestId('screenshot').first().click();
	const large = ada.getByRole('dialog');
	await expect(large.getByRole('img')).toBeVisible();
	expect(await large.getByRole('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
	await expect(large.getByRole('button', { name: 'Discard screenshot' })).toHaveCount(0);
	await large.getByRole('button', { name: 'Close' }).click();
	await axeAudit(ada, 'work-diary-screenshots-client', { heading: false });

	// Grace discards the first screenshot before the lock: its ten minutes go, on both sides.
	await grace.getByTestId('screenshot').first().click();
	await grace.getByRole('dialog').getByRole('button', { name: 'Discard screenshot' }).click();
	await expect(grace.getByRole('dialog')).toBeHidden();
	await expect(grace.getByTestId('segment')).toHaveCount(1);
	await expect(grace.getByTestId('screenshot')).toHaveCount(1);
	await expect(grace.getByTestId('diary-logged')).toContainText('10 min');
	await expect(ada.getByTestId('segment')).toHaveCount(1, { timeout: 15_000 });
	await expect(ada.getByTestId('screenshot')).toHaveCount(1, { timeout: 15_000 });
	await expect(ada.getByTestId('diary-logged')).toContainText('10 min');
});
