import { expect, test, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { propose } from './contract-steps';
import { closeBrowsers, person, setUp } from './people';

test.afterEach(closeBrowsers);

// The Inbox counts what still needs the person, keeps its news across a reload, and a link whose
// contract never arrives says so (after a wait shortened here) and can be removed.
const nav = (page: Page, link: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link });
const inboxLink = (page: Page) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Inbox/ });
/** A link that parses but names a contract nobody has: a damaged copy. */
const damagedLink = () => `/#/join/${randomBytes(32).toString('base64url').slice(0, 43)}/${randomBytes(24).toString('base64url')}`;

test('a link whose contract is not found says so after the wait, with what to check, and can be removed', async ({ baseURL }) => {
	const ada = await person('ada', baseURL!, { notFoundAfterMs: 3_000 });
	await ada.goto('/');
	await setUp(ada, 'Ada');

	// From the join page itself.
	await ada.goto(damagedLink());
	await expect(ada.getByText('Looking for the contract')).toBeVisible();
	await expect(ada.getByRole('heading', { name: 'Contract not found' })).toBeVisible({ timeout: 15_000 });
	await expect(ada.getByRole('alert')).toContainText('the link was copied whole');
	await expect(ada.getByRole('alert')).toContainText('reach the relay');
	await expect(inboxLink(ada)).toHaveText('Inbox (1)');
	await ada.getByRole('button', { name: 'Remove this link' }).click();
	await expect(ada.getByRole('status')).toContainText('Nothing of this link is left on this device');
	await expect(inboxLink(ada)).toHaveText('Inbox');
	await nav(ada, 'Contracts').click();
	await expect(ada.getByText('No contracts on this device yet.')).toBeVisible();

	// From the Inbox, after a reload: the row is there again once the wait is over, and goes with its count.
	await ada.goto(damagedLink());
	await expect(ada.getByRole('heading', { name: 'Contract not found' })).toBeVisible({ timeout: 15_000 });
	// The app's own link: a hash changed from outside makes the router reload by itself, which would race the reload below.
	await inboxLink(ada).click();
	await expect(ada.getByRole('heading', { name: 'Inbox', level: 1 })).toBeVisible();
	await ada.reload();
	const row = ada.getByTestId('not-found');
	await expect(row).toContainText('Contract not found', { timeout: 15_000 });
	await expect(row).toContainText('copied whole');
	await expect(inboxLink(ada)).toHaveText('Inbox (1)');
	await row.getByRole('button', { name: 'Remove this link' }).click();
	await expect(row).toHaveCount(0);
	await expect(ada.getByText('Nothing needs your attention.')).toBeVisible();
	await expect(inboxLink(ada)).toHaveText('Inbox');
	await nav(ada, 'Contracts').click();
	await expect(ada.getByText('No contracts on this device yet.')).toBeVisible();
});

test('any contract row can be removed from this device, after a confirmation that says what it means', async ({ baseURL }) => {
	const ada = await person('ada', baseURL!, { notFoundAfterMs: 60_000 });
	await ada.goto('/');
	await setUp(ada, 'Ada');
	await ada.goto(damagedLink());
	await nav(ada, 'Contracts').click();
	const row = ada.getByTestId('contract-row');
	await expect(row).toHaveCount(1);
	await row.getByRole('button', { name: /^Remove .* from this device$/ }).click();
	await expect(row.getByRole('group', { name: 'Remove this contract from this device' })).toContainText('The other party and the escrow provider keep theirs');
	await row.getByRole('button', { name: 'Keep it' }).click();
	await expect(row).toHaveCount(1);
	await row.getByRole('button', { name: /^Remove .* from this device$/ }).click();
	await row.getByRole('button', { name: 'Remove from this device', exact: true }).click();
	await expect(ada.getByText('No contracts on this device yet.')).toBeVisible();
	await ada.reload();
	await expect(ada.getByText('No contracts on this device yet.')).toBeVisible();
});

test('the Inbox count is what still needs you: it goes down once you act, and the news stays after a reload', async ({ baseURL }) => {
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await ada.goto('/');
	await setUp(ada, 'Ada');
	await ada.goto('/#/new');
	const link = await propose(ada, { title: 'Website', milestones: [{ title: 'Design', amount: '1,200' }] });
	await expect(inboxLink(ada)).toHaveText('Inbox');

	await grace.goto(link);
	await setUp(grace, 'Grace');
	await expect(grace.getByRole('button', { name: 'Accept contract' })).toBeVisible({ timeout: 15_000 });
	// The proposal waits for her answer: one thing needs her.
	await expect(inboxLink(grace)).toHaveText('Inbox (1)');
	await grace.getByRole('button', { name: 'Accept contract' }).click();
	await expect(grace.getByTestId('accepted-waiting')).toBeVisible();
	// Answered: now she waits for Ada, and the count goes down.
	await expect(inboxLink(grace)).toHaveText('Inbox');

	// Ada has someone to confirm; the news of the acceptance is in her Inbox, and still there after a reload.
	await expect(inboxLink(ada)).toHaveText('Inbox (1)', { timeout: 15_000 });
	await inboxLink(ada).click();
	await expect(ada.getByTestId('todo')).toContainText('Website: Confirm');
	await expect(ada.getByTestId('recent')).toContainText('Grace accepted');
	await ada.reload();
	await expect(ada.getByTestId('recent')).toContainText('Grace accepted', { timeout: 15_000 });
	await expect(inboxLink(ada)).toHaveText('Inbox (1)');
});
