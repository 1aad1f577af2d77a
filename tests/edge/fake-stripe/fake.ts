/**
 * A stateful, in-process Stripe for tests, plugged into the real `stripe` package through
 * `Stripe.createFetchHttpClient(fake.fetch)`. It keeps the objects the escrow function uses —
 * payment intents, charges, transfers (and reversals), refunds, connected accounts, account links,
 * payouts, disputes, events — built from the shapes in shapes.json (taken from Stripe's OpenAPI
 * fixtures), and behaves like Stripe where the function depends on it: idempotency keys (same key
 * and parameters → the same answer; other parameters → idempotency_error), declines that leave the
 * PaymentIntent waiting for another payment method, list filters and pagination, balances that a
 * transfer, refund or payout cannot exceed. Failures can be injected: a card decline, a 500, a timeout.
 * Like Stripe it forgets idempotency keys after 24 hours (of its clock), keeps a bank debit
 * (`pm_usBankAccount`) `processing` until `settlePayment`, can hold refunds `pending` (cancellable)
 * and can answer after a random delay (`jitter`) so concurrent requests interleave.
 */
import shapes from './shapes.json' with { type: 'json' };
import { canonical, decodeForm, type FormObject, type FormValue } from './form';

type Obj = Record<string, unknown> & { id: string; created: number };
type Meta = Record<string, string>;
export type Injected = 'card_declined' | '500' | 'timeout';

class StripeFail extends Error {
	constructor(
		readonly status: number,
		readonly error: Record<string, unknown>
	) {
		super(String(error.message));
	}
}

const invalid = (message: string, code?: string, param?: string) =>
	new StripeFail(400, { type: 'invalid_request_error', message, ...(code ? { code } : {}), ...(param ? { param } : {}) });
