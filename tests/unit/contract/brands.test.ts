/**
 * Branded ids, keys and amounts (contract/ids.ts, money/minor.ts). The `@ts-expect-error` lines are
 * the attacks: each is a mix-up the compiler must refuse (`npm run check` type-checks this file, and
 * fails if any of them compiles). The runtime tests prove the constructors validate and that a brand
 * changes no value: decoded events and the ledger hold the same plain numbers and strings as before.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { balances, withdrawable, type Balances } from '../../../src/lib/contract/balances';
import { decodeEnvelope } from '../../../src/lib/contract/envelope';
import { contractId, eventId, IdError, isContractId, isEventId, isPublicKey, publicKey, type ContractId, type EventId, type PublicKey } from '../../../src/lib/contract/ids';
import { Ledger, mediatorAccount, type Transfer } from '../../../src/lib/contract/ledger';
import { releaseAmount } from '../../../src/lib/contract/release';
import { Amount, Id, PAYLOADS, PublicKey as PublicKeySchema, type EventBody, type EventOf, type Payload, type SignedPayload, type SignedTerms, type Terms } from '../../../src/lib/contract/schema';
import { amountFor, type WeekBook, type WeekFigures } from '../../../src/lib/contract/timesheet';
import { escrowOf, type ContractState, type Ev, type EvOf, type Intent, type MilestoneState, type ReleaseLot } from '../../../src/lib/contract/state';
import { parseAmount, quoteFunding, quoteWithdrawal } from '../../../src/lib/money';
import { MoneyError } from '../../../src/lib/money/errors';
import { midpoint } from '../../../src/lib/money/mediation';
import { addMinor, isMinor, minor, subMinor, sumMinor, ZERO_MINOR, type Minor } from '../../../src/lib/money/minor';
import { CLIENT, FREELANCER, PROVIDER, World } from '../../support/world';

const KEY = 'K'.repeat(43);
const ID = 'E'.repeat(43);

describe('the brands at the type level', () => {
	it('a decoded event carries branded ids, keys and amounts; what an author writes stays plain', () => {
		expectTypeOf<SignedPayload<'milestone.fund'>['amount']>().toEqualTypeOf<Minor>();
		expectTypeOf<SignedPayload<'receipt.funded'>['fee']>().toEqualTypeOf<Minor>();
		expectTypeOf<SignedPayload<'receipt.split'>['mediator']>().toEqualTypeOf<PublicKey | undefined>();
		expectTypeOf<SignedPayload<'refund.approved'>['request']>().toEqualTypeOf<EventId>();
		expectTypeOf<EventBody['author']>().toEqualTypeOf<PublicKey>();
		expectTypeOf<EventBody['contract']>().toEqualTypeOf<ContractId>();
		expectTypeOf<Ev['id']>().toEqualTypeOf<EventId>();
		expectTypeOf<EventOf<'receipt.paidOut'>['payload']['amount']>().toEqualTypeOf<Minor>();
		expectTypeOf<SignedTerms['provider']['publicKey']>().toEqualTypeOf<PublicKey>();
		// Drafts and fixtures are written with plain values, and the schema still takes them.
		expectTypeOf<Payload<'milestone.fund'>['amount']>().toEqualTypeOf<number>();
		expectTypeOf<Terms['provider']['publicKey']>().toEqualTypeOf<string>();
	});

	it('the state and the ledger keep money in Minor and parties as keys', () => {
		expectTypeOf<MilestoneState['funded']>().toEqualTypeOf<Minor>();
		expectTypeOf<ReleaseLot['amount']>().toEqualTypeOf<Minor>();
		expectTypeOf<Transfer['amount']>().toEqualTypeOf<Minor>();
		expectTypeOf<Intent['amount']>().toEqualTypeOf<Minor | undefined>();
		expectTypeOf<Intent['author']>().toEqualTypeOf<PublicKey>();
		expectTypeOf<ContractState['parties']['client']>().toEqualTypeOf<PublicKey | undefined>();
		expectTypeOf<Balances['available']>().toEqualTypeOf<Minor>();
		expectTypeOf(withdrawable).returns.toEqualTypeOf<Minor>();
		expectTypeOf(escrowOf).returns.toEqualTypeOf<Minor>();
		expectTypeOf(quoteFunding).returns.toHaveProperty('fee').toEqualTypeOf<Minor>();
		expectTypeOf(quoteWithdrawal).returns.toHaveProperty('net').toEqualTypeOf<Minor>();
		// Hourly money: a week's figures mix minutes (counts) with amounts; only the amounts are Minor.
		expectTypeOf<WeekFigures['billed']>().toEqualTypeOf<Minor>();
		expectTypeOf<WeekFigures['releasable']>().toEqualTypeOf<Minor>();
		expectTypeOf<WeekFigures['minutes']>().toEqualTypeOf<number>();
		expectTypeOf<WeekBook['funded']>().toEqualTypeOf<Minor>();
		expectTypeOf(amountFor).returns.toEqualTypeOf<Minor>();
	});

	it('an event id is not a contract id or a key, and none of them is the other', () => {
		expectTypeOf<EventId>().not.toExtend<ContractId>();
		expectTypeOf<EventId>().not.toExtend<PublicKey>();
		expectTypeOf<PublicKey>().not.toExtend<EventId>();
		expectTypeOf<ContractId>().not.toExtend<PublicKey>();
		expectTypeOf<string>().not.toExtend<EventId>();
		// Each still reads as the string it is.
		expectTypeOf<EventId>().toExtend<string>();
		expectTypeOf<PublicKey>().toExtend<string>();
	});

	it('an amount is not a count, a percent or a timestamp, and a plain number is not an amount', () => {
		expectTypeOf<number>().not.toExtend<Minor>();
		expectTypeOf<Minor>().toExtend<number>();
		expectTypeOf<SignedPayload<'receipt.paidOut'>['arrivesAt']>().toEqualTypeOf<number>();
		expectTypeOf<SignedPayload<'dispute.mediatorAccepted'>['feeBps']>().toEqualTypeOf<number>();
	});

	it('the compiler refuses the mix-ups (each line below must fail to compile)', () => {
		const ev = {} as EvOf<'milestone.fund'>;
		const s = { parties: {} } as ContractState;
		const lot = {} as ReleaseLot;
		const receipt = {} as EventOf<'receipt.paidOut'>;
		const figures = {} as WeekFigures;
		// Compile-time only: the bodies are type-checked, never run.
		const typed = (f: () => void) => expect(f).toBeTypeOf('function');

		typed(() => {
			// @ts-expect-error an event id is not a public key: a mediator account is named by its key
			mediatorAccount(ev.id);
			// @ts-expect-error an event id is not a party's key
			s.parties.client = ev.id;
			// @ts-expect-error the contract id is not a party's key either
			s.parties.freelancer = ev.contract;
			// @ts-expect-error a key is not the event a receipt settles
			s.intents.get(ID)!.settledBy = ev.author;
			// @ts-expect-error an event id is not the contract an event belongs to
			({ ...ev, contract: ev.id }) satisfies EventBody;
			// @ts-expect-error a key is not the receipt that paid a payout
			s.payouts[0]!.receipt = ev.author;
			// @ts-expect-error a raw number is not an amount: the ledger posts only Minor
			new Ledger().post([{ receipt: ID, kind: 'fund', from: 'client:source', to: 'escrow:m', amount: 5, at: 1 }]);
			// @ts-expect-error a timestamp is not an amount
			lot.amount = receipt.payload.arrivesAt;
			// @ts-expect-error a count (the milestone's change requests) is not an amount
			s.milestones[0]!.released = s.milestones[0]!.changeRequests;
			// @ts-expect-error basis points are not an amount
			addMinor(ev.payload.amount, 500);
			// @ts-expect-error an amount and a timestamp do not add up to an amount
			const wrong: Minor = ev.payload.amount + ev.at;
			// @ts-expect-error the held amount of a release must be Minor
			releaseAmount({ type: 'milestone.autoRelease' }, Date.now());
			// @ts-expect-error minutes are not an hourly rate: amountFor(minutes, rate) takes the rate in Minor
			amountFor(90, 60);
			// @ts-expect-error a week's billed minutes are not its escrow
			lot.amount = figures.minutes;
			void wrong;
		});
		// What is allowed: an amount read as a number, Minor arithmetic, and the constructors.
		typed(() => {
			const n: number = ev.payload.amount;
			const k: string = ev.author;
			lot.amount = addMinor(ev.payload.amount, minor(n));
			s.parties.client = publicKey(k);
		});
	});
});

describe('the constructors validate', () => {
	it('eventId, publicKey and contractId take what the schema takes and say what is wrong otherwise', () => {
		expect(eventId(ID)).toBe(ID);
		expect(publicKey(KEY)).toBe(KEY);
		expect(contractId('c'.repeat(16))).toBe('c'.repeat(16));
		expect(() => eventId('E'.repeat(42))).toThrow(new IdError(`Not an event id: expected 43 base64url characters, got "${'E'.repeat(42)}".`));
		expect(() => publicKey(`${'K'.repeat(42)}+`)).toThrow(/Not a public key: expected a 32-byte Ed25519 key as 43 base64url characters/);
		expect(() => contractId('short')).toThrow(/Not a contract id: expected 16 to 64 base64url characters, got "short"/);
		expect(() => eventId(42)).toThrow(/got 42\./);
		expect(() => publicKey(undefined)).toThrow(IdError);
		// A long value is shortened in the message.
		expect(() => contractId('x'.repeat(500))).toThrow(/got "x{67}\.\.\."\./);
		for (const x of [ID, KEY, 'c'.repeat(16), 'E'.repeat(42), 'a/b', '', null, 7])
			expect([isEventId(x), isPublicKey(x), isContractId(x)]).toEqual([Id.safeParse(x).success, PublicKeySchema.safeParse(x).success, typeof x === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(x)]);
	});

	it('minor takes whole, non-negative, safe numbers and names the field it refuses', () => {
		expect(minor(0)).toBe(0);
		expect(minor(12_345)).toBe(12_345);
		expect(minor(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
		for (const bad of [1.5, -1, Number.NaN, Infinity, 2 ** 53, '5', null, undefined]) {
			expect(isMinor(bad), String(bad)).toBe(false);
			expect(() => minor(bad, 'Release amount'), String(bad)).toThrow(MoneyError);
		}
		expect(() => minor(1.5, 'Release amount')).toThrow('Release amount must be a whole, non-negative number of minor units (got 1.5).');
		try {
			minor(-1);
		} catch (e) {
			expect((e as MoneyError).code).toBe('invalid-amount');
		}
	});

	it('Minor arithmetic is plain arithmetic', () => {
		const a = minor(700);
		const b = minor(250);
		expect(addMinor(a, b)).toBe(950);
		expect(subMinor(a, b)).toBe(450);
		expect(sumMinor([a, b, ZERO_MINOR])).toBe(950);
		expect(sumMinor([])).toBe(0);
		expect(midpoint(a, b)).toBe(475);
	});

	it('the form boundary: parseAmount gives Minor', () => {
		const r = parseAmount('1,234.50', 'USD');
		expect(r).toEqual({ ok: true, minor: 123_450 });
		if (r.ok) expectTypeOf(r.minor).toEqualTypeOf<Minor>();
	});
});

describe('brands change no value', () => {
	it('the schemas return exactly what they were given', () => {
		const payload = { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' } as const;
		const out = PAYLOADS['milestone.fund'].parse(payload);
		expect(out).toEqual(payload);
		expect(Amount.parse(5)).toBe(5);
		expect(Id.parse(ID)).toBe(ID);
		// The same refusals as before: a fractional or negative amount, a short key.
		expect(Amount.safeParse(1.5).success).toBe(false);
		expect(Amount.safeParse(-5).success).toBe(false);
		expect(PublicKeySchema.safeParse('K'.repeat(42)).success).toBe(false);
	});

	it('a funded milestone folds to the same plain numbers and strings, branded only in the types', async () => {
		const w = new World();
		await w.active();
		const { intent, receipt } = await w.fund('design', 100_000, 3_200);
		const s = w.state;
		const funded = s.applied.find((e) => e.id === receipt)! as EvOf<'receipt.funded'>;
		expect(typeof funded.payload.amount).toBe('number');
		expect(funded.payload.amount).toBe(100_000);
		expect(funded.author).toBe(PROVIDER.publicKey);
		expect(s.parties).toEqual({ client: CLIENT.publicKey, freelancer: FREELANCER.publicKey });
		expect(s.intents.get(intent)!.settledBy).toBe(receipt);
		expect(s.ledger.transfers.filter((t) => t.receipt === receipt).map((t) => [t.kind, t.amount])).toEqual([
			['fund', 100_000],
			['fee', 3_200]
		]);
		expect(balances(s)).toMatchObject({ escrow: 100_000, clientPaid: 103_200, fees: 3_200 });
		// The decoded envelope, read again, is the same value.
		const raw = w.written.find(([id]) => id === receipt)![1];
		const again = decodeEnvelope(receipt, raw, s.contract);
		expect(again.ok && again.body.payload).toEqual(funded.payload);
	});
});
