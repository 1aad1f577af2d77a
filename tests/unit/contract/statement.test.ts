import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { balances } from '../../../src/lib/contract/balances';
import { balanceSeries, checkWithdrawal, clientStatement, freelancerStatement, payoutMethods, seenBy, statement, sumSeries, type BalancePoint } from '../../../src/lib/contract/statement';
import { DAY_MS, escrowOf, milestone, type ContractState } from '../../../src/lib/contract/state';
import { CLIENT, FREELANCER, PROVIDER, T0, World, terms } from '../../support/world';

async function refundByFreelancer(w: World, m: string, amount: number) {
	const intent = await w.emit(FREELANCER, 'milestone.refund', { milestone: m, amount, currency: 'USD', basis: 'freelancer' });
	await w.emit(PROVIDER, 'receipt.refunded', { intent, milestone: m, amount, currency: 'USD' });
	return intent;
}

async function withdraw(w: World, amount: number, fee: number, arrivesInDays = 2) {
	const intent = await w.emit(FREELANCER, 'withdrawal.requested', { amount, currency: 'USD', method: 'bank' });
	const receipt = await w.emit(PROVIDER, 'receipt.paidOut', { intent, amount, fee, currency: 'USD', method: 'bank', arrivesAt: w.now + arrivesInDays * DAY_MS });
	return receipt;
}

/** The relations every statement keeps, whatever happened. */
function expectBalanced(s: ContractState, providerNow: number) {
	const c = clientStatement(s);
	const f = freelancerStatement(s, providerNow);
	const b = balances(s);
	expect(c.funded).toBe(c.released + c.refunded + c.held);
	expect(c.paid).toBe(b.clientPaid + 0); // + 0: an untouched ledger negates to -0
	expect(c.held).toBe(s.milestones.reduce((sum, m) => sum + escrowOf(m), 0));
	expect(c.funded).toBe(s.milestones.reduce((sum, m) => sum + m.funded, 0));
	expect(c.released).toBe(f.released);
	expect(f.released).toBe(f.pending + f.available + f.withdrawn);
	expect(f.withdrawn).toBe(f.received + f.payoutFees);
	expect(f.pending + f.available).toBe(b.pending + b.available);
	expect(f.available).toBeGreaterThanOrEqual(b.available);
	for (const v of [c.funded, c.fees, c.released, c.refunded, c.held, f.pending, f.available, f.withdrawn, f.payoutFees]) expect(v).toBeGreaterThanOrEqual(0);
	// Every fee the provider took is one party's: funding fees the client's, payout fees the freelancer's.
	expect(c.fees + f.payoutFees).toBe(b.fees);
	const series = balanceSeries(s, providerNow);
	const last = series.at(-1) ?? { pending: 0, available: 0, withdrawn: 0 };
	expect({ pending: last.pending, available: last.available, withdrawn: last.withdrawn }).toEqual({ pending: f.pending, available: f.available, withdrawn: f.withdrawn });
	for (const [i, p] of series.entries()) {
		expect(p.pending).toBeGreaterThanOrEqual(0);
		expect(p.available).toBeGreaterThanOrEqual(0);
		if (i > 0) {
			expect(p.at).toBeGreaterThan(series[i - 1]!.at);
			// What was released so far never goes down, and withdrawn money never comes back.
			expect(p.pending + p.available + p.withdrawn).toBeGreaterThanOrEqual(series[i - 1]!.pending + series[i - 1]!.available + series[i - 1]!.withdrawn);
			expect(p.withdrawn).toBeGreaterThanOrEqual(series[i - 1]!.withdrawn);
		}
	}
}

