import { describe, expect, it } from 'vitest';
import { AMOUNT_BANDS, bandOf, bandText, bandTotal } from '../../../src/lib/money/bands';

describe('amount bands', () => {
	it('every amount falls in one band, edges included on the low side', () => {
		expect(bandOf(0, 'USD')).toBe('none');
		expect(bandOf(1, 'USD')).toBe('under-100');
		expect(bandOf(9_999, 'USD')).toBe('under-100');
		expect(bandOf(10_000, 'USD')).toBe('100-500');
		expect(bandOf(99_999, 'USD')).toBe('500-1k');
		expect(bandOf(100_000, 'USD')).toBe('1k-5k');
		expect(bandOf(5_000_000, 'USD')).toBe('50k+');
		// Three decimals for the dinar; yen bands scaled ×100.
		expect(bandOf(1_000_000, 'KWD')).toBe('1k-5k');
		expect(bandOf(100_000, 'JPY')).toBe('1k-5k');
		expect(() => bandOf(-1, 'USD')).toThrow();
	});

	it('reads as a person would say it', () => {
		expect(bandText('1k-5k', 'USD')).toBe('$1k–5k');
		expect(bandText('50k+', 'EUR')).toBe('€50k+');
		expect(bandText('under-100', 'GBP')).toBe('under £100');
		expect(bandText('1k-5k', 'JPY')).toBe('¥100k–500k');
		expect(bandText('none', 'USD')).toBe('nothing paid');
		expect(bandTotal(['1k-5k', '100-500'], 'USD')).toBe('$1.1k–5.5k');
		expect(bandTotal(['1k-5k', '50k+'], 'USD')).toBe('$51k+');
		expect(AMOUNT_BANDS.map((b) => b.id)).toContain('5k-10k');
	});
});
