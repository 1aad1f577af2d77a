/**
 * The steps most browser tests start with: the client proposes a contract with milestones, the
 * freelancer opens the link, sets up and accepts, the client confirms who accepted. Each step is
 * the one a person takes on screen; what a test checks along the way stays in the test.
 */
import type { Page } from '@playwright/test';
import { confirmCounterparty } from './binding';
import { setUp } from './people';

export { confirmCounterparty };

/** A milestone's card on the contract page, by its id ("m1", "m2", …). */
export const card = (page: Page, m: string) => page.getByTestId(`milestone-${m}`);

export interface Terms {
	title: string;
	/** "Scope of work", left as the form has it when not given. */
	scope?: string;
	/** In order; amounts as a person types them ("1,000"). */
	milestones: { title: string; amount: string }[];
}

/** On New contract (already open): the terms filled in and proposed; returns the link to send. */
export async function propose(client: Page, terms: Terms): Promise<string> {
	await client.locator('#title').fill(terms.title);
	if (terms.scope !== undefined) await client.getByLabel('Scope of work').fill(terms.scope);
	for (let i = 1; i < terms.milestones.length; i++) await client.getByRole('button', { name: 'Add a milestone' }).click();
	for (const [i, m] of terms.milestones.entries()) {
		await client.locator(`#m${i}-title`).fill(m.title);
		await client.locator(`#m${i}-amount`).fill(m.amount);
	}
	await client.getByRole('button', { name: 'Propose contract' }).click();
	return client.getByTestId('share-link').inputValue();
}

/** The freelancer opens the link on a new device, sets up as `name` and accepts. */
export async function acceptByLink(freelancer: Page, link: string, name: string, acceptTimeout?: number): Promise<void> {
	await freelancer.goto(link);
	await setUp(freelancer, name);
	await freelancer.getByRole('button', { name: 'Accept contract' }).click(acceptTimeout === undefined ? undefined : { timeout: acceptTimeout });
}

export interface Parties {
	client?: string;
	freelancer?: string;
	/** How the client gets to New contract once set up; by its address unless given. */
	openNewContract?: (client: Page) => Promise<unknown>;
	/** A wait for "Accept contract" other than the test's own. */
	acceptTimeout?: number;
}

/**
 * The client (a new device, set up as Ada unless named) proposes `terms`, the freelancer (Grace)
 * accepts by the link, the client confirms her: active on the client's side. Returns the link.
 */
export async function activeContract(client: Page, freelancer: Page, terms: Terms, parties: Parties = {}): Promise<string> {
	const { client: clientName = 'Ada', freelancer: freelancerName = 'Grace' } = parties;
	await client.goto('/');
	await setUp(client, clientName);
	if (parties.openNewContract) await parties.openNewContract(client);
	else await client.goto('/#/new');
	const link = await propose(client, terms);
	await acceptByLink(freelancer, link, freelancerName, parties.acceptTimeout);
	await confirmCounterparty(client, freelancerName);
	return link;
}

/** The client funds milestone `m` in TEST MODE: "Fund milestone", then the Fund button that says how much. */
export async function fundMilestone(client: Page, m: string): Promise<void> {
	await card(client, m).getByRole('button', { name: 'Fund milestone' }).click();
	await card(client, m).getByRole('button', { name: /^Fund / }).click();
}

/** The freelancer asks for payment of milestone `m`, with a message to the client. */
export async function requestPayment(freelancer: Page, m: string, message: string): Promise<void> {
	await card(freelancer, m).getByRole('button', { name: 'Request Payment' }).click();
	await card(freelancer, m).getByLabel('Message to the client').fill(message);
	await card(freelancer, m).getByRole('button', { name: 'Request Payment' }).click();
}
