/** axe-core in the browser tests: the WCAG 2.1 A/AA rules and best practices, violations listed by rule and element. */
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

export const SCHEMES = ['light', 'dark'] as const;
export type Scheme = (typeof SCHEMES)[number];

/** Every violation on the page (or inside `include`, a CSS selector), as "rule: elements". */
export async function axeViolations(page: Page, include?: string): Promise<string[]> {
	let builder = new AxeBuilder({ page });
	if (include) builder = builder.include(include);
	const result = await builder.withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
	return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export interface AuditOptions {
	/** Wait for the page's first heading first: audit what a person sees, not a page still loading. */
	heading?: boolean;
	/** Milliseconds for the colour scheme to settle. */
	settleMs?: number;
	/** Keep a full-page screenshot under test-results/screenshots for a person to look at. */
	screenshot?: boolean;
}

/** No axe-core violations on the page in one colour scheme. */
export async function auditScheme(page: Page, name: string, scheme: Scheme, { heading = true, settleMs = 150, screenshot = true }: AuditOptions = {}): Promise<void> {
	await page.emulateMedia({ colorScheme: scheme });
	if (heading) await expect(page.locator('h1').first()).toBeVisible();
	await page.waitForTimeout(settleMs);
	const violations = await axeViolations(page);
	if (screenshot) await page.screenshot({ path: `test-results/screenshots/${name}-${scheme}.png`, fullPage: true });
	expect(violations, `${name} (${scheme})`).toEqual([]);
}

/** No axe-core violations on the page, in the light and the dark colour scheme. */
export async function audit(page: Page, name: string, options: AuditOptions = {}): Promise<void> {
	for (const scheme of SCHEMES) await auditScheme(page, name, scheme, options);
}
