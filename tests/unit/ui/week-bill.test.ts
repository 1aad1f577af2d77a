/** A week's bill in words: each party reads the dates that matter to them. */
import { describe, expect, it } from 'vitest';
import type { WeekBill } from '../../../src/lib/contract/statement';
import { weekBillText, weekName } from '../../../src/lib/ui/week-bill';

const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const money = (n: number) => `$${(n / 100).toFixed(2)}`;
const d = (s: string) => Date.parse(`${s}T00:00Z`);
const base: WeekBill = { week: '2026-11-02', status: 'in-review', invoiced: true, minutes: 190, amount: 15_833, refunded: 0, disputedMinutes: 0, net: 15_833, released: 0, lockAt: d('2026-11-09'), lots: [], pending: 0, available: 0, reviewEndsAt: d('2026-11-14'), availableFrom: d('2026-11-19') };

describe('a week’s bill in words', () => {
	it('in review: the client reads when it is paid; the freelancer also when it becomes available', () => {
		expect(weekBillText(base, 'client', date, money)).toBe('In review until 2026-11-14: paid then, unless you dispute time before.');
		expect(weekBillText(base, 'freelancer', date, money)).toMatch(/^In review until 2026-11-14: paid to you then.*available from 2026-11-19/);
	});

	it('paid: the client reads the date paid; the freelancer each payment pending or available', () => {
		const lots = [{ amount: 14_166, releasedAt: d('2026-11-14'), availableAt: d('2026-11-19'), available: false }];
		const paid: WeekBill = { ...base, status: 'paid', released: 14_166, paidAt: d('2026-11-14'), lots, pending: 14_166 };
		expect(weekBillText(paid, 'client', date, money)).toBe('Paid: $141.66 paid 2026-11-14.');
		expect(weekBillText(paid, 'freelancer', date, money)).toBe('Paid: $141.66 pending until 2026-11-19, then available.');
		const later = { ...paid, lots: [{ ...lots[0]!, available: true }], pending: 0, available: 14_166 };
		expect(weekBillText(later, 'freelancer', date, money)).toBe('Paid: $141.66 available since 2026-11-19.');
	});

	it('disputed and in progress say what waits', () => {
		expect(weekBillText({ ...base, status: 'disputed', disputedMinutes: 20 }, 'client', date, money)).toBe('Disputed: 20 min waits for the outcome.');
		expect(weekBillText({ ...base, status: 'in-progress', minutes: 70 }, 'freelancer', date, money)).toBe('In progress: 1 h 10 min logged so far, not billed yet. Edits lock 2026-11-09.');
		expect(weekName('2027-01-04')).toBe('4 Jan 2027');
	});
});
