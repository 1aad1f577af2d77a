import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as money from '../../../src/lib/money/index';

const dir = fileURLToPath(new URL('../../../src/lib/money/', import.meta.url));

describe('money public API', () => {
	it('re-exports the whole surface from index.ts', () => {
		for (const name of [
			'MoneyError',
			'CURRENCIES',
			'CURRENCY_CODES',
			'currencyName',
			'exponentOf',
			'isCurrencyCode',
			'MAX_AMOUNT_MINOR',
			'assertMinor',
			'formatAmount',
			'parseAmount',
			'toDecimalString',
			'FULL_BASIS_POINTS',
			'allocateByWeights',
			'percentToBasisPoints',
			'DAY_MS',
			'HOUR_MS',
			'FUNDING_FEES',
			'FUNDING_METHODS',
			'PAYOUT_FEES',
			'PAYOUT_METHODS',
			'basisPointsOf',
			'feeFor',
			'quoteFunding',
			'quoteWithdrawal'
		]) {
			expect(money, name).toHaveProperty(name);
		}
		const q = money.quoteFunding(10_000, 'card', 'USD', 0);
		expect(money.formatAmount(q.total, 'USD')).toBe('$103.20');
	});

	it('source stays float-free and self-contained', () => {
		const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
		expect(files.length).toBeGreaterThanOrEqual(5);
		for (const f of files) {
			const src = readFileSync(dir + f, 'utf8');
			expect(src, f).not.toMatch(/parseFloat|toFixed\(|Math\.round|Number\.parseFloat/);
			// Only relative imports: no $lib alias, no packages, no DOM/Svelte/Yjs.
			for (const m of src.matchAll(/from\s+'([^']+)'/g)) expect(m[1], `${f} imports ${m[1]}`).toMatch(/^\.\//);
		}
	});
});
