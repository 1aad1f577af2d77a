/**
 * withdraw → a Payout on the freelancer's connected account (found through the account index).
 * What may be withdrawn per contract is read from Stripe: transfers of this contract whose security
 * period has passed on the function's clock, less this contract's earlier payouts (gross).
 * Withdrawals run in the contract-wide queue.
 */
import type Stripe from 'stripe';
import { DAY_MS, type ContractState } from '../../lib/contract/state';
import { EscrowError, type Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { executableIntent, overWithdrawal, quoted, signReceipt } from '../../lib/escrow/provider-core';
import { quoteWithdrawal, type PayoutMethod } from '../../lib/money/fees';
import { accountOf } from '../accounts';
import { int, META, receiptMeta, storedReceipt } from '../books';
import { assertRoom, bindIfNeeded, inFlight, lower, record, recordedReceipt, withContract, type EscrowDeps } from './context';

export async function withdraw(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	return withContract(d, body, async (o) => {
		const { s } = o;
		const prior = await recordedReceipt(o, body.event);
		if (prior) return prior;
		const account = s.parties.freelancer ? await accountOf(d, s.parties.freelancer) : undefined;
		if (!account) throw new EscrowError('insufficient-balance', 'Nothing has been released to a Stripe account for this contract yet.');
		const opts = { stripeAccount: account.id };
		const payouts: Stripe.Payout[] = [];
		for await (const p of d.stripe.payouts.list({ limit: 100 }, opts)) if (p.metadata?.[META.contract] === s.contract) payouts.push(p);
		const done = payouts.find((p) => p.metadata?.[META.intent] === body.event);
		if (done) return record(d, o, body.event, paidOutReceipt(d, s, done));

		const intent = executableIntent(s, body.event, ['withdrawal.requested']);
		const now = d.now();
		// Released money matures after the security period, counted on this function's clock.
		let matured = 0;
		for await (const t of d.stripe.transfers.list({ destination: account.id, limit: 100 })) {
			const r = t.metadata[META.contract] === s.contract ? storedReceipt(t.metadata) : undefined;
			if (r && r.at + s.terms!.securityPeriodDays * DAY_MS <= now) matured += t.amount - t.amount_reversed;
		}
		const paidOut = payouts.filter((p) => p.status !== 'failed' && p.status !== 'canceled').reduce((sum, p) => sum + int(p.metadata?.[META.gross]), 0);
		const available = matured - paidOut;
		if (intent.amount! > available)
			throw overWithdrawal(s, available);
		const method = intent.method as PayoutMethod;
		const q = quoted(() => quoteWithdrawal(intent.amount!, method, s.terms!.currency, now));
		if (method !== 'bank') throw new EscrowError('invalid-request', 'Stripe pays out to the bank account on file: choose the bank method.');
		await assertRoom(o, intent.id);
		await bindIfNeeded(o);
		const payout = await inFlight(o, { op: 'withdraw', intent: intent.id, at: now }, () =>
			d.stripe.payouts.create(
				{
					// The freelancer bears the fee: the payout is the net; the gross leaves the contract's balance.
					amount: q.net,
					currency: lower(s.terms!.currency),
					metadata: {
						[META.contract]: s.contract,
						[META.intent]: intent.id,
						[META.gross]: String(intent.amount!),
						[META.fee]: String(q.fee),
						[META.method]: method,
						...receiptMeta(now, o.prev)
					}
				},
				{ ...opts, idempotencyKey: intent.id }
			)
		);
		await o.rec?.noteMoney(undefined, undefined, now);
		return record(d, o, intent.id, paidOutReceipt(d, s, payout));
	});
}

function paidOutReceipt(d: EscrowDeps, s: ContractState, p: Stripe.Payout): Receipt {
	const meta = p.metadata ?? {};
	const r = storedReceipt(meta);
	if (!r) throw new EscrowError('invalid-request', 'A payout for this intent exists but was not made by this function.');
	const method = meta[META.method] as PayoutMethod;
	const amount = int(meta[META.gross]);
	return signReceipt(d.key, {
		contract: s.contract,
		prev: r.prev,
		dep: meta[META.intent]!,
		at: r.at,
		type: 'receipt.paidOut',
		payload: {
			intent: meta[META.intent]!,
			amount,
			fee: int(meta[META.fee]),
			currency: s.terms!.currency,
			method,
			arrivesAt: quoteWithdrawal(amount, method, s.terms!.currency, r.at).availableAt
		}
	});
}
