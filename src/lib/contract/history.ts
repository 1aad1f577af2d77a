/**
 * A party's transaction history, read from the ledger: one row per transfer that touches them,
 * signed from their point of view, and the same rows as CSV for export.
 */
import type { Transfer } from './ledger';
import type { ContractState, Role } from './state';

export interface HistoryRow {
	at: number;
	contract: string;
	title: string;
	kind: Transfer['kind'];
	milestone?: string;
	/** Minor units; negative when money leaves this party. */
	amount: number;
	currency: string;
	receipt: string;
}

const CLIENT_SIDE: Partial<Record<Transfer['kind'], 1 | -1>> = { fund: -1, fee: -1, refund: 1 };
const FREELANCER_SIDE: Partial<Record<Transfer['kind'], 1 | -1>> = { release: 1, payout: -1, 'payout-fee': -1 };

export function history(s: ContractState, role: Role): HistoryRow[] {
	const sign = role === 'client' ? CLIENT_SIDE : FREELANCER_SIDE;
	return s.ledger.transfers
		.filter((t) => sign[t.kind])
		.map((t) => ({ at: t.at, contract: s.contract, title: s.terms?.title ?? '', kind: t.kind, milestone: t.milestone, amount: sign[t.kind]! * t.amount, currency: s.terms?.currency ?? '', receipt: t.receipt }));
}

const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

/** Amounts are written as integer minor units with the currency, so no spreadsheet rounds them. */
export function toCsv(rows: HistoryRow[]): string {
	const head = 'date,contract,title,kind,milestone,amount_minor,currency,receipt';
	const body = rows.map((r) => [new Date(r.at).toISOString(), r.contract, r.title, r.kind, r.milestone ?? '', String(r.amount), r.currency, r.receipt].map(cell).join(','));
	return [head, ...body].join('\n') + '\n';
}
