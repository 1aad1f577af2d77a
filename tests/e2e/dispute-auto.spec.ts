import { expect, test, type Page } from '@playwright/test';
import { activeContract, fundMilestone } from './contract-steps';
import { closeBrowsers, person } from './people';

test.afterEach(closeBrowsers);

// Issue 12, silence: the client opens a dispute offering $100.00 of $600.00 and the freelancer never
// answers. Once the TEST MODE clock passes the answer deadline, nobody presses anything: the app pays
// the last offer out on its own, and both browsers say so and show the same split.
const dispute = (page: Page, m: string) => page.getByTestId(`dispute-${m}`);
const WEBSITE = { title: 'Website', milestones: [{ title: 'Design', amount: '1,000' }] };

/** The contract page's own TEST MODE clock: both parties' provider time moves by whole days. */
async function advanceClock(page: Page, days: number) {
	const clock = page.getByRole('region', { name: 'Test clock of this contract' });
	await clock.getByLabel('Days to advance').fill(String(days));
	await clock.getByRole('button', { name: 'Advance test clock' }).click();
}

test('silence past the answer deadline: the app pays out the last offer on its own and says so in both browsers', async ({ baseURL }) => {
	test.setTimeout(180_000);
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await activeContract(ada, grace, WEBSITE);
	await fundMilestone(ada, 'm1');
	await expect(grace.getByTestId('status-m1')).toHaveText('Funded · in progress', { timeout: 15_000 });

	await dispute(ada, 'm1').getByRole('button', { name: 'Open a dispute' }).click();
	await ada.getByLabel(/^Amount in dispute/).fill('600');
	await ada.getByLabel('What happened').fill('Two of the five pages are missing.');
	await ada.getByLabel(/^Your opening offer/).fill('100');
	await dispute(ada, 'm1').getByRole('button', { name: 'Open the dispute' }).click();
	await expect(grace.getByTestId('dispute-stage-m1')).toHaveText('Negotiating', { timeout: 15_000 });

	// Before the deadline nothing is paid out.
	await advanceClock(ada, 4);
	await expect(ada.getByRole('region', { name: 'Test clock of this contract' })).toContainText('4 days ahead');
	await expect(grace.getByRole('region', { name: 'Test clock of this contract' })).toContainText('4 days ahead', { timeout: 15_000 });
	await expect(ada.getByTestId('dispute-stage-m1')).toHaveText('Negotiating');
	await expect(grace.getByTestId('money-m1')).not.toContainText('released');

	// Past it: paid out with nobody pressing anything, the same split in both browsers. Both browsers
	// may ask their TEST MODE provider at once (each sees the deadline pass); then the page says the
	// outcome counted once, and the money below shows it did.
	await advanceClock(ada, 1);
	for (const p of [ada, grace]) {
		await expect(dispute(p, 'm1').getByTestId('dispute-past-m1')).toHaveText(
			/^\s*\$600\.00 in dispute\. Paid out automatically on .+ because silence accepted the last offer: \$100\.00 released to the freelancer, \$500\.00 refunded to the client\.(\s*Both browsers' TEST MODE providers paid this outcome out; it counted once, and the other request is settled with nothing more moved\.)?\s*$/,
			{ timeout: 20_000 }
		);
		await expect(p.getByTestId('dispute-stage-m1')).toHaveCount(0);
		await expect(p.getByTestId('money-m1')).toContainText('released $100.00');
		await expect(p.getByTestId('money-m1')).toContainText('refunded $500.00');
	}
	// The Resolution Center says so too, and the midpoint-settled dispute in dispute.spec.ts says "Settled".
	await grace.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Resolution Center/ }).click();
	await expect(grace.getByTestId('past-dispute-row')).toContainText('Paid out automatically: silence accepted the last offer');
});
