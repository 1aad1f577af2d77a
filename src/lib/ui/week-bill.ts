/**
 * A week's bill in words, for Payments and the invoice: where it stands and the dates that matter to
 * the person reading (the client: when it is paid; the freelancer: when each payment becomes
 * available). The figures and the status come from contract/statement.ts; this only words them.
 */
import type { WeekBill } from '../contract/statement';
import type { Role } from '../contract/state';
import { weekStart } from '../contract/weeks';
import { durationText } from './diary';

/** "4 Jan 2027": a week is named by its Monday (UTC). */
export function weekName(week: string): string {
	return new Date(weekStart(week)).toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' });
}

export const WEEK_STATUS_LABEL: Record<WeekBill['status'], string> = {
	'in-progress': 'In progress',
	'in-review': 'In review',
	disputed: 'Disputed',
	releasing: 'Review ended',
	paid: 'Paid',
	refunded: 'Refunded',
	'not-billed': 'Not billed'
};

/** The status sentence of a week's bill for `role`, dates through `date`, money through `money`. */
export function weekBillText(b: WeekBill, role: Role, date: (ms: number) => string, money: (minor: number) => string): string {
	const lots = b.lots.map((l) => (l.available ? `${money(l.amount)} available since ${date(l.availableAt)}` : `${money(l.amount)} pending until ${date(l.availableAt)}, then available`));
	const paid = role === 'client' ? (b.paidAt !== undefined ? `${money(b.released)} paid ${date(b.paidAt)}` : '') : lots.join('; ');
	switch (b.status) {
		case 'in-progress':
			return `In progress: ${durationText(b.minutes)} logged so far, not billed yet. Edits lock ${date(b.lockAt)}.`;
		case 'in-review':
			return role === 'client'
				? `In review until ${date(b.reviewEndsAt!)}: paid then, unless you dispute time before.`
				: `In review until ${date(b.reviewEndsAt!)}: paid to you then, unless the client disputes time; available from ${date(b.availableFrom!)} (security period).`;
		case 'disputed':
			return `Disputed: ${durationText(b.disputedMinutes)} waits for the outcome.${paid ? ` ${paid}.` : ''}`;
		case 'releasing':
			return role === 'client'
				? `The review ended ${date(b.reviewEndsAt!)}: being paid to the freelancer.`
				: `The review ended ${date(b.reviewEndsAt!)}: your app claims the payment when it opens; available from ${date(b.availableFrom!)} (security period).`;
		case 'paid':
			return `Paid: ${paid}.`;
		case 'refunded':
			return 'All its billed time was disputed and refunded to the client.';
		case 'not-billed':
			return 'Nothing billed: no timesheet was recorded in time, or it held no billable time.';
	}
}
