import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { axeViolations } from './axe';
import { activeContract } from './contract-steps';

// A call between the two parties of a contract, in two browsers with Chromium's fake camera and
// microphone: the freelancer declines a first call; the client calls again and the freelancer
// answers; each sees the other's video playing and the same safety number as under Verify; the
// client hangs up and the call ends on both sides. axe-core finds nothing in the call panel.

const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'];
const browsers: Browser[] = [];
test.afterEach(async () => {
	await Promise.all(browsers.splice(0).map((b) => b.close()));
});

async function withCamera(name: string, baseURL: string): Promise<Page> {
	const launch = test.info().project.use.launchOptions ?? {};
	const browser = await chromium.launch({ ...launch, args: [...(launch.args ?? []), ...FAKE_MEDIA] });
	browsers.push(browser);
	const page = await (await browser.newContext({ baseURL })).newPage();
	page.on('pageerror', (e) => console.error(`[${name}]`, e.message));
	return page;
}

const panel = (page: Page) => page.getByTestId('call');
const digits = async (page: Page, id: string) => (await page.getByTestId(id).innerText()).replace(/\s+/g, ' ').trim();
/** Width of the other party's video as decoded: above 0 once frames arrive and play. */
const remoteWidth = (page: Page) => page.getByTestId('remote-video').evaluate((v: HTMLVideoElement) => (v.paused ? 0 : v.videoWidth));

test('the two parties call each other: video both ways, one safety number, hang up ends it on both sides', async ({ baseURL }) => {
	test.setTimeout(150_000);
	const ada = await withCamera('ada', baseURL!);
	const grace = await withCamera('grace', baseURL!);
	await activeContract(ada, grace, { title: 'Logo', milestones: [{ title: 'Sketches', amount: '300' }] });
	await expect(grace.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });
	await expect(panel(ada).getByRole('heading', { name: 'Call Grace' })).toBeVisible();
	await expect(panel(ada)).toContainText('Nothing of the call is recorded or stored.');

	// A first call, declined.
	await panel(ada).getByRole('button', { name: 'Start a call' }).click();
	await expect(panel(ada).getByTestId('call-status')).toHaveText('Calling Grace…');
	await expect(panel(grace).getByTestId('call-status')).toHaveText('Ada is calling you.', { timeout: 20_000 });
	await panel(grace).getByRole('button', { name: 'Decline' }).click();
	await expect(panel(ada).getByTestId('call-status')).toHaveText('Grace declined the call.', { timeout: 15_000 });
	await expect(panel(ada).getByRole('button', { name: 'Start a call' })).toBeVisible();
	await expect(panel(grace).getByTestId('call-status')).toHaveText('You declined the call.');

	// Called again, answered.
	await panel(ada).getByRole('button', { name: 'Start a call' }).click();
	await expect(panel(grace).getByRole('button', { name: 'Answer' })).toBeVisible({ timeout: 20_000 });
	await axeViolations(grace, '[data-testid="call"]').then((v) => expect(v, 'ringing').toEqual([]));
	await panel(grace).getByRole('button', { name: 'Answer' }).click();
	await expect(panel(ada).getByTestId('call-status')).toHaveText('In a call with Grace.', { timeout: 30_000 });
	await expect(panel(grace).getByTestId('call-status')).toHaveText('In a call with Ada.', { timeout: 30_000 });
	await expect(panel(ada).getByLabel("Grace's video")).toBeVisible();
	await expect(panel(grace).getByLabel("Ada's video")).toBeVisible();
	await expect(panel(grace).getByLabel('Your video')).toBeVisible();
	await expect.poll(() => remoteWidth(ada), { timeout: 20_000 }).toBeGreaterThan(0);
	await expect.poll(() => remoteWidth(grace), { timeout: 20_000 }).toBeGreaterThan(0);

	// The same 60 digits on both screens, and the same as under Verify.
	const adaSees = await digits(ada, 'call-safety-number');
	expect(adaSees).toMatch(/^\d{5}( \d{5}){11}$/);
	expect(await digits(grace, 'call-safety-number')).toBe(adaSees);
	expect(await digits(ada, 'safety-number')).toBe(adaSees);

	// Muting is a pressed toggle with a stable name; the local track stops sending.
	const mic = panel(grace).getByRole('button', { name: 'Mute microphone' });
	await mic.click();
	await expect(mic).toHaveAttribute('aria-pressed', 'true');
	expect(await grace.getByTestId('local-video').evaluate((v: HTMLVideoElement) => (v.srcObject as MediaStream).getAudioTracks().every((t) => !t.enabled))).toBe(true);
	await mic.click();
	await expect(mic).toHaveAttribute('aria-pressed', 'false');

	for (const page of [ada, grace]) expect(await axeViolations(page, '[data-testid="call"]'), 'in a call').toEqual([]);

	await panel(ada).getByRole('button', { name: 'Hang up' }).click();
	await expect(panel(ada).getByTestId('call-status')).toHaveText('You hung up. The call has ended.');
	await expect(panel(grace).getByTestId('call-status')).toHaveText('Ada hung up. The call has ended.', { timeout: 15_000 });
	for (const page of [ada, grace]) {
		await expect(page.getByTestId('remote-video')).toHaveCount(0);
		await expect(panel(page).getByRole('button', { name: 'Start a call' })).toBeVisible();
	}
	// The camera is off again: no live track left in either page.
	expect(await ada.evaluate(() => document.querySelectorAll('video').length)).toBe(0);
});