describe('statement per role', () => {
	it('gives the client what it funded, paid in fees, released, was refunded and still holds in escrow', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000, 3_230);
		await w.fund('build', 200_000, 500);
		await w.release('design', 60_000);
		w.advance(1);
		await w.release('design', 40_000);
		await refundByFreelancer(w, 'build', 50_000);
		const c = clientStatement(w.state);
		expect(c).toEqual({
			role: 'client',
			funded: 300_000,
			fees: 3_730,
			released: 100_000,
			refunded: 50_000,
			held: 150_000,
			paid: 300_000 + 3_730 - 50_000,
			releases: [
				{ milestone: 'design', amount: 60_000, at: T0 },
				{ milestone: 'design', amount: 40_000, at: T0 + DAY_MS }
			]
		});
		expect(statement(w.state, 'client', w.now)).toEqual(c);
		expectBalanced(w.state, w.now);
	});

	it('gives the freelancer pending money with the date each release becomes available, then available, then withdrawn', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.fund('build', 200_000);
		await w.release('design', 100_000);
		w.advance(2);
		await w.release('build', 150_000);
		const first = T0 + 5 * DAY_MS;
		const second = T0 + 7 * DAY_MS;

		let f = freelancerStatement(w.state, w.now);
		expect(f).toMatchObject({ released: 250_000, pending: 250_000, available: 0, withdrawn: 0, received: 0, payoutFees: 0, inEscrow: 50_000 });
		expect(f.lots).toEqual([
			{ milestone: 'design', amount: 100_000, releasedAt: T0, availableAt: first },
			{ milestone: 'build', amount: 150_000, releasedAt: T0 + 2 * DAY_MS, availableAt: second }
		]);

		// The first security period has ended on the provider's clock, before any receipt proves it.
		f = freelancerStatement(w.state, first);
		expect(f).toMatchObject({ pending: 150_000, available: 100_000 });
		expect(f.lots.map((l) => l.milestone)).toEqual(['build']);
		expect(statement(w.state, 'freelancer', first)).toEqual(f);
		// A provider time earlier than one the contract has seen changes nothing.
		expect(freelancerStatement(w.state, 0)).toEqual(freelancerStatement(w.state, w.now));

		w.now = first;
		await withdraw(w, 80_000, 99);
		f = freelancerStatement(w.state, w.now);
		expect(f).toMatchObject({ released: 250_000, pending: 150_000, available: 20_000, withdrawn: 80_000, received: 79_901, payoutFees: 99 });
		expect(f.payouts).toEqual([{ amount: 80_000, fee: 99, method: 'bank', at: first, arrivesAt: first + 2 * DAY_MS }]);
		expectBalanced(w.state, w.now);
		expectBalanced(w.state, second);
		expect(freelancerStatement(w.state, second)).toMatchObject({ pending: 0, available: 170_000, lots: [] });
	});

	it('shows the freelancer no escrow "for me" once the contract has ended', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		expect(freelancerStatement(w.state, w.now).inEscrow).toBe(100_000);
		const proposal = await w.emit(CLIENT, 'contract.endProposed', {});
		await w.emit(FREELANCER, 'contract.endAccepted', { proposal });
		expect(w.state.status).toBe('ended');
		expect(freelancerStatement(w.state, w.now).inEscrow).toBe(0);
		expect(clientStatement(w.state).held).toBe(100_000);
	});
});

