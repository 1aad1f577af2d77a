import { chromium, expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { deriveRelayKeys } from '../../src/lib/sync/relay-client';
import { confirmCounterparty } from './binding';

// Push, the service worker's half: a push arrives for a contract whose app is closed (delivered
// through the DevTools protocol, as the push service would; this headless Chromium has no push
// service to subscribe with). The worker pulls the room from the relay, verifies and folds what it
// finds with the contract stored on the device, and names the contract and the action, from local
// data alone, in a notification.

let browsers: Browser[] = [];
test.afterEach(async () => {
	await Promise.all(browsers.map((b) => b.close()));
	browsers = [];
});

async function person(name: string, baseURL: string): Promise<{ context: BrowserContext; page: Page }> {
	const browser = await chromium.launch(test.info().project.use.launchOptions ?? {});
	browsers.push(browser);
	const context = await browser.newContext({ baseURL, permissions: ['notifications'] });
	const page = await context.newPage();
	page.on('pageerror', (e) => console.error(`[${name}]`, e.message));
	return { context, page };
}

async function setUp(page: Page, name: string) {
	await page.getByLabel('Your name, as the other party will see it').fill(name);
	await page.getByRole('button', { name: 'Create my key' }).click();
	await expect(page.getByLabel('Your name, as the other party will see it')).toBeHidden();
}

const card = (page: Page) => page.getByTestId('milestone-m1');
const status = (page: Page) => page.getByTestId('status-m1');
const allSaved = (page: Page) => expect(page.getByTestId('relay-saved')).toHaveText('All saved to relay', { timeout: 20_000 });
const secretOf = (link: string) => /#\/join\/[^/]+\/([A-Za-z0-9_-]+)/.exec(link)![1]!;

/** The notifications the app's service worker shows, read from a page of the origin. */
const notifications = (page: Page) =>
	page.evaluate(async () => {
		const reg = await navigator.serviceWorker.getRegistration();
		return (await reg!.getNotifications()).map((n) => ({ title: n.title, body: n.body, contract: (n.data as { contract?: string } | null)?.contract }));
	});

test('a push wakes the service worker: it pulls, verifies and folds, then names the contract and the action', async ({ baseURL }) => {
	test.setTimeout(180_000);
	const title = `Bakery website ${randomBytes(3).toString('hex')}`;
	const { page: ada } = await person('ada', baseURL!);
	const { context: graceBrowser, page: grace } = await person('grace', baseURL!);

	await ada.goto('/');
	await setUp(ada, 'Ada');
	await ada.goto('/#/new');
	await ada.locator('#title').fill(title);
	await ada.locator('#m0-title').fill('Design');
	await ada.locator('#m0-amount').fill('500');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	const link = await ada.getByTestId('share-link').inputValue();
	const contract = /#\/c\/([A-Za-z0-9_-]+)/.exec(ada.url())![1]!;

	await grace.goto(link);
	await setUp(grace, 'Grace');
	await grace.getByRole('button', { name: 'Accept contract' }).click();
	await confirmCounterparty(ada, 'Grace');
	await card(ada).getByRole('button', { name: 'Fund milestone' }).click();
	await card(ada).getByRole('button', { name: /^Fund / }).click();
	await expect(status(grace)).toHaveText('Funded · in progress', { timeout: 15_000 });
	await card(grace).getByRole('button', { name: 'Request Payment' }).click();
	await card(grace).getByLabel('Message to the client').fill('The designs are ready.');
	await card(grace).getByLabel('Deliverable links (one per line)').fill('https://example.com/designs');
	await card(grace).getByRole('button', { name: 'Request Payment' }).click();
	await expect(card(ada)).toContainText('The designs are ready.', { timeout: 15_000 });
	await allSaved(grace);

	// Grace closes the app; her browser, and the app's service worker in it, stay.
	await grace.close();
	await card(ada).getByRole('button', { name: 'Release Payment' }).click();
	await card(ada).getByRole('button', { name: 'Release everything' }).click();
	await card(ada).getByTestId('release-confirmation').getByRole('button', { name: 'Release Payment' }).click();
	await expect(status(ada)).toHaveText('Released');
	await allSaved(ada);

	// A page of the origin that is not the app (the app would pull the release itself).
	const page = await graceBrowser.newPage();
	await page.goto('/manifest.webmanifest');
	expect(await notifications(page)).toEqual([]);
	const cdp = await graceBrowser.newCDPSession(page);
	const registrations: string[] = [];
	cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] }) => {
		for (const r of e.registrations) if (!r.isDeleted && r.scopeURL.startsWith(new URL(baseURL!).origin)) registrations.push(r.registrationId);
	});
	await cdp.send('ServiceWorker.enable');
	await expect.poll(() => registrations.length).toBeGreaterThan(0);

	// What the relay would send: the room id, nothing else.
	const room = deriveRelayKeys(secretOf(link)).room;
	await cdp.send('ServiceWorker.deliverPushMessage', { origin: new URL(baseURL!).origin, registrationId: registrations[0]!, data: JSON.stringify({ room }) });
	await expect.poll(() => notifications(page), { timeout: 60_000 }).toEqual([{ title, body: 'Ada released $500.00 on Design', contract }]);

	// The worker kept what it pulled: the contract opens with the release while nobody can send it
	// (Ada's app is closed, the relay out of reach).
	await ada.close();
	await graceBrowser.routeWebSocket(/:4447\//, (ws) => ws.close());
	const again = await graceBrowser.newPage();
	await again.goto('/');
	await again.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contracts' }).click();
	await again.getByTestId('contract-row').getByRole('link').click();
	await expect(again.getByTestId('status-m1')).toHaveText('Released', { timeout: 15_000 });
});
