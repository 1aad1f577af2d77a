import { chromium, expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { confirmCounterparty } from './binding';

// Steps the hourly specs share: a browser per person whose clock starts on a chosen Monday
// (Playwright's clock: time then flows, and jumps where a later day is needed), and an hourly
// contract of $60 an hour, at most 10 hours a week, proposed by Ada and accepted by Grace.

export const W1 = '2027-01-04';
export const utc = (s: string) => new Date(`${s}Z`);

/** Browsers opened by `person`; a spec closes them in its afterEach with `closeBrowsers`. */
const browsers: Browser[] = [];
export async function closeBrowsers(): Promise<void> {
	await Promise.all(browsers.splice(0).map((b) => b.close()));
}

export async function person(name: string, baseURL: string, o: { timezoneId?: string; args?: string[] } = {}): Promise<{ page: Page; context: BrowserContext }> {
	const launch = test.info().project.use.launchOptions ?? {};
	const browser = await chromium.launch({ ...launch, args: [...(launch.args ?? []), ...(o.args ?? [])] });
	browsers.push(browser);
	const context = await browser.newContext({ baseURL, timezoneId: o.timezoneId ?? 'UTC' });
	await context.clock.install({ time: utc(`${W1}T08:00:00`) });
	const page = await context.newPage();
	page.on('pageerror', (e) => console.error(`[${name}]`, e.message));
	return { page, context };
}

export async function setUp(page: Page, name: string): Promise<void> {
	await page.getByLabel('Your name, as the other party will see it').fill(name);
	await page.getByRole('button', { name: 'Create my key' }).click();
	await expect(page.getByLabel('Your name, as the other party will see it')).toBeHidden();
}

export const nav = (page: Page, link: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: new RegExp(`^${link}`) }).click();

/** Back to the contract page through the app's own links (a changed hash from outside reloads the app). */
export async function openContract(page: Page): Promise<void> {
	await nav(page, 'Contracts');
	await page.getByTestId('contract-row').getByRole('link').click();
	await expect(page.getByTestId('hourly')).toBeVisible({ timeout: 15_000 });
}

export async function openDiary(page: Page, week: string): Promise<void> {
	await openContract(page);
	await page.getByTestId(`hourly-week-${week}`).getByRole('link', { name: /^Week of/ }).click();
	await expect(page.getByTestId('diary-week')).toBeVisible();
}

export async function advanceTestClock(page: Page, days: number): Promise<void> {
	await page.getByLabel('Days to advance').fill(String(days));
	await page.getByRole('button', { name: 'Advance test clock' }).click();
}

/**
 * Ada proposes the hourly contract and Grace accepts it by its link. `beforePropose` runs on Ada's
 * filled-in form (to check what it shows).
 */
export async function hourlyContract(ada: Page, grace: Page, beforePropose?: () => Promise<void>): Promise<void> {
	await ada.goto('/');
	await setUp(ada, 'Ada');
	await nav(ada, 'New contract');
	await ada.getByLabel('Hourly (paid per week from the Work Diary)').check();
	await ada.locator('#title').fill('Support retainer');
	await ada.getByLabel('Hourly rate (USD)').fill('60');
	await ada.getByLabel('Weekly limit (hours)').fill('10');
	await beforePropose?.();
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	const link = await ada.getByTestId('share-link').inputValue();
	await grace.goto(link);
	await setUp(grace, 'Grace');
	await expect(grace.getByTestId('terms-weekly-limit')).toContainText('10 hours a week', { timeout: 15_000 });
	await grace.getByRole('button', { name: 'Accept contract' }).click();
	await confirmCounterparty(ada, 'Grace');
	await expect(grace.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });
}