describe('balance series for the chart', () => {
	it('steps pending → available at the end of each security period → withdrawn, up to the provider time', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.release('design', 100_000);
		w.advance(6);
		await withdraw(w, 30_000, 99);
		const end = w.now + 3 * DAY_MS;
		expect(balanceSeries(w.state, end)).toEqual([
			{ at: T0, pending: 100_000, available: 0, withdrawn: 0 },
			{ at: T0 + 5 * DAY_MS, pending: 0, available: 100_000, withdrawn: 0 },
			{ at: T0 + 6 * DAY_MS, pending: 0, available: 70_000, withdrawn: 30_000 },
			{ at: end, pending: 0, available: 70_000, withdrawn: 30_000 }
		]);
		// A release still in its security period stays pending at the provider time asked about.
		expect(balanceSeries(w.state, T0 + DAY_MS).at(-1)).toMatchObject({ pending: 0, available: 70_000 });
	});

	it('is empty before anything was released', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		expect(balanceSeries(w.state, w.now)).toEqual([]);
	});

	it('adds contracts up at every moment, each at its latest point', () => {
		const a: BalancePoint[] = [
			{ at: 10, pending: 5, available: 0, withdrawn: 0 },
			{ at: 30, pending: 0, available: 5, withdrawn: 0 }
		];
		const b: BalancePoint[] = [{ at: 20, pending: 7, available: 0, withdrawn: 0 }];
		expect(sumSeries([a, b])).toEqual([
			{ at: 10, pending: 5, available: 0, withdrawn: 0 },
			{ at: 20, pending: 12, available: 0, withdrawn: 0 },
			{ at: 30, pending: 7, available: 5, withdrawn: 0 }
		]);
		expect(sumSeries([])).toEqual([]);
	});
});

describe('withdrawal form check', () => {
	async function released() {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.release('design', 100_000);
		return w;
	}

	it('says every problem at once, by field, in words, money formatted', async () => {
		const w = await released();
		const f = freelancerStatement(w.state, w.now + 5 * DAY_MS);
		expect(checkWithdrawal(w.state, f, '', 'carrier-pigeon')).toEqual({ ok: false, errors: { amount: 'Enter an amount.', method: 'Choose how to receive the money.' } });
		expect(checkWithdrawal(w.state, f, '0', 'bank')).toEqual({ ok: false, errors: { amount: 'Enter an amount more than zero.' } });
		expect(checkWithdrawal(w.state, f, '1,000.01', 'bank')).toEqual({ ok: false, errors: { amount: 'You can withdraw at most $1,000.00 from this contract now.' } });
		expect(checkWithdrawal(w.state, f, '0.99', 'bank')).toEqual({ ok: false, errors: { amount: 'The Direct to local bank fee is $0.99: withdraw more than that.' } });
		expect(checkWithdrawal(w.state, f, 'ten', 'bank')).toMatchObject({ ok: false, errors: { amount: expect.stringContaining('"ten" is not an amount') } });
		expect(checkWithdrawal(w.state, f, '1,000', 'wire')).toEqual({ ok: true, amount: 100_000 });
	});

	it('counts only what is available at the provider time, not what is pending', async () => {
		const w = await released();
		const f = freelancerStatement(w.state, w.now);
		expect(checkWithdrawal(w.state, f, '10', 'bank')).toEqual({ ok: false, errors: { amount: 'Nothing is available to withdraw from this contract yet.' } });
	});

	it('offers only the payout methods the contract provider pays out by', async () => {
		const w = new World();
		await w.active(terms({ provider: { id: 'stripe', publicKey: PROVIDER.publicKey, testMode: false } }));
		expect(payoutMethods(w.state)).toEqual(['bank']);
		await w.fund('design', 100_000);
		await w.release('design', 100_000);
		const f = freelancerStatement(w.state, w.now + 5 * DAY_MS);
		expect(checkWithdrawal(w.state, f, '100', 'paypal')).toEqual({ ok: false, errors: { method: "This contract's escrow provider pays out only by Direct to local bank." } });
		expect(payoutMethods((await released()).state)).toEqual(['bank', 'paypal', 'wire']);
	});
});

describe('whose story an event is', () => {
	it("keeps the freelancer's withdrawals out of the client's activity, and everything else in both", async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.release('design', 100_000);
		w.advance(6);
		await withdraw(w, 50_000, 99);
		const types = (role: 'client' | 'freelancer') => w.state.applied.filter((e) => seenBy(e.type, role)).map((e) => e.type);
		expect(types('freelancer')).toEqual(w.state.applied.map((e) => e.type));
		expect(types('client')).toEqual(w.state.applied.map((e) => e.type).filter((t) => t !== 'withdrawal.requested' && t !== 'receipt.paidOut'));
		expect(types('freelancer')).toContain('receipt.paidOut');
		expect(types('client')).toContain('receipt.released');
	});
});

