import { expect, test, type Page } from '@playwright/test';
import { propose } from './contract-steps';
import { person, setUp } from './people';

// Reopening a contract this device verified before starts from its checkpoint (persistence.ts,
// checkpoint.ts): the page shows the same contract, what came after the checkpoint is verified and
// folded on top, and a checkpoint that was tampered with in storage is ignored, not trusted.

const contractId = (page: Page) => new URL(page.url()).hash.match(/#\/c\/([^/?]+)/)![1]!;

/** The checkpoint's header in the contract's database (checkpoint-records.ts), or null. */
function checkpointHeader(page: Page, contract: string): Promise<{ parts: number; checksum: string } | null> {
	return page.evaluate(
		(db) =>
			new Promise((resolve) => {
				const r = indexedDB.open(db);
				r.onsuccess = () => {
					const tx = r.result.transaction('custom', 'readonly');
					const get = tx.objectStore('custom').get('checkpoint');
					get.onsuccess = () => resolve(get.result ?? null);
					tx.oncomplete = () => r.result.close();
				};
			}),
		`milestone-contract-${contract}`
	) as Promise<{ parts: number; checksum: string } | null>;
}

/** How many events the contract page's open took from a checkpoint (0 when it verified and folded everything). */
const restored = (page: Page) =>
	page.evaluate(() => ((performance.getEntriesByName('sync:checkpoint-restored')[0] as PerformanceMark | undefined)?.detail?.events as number | undefined) ?? 0);

test('a reopen starts from the checkpoint, folds what came after it, and ignores a tampered one', async ({ baseURL }) => {
	const ada = await person('ada', baseURL!);
	await ada.goto('/');
	await setUp(ada, 'Ada');
	await ada.goto('/#/new');
	await propose(ada, { title: 'Checkpointed site', milestones: [{ title: 'Design', amount: '1,200' }] });
	const contract = contractId(ada);
	await ada.getByRole('textbox', { name: 'Message' }).fill('First note');
	await ada.getByRole('button', { name: 'Send message' }).click();
	await expect(ada.getByTestId('messages')).toContainText('First note');
	// Written once the document has been idle for a moment.
	await expect.poll(() => checkpointHeader(ada, contract), { timeout: 15_000 }).not.toBeNull();

	await ada.reload();
	await expect(ada.getByTestId('messages')).toContainText('First note');
	await expect(ada.getByRole('heading', { name: 'Checkpointed site' })).toBeVisible();
	const first = await restored(ada);
	expect(first).toBeGreaterThan(0);

	// A new event on top of the restored state, then the checkpoint that includes it.
	const before = (await checkpointHeader(ada, contract))!.checksum;
	await ada.getByRole('textbox', { name: 'Message' }).fill('Second note');
	await ada.getByRole('button', { name: 'Send message' }).click();
	await expect(ada.getByTestId('messages')).toContainText('Second note');
	await expect.poll(async () => (await checkpointHeader(ada, contract))?.checksum, { timeout: 15_000 }).not.toBe(before);
	await ada.reload();
	await expect(ada.getByTestId('messages')).toContainText('Second note');
	expect(await restored(ada)).toBe(first + 1);

	// Storage tampered with: one character of the checkpoint changed. It is ignored, and the
	// contract is verified and folded from its events as on a first open.
	await ada.evaluate(
		(db) =>
			new Promise<void>((resolve) => {
				const r = indexedDB.open(db);
				r.onsuccess = () => {
					const tx = r.result.transaction('custom', 'readwrite');
					const store = tx.objectStore('custom');
					const get = store.get('checkpoint/00000');
					get.onsuccess = () => store.put((get.result as string).replace('Second note', 'Sekond note'), 'checkpoint/00000');
					tx.oncomplete = () => (r.result.close(), resolve());
				};
			}),
		`milestone-contract-${contract}`
	);
	await ada.reload();
	await expect(ada.getByTestId('messages')).toContainText('Second note');
	await expect(ada.getByTestId('messages')).not.toContainText('Sekond');
	expect(await restored(ada)).toBe(0);
});
