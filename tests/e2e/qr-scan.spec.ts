import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { activeContract } from './contract-steps';
import { closeBrowsers, person } from './people';
import { writeQrVideo } from './qr-frames';

test.afterEach(closeBrowsers);

// Scanning QR codes with the camera. The freelancer's browser has a fake camera that plays a video
// file written during the test: first the client's verification code as a QR code (the scan fills
// it in and verifies the client), then a device pairing code (the scan fills the code field).
// Headless Chromium on Linux has no BarcodeDetector: this is the jsQR path.

const browsers: Browser[] = [];
test.afterEach(async () => {
	await Promise.all(browsers.splice(0).map((b) => b.close()));
});

async function withFileCamera(name: string, baseURL: string, video: string): Promise<Page> {
	const launch = test.info().project.use.launchOptions ?? {};
	const args = [...(launch.args ?? []), '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`];
	const browser = await chromium.launch({ ...launch, args });
	browsers.push(browser);
	const page = await (await browser.newContext({ baseURL })).newPage();
	page.on('pageerror', (e) => console.error(`[${name}]`, e.message));
	return page;
}

test('scanning the other party’s QR code verifies them; scanning a pairing code fills it in', async ({ baseURL }) => {
	test.setTimeout(150_000);
	mkdirSync(resolve('test-results'), { recursive: true });
	const video = resolve(`test-results/fake-camera-${Date.now()}.y4m`);
	// The camera opens the file when a scan starts: until then it holds a blank frame.
	writeQrVideo(video, '');
	const ada = await person('ada', baseURL!);
	const grace = await withFileCamera('grace', baseURL!, video);
	await activeContract(ada, grace, { title: 'Logo', milestones: [{ title: 'Sketches', amount: '300' }] });
	await expect(grace.getByTestId('contract-status')).toHaveText('active', { timeout: 15_000 });

	await ada.getByText('Verify with a QR code or a verification code instead').click();
	const adaCode = await ada.getByTestId('my-verification-code').inputValue();
	writeQrVideo(video, adaCode);

	await grace.getByText('Verify with a QR code or a verification code instead').click();
	await expect(grace.getByTestId('verified-badge')).toHaveCount(0);
	await grace.getByRole('button', { name: "Scan Ada's QR code" }).click();
	await expect(grace.getByTestId('party-client').getByTestId('verified-badge')).toBeVisible({ timeout: 20_000 });
	await expect(grace.getByTestId('verify-state')).toContainText('with their verification code');
	// The camera stopped once the code was read.
	await expect(grace.getByTestId('qr-camera')).toHaveCount(0);

	// Settings → Add a device: the new device's QR code fills the code field.
	writeQrVideo(video, 'K7M2-9QXR');
	await grace.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
	await grace.getByRole('button', { name: 'Scan the code with the camera' }).click();
	await expect(grace.getByLabel('Code shown on the new device')).toHaveValue('K7M2-9QXR', { timeout: 20_000 });
	await expect(grace.getByTestId('qr-camera')).toHaveCount(0);
});