// —— property: random money histories ——————————————————————————————————————————————————

type Op =
	| { kind: 'fund'; m: 'design' | 'build'; fee: number }
	| { kind: 'release'; m: 'design' | 'build'; pct: number }
	| { kind: 'refund'; m: 'design' | 'build'; pct: number }
	| { kind: 'withdraw'; pct: number; fee: number }
	| { kind: 'tick'; days: number };

const ms = fc.constantFrom<'design' | 'build'>('design', 'build');
const pct = fc.oneof(fc.constant(100), fc.integer({ min: 1, max: 99 }));
const op: fc.Arbitrary<Op> = fc.oneof(
	fc.record({ kind: fc.constant('fund' as const), m: ms, fee: fc.integer({ min: 0, max: 5_000 }) }),
	fc.record({ kind: fc.constant('release' as const), m: ms, pct }),
	fc.record({ kind: fc.constant('refund' as const), m: ms, pct }),
	fc.record({ kind: fc.constant('withdraw' as const), pct, fee: fc.integer({ min: 0, max: 300 }) }),
	fc.record({ kind: fc.constant('tick' as const), days: fc.integer({ min: 0, max: 7 }) })
);
/** A short story that reaches withdrawals: funded, (partly) released, time passes, (partly) withdrawn. */
const episode: fc.Arbitrary<Op[]> = fc
	.tuple(ms, pct, fc.integer({ min: 0, max: 7 }), pct, fc.integer({ min: 0, max: 300 }))
	.map(([m, p, days, w, fee]): Op[] => [
		{ kind: 'fund', m, fee: 0 },
		{ kind: 'release', m, pct: p },
		{ kind: 'tick', days },
		{ kind: 'withdraw', pct: w, fee }
	]);
/** Episodes and single steps woven together, so stories interleave. */
const history = fc.array(fc.oneof(op.map((o) => [o]), episode), { minLength: 1, maxLength: 6 }).map((parts) => parts.flat());

describe('statement invariants over random histories', () => {
	it('funded = released + refunded + held; released = pending + available + withdrawn; the series ends at the statement', async () => {
		// How many histories reached each kind of money movement: the property must exercise them all.
		const reached = { release: 0, refund: 0, withdraw: 0, pendingAndAvailable: 0 };
		await fc.assert(
			fc.asyncProperty(history, fc.integer({ min: 0, max: 10 }), async (ops, lookAhead) => {
				const w = new World();
				await w.active();
				for (const o of ops) {
					const s = w.state;
					if (o.kind === 'tick') w.advance(o.days);
					else if (o.kind === 'fund') {
						const m = milestone(s, o.m)!;
						if (m.funded === 0) await w.fund(o.m, m.amount, o.fee);
					} else if (o.kind === 'withdraw') {
						const amount = Math.floor((freelancerStatement(s, w.now).available * o.pct) / 100);
						if (amount > o.fee) {
							await withdraw(w, amount, o.fee);
							reached.withdraw++;
						}
					} else {
						const amount = Math.ceil((escrowOf(milestone(s, o.m)!) * o.pct) / 100);
						if (amount === 0) continue;
						if (o.kind === 'release') await w.release(o.m, amount);
						else await refundByFreelancer(w, o.m, amount);
						reached[o.kind]++;
					}
					// Every step is one the rules accept: the histories are real ones.
					expect(w.state.rejected).toEqual([]);
					expectBalanced(w.state, w.now);
					const f = freelancerStatement(w.state, w.now);
					if (f.pending > 0 && f.available > 0) reached.pendingAndAvailable++;
				}
				expectBalanced(w.state, w.now + lookAhead * DAY_MS);
			}),
			{ numRuns: 80 }
		);
		for (const [kind, n] of Object.entries(reached)) expect(n, kind).toBeGreaterThan(0);
	}, 60_000);
});
