import { expect, test, type Page } from '@playwright/test';
import { audit } from './axe';
import { activeContract, card, fundMilestone, requestPayment } from './contract-steps';
import { closeBrowsers, person, setUp } from './people';

test.afterEach(closeBrowsers);

// Client and freelancer in two browsers, TEST MODE escrow: the client funds, the freelancer requests
// payment, the client opens a dispute in the Resolution Center, offers are exchanged and the client
// accepts the midpoint; the provider splits the escrow and both browsers, their Resolution Center,
// Inbox and Payments show the same outcome.
const dispute = (page: Page, m: string) => page.getByTestId(`dispute-${m}`);
const WEBSITE = { title: 'Website', milestones: [{ title: 'Design', amount: '1,000' }] };
const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: new RegExp(`^${name}`) }).click();

test('a dispute from opening to "accept the midpoint", the same outcome in both browsers', async ({ baseURL }) => {
	test.setTimeout(180_000);
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	await activeContract(ada, grace, WEBSITE);

	// Funded, then submitted.
	await fundMilestone(ada, 'm1');
	await expect(ada.getByTestId('status-m1')).toHaveText('Funded · in progress');
	await expect(grace.getByTestId('status-m1')).toHaveText('Funded · in progress', { timeout: 15_000 });
	await requestPayment(grace, 'm1', 'The designs are ready.');
	await expect(card(ada, 'm1')).toContainText('The designs are ready.', { timeout: 15_000 });

	// The client opens a dispute: every field error at once, next to its field, in words.
	await dispute(ada, 'm1').getByRole('button', { name: 'Open a dispute' }).click();
	await dispute(ada, 'm1').getByRole('button', { name: 'Open the dispute' }).click();
	const amount = ada.getByLabel(/^Amount in dispute, up to \$1,000\.00/);
	await expect(amount).toHaveAccessibleDescription('Enter the amount in dispute: up to the $1,000.00 escrow holds for this milestone.');
	await expect(ada.getByLabel('What happened')).toHaveAccessibleDescription('Say what happened: the other party and any mediator read it.');
	await expect(ada.getByLabel(/^Your opening offer/)).toHaveAccessibleDescription(/^Enter your opening offer/);
	await expect(ada.getByLabel('Reason')).toHaveValue('not-delivered');
	await audit(ada, 'dispute-open-form-with-errors');
	await amount.fill('600');
	await ada.getByLabel('What happened').fill('Two of the five pages are missing.');
	await ada.getByLabel(/^Your opening offer/).fill('100');
	await dispute(ada, 'm1').getByRole('button', { name: 'Open the dispute' }).click();
	await expect(ada.getByTestId('dispute-stage-m1')).toHaveText('Negotiating');
	await expect(ada.getByTestId('dispute-turn-m1')).toHaveText("The freelancer's move");

	// The freelancer sees it, whose move it is, and what silence means, with the date.
	await expect(grace.getByTestId('dispute-stage-m1')).toHaveText('Negotiating', { timeout: 15_000 });
	await expect(grace.getByTestId('dispute-amount-m1')).toContainText('$600.00');
	await expect(grace.getByTestId('dispute-turn-m1')).toHaveText('Your move');
	await expect(grace.getByTestId('dispute-if-nothing-m1')).toHaveText(
		/^If you do nothing by \w{3} \d{1,2} \w{3}, \d\d:\d\d, you accept the client's last offer: \$100\.00 to the freelancer and \$500\.00 back to the client\.$/
	);
	await expect(grace.getByTestId('status-m1')).toHaveText('Disputed');

	// Her Inbox lists the step; her Resolution Center lists the dispute.
	await nav(grace, 'Inbox');
	await expect(grace.getByTestId('todo')).toContainText("Answer the client's offer on milestone 1 (Resolution Center) — if you do nothing, you accept it in 5 days");
	await nav(grace, 'Resolution Center');
	const row = grace.getByTestId('dispute-row');
	await expect(row).toContainText('Website: Design');
	await expect(row).toContainText('Negotiating');
	await expect(row).toContainText('$600.00');
	await expect(row).toContainText('Your move');
	await audit(grace, 'resolution-center');
	await row.getByRole('link').click();

	// An offer above the disputed amount is refused next to the field; then her counter-offer.
	const offer = grace.getByLabel(/^Your new offer/);
	await offer.fill('700');
	await dispute(grace, 'm1').getByRole('button', { name: 'Make offer' }).click();
	await expect(offer).toHaveAccessibleDescription('$600.00 is in dispute: your offer can be at most that.');
	await offer.fill('500');
	await dispute(grace, 'm1').getByRole('button', { name: 'Make offer' }).click();
	await expect(grace.getByTestId('dispute-offer-freelancer-m1')).toHaveText('$500.00 to the freelancer, $100.00 back to the client');
	await expect(grace.getByTestId('dispute-turn-m1')).toHaveText("The client's move");
	await audit(grace, 'dispute-panel');

	// The client takes the midpoint in one action.
	await expect(ada.getByTestId('dispute-midpoint-m1')).toHaveText('$300.00 to the freelancer, $300.00 back to the client', { timeout: 15_000 });
	await expect(ada.getByTestId('dispute-turn-m1')).toHaveText('Your move');
	await dispute(ada, 'm1').getByRole('button', { name: 'Accept the midpoint ($300.00 to the freelancer, $300.00 back to the client)' }).click();

	// Both browsers: settled, the same split; $400.00 not in dispute still held.
	for (const p of [ada, grace]) {
		await expect(dispute(p, 'm1').getByTestId('dispute-past-m1')).toContainText(
			'$600.00 in dispute, settled',
			{ timeout: 15_000 }
		);
		await expect(dispute(p, 'm1').getByTestId('dispute-past-m1')).toContainText('(the midpoint was accepted): $300.00 released to the freelancer, $300.00 refunded to the client.');
		await expect(p.getByTestId('dispute-stage-m1')).toHaveCount(0);
		await expect(p.getByTestId('money-m1')).toContainText('$400.00');
		await expect(p.getByTestId('money-m1')).toContainText('released $300.00');
		await expect(p.getByTestId('money-m1')).toContainText('refunded $300.00');
		await nav(p, 'Resolution Center');
		await expect(p.getByTestId('no-open-disputes')).toBeVisible();
		await expect(p.getByTestId('past-dispute-row')).toContainText('Website: Design');
		await expect(p.getByTestId('past-dispute-row')).toContainText('Settled: the midpoint was accepted');
		await expect(p.getByTestId('past-dispute-row')).toContainText('$600.00$300.00$300.00$0.00');
	}

	// Payments: the client was refunded $300.00 and still holds $400.00; the freelancer's $300.00 waits the security period.
	await nav(ada, 'Payments');
	await expect(ada.getByTestId('refunded-USD')).toHaveText('$300.00');
	await expect(ada.getByTestId('released-USD')).toHaveText('$300.00');
	await expect(ada.getByTestId('escrow-client-USD')).toHaveText('$400.00');
	await nav(grace, 'Payments');
	await expect(grace.getByTestId('pending-USD')).toHaveText('$300.00');
	await expect(grace.getByTestId('available-USD')).toHaveText('$0.00');
	// Nothing of the dispute is left in either Inbox.
	for (const p of [ada, grace]) {
		await nav(p, 'Inbox');
		await expect(p.getByTestId('todo')).not.toContainText('Resolution Center');
	}
});

