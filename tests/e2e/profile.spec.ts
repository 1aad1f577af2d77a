import { readFile, writeFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { audit } from './axe';
import { activeContract, card, fundMilestone, propose } from './contract-steps';
import { closeBrowsers, person, setUp } from './people';

test.afterEach(closeBrowsers);

// A portable work history: a contract is paid and ended in two browsers; the client writes a
// reference about the freelancer (with the TEST MODE provider's attestation), the freelancer adds it
// to her profile and exports it, and a third browser opens the file and sees the reference verified
// (labelled TEST MODE). The same file with one rating changed shows the reference as failed, with why.
const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();

async function download(page: Page, click: () => Promise<unknown>): Promise<string> {
	const [file] = await Promise.all([page.waitForEvent('download'), click()]);
	return (await file.path())!;
}

async function leaveFeedback(page: Page, rating: string, text: string) {
	await page.getByRole('button', { name: 'Leave feedback' }).click({ timeout: 15_000 });
	await page.getByLabel('Rating (1 to 5)').fill(rating);
	await page.getByLabel('Feedback', { exact: true }).fill(text);
	await page.getByRole('button', { name: 'Send feedback' }).click();
}

test('a finished contract yields a reference another browser imports and sees verified', async ({ baseURL }) => {
	test.setTimeout(120_000);
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await activeContract(ada, grace, { title: 'Logo', milestones: [{ title: 'Design', amount: '2,500' }] }, { acceptTimeout: 15_000 });
	await expect(grace.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });

	await fundMilestone(ada, 'm1');
	const adaCard = card(ada, 'm1');
	await adaCard.getByRole('button', { name: 'Release Payment' }).click();
	await adaCard.getByRole('button', { name: 'Release everything ($2,500.00)' }).click();
	await adaCard.getByTestId('release-confirmation').getByRole('button', { name: 'Release Payment' }).click();
	await expect(adaCard.getByTestId('money-m1')).toContainText('released $2,500.00');

	await ada.getByRole('button', { name: 'End contract' }).click();
	await ada.getByRole('button', { name: 'Yes, end the contract' }).click();
	await expect(ada.getByTestId('contract-status')).toHaveText('ended');
	await expect(grace.getByTestId('contract-status')).toHaveText('ended', { timeout: 15_000 });
	// No reference before the feedback it carries.
	await expect(ada.getByTestId('reference-refusal')).toContainText('Leave feedback first');
	await leaveFeedback(ada, '5', 'Clear, fast and friendly.');
	await leaveFeedback(grace, '4', 'Paid promptly.');

	const reference = await download(ada, () => ada.getByRole('button', { name: 'Write a reference for Grace' }).click());
	await expect(ada.getByTestId('reference-note')).toContainText('send it to Grace');

	// Grace adds it to her profile and exports the profile.
	await nav(grace, 'Profile');
	await grace.getByLabel('Headline').fill('Logos and brand identity');
	await grace.getByRole('button', { name: 'Save profile' }).click();
	await grace.getByLabel('Add a reference (a reference file someone sent you)').setInputFiles(reference);
	await expect(grace.getByText('Added: Verified in TEST MODE')).toBeVisible();
	await expect(grace.getByTestId('my-references')).toContainText('5/5 “Clear, fast and friendly.”');
	const profile = await download(grace, () => grace.getByRole('button', { name: 'Export profile' }).click());

	// Someone else opens it.
	const bob = await person('bob', baseURL!);
	await bob.goto('/');
	await setUp(bob, 'Bob');
	await nav(bob, 'Profile');
	await bob.getByLabel('Profile file').setInputFiles(profile);
	const view = bob.getByTestId('opened-profile');
	await expect(view.getByRole('heading', { name: 'Grace' })).toBeVisible();
	await expect(view).toContainText('Logos and brand identity');
	await expect(view.getByTestId('reference-status')).toHaveText('Verified in TEST MODE (no real money: anyone can sign TEST MODE attestations)');
	await expect(view.getByTestId('history-summary')).toContainText('1 completed contract (all in TEST MODE: no real money).');
	await expect(view.getByTestId('history-summary')).toContainText('Paid through escrow: $1k–5k.');
	await expect(view.getByTestId('history-summary')).toContainText('Rating 5 of 5 from 1 reference.');
	await expect(view).toContainText('You have not verified the author');
	await audit(bob, 'profile-opened');

	// The same file with the rating edited: the reference fails, and says why; nothing counts.
	const tampered = JSON.parse(await readFile(profile, 'utf8')) as { references: { reference: { body: string } }[] };
	tampered.references[0]!.reference.body = tampered.references[0]!.reference.body.replace('"rating":5', '"rating":1');
	const tamperedPath = `${profile}-tampered.json`;
	await writeFile(tamperedPath, JSON.stringify(tampered));
	await bob.getByLabel('Profile file').setInputFiles(tamperedPath);
	await expect(view.getByTestId('reference-status')).toHaveText('Failed');
	await expect(view.getByTestId('reference')).toContainText('Reference: The signature does not match the text');
	await expect(view.getByTestId('history-summary')).toContainText('No history: this key has no verified references.');

	// Grace attaches her profile to what she proposes: Bob sees her history before accepting.
	await grace.getByLabel('Attach my profile to contracts I propose (the other party sees it before accepting)').check();
	await grace.getByRole('button', { name: 'Save profile' }).click();
	await grace.goto('/#/new');
	const link = await propose(grace, { title: 'Brand kit', milestones: [{ title: 'Kit', amount: '800' }] });
	await bob.goto(link);
	const history = bob.getByTestId('proposer-history');
	await expect(history).toContainText('1 completed contract (all in TEST MODE: no real money).', { timeout: 15_000 });
	await expect(history.getByTestId('reference-status')).toHaveText(/^Verified in TEST MODE/);
	await expect(bob.getByRole('button', { name: 'Accept contract' })).toBeVisible();

	// A long scope that fits a proposal alone, but not with her profile attached (one signed event
	// holds 32 KB, and text is escaped twice once signed): she is told so before anything is written,
	// next to the scope, and can propose without the profile.
	const escaped = (text: string) => JSON.stringify(JSON.stringify(text)).length;
	const attached = escaped(JSON.stringify(JSON.parse(await readFile(profile, 'utf8'))));
	const line = '"Logo", "Icon", "Type".\n';
	let scope = '';
	while (escaped(scope + line) < 32 * 1024 - 1_500 - attached / 2) scope += line;
	await grace.goto('/#/new');
	await grace.locator('#title').fill('Brand book');
	await grace.getByLabel('Scope of work').fill(scope);
	await grace.locator('#m0-title').fill('Book');
	await grace.locator('#m0-amount').fill('900');
	await grace.getByRole('button', { name: 'Propose contract' }).click();
	await expect(grace.locator('#scope-error')).toHaveText(/^This is 3\d KB once signed, and one event can hold 32 KB: shorten the longest text by about \d+ KB\.$/);
	await expect(grace.getByTestId('profile-too-large')).toBeVisible();
	await expect(grace.getByTestId('share-link')).toHaveCount(0);
	await grace.getByRole('button', { name: 'Propose without my profile' }).click();
	await expect(grace.getByTestId('share-link')).toBeVisible({ timeout: 15_000 });
	await expect(grace.getByTestId('contract-title')).toHaveText('Brand book');
});
