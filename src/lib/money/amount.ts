/**
 * Reading and writing amounts. An amount is always an integer count of minor units; the decimal
 * point only exists in strings shown to or typed by people. Conversion is done on digit strings
 * (and BigInt), never with binary floating point, so 0.1 + 0.2 style errors cannot creep in.
 */
import { exponentOf, type CurrencyCode } from './currency';
import { MoneyError } from './errors';
import type { Minor } from './minor';

/**
 * The largest amount the app accepts, in minor units of the contract's currency: 10 billion, i.e.
 * 100 million USD/EUR/GBP…, 10 million KWD/BHD, 10 billion JPY. Far above any freelance milestone,
 * and small enough that amount × 10 000 (basis-point fee math) stays below 2^53.
 */
export const MAX_AMOUNT_MINOR = 10_000_000_000;

/** Throws unless `n` is a safe, non-negative integer: the only shape money may have here. */
export function assertMinor(n: unknown, what = 'Amount'): asserts n is number {
	if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
		throw new MoneyError('invalid-amount', `${what} must be a whole, non-negative number of minor units (got ${String(n)}).`);
}

/**
 * Minor units → plain decimal string with exactly the currency's decimal places, no grouping:
 * 123456 USD → "1234.56", 1234 JPY → "1234", 5 KWD → "0.005". Negative amounts keep their sign.
 */