// Three browsers: the client and the freelancer negotiate without agreement, the client rejects and
// proposes a mediator by its key, the freelancer accepts it, the mediator opens the contract by the
// mediator invite link and rules for the freelancer's last offer; the provider splits the escrow and
// pays the fee, and all three see the same outcome.
test('a mediator both parties accepted rules for the freelancer\'s last offer; the split pays its fee', async ({ baseURL }) => {
	test.setTimeout(240_000);
	const ada = await person('ada', baseURL!);
	const grace = await person('grace', baseURL!);
	const mo = await person('mo', baseURL!);
	await mo.goto('/');
	await setUp(mo, 'Mo');
	await nav(mo, 'Resolution Center');
	const moKey = await mo.getByLabel('Your mediator key').inputValue();
	expect(moKey).toMatch(/^[A-Za-z0-9_-]{43}$/);

	await activeContract(ada, grace, WEBSITE);
	await fundMilestone(ada, 'm1');
	await expect(grace.getByTestId('status-m1')).toHaveText('Funded · in progress', { timeout: 15_000 });
	await requestPayment(grace, 'm1', 'The designs are ready.');
	await expect(card(ada, 'm1')).toContainText('The designs are ready.', { timeout: 15_000 });

	// Negotiated without agreement: $100.00 against $500.00 of $600.00.
	await dispute(ada, 'm1').getByRole('button', { name: 'Open a dispute' }).click();
	await ada.getByLabel(/^Amount in dispute/).fill('600');
	await ada.getByLabel('What happened').fill('Two of the five pages are missing.');
	await ada.getByLabel(/^Your opening offer/).fill('100');
	await dispute(ada, 'm1').getByRole('button', { name: 'Open the dispute' }).click();
	await expect(grace.getByTestId('dispute-turn-m1')).toHaveText('Your move', { timeout: 15_000 });
	await grace.getByLabel(/^Your new offer/).fill('500');
	await dispute(grace, 'm1').getByRole('button', { name: 'Make offer' }).click();
	await expect(ada.getByTestId('dispute-offer-freelancer-m1')).toHaveText('$500.00 to the freelancer, $100.00 back to the client', { timeout: 15_000 });
	await dispute(ada, 'm1').getByRole('button', { name: 'Reject and go to mediation' }).click();
	await dispute(ada, 'm1').getByRole('group', { name: "Reject the freelancer's offer" }).getByRole('button', { name: 'Reject and go to mediation' }).click();
	await expect(ada.getByTestId('dispute-stage-m1')).toHaveText('Choosing a mediator');

	// The client proposes Mo: every field checked at once; the fee is shown before anyone agrees.
	await dispute(ada, 'm1').getByRole('button', { name: 'Propose a mediator' }).click();
	await ada.getByLabel("Mediator's key").fill('not a key');
	await ada.getByLabel(/^Fee, %/).fill('30');
	await dispute(ada, 'm1').getByRole('button', { name: 'Propose this mediator' }).click();
	await expect(ada.getByLabel("Mediator's name")).toHaveAccessibleDescription("Enter the mediator's name, as both parties will see it.");
	await expect(ada.getByLabel("Mediator's key")).toHaveAccessibleDescription(/^That is not a mediator's key/);
	await expect(ada.getByLabel(/^Fee, %/)).toHaveAccessibleDescription(/^Enter the fee as a percentage/);
	await audit(ada, 'dispute-propose-mediator-with-errors');
	await ada.getByLabel("Mediator's name").fill('Mo');
	await ada.getByLabel("Mediator's key").fill(moKey);
	await ada.getByLabel(/^Fee, %/).fill('5');
	await expect(ada.getByTestId('mediator-fee-m1')).toHaveText("The fee on this dispute: $30.00, half from each party's share.");
	await dispute(ada, 'm1').getByRole('button', { name: 'Propose this mediator' }).click();
	await expect(ada.getByTestId('dispute-mediator-wait-m1')).toHaveText('You accepted Mo: waiting for the freelancer.', { timeout: 15_000 });

	// The freelancer accepts the same mediator and fee.
	await dispute(grace, 'm1').getByRole('button', { name: 'Accept Mo as mediator (fee $30.00, half from each share)' }).click({ timeout: 15_000 });
	for (const p of [ada, grace]) {
		await expect(p.getByTestId('dispute-stage-m1')).toHaveText('With the mediator', { timeout: 15_000 });
		await expect(p.getByTestId('dispute-turn-m1')).toHaveText("The mediator's move");
	}

	// The mediator opens the contract by the invite link and rules for the freelancer's last offer.
	const invite = await ada.getByTestId('mediator-link-m1').inputValue();
	await mo.goto(invite);
	await expect(mo.getByTestId('dispute-stage-m1')).toHaveText('With the mediator', { timeout: 20_000 });
	await expect(mo.getByTestId('dispute-turn-m1')).toHaveText('Your move');
	await expect(mo.getByTestId('dispute-reason-m1')).toContainText('Two of the five pages are missing.');
	await audit(mo, 'dispute-mediator-ruling');
	await mo.getByTestId('dispute-ruling-m1').getByRole('button', { name: "Rule for the freelancer's last offer ($500.00 to the freelancer, $100.00 back to the client)" }).click();

	// All three: the split of the ruling, the fee paid out of it, half from each share.
	for (const p of [mo, ada, grace]) {
		await expect(p.getByTestId('dispute-past-m1')).toContainText(
			"(the mediator's ruling): $485.00 released to the freelancer, $85.00 refunded to the client, $30.00 mediator's fee.",
			{ timeout: 20_000 }
		);
		await expect(p.getByTestId('money-m1')).toContainText('released $485.00');
		await expect(p.getByTestId('money-m1')).toContainText('refunded $85.00');
	}
	await nav(ada, 'Payments');
	await expect(ada.getByTestId('refunded-USD')).toHaveText('$85.00');
	await expect(ada.getByTestId('escrow-client-USD')).toHaveText('$400.00');
	await nav(grace, 'Payments');
	await expect(grace.getByTestId('pending-USD')).toHaveText('$485.00');
	await nav(mo, 'Resolution Center');
	await expect(mo.getByTestId('past-dispute-row')).toContainText("the mediator's ruling");
	await expect(mo.getByTestId('past-dispute-row')).toContainText('$600.00$485.00$85.00$30.00');
	// The mediator's own money: Payments lists the fee the ruling paid, and nothing as a party.
	await nav(mo, 'Payments');
	const fee = mo.getByTestId('mediator-fee-row');
	await expect(fee).toHaveCount(1);
	await expect(fee.locator('td').nth(0)).toContainText('Website: Design');
	await expect(fee.locator('td').nth(1)).toHaveText('$600.00');
	await expect(fee.locator('td').nth(2)).toHaveText('$30.00');
	await expect(fee.locator('td').nth(3)).toHaveText(/^Paid\u00a0on /);
	await expect(mo.getByTestId('pending-USD')).toHaveCount(0);
	await audit(mo, 'payments-mediator');
});
