import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { depsFromEnv } from '../../src/edge/config';
import { createHandler } from '../../src/edge/handler';
import { FakeStripe } from '../edge/fake-stripe/fake';
import { SIGNING_SEED, WEBHOOK_SECRET } from '../edge/harness';
import { confirmCounterparty } from './binding';

// Funding a Stripe-escrowed milestone from the app: the real edge function (in this process, against
// the Stripe fake) behind its URL, and a stand-in for Stripe.js at js.stripe.com (no network here),
// whose Payment Element hands back a PaymentMethod the way Stripe's does.
const FUNCTION = 'https://escrow.milestone.test';
const FAKE_STRIPE_JS = `
window.Stripe = function (key) {
	return {
		elements: function (opts) {
			return {
				create: function () {
					var node;
					return {
						mount: function (el) { node = el; el.innerHTML = '<label>Card number <input name="card" value="4242 4242 4242 4242"></label>'; el.dataset.amount = String(opts.amount); },
						destroy: function () { if (node) node.innerHTML = ''; }
					};
				},
				submit: async function () { return {}; }
			};
		},
		createPaymentMethod: async function () { return { paymentMethod: { id: 'pm_card_visa' } }; },
		handleNextAction: async function () { return {}; }
	};
};`;

async function wire(context: BrowserContext, handler: (r: Request) => Promise<Response>) {
	await context.route('https://js.stripe.com/v3/**', (route) => route.fulfill({ contentType: 'text/javascript', body: FAKE_STRIPE_JS }));
	await context.route(`${FUNCTION}/**`, async (route) => {
		const r = route.request();
		const res = await handler(new Request(r.url(), { method: r.method(), headers: r.headers(), body: ['GET', 'HEAD'].includes(r.method()) ? undefined : r.postData() }));
		await route.fulfill({ status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()) });
	});
}

async function person(context: BrowserContext, name: string): Promise<Page> {
	const page = await context.newPage();
	await page.goto('/');
	await page.getByLabel('Your name, as the other party will see it').fill(name);
	await page.getByRole('button', { name: 'Create my key' }).click();
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
	await page.getByRole('radio', { name: /Stripe Connect/ }).check();
	await page.getByLabel('Escrow function URL').fill(FUNCTION);
	await page.getByLabel('Stripe publishable key').fill('pk_test_1234567890');
	await page.getByRole('button', { name: 'Save escrow provider' }).click();
	await expect(page.getByTestId('current-provider')).toContainText('Stripe');
	return page;
}

test('a client funds a Stripe-escrowed milestone with the card step', async ({ browser, baseURL }) => {
	let now = Date.now();
	const fake = new FakeStripe(() => now);
	const deps = depsFromEnv(
		{ STRIPE_SECRET_KEY: 'sk_test_fakeKeyForTheInProcessStripe', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ESCROW_SIGNING_SEED: SIGNING_SEED, ALLOWED_ORIGINS: new URL(baseURL!).origin },
		{ fetch: fake.fetch, now: () => now, maxNetworkRetries: 0, timeoutMs: 10_000 }
	);
	const handler = createHandler(deps);
	const adaContext = await browser.newContext({ baseURL });
	const graceContext = await browser.newContext({ baseURL });
	await wire(adaContext, handler);
	await wire(graceContext, handler);
	const ada = await person(adaContext, 'Ada');
	const grace = await person(graceContext, 'Grace');

	await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New contract' }).click();
	await expect(ada.getByTestId('new-provider')).toContainText('Stripe');
	await ada.locator('#title').fill('Stripe site');
	await ada.locator('#m0-title').fill('Design');
	await ada.locator('#m0-amount').fill('1,200');
	await ada.getByRole('button', { name: 'Propose contract' }).click();
	const link = await ada.getByTestId('share-link').inputValue();
	await grace.goto(link);
	await grace.getByRole('button', { name: 'Accept contract' }).click();
	await confirmCounterparty(ada, 'Grace');
	await expect(ada.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });

	const card = ada.getByTestId('milestone-m1');
	await card.getByRole('button', { name: 'Fund milestone' }).click();
	await expect(card.getByTestId('card-step').getByLabel('Card number')).toBeVisible();
	await expect(card.getByTestId('card-step')).toHaveAttribute('data-amount', '120000');
	await card.getByRole('button', { name: /^Fund / }).click();
	await expect(ada.getByTestId('status-m1')).toHaveText('Funded · in progress', { timeout: 15_000 });
	await expect(grace.getByTestId('status-m1')).toHaveText('Funded · in progress', { timeout: 15_000 });

	// In Stripe: one PaymentIntent for the milestone, paid with the Payment Element's PaymentMethod.
	const intents = [...fake.paymentIntents.values()] as unknown as { amount: number; payment_method: string | null; status: string }[];
	expect(intents).toHaveLength(1);
	expect(intents[0]).toMatchObject({ payment_method: 'pm_card_visa', status: 'succeeded' });
	expect(intents[0]!.amount).toBeGreaterThan(120_000);
	await adaContext.close();
	await graceContext.close();
});
