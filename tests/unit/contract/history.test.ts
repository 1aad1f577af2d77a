import { describe, expect, it } from 'vitest';
import { history, toCsv } from '../../../src/lib/contract/history';
import { nextAction } from '../../../src/lib/contract/next-action';
import { FREELANCER, PROVIDER, World } from '../../support/world';

describe('transaction history from the ledger', () => {
	it('shows each party its own side, signed, and exports exact integers to CSV', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000, 3_230);
		await w.release('design', 100_000);
		w.advance(6);
		const wd = await w.emit(FREELANCER, 'withdrawal.requested', { amount: 100_000, currency: 'USD', method: 'bank' });
		await w.emit(PROVIDER, 'receipt.paidOut', { intent: wd, amount: 100_000, fee: 99, currency: 'USD', method: 'bank', arrivesAt: w.now });
		expect(history(w.state, 'client').map((r) => [r.kind, r.amount])).toEqual([
			['fund', -100_000],
			['fee', -3_230]
		]);
		expect(history(w.state, 'freelancer').map((r) => [r.kind, r.amount])).toEqual([
			['release', 100_000],
			['payout', -99_901],
			['payout-fee', -99]
		]);
		const csv = toCsv(history(w.state, 'freelancer'));
		expect(csv.split('\n')[0]).toBe('date,contract,title,kind,milestone,amount_minor,currency,receipt');
		expect(csv).toContain(',release,design,100000,USD,');
		expect(csv.trim().split('\n')).toHaveLength(4);
	});

	it('names the next action for each party', async () => {
		const w = new World();
		await w.active();
		expect(nextAction(w.state, 'client', w.now)).toBe('Fund milestone 1');
		await w.fund('design', 100_000);
		expect(nextAction(w.state, 'freelancer', w.now)).toBe('Work on milestone 1, then Request Payment');
		await w.submit('design');
		w.advance(5);
		expect(nextAction(w.state, 'client', w.now)).toBe('Review submission of milestone 1 — the freelancer can claim the payment in 9 days');
	});
});

describe('withdrawable balance on the provider clock', () => {
	it('counts released money as available once its security period has ended, before any receipt proves it', async () => {
		const { withdrawable } = await import('../../../src/lib/contract/balances');
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.release('design', 100_000);
		expect(withdrawable(w.state, w.now)).toBe(0);
		expect(withdrawable(w.state, w.now + 5 * 86_400_000)).toBe(100_000);
		expect(w.state.ledger.balance('freelancer:available')).toBe(0);
	});
});