const missing = (kind: string, id: string) => new StripeFail(404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${kind}: '${id}'` });

function template<T>(name: keyof typeof shapes): T {
	return structuredClone(shapes[name]) as T;
}

export class FakeStripe {
	readonly paymentIntents = new Map<string, Obj>();
	readonly charges = new Map<string, Obj>();
	readonly transfers = new Map<string, Obj>();
	readonly refunds = new Map<string, Obj>();
	readonly accounts = new Map<string, Obj>();
	readonly payouts = new Map<string, Obj>();
	readonly disputes = new Map<string, Obj>();
	readonly events: Obj[] = [];
	/** Every request the fake answered: method, path, Stripe-Account. */
	readonly requests: { method: string; path: string; account?: string }[] = [];
	private readonly idempotent = new Map<string, { params: string; status: number; body: string; at: number }>();
	/** Delay before each answer, in ms (concurrency tests): interleaves requests like a network would. */
	jitter?: () => number;
	/** New refunds start `pending` (a bank refund) instead of `succeeded`, so they can still be cancelled. */
	refundsPending = false;
	/** When set, a processing bank debit clears by itself this long after it was confirmed (on the fake's clock). */
	bankDebitsClearAfterMs?: number;
	private readonly clearsAt = new Map<string, number>();
	private readonly injected: Injected[] = [];
	private serial = 0;

	constructor(readonly now: () => number = () => Date.now()) {}

	/** The next request fails: a card decline (on the next confirmation), a 500, or no answer at all. */
	failNext(kind: Injected): void {
		this.injected.push(kind);
	}

	readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
		const req = new Request(input, init);
		const url = new URL(req.url);
		const body = req.method === 'GET' || req.method === 'DELETE' ? url.search.slice(1) : await req.text();
		const account = req.headers.get('stripe-account') ?? undefined;
		this.requests.push({ method: req.method, path: url.pathname, account });
		const delay = this.jitter?.() ?? 0;
		if (delay > 0) await new Promise((r) => setTimeout(r, delay));
		for (const [pi, at] of this.clearsAt) if (at <= this.now()) this.settlePayment(pi);
		if (this.injected[0] === '500' || this.injected[0] === 'timeout') {
			const kind = this.injected.shift();
			if (kind === 'timeout') return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
			return this.reply(500, { error: { type: 'api_error', message: 'An unknown error occurred (injected by the fake).' } });
		}
		const key = req.headers.get('idempotency-key');
		const params = canonical(decodeForm(body));
		const scope = key && req.method === 'POST' ? `${account ?? ''}|${key}` : undefined;
		if (scope) {
			// Stripe prunes keys after at least 24 hours: a retry later is a new request.
			const kept = this.idempotent.get(scope);
			if (kept && this.now() - kept.at > 24 * 3_600_000) this.idempotent.delete(scope);
			const prior = this.idempotent.get(scope);
			if (prior && prior.params !== `${url.pathname}|${params}`)
				return this.reply(400, {
					error: {
						type: 'idempotency_error',
						message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`
					}
				});
			if (prior) return new Response(prior.body, { status: prior.status, headers: this.headers(true) });
		}
		let status = 200;
		let out: unknown;
		try {
			out = this.route(req.method, url.pathname, decodeForm(body), account);
		} catch (e) {
			if (!(e instanceof StripeFail)) throw e;
			status = e.status;
			out = { error: e.error };
		}
		const text = JSON.stringify(out);
		// Stripe saves the first result of an executed request, errors included, under its key.
		if (scope) this.idempotent.set(scope, { params: `${url.pathname}|${params}`, status, body: text, at: this.now() });
		return new Response(text, { status, headers: this.headers(false) });
	};

	private reply(status: number, body: unknown): Response {
		return new Response(JSON.stringify(body), { status, headers: this.headers(false) });
	}

	private headers(replayed: boolean): Record<string, string> {
		return { 'content-type': 'application/json', 'request-id': `req_${this.id()}`, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) };
	}

	private id(): string {
		return `${(++this.serial).toString(36).padStart(6, '0')}Fake${Math.floor(this.now() / 1000).toString(36)}`;
	}

	private seconds(): number {
		return Math.floor(this.now() / 1000);
	}

	private route(method: string, path: string, p: FormObject, account?: string): unknown {
		const [, v1, kind, id, sub] = path.split('/');
		if (v1 !== 'v1') throw invalid(`Unrecognized request URL (${method}: ${path}).`);
		const expand = list(p.expand);
		const M = `${method} ${kind}${id ? '/:id' : ''}${sub ? `/${sub}` : ''}`;
		switch (M) {
			case 'POST payment_intents':
				return this.createPaymentIntent(p);
			case 'GET payment_intents/:id':
				return this.get(this.paymentIntents, 'payment_intent', id!);
			case 'POST payment_intents/:id':
				return this.update(this.paymentIntents, 'payment_intent', id!, p);
			case 'POST payment_intents/:id/confirm':
				return this.confirm(this.get(this.paymentIntents, 'payment_intent', id!), str(p.payment_method));
			case 'GET charges':
				return this.list(
					[...this.charges.values()].filter((c) => !p.transfer_group || c.transfer_group === p.transfer_group),
					p,
					'/v1/charges',
					(c) => this.expandCharge(c, expand)
				);
			case 'POST transfers':
				return this.createTransfer(p);
			case 'GET transfers':
				return this.list(
					[...this.transfers.values()].filter((t) => (!p.transfer_group || t.transfer_group === p.transfer_group) && (!p.destination || t.destination === p.destination)),
					p,
					'/v1/transfers'
				);
			case 'POST transfers/:id/reversals':
				return this.reverse(this.get(this.transfers, 'transfer', id!), p);
			case 'POST refunds':
				return this.createRefund(p);
			case 'POST refunds/:id/cancel':
				return this.cancelRefund(this.get(this.refunds, 'refund', id!));
			case 'POST accounts':
				return this.createAccount(p);
			case 'GET accounts':
				return this.list([...this.accounts.values()], p, '/v1/accounts');
			case 'GET accounts/:id':
				return this.get(this.accounts, 'account', id!);
			case 'POST account_links':
				return this.createAccountLink(p);
			case 'POST payouts':
				return this.createPayout(p, account);
			case 'GET payouts':
				return this.list([...this.payouts.values()].filter((x) => x.account === account), p, '/v1/payouts', (x) => strip(x, 'account'));
			case 'GET disputes/:id':
				return this.get(this.disputes, 'dispute', id!);
			case 'GET events/:id':
				return this.get(new Map(this.events.map((e) => [e.id, e])), 'event', id!);
		}
		throw invalid(`Unrecognized request URL (${method}: ${path}). The fake does not implement it.`);
	}

	// ————————————————————————————————————————— generic

	private get(map: Map<string, Obj>, kind: string, id: string): Obj {
		const o = map.get(id);
		if (!o) throw missing(kind, id);
		return o;
	}

	private update(map: Map<string, Obj>, kind: string, id: string, p: FormObject): Obj {
		const o = this.get(map, kind, id);
		if (p.metadata !== undefined) o.metadata = mergeMetadata(o.metadata as Meta, p.metadata);
		return o;
	}

	/** Newest first, `limit` (default 10, at most 100), `starting_after`: Stripe's cursor pagination. */
	private list(items: Obj[], p: FormObject, url: string, view: (o: Obj) => unknown = (o) => o): unknown {
		const sorted = [...items].sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
		const limit = Math.min(100, Number(str(p.limit) ?? 10));
		let start = 0;
		const after = str(p.starting_after);
		if (after) start = sorted.findIndex((o) => o.id === after) + 1;
		const page = sorted.slice(start, start + limit);
		return { object: 'list', url, has_more: start + limit < sorted.length, data: page.map(view) };
	}

	private emit(type: string, object: Obj): void {
		const e = template<Obj>('event');
		Object.assign(e, { id: `evt_${this.id()}`, type, created: this.seconds(), api_version: '2026-10-28.endive', data: { object: structuredClone(object) }, pending_webhooks: 1 });
		this.events.push(e);
	}

	// ————————————————————————————————————————— payments

	private createPaymentIntent(p: FormObject): Obj {
		const amount = positive(p.amount, 'amount');
		const pi = template<Obj>('payment_intent');
		Object.assign(pi, {
			id: `pi_${this.id()}`,
			created: this.seconds(),
			amount,
			amount_received: 0,
			amount_capturable: 0,
			currency: need(str(p.currency), 'currency'),
			metadata: mergeMetadata({}, p.metadata ?? {}),
			transfer_group: str(p.transfer_group) ?? null,
			description: str(p.description) ?? null,
			payment_method_types: list(p.allowed_payment_method_types).length ? list(p.allowed_payment_method_types) : ['card'],
			status: 'requires_payment_method',
			latest_charge: null,
			last_payment_error: null,
			payment_method: null,
			next_action: null,
			automatic_payment_methods: null
		});
		pi.client_secret = `${pi.id}_secret_${this.id()}`;
		this.paymentIntents.set(pi.id, pi);
		this.emit('payment_intent.created', pi);
		const pm = str(p.payment_method);
		if (pm) pi.status = 'requires_confirmation';
		if (pm && str(p.confirm) === 'true') return this.confirm(pi, pm);
		if (pm) pi.payment_method = pm;
		return pi;
	}

	/**
	 * Test payment methods, as in Stripe test mode: pm_card_visa succeeds, pm_card_chargeDeclined
	 * is declined, pm_card_authenticationRequired needs 3-D Secure. An injected decline wins.
	 */
	private confirm(pi: Obj, pm = str(pi.payment_method as FormValue)): Obj {
		if (pi.status === 'succeeded' || pi.status === 'canceled' || pi.status === 'processing')
			throw invalid(`This PaymentIntent's status is ${String(pi.status)}, so it cannot be confirmed.`, 'payment_intent_unexpected_state');
		if (!pm) throw invalid('You cannot confirm this PaymentIntent because it is missing a payment method.', 'payment_intent_unexpected_state');
		pi.payment_method = pm;
		const declined = this.injected[0] === 'card_declined' ? (this.injected.shift(), true) : pm === 'pm_card_chargeDeclined';
		if (pm === 'pm_card_authenticationRequired' && !declined) {
			pi.status = 'requires_action';
			pi.next_action = { type: 'use_stripe_sdk', use_stripe_sdk: {} };
			return pi;
		}
		if (pm.startsWith('pm_usBankAccount') && !declined) {
			// A bank debit: accepted, and processing for days until the bank settles it.
			const charge = this.createCharge(pi, false, 'pending');
			pi.latest_charge = charge.id;
			pi.status = 'processing';
			if (this.bankDebitsClearAfterMs !== undefined) this.clearsAt.set(pi.id, (pi.created as number) * 1000 + this.bankDebitsClearAfterMs);
			this.emit('payment_intent.processing', pi);
			return pi;
		}
		const charge = this.createCharge(pi, declined);
		pi.latest_charge = charge.id;
		if (declined) {
			const error = { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.', charge: charge.id, payment_method: { id: pm } };
			pi.status = 'requires_payment_method';
			pi.last_payment_error = error;
			pi.payment_method = null;
			this.emit('payment_intent.payment_failed', pi);
			throw new StripeFail(402, { ...error, payment_intent: structuredClone(pi) });
		}
		pi.status = 'succeeded';
		pi.amount_received = pi.amount;
		pi.last_payment_error = null;
		this.emit('payment_intent.succeeded', pi);
		return pi;
	}

	/** The bank settles a processing debit: the PaymentIntent succeeds (or fails) and its charge with it. */
	settlePayment(piId: string, outcome: 'succeeded' | 'failed' = 'succeeded'): void {
		const pi = this.get(this.paymentIntents, 'payment_intent', piId);
		if (pi.status !== 'processing') throw new Error(`${piId} is not processing`);
		this.clearsAt.delete(piId);
		const ch = this.get(this.charges, 'charge', pi.latest_charge as string);
		ch.status = outcome;
		if (outcome === 'failed') Object.assign(ch, { paid: false, captured: false, amount_captured: 0, failure_code: 'debit_not_authorized' });
		pi.status = outcome === 'succeeded' ? 'succeeded' : 'requires_payment_method';
		if (outcome === 'succeeded') pi.amount_received = pi.amount;
		this.emit(outcome === 'succeeded' ? 'payment_intent.succeeded' : 'payment_intent.payment_failed', pi);
	}

	private createCharge(pi: Obj, failed: boolean, status: 'succeeded' | 'pending' = 'succeeded'): Obj {
		const ch = template<Obj>('charge');
		const id = `ch_${this.id()}`;
		Object.assign(ch, {
			id,
			created: this.seconds(),
			amount: pi.amount,
			amount_captured: failed ? 0 : pi.amount,
			amount_refunded: 0,
			captured: !failed,
			paid: !failed,
			refunded: false,
			disputed: false,
			status: failed ? 'failed' : status,
			failure_code: failed ? 'card_declined' : null,
			failure_message: failed ? 'Your card was declined.' : null,
			currency: pi.currency,
			payment_intent: pi.id,
			payment_method: pi.payment_method,
			transfer_group: pi.transfer_group,
			metadata: {},
			balance_transaction: failed ? null : `txn_${this.id()}`,
			refunds: { object: 'list', data: [], has_more: false, url: `/v1/charges/${id}/refunds` }
		});
		this.charges.set(id, ch);
		this.emit(failed ? 'charge.failed' : 'charge.succeeded', ch);
		return ch;
	}

	private expandCharge(c: Obj, expand: string[]): Obj {
		const out = { ...c };
		if (expand.includes('data.payment_intent') && typeof c.payment_intent === 'string') out.payment_intent = this.paymentIntents.get(c.payment_intent) ?? c.payment_intent;
		if (!expand.includes('data.refunds')) delete out.refunds; // not returned by default in current API versions
		return out;
	}

	private createRefund(p: FormObject): Obj {
		const ch = this.get(this.charges, 'charge', need(str(p.charge), 'charge'));
		if (ch.status !== 'succeeded') throw invalid(`Charge ${ch.id} has not succeeded; it cannot be refunded.`, 'charge_not_refundable');
		const amount = p.amount === undefined ? (ch.amount as number) - (ch.amount_refunded as number) : positive(p.amount, 'amount');
		if ((ch.amount_refunded as number) + amount > (ch.amount as number))
			throw invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge.`, 'amount_too_large', 'amount');
		const r = template<Obj>('refund');
		Object.assign(r, {
			id: `re_${this.id()}`,
			created: this.seconds(),
			amount,
			charge: ch.id,
			currency: ch.currency,
			payment_intent: ch.payment_intent,
			metadata: mergeMetadata({}, p.metadata ?? {}),
			status: this.refundsPending ? 'pending' : 'succeeded',
			reason: str(p.reason) ?? null,
			balance_transaction: `txn_${this.id()}`,
			source_transfer_reversal: null,
			transfer_reversal: null
		});
		this.refunds.set(r.id, r);
		ch.amount_refunded = (ch.amount_refunded as number) + amount;
		ch.refunded = ch.amount_refunded === ch.amount;
		(ch.refunds as { data: Obj[] }).data.unshift(r);
		this.emit('charge.refunded', ch);
		this.emit('refund.created', r);
		return r;
	}

	/** Stripe cancels only refunds that have not gone through yet. */
	private cancelRefund(r: Obj): Obj {
		if (r.status !== 'pending' && r.status !== 'requires_action')
			throw invalid(`You cannot cancel this refund because it has a status of ${String(r.status)}.`, 'refund_not_cancelable' as string);
		const ch = this.get(this.charges, 'charge', r.charge as string);
		r.status = 'canceled';
		ch.amount_refunded = (ch.amount_refunded as number) - (r.amount as number);
		ch.refunded = false;
		this.emit('refund.updated', r);
		return r;
	}

	// ————————————————————————————————————————— connect

	private createTransfer(p: FormObject): Obj {
		const amount = positive(p.amount, 'amount');
		const dest = this.get(this.accounts, 'account', need(str(p.destination), 'destination'));
		if ((dest.capabilities as Meta).transfers !== 'active')
			throw invalid('Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments', 'insufficient_capabilities_for_transfer');
		const source = str(p.source_transaction);
		if (source) {
			const ch = this.get(this.charges, 'charge', source);
			const used = [...this.transfers.values()].filter((t) => t.source_transaction === source).reduce((s, t) => s + (t.amount as number) - (t.amount_reversed as number), 0);
			if (used + amount > (ch.amount as number) - (ch.amount_refunded as number))
				throw invalid('Insufficient funds in the source transaction for this transfer.', 'balance_insufficient', 'amount');
		}
		const t = template<Obj>('transfer');
		Object.assign(t, {
			id: `tr_${this.id()}`,
			created: this.seconds(),
			amount,
			amount_reversed: 0,
			currency: need(str(p.currency), 'currency'),
			destination: dest.id,
			destination_payment: `py_${this.id()}`,
			source_transaction: source ?? null,
			transfer_group: str(p.transfer_group) ?? null,
			metadata: mergeMetadata({}, p.metadata ?? {}),
			reversed: false,
			balance_transaction: `txn_${this.id()}`
		});
		t.reversals = { object: 'list', data: [], has_more: false, url: `/v1/transfers/${t.id}/reversals` };
		this.transfers.set(t.id, t);
		this.emit('transfer.created', t);
		return t;
	}

	private reverse(t: Obj, p: FormObject): Obj {
		const amount = p.amount === undefined ? (t.amount as number) - (t.amount_reversed as number) : positive(p.amount, 'amount');
		if ((t.amount_reversed as number) + amount > (t.amount as number)) throw invalid('Reversal amount is greater than the unreversed amount.', 'amount_too_large', 'amount');
		if (amount > this.connectedBalance(t.destination as string)) throw invalid('Insufficient funds in the connected account.', 'balance_insufficient');
		const r = template<Obj>('transfer_reversal');
		Object.assign(r, { id: `trr_${this.id()}`, created: this.seconds(), amount, currency: t.currency, transfer: t.id, metadata: mergeMetadata({}, p.metadata ?? {}) });
		t.amount_reversed = (t.amount_reversed as number) + amount;
		t.reversed = t.amount_reversed === t.amount;
		(t.reversals as { data: Obj[] }).data.unshift(r);
		this.emit('transfer.reversed', t);
		return r;
	}

	private createAccount(p: FormObject): Obj {
		const a = template<Obj>('account');
		const caps = (p.capabilities ?? {}) as FormObject;
		Object.assign(a, {
			id: `acct_${this.id()}`,
			created: this.seconds(),
			metadata: mergeMetadata({}, p.metadata ?? {}),
			country: str(p.country) ?? 'US',
			type: 'express',
			controller: { type: 'application', is_controller: true },
			capabilities: Object.fromEntries(Object.keys(caps).map((k) => [k, 'inactive'])),
			charges_enabled: false,
			payouts_enabled: false,
			details_submitted: false,
			// Stripe's default for a new account is an automatic daily schedule.
			settings: { payouts: { schedule: { interval: payoutInterval(p) } } },
			email: null,
			external_accounts: { object: 'list', data: [], has_more: false, url: '/v1/accounts/external_accounts' }
		});
		this.accounts.set(a.id, a);
		this.emit('account.created', a);
		return a;
	}

	/** What a freelancer finishing the hosted onboarding does: capabilities turn active. */
	completeOnboarding(accountId: string): void {
		const a = this.get(this.accounts, 'account', accountId);
		a.capabilities = Object.fromEntries(Object.keys(a.capabilities as Meta).map((k) => [k, 'active']));
		Object.assign(a, { details_submitted: true, payouts_enabled: true });
		(a.requirements as Record<string, unknown>).currently_due = [];
		(a.requirements as Record<string, unknown>).disabled_reason = null;
		this.emit('account.updated', a);
	}

	private createAccountLink(p: FormObject): Obj {
		const acct = this.get(this.accounts, 'account', need(str(p.account), 'account'));
		need(str(p.return_url), 'return_url');
		need(str(p.refresh_url), 'refresh_url');
		const link = template<Record<string, unknown>>('account_link');
		const created = this.seconds();
		Object.assign(link, { created, expires_at: created + 300, url: `https://connect.stripe.com/setup/e/${acct.id}/${this.id()}` });
		return link as Obj;
	}

	/** Money a connected account holds: transfers in, less reversals and payouts. */
	connectedBalance(account: string): number {
		const inflow = [...this.transfers.values()].filter((t) => t.destination === account).reduce((s, t) => s + (t.amount as number) - (t.amount_reversed as number), 0);
		const out = [...this.payouts.values()].filter((x) => x.account === account && x.status !== 'failed').reduce((s, x) => s + (x.amount as number), 0);
		return inflow - out;
	}

	private createPayout(p: FormObject, account?: string): Obj {
		if (!account) throw invalid('The fake only pays out from connected accounts (Stripe-Account header).');
		const a = this.get(this.accounts, 'account', account);
		if (!a.payouts_enabled) throw invalid('Payouts are not enabled for this account.', 'payouts_not_allowed');
		const amount = positive(p.amount, 'amount');
		if (amount > this.connectedBalance(account)) throw invalid('You have insufficient funds in your Stripe account for this transfer.', 'balance_insufficient');
		const x = template<Obj>('payout');
		const created = this.seconds();
		Object.assign(x, {
			id: `po_${this.id()}`,
			created,
			amount,
			currency: need(str(p.currency), 'currency'),
			arrival_date: created + 2 * 86_400,
			metadata: mergeMetadata({}, p.metadata ?? {}),
			method: str(p.method) ?? 'standard',
			status: 'pending',
			destination: `ba_${this.id()}`,
			automatic: false,
			account
		});
		this.payouts.set(x.id, x);
		this.emit('payout.created', strip(x, 'account') as Obj);
		return strip(x, 'account') as Obj;
	}

	// ————————————————————————————————————————— disputes

	/** The card holder's bank opens a chargeback on a charge. */
	openDispute(chargeId: string): Obj {
		const ch = this.get(this.charges, 'charge', chargeId);
		const d = template<Obj>('dispute');
		Object.assign(d, { id: `dp_${this.id()}`, created: this.seconds(), amount: ch.amount, currency: ch.currency, charge: ch.id, payment_intent: ch.payment_intent, status: 'needs_response', metadata: {} });
		ch.disputed = true;
		this.disputes.set(d.id, d);
		this.emit('charge.dispute.created', d);
		return d;
	}

	closeDispute(id: string, outcome: 'won' | 'lost'): Obj {
		const d = this.get(this.disputes, 'dispute', id);
		d.status = outcome;
		this.emit('charge.dispute.closed', d);
		return d;
	}
}

