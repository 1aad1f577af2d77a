/**
 * People for the browser tests: each in a browser of their own (separate storage, separate keys),
 * closed after every test, with a device set up the way a person does it on the first screen.
 */
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';

const browsers: Browser[] = [];
/**
 * Close the browsers `person` opened. Each spec registers it (`test.afterEach(closeBrowsers)`): a
 * hook declared here would run for the first spec file that imports this module only, since a
 * worker evaluates the module once, and every later file's browsers would stay open.
 */
export async function closeBrowsers(): Promise<void> {
	await Promise.all(browsers.splice(0).map((b) => b.close()));
}

/**
 * A new browser for `name`, its page errors printed with the name. `notFoundAfterMs` shortens the
 * 20 s the app waits before it calls a link's contract not found.
 */
export async function person(name: string, baseURL: string, { notFoundAfterMs }: { notFoundAfterMs?: number } = {}): Promise<Page> {
	const browser = await chromium.launch(test.info().project.use.launchOptions ?? {});
	browsers.push(browser);
	const context = await browser.newContext({ baseURL });
	if (notFoundAfterMs) await context.addInitScript((ms) => localStorage.setItem('milestone.notFoundAfterMs', String(ms)), notFoundAfterMs);
	const page = await context.newPage();
	page.on('pageerror', (e) => console.error(`[${name}]`, e.message));
	return page;
}

/** The first screen: a name, then "Create my key". */
export async function setUp(page: Page, name: string): Promise<void> {
	await page.getByLabel('Your name, as the other party will see it').fill(name);
	await page.getByRole('button', { name: 'Create my key' }).click();
	// The key is stored before the app moves on: navigating earlier would reload the page without it.
	await expect(page.getByLabel('Your name, as the other party will see it')).toBeHidden();
}
