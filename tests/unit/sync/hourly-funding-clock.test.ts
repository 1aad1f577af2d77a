/**
 * Weekly funding is worked out on the contract's provider clock, never on the device's: here the
 * device reads Monday 9 November (week 2) while the TEST MODE provider clock reads Friday 13
 * November, past the end of the freelancer's window to answer a dispute. On the provider clock
 * the dispute has lapsed (counts as accepted), so the week owes 40 minutes, not the full hour.
 */
import { describe, expect, it } from 'vitest';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { testClockOffset } from '../../../src/lib/contract/testclock';
import { weekBook } from '../../../src/lib/contract/timesheet';
import { weekOf } from '../../../src/lib/contract/weeks';
import type { ContractState } from '../../../src/lib/contract/state';
import * as hourly from '../../../src/lib/sync/hourly-actions';
import { activePair } from '../../support/parties';
import { hourlyTerms } from '../../support/world';

const W1 = '2026-11-02';
const DAY = 86_400_000;
const utc = (s: string) => Date.parse(`${s}Z`);
const local = (day: string, hm: string) => new Date(`${day}T${hm}`).getTime();
const money = (n: number) => `$${(n / 100).toFixed(2)}`;

describe('weekly funding on the provider clock', () => {
	it('offers and signs what the week owes by the provider’s clock when the device’s clock reads another week', async () => {
		const clock = { now: utc('2026-11-02T00:00') };
		let state: () => ContractState | undefined = () => undefined;
		// The mock's clock for the contract: real time plus its TEST MODE offset, as in the app.
		const provider = new MockEscrowProvider({ now: () => clock.now + (state() ? testClockOffset(state()!) : 0) });
		const info = await provider.info();
		// No weekly limit: the week is funded after its timesheet, with what it still owes.
		const terms = { ...hourlyTerms({ rate: 6_000, weeklyLimitHours: undefined }), provider: { id: 'mock', publicKey: info.publicKey, testMode: true } };
		const pair = await activePair({ escrow: provider, clock: () => clock.now, terms });
		state = () => pair.client.derived().state;
		const sync = async () => {
			await pair.freelancer.receive(pair.client.log.envelopes());
			await pair.client.receive(pair.freelancer.log.envelopes());
		};
		const freelancer = { party: pair.freelancer, pending: [] };
		const client = { party: pair.client, pending: [] };

		clock.now = utc('2026-11-03T12:00');
		expect(await hourly.addManualTime(freelancer, { day: '2026-11-03', from: '10:00', to: '11:00', memo: 'Signup form' }, local('2026-11-03', '12:00'))).toEqual({ ok: true });
		clock.now = utc('2026-11-09T12:00');
		await hourly.runWeeklyDuties(freelancer, 'freelancer', clock.now, clock.now, money);
		await sync();
		const billed = pair.client.derived().state.hourly!.timesheets.values().next().value!.segments;
		expect(await hourly.disputeSegments(client, W1, billed.slice(4), 'A coffee break.')).toEqual({ ok: true });
		await sync();

		// The provider's clock moves four days on; the device's stays on Monday 9 November.
		await pair.client.act('testmode.clockAdvanced', { ms: 4 * DAY });
		const s = pair.client.derived().state;
		const providerNow = Math.max(clock.now + testClockOffset(s), s.providerNow);
		expect(weekOf(providerNow)).toBe('2026-11-09');
		expect(providerNow).toBe(utc('2026-11-13T12:00'));
		expect(weekOf(clock.now)).toBe('2026-11-09');

		// By the device's clock the dispute is still open and the week would owe the whole hour ($60).
		expect(hourly.weekOffers(client, 'client', W1, providerNow, clock.now).fund).toEqual({ amount: 4_000, allowed: true });
		expect(await hourly.fundWeek(client, W1, 4_000, 'card')).toEqual({ ok: true });
		expect(weekBook(pair.client.derived().state, W1).funded).toBe(4_000);
		expect(hourly.weekOffers(client, 'client', W1, providerNow, clock.now).fund).toMatchObject({ allowed: false, reason: 'The week is funded.' });
	});

	it('a week whose timesheet deadline passed on the provider’s clock is not offered for funding, whatever the device’s clock says', async () => {
		const clock = { now: utc('2026-11-02T00:00') };
		let state: () => ContractState | undefined = () => undefined;
		const provider = new MockEscrowProvider({ now: () => clock.now + (state() ? testClockOffset(state()!) : 0) });
		const info = await provider.info();
		const terms = { ...hourlyTerms({ rate: 6_000, weeklyLimitHours: 10 }), provider: { id: 'mock', publicKey: info.publicKey, testMode: true } };
		const pair = await activePair({ escrow: provider, clock: () => clock.now, terms });
		state = () => pair.client.derived().state;
		const client = { party: pair.client, pending: [] };
		// Two weeks on the provider's clock: week 1 closed without a timesheet and owes nothing now.
		await pair.client.act('testmode.clockAdvanced', { ms: 14 * DAY });
		const s = pair.client.derived().state;
		const providerNow = Math.max(clock.now + testClockOffset(s), s.providerNow);
		expect(weekOf(providerNow)).toBe('2026-11-16');
		expect(hourly.weekOffers(client, 'client', W1, providerNow, clock.now).fund.allowed).toBe(false);
		// The provider's current week is offered at its limit × rate, and funds.
		expect(hourly.weekOffers(client, 'client', '2026-11-16', providerNow, clock.now).fund).toEqual({ amount: 60_000, allowed: true });
		expect(await hourly.fundWeek(client, '2026-11-16', 60_000, 'card')).toEqual({ ok: true });
	});
});
