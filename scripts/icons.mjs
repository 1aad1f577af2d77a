// Renders static/favicon.svg to the PNG icons the web manifest needs, with the system Chromium.
// Run once after changing the SVG: node scripts/icons.mjs
import { chromium } from '@playwright/test';
import { readFile } from 'node:fs/promises';

const svg = await readFile('static/favicon.svg', 'utf8');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
for (const [size, file, pad] of [[192, 'icon-192.png', 0], [512, 'icon-512.png', 0], [512, 'icon-512-maskable.png', 0.1]]) {
	const page = await browser.newPage({ viewport: { width: size, height: size } });
	const inner = Math.round(size * (1 - 2 * pad));
	await page.setContent(`<body style="margin:0;background:#0b6e4f;display:grid;place-items:center;height:${size}px">${svg.replace('<svg ', `<svg width="${inner}" height="${inner}" `)}</body>`);
	await page.screenshot({ path: `static/${file}`, omitBackground: false });
	await page.close();
}
await browser.close();