/** The payout schedule asked for at account creation; Stripe's default is automatic and daily. */
function payoutInterval(p: FormObject): string {
	const settings = p.settings as FormObject | undefined;
	const schedule = (settings?.payouts as FormObject | undefined)?.schedule as FormObject | undefined;
	return str(schedule?.interval) ?? 'daily';
}

function str(v: FormValue | undefined): string | undefined {
	return typeof v === 'string' ? v : undefined;
}

function list(v: FormValue | undefined): string[] {
	return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}

function need(v: string | undefined, param: string): string {
	if (!v) throw invalid(`Missing required param: ${param}.`, 'parameter_missing', param);
	return v;
}

function positive(v: FormValue | undefined, param: string): number {
	const s = need(str(v), param);
	if (!/^\d+$/.test(s) || Number(s) <= 0) throw invalid(`Invalid positive integer: ${param}`, 'parameter_invalid_integer', param);
	return Number(s);
}

/** Stripe's metadata update: keys merge; an empty string deletes a key. */
function mergeMetadata(current: Meta, update: FormValue): Meta {
	const out = { ...current };
	if (typeof update !== 'object' || Array.isArray(update)) return out;
	for (const [k, v] of Object.entries(update)) {
		if (typeof v !== 'string') continue;
		if (k.length > 40) throw invalid(`Metadata key ${k} is longer than 40 characters.`, 'parameter_invalid_string', 'metadata');
		if (v.length > 500) throw invalid(`Metadata value for ${k} is longer than 500 characters.`, 'parameter_invalid_string', 'metadata');
		if (v === '') delete out[k];
		else out[k] = v;
	}
	if (Object.keys(out).length > 50) throw invalid('Metadata can have at most 50 keys.', 'parameter_invalid_string', 'metadata');
	return out;
}

function strip(o: Obj, key: string): unknown {
	const { [key]: _drop, ...rest } = o;
	return rest;
}