export function toDecimalString(minor: number, currency: CurrencyCode): string {
	if (!Number.isSafeInteger(minor)) throw new MoneyError('invalid-amount', `Not a whole number of minor units: ${String(minor)}.`);
	const exp = exponentOf(currency);
	const sign = minor < 0 ? '-' : '';
	const digits = String(Math.abs(minor)).padStart(exp + 1, '0');
	if (exp === 0) return sign + digits;
	return `${sign}${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

// Building a NumberFormat is slow compared with using one; pages format many amounts.
const formatters = new Map<string, Intl.NumberFormat>();

function formatterFor(currency: CurrencyCode, locale: string): Intl.NumberFormat {
	const key = `${locale}|${currency}`;
	let nf = formatters.get(key);
	if (!nf) {
		const exp = exponentOf(currency);
		nf = new Intl.NumberFormat(locale, {
			style: 'currency',
			currency,
			minimumFractionDigits: exp,
			maximumFractionDigits: exp
		});
		formatters.set(key, nf);
	}
	return nf;
}

/**
 * Minor units → localized currency text ("$1,234.50", "¥1,234", "KWD 1,234.500").
 * The decimal STRING goes to Intl (exact decimal input, ES2023 / Node 20), so no division by 10^exp
 * ever produces a float. Negative amounts are allowed here for display of adjustments.
 */
export function formatAmount(minor: number, currency: CurrencyCode, locale = 'en-US'): string {
	const text = toDecimalString(minor, currency);
	// TypeScript's ES2022 lib types format() as number|bigint only; the runtime takes decimal strings.
	const nf = formatterFor(currency, locale) as unknown as { format(value: string): string };
	return nf.format(text);
}

export type ParseErrorCode = 'empty' | 'not-a-number' | 'negative' | 'too-many-decimals' | 'too-large';

export type ParseResult = { ok: true; minor: Minor } | { ok: false; code: ParseErrorCode; message: string };

// Thousands separators people type or paste: comma, space, no-break space, narrow no-break space, thin space.
const SEP = '[, \\u00a0\\u202f\\u2009]';
// Either grouped digits (1,234,567) or ungrouped (1234567), then an optional "." and fraction digits.
const NUMBER = new RegExp(`^(\\d{1,3}(?:${SEP}\\d{3})+|\\d*)(?:\\.(\\d*))?$`);
// "12,50": almost certainly a decimal comma; reading it as 1250 would be a 100× mistake.
const DECIMAL_COMMA = /^\d+,\d{1,2}$/;
const MINUS = /^[-\u2212]/;

// Currency markers accepted around the number: the ISO code and its en-US symbols ("$", "CA$", "€"),
// so text copied from formatAmount(…, 'en-US') reads back. Only the amount's own currency is accepted.
const affixCache = new Map<CurrencyCode, string[]>();

function affixesOf(currency: CurrencyCode): string[] {
	let list = affixCache.get(currency);
	if (!list) {
		const set = new Set<string>([currency]);
		for (const currencyDisplay of ['symbol', 'narrowSymbol'] as const) {
			const parts = new Intl.NumberFormat('en-US', { style: 'currency', currency, currencyDisplay }).formatToParts(1);
			const symbol = parts.find((p) => p.type === 'currency')?.value;
			if (symbol) set.add(symbol);
		}
		// Longest first, so "CA$" is stripped whole rather than leaving "CA" behind "$".
		list = [...set].sort((a, b) => b.length - a.length);
		affixCache.set(currency, list);
	}
	return list;
}

function stripAffix(s: string, currency: CurrencyCode): string {
	const upper = s.toUpperCase();
	for (const a of affixesOf(currency)) {
		const A = a.toUpperCase();
		if (upper.startsWith(A)) return s.slice(a.length).trim();
		if (upper.endsWith(A)) return s.slice(0, s.length - a.length).trim();
	}
	return s;
}

/** "1,234.50" / "1,234" / "1,234.500": a sample in the currency's own shape, for error messages. */
function example(currency: CurrencyCode): string {
	const exp = exponentOf(currency);
	const minor = 1234 * 10 ** exp + (exp > 0 ? 5 * 10 ** (exp - 1) : 0);
	return toDecimalString(minor, currency).replace(/^(\d)(\d{3})/, '$1,$2');
}

function decimalsRule(currency: CurrencyCode): string {
	const exp = exponentOf(currency);
	if (exp === 0) return `${currency} amounts have no decimal places`;
	return `${currency} allows at most ${exp} decimal places`;
}

/**
 * What a person typed → minor units. Accepts "1,234.50", "1234.5", " 12 ", "1 234.50", "$12",
 * "12 USD". Trailing zeros past the currency's decimals are harmless ("12.500" USD → 1250);
 * any other extra digit is refused, never rounded. Zero is accepted; callers decide if it is allowed.
 */
export function parseAmount(text: string, currency: CurrencyCode): ParseResult {
	const exp = exponentOf(currency);
	let s = text.trim();
	if (s === '') return { ok: false, code: 'empty', message: 'Enter an amount.' };

	let negative = false;
	if (MINUS.test(s)) {
		negative = true;
		s = s.slice(1).trim();
	}
	s = stripAffix(s, currency);
	if (!negative && MINUS.test(s)) {
		negative = true; // "$-5"
		s = s.slice(1).trim();
	}

	const m = NUMBER.exec(s);
	const intPart = m?.[1] ?? '';
	const fracPart = m?.[2] ?? '';
	if (!m || intPart + fracPart === '') {
		const hint = DECIMAL_COMMA.test(s)
			? `Use "." for decimals and "," only between groups of three digits, like ${example(currency)}.`
			: `Use digits, like ${example(currency)}.`;
		return { ok: false, code: 'not-a-number', message: `"${text.trim()}" is not an amount. ${hint}` };
	}
	if (negative) return { ok: false, code: 'negative', message: 'Amount must not be negative.' };

	if (fracPart.length > exp && /[1-9]/.test(fracPart.slice(exp)))
		return { ok: false, code: 'too-many-decimals', message: `${decimalsRule(currency)}.` };

	const digits = intPart.replace(/\D/g, '') + fracPart.slice(0, exp).padEnd(exp, '0');
	// BigInt so a 40-digit paste is compared exactly instead of turning into an imprecise float.
	const minor = BigInt(digits === '' ? '0' : digits);
	if (minor > BigInt(MAX_AMOUNT_MINOR))
		return { ok: false, code: 'too-large', message: `Amount must be at most ${formatAmount(MAX_AMOUNT_MINOR, currency)}.` };
	return { ok: true, minor: Number(minor) as Minor };
}
