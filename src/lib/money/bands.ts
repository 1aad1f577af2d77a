/**
 * Amount bands: what a work history says about money instead of an exact amount ("$1k–5k"). The
 * escrow provider signs the band of what a contract paid out (escrow/attestation.ts), so a reference
 * proves money moved without telling anyone how much exactly. Bands are data, in major units; a
 * currency whose unit is small (yen) scales them so a band means about the same money.
 */
import { exponentOf, type CurrencyCode } from './currency';

export interface AmountBand {
	id: string;
	/** Major units (before the currency's scale), inclusive. */
	low: number;
	/** Major units, exclusive; null: no upper bound. */
	high: number | null;
}

/** `none` is a contract that paid nothing out. Ordered; every positive amount falls in exactly one. */
export const AMOUNT_BANDS: readonly AmountBand[] = [
	{ id: 'none', low: 0, high: 0 },
	{ id: 'under-100', low: 0, high: 100 },
	{ id: '100-500', low: 100, high: 500 },
	{ id: '500-1k', low: 500, high: 1_000 },
	{ id: '1k-5k', low: 1_000, high: 5_000 },
	{ id: '5k-10k', low: 5_000, high: 10_000 },
	{ id: '10k-50k', low: 10_000, high: 50_000 },
	{ id: '50k+', low: 50_000, high: null }
];

/** Currencies whose major unit is worth much less than a dollar: bands are multiplied by this. */
export const BAND_SCALE: Partial<Record<CurrencyCode, number>> = { JPY: 100 };

export const BAND_IDS = AMOUNT_BANDS.map((b) => b.id);

const scale = (c: CurrencyCode): number => BAND_SCALE[c] ?? 1;
const minorOf = (major: number, c: CurrencyCode): number => major * scale(c) * 10 ** exponentOf(c);

export function bandById(id: string): AmountBand | undefined {
	return AMOUNT_BANDS.find((b) => b.id === id);
}

/** The band of `minor` units of `currency`. */
export function bandOf(minor: number, currency: CurrencyCode): string {
	if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError('An amount band needs a whole, non-negative number of minor units.');
	if (minor === 0) return 'none';
	for (const b of AMOUNT_BANDS) {
		if (b.id === 'none') continue;
		if (minor >= minorOf(b.low, currency) && (b.high === null || minor < minorOf(b.high, currency))) return b.id;
	}
	throw new RangeError('No band holds this amount.');
}

function symbolOf(currency: CurrencyCode): string {
	try {
		return new Intl.NumberFormat('en-US', { style: 'currency', currency, currencyDisplay: 'narrowSymbol' }).formatToParts(0).find((p) => p.type === 'currency')?.value ?? `${currency} `;
	} catch {
		return `${currency} `;
	}
}

/** 1500 → "1.5k", 50000 → "50k", 1000000 → "1M". */
function short(n: number): string {
	// Whole numbers only (no floats in money code): one decimal, truncated.
	const unit = (size: number, suffix: string) => {
		const tenths = Math.floor((n % size) / (size / 10));
		return `${Math.floor(n / size)}${tenths ? `.${tenths}` : ''}${suffix}`;
	};
	if (n >= 1_000_000) return unit(1_000_000, 'M');
	if (n >= 1_000) return unit(1_000, 'k');
	return String(n);
}

/** A range of major units as a person reads it: "$1k–5k", "$50k+", "under $100", "nothing paid". */
export function rangeText(low: number, high: number | null, currency: CurrencyCode): string {
	const sym = symbolOf(currency);
	const k = scale(currency);
	if (high === 0) return 'nothing paid';
	if (high === null) return `${sym}${short(low * k)}+`;
	if (low === 0) return `under ${sym}${short(high * k)}`;
	return `${sym}${short(low * k)}–${short(high * k)}`;
}

export function bandText(id: string, currency: CurrencyCode): string {
	const b = bandById(id);
	return b ? rangeText(b.low, b.high, currency) : 'unknown amount';
}

/** The sum of several bands of one currency, as a range: its low ends added, its high ends added (unbounded if any is). */
export function bandTotal(ids: readonly string[], currency: CurrencyCode): string {
	let low = 0;
	let high: number | null = 0;
	for (const id of ids) {
		const b = bandById(id);
		if (!b) continue;
		low += b.low;
		high = high === null || b.high === null ? null : high + b.high;
	}
	if (high === 0) return 'nothing paid';
	if (high === null) return `${rangeText(low, null, currency)}`;
	return low === 0 ? rangeText(0, high, currency) : rangeText(low, high, currency);
}
