/**
 * The hourly use cases on two devices with the TEST MODE mock: manual time with every field error at
 * once, what the page may offer per week, the freelancer's app submitting the timesheet and claiming
 * the week by itself, a dispute answered, bonuses, pausing and the weekly limit.
 */
import { describe, expect, it } from 'vitest';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { weekFigures } from '../../../src/lib/contract/timesheet';
import * as hourly from '../../../src/lib/sync/hourly-actions';
import { activePair } from '../../support/parties';
import { hourlyTerms } from '../../support/world';

const W1 = '2026-11-02';
/** Local wall time, as the form's fields give it (the test runs in the machine's zone, like a browser). */
const local = (day: string, hm: string) => new Date(`${day}T${hm}`).getTime();
const utc = (s: string) => Date.parse(`${s}Z`);

async function setUp(over: Parameters<typeof hourlyTerms>[0] = {}) {
	const clock = { now: utc('2026-11-02T00:00') };
	const provider = new MockEscrowProvider({ now: () => clock.now });
	const info = await provider.info();
	const terms = { ...hourlyTerms({ rate: 6_000, weeklyLimitHours: 10, ...over }), provider: { id: 'mock', publicKey: info.publicKey, testMode: true } };
	const pair = await activePair({ escrow: provider, clock: () => clock.now, terms });
	const sync = async () => {
		await pair.freelancer.receive(pair.client.log.envelopes());
		await pair.client.receive(pair.freelancer.log.envelopes());
	};
	const freelancer = { party: pair.freelancer, pending: [] };
	const client = { party: pair.client, pending: [] };
	return { clock, pair, sync, freelancer, client };
}

const money = (n: number) => `$${(n / 100).toFixed(2)}`;

describe('manual time', () => {
	it('shows every field error at once, in words, and writes nothing', async () => {
		const c = await setUp();
		c.clock.now = utc('2026-11-03T12:00');
		const size = c.pair.freelancer.log.size;
		expect(await hourly.addManualTime(c.freelancer, { day: '', from: '', to: '', memo: ' ' }, c.clock.now)).toEqual({
			ok: false,
			pending: false,
			errors: {
				day: 'Choose the day the work was done.',
				from: 'Enter when the work started, like 09:00.',
				to: 'Enter when the work ended, like 10:30.',
				memo: 'Write a memo: it tells the client what the time was for, and time without one is not billed.'
			}
		});
		const r = await hourly.addManualTime(c.freelancer, { day: W1, from: '09:05', to: '09:00', memo: 'x'.repeat(501) }, c.clock.now);
		expect(r).toMatchObject({ ok: false, errors: { from: expect.stringContaining('start on a whole ten minutes'), to: 'The end must be after the start, on the same day.', memo: 'Memo is too long: at most 500 characters.' } });
		const future = await hourly.addManualTime(c.freelancer, { day: '2026-11-04', from: '09:00', to: '10:00', memo: 'Later' }, local('2026-11-04', '09:30'));
		expect(future).toMatchObject({ ok: false, errors: { to: 'That time has not ended yet: time in the future cannot be logged.' } });
		expect(c.pair.freelancer.log.size).toBe(size);
	});

	it('writes one manual segment per ten minutes; time already logged is refused', async () => {
		const c = await setUp();
		c.clock.now = utc('2026-11-03T12:00');
		expect(await hourly.addManualTime(c.freelancer, { day: W1, from: '10:00', to: '10:30', memo: 'Signup form' }, local('2026-11-03', '12:00'))).toEqual({ ok: true });
		const live = [...c.pair.freelancer.derived().state.hourly!.segments.values()];
		expect(live.map((x) => [x.start, x.source, x.memo, x.activity])).toEqual([
			[local(W1, '10:00'), 'manual', 'Signup form', 0],
			[local(W1, '10:10'), 'manual', 'Signup form', 0],
			[local(W1, '10:20'), 'manual', 'Signup form', 0]
		]);
		const again = await hourly.addManualTime(c.freelancer, { day: W1, from: '10:20', to: '10:40', memo: 'Again' }, local('2026-11-03', '12:00'));
		expect(again).toMatchObject({ ok: false, errors: { from: expect.stringMatching(/already has time logged/) } });
		expect(c.pair.freelancer.derived().state.hourly!.segments.size).toBe(3);
	});

	it('is refused when the terms do not allow it', async () => {
		const c = await setUp({ manualTime: false });
		const r = await hourly.addManualTime(c.freelancer, { day: W1, from: '10:00', to: '10:30', memo: 'x' }, utc('2026-11-03T12:00'));
		expect(r).toEqual({ ok: false, pending: false, errors: { form: 'The terms of this contract do not allow manual time: only tracked time is logged.' } });
	});

	it('memos change and time is deleted until the lock', async () => {
		const c = await setUp();
		c.clock.now = utc('2026-11-03T12:00');
		await hourly.addManualTime(c.freelancer, { day: W1, from: '10:00', to: '10:30', memo: 'Signup form' }, local('2026-11-03', '12:00'));
		const ids = [...c.pair.freelancer.derived().state.hourly!.segments.keys()];
		expect(await hourly.changeMemo(c.freelancer, ids.slice(0, 2), ' ')).toMatchObject({ errors: { memo: 'Write the new memo: time without one is not billed.' } });
		expect(await hourly.changeMemo(c.freelancer, ids.slice(0, 2), 'Login form')).toEqual({ ok: true });
		expect(await hourly.deleteSegments(c.freelancer, [ids[2]!])).toEqual({ ok: true });
		const live = [...c.pair.freelancer.derived().state.hourly!.segments.values()].filter((x) => x.status === 'live');
		expect(live.map((x) => [x.source, x.memo])).toEqual([
			['manual', 'Login form'],
			['manual', 'Login form']
		]);
	});
});

describe('the diary’s clock in TEST MODE', () => {
	const DAY = 86_400_000;

	it('manual time is logged, and edits lock, on the contract’s test clock: a “past week” can be logged to test its review', async () => {
		const c = await setUp();
		c.clock.now = utc('2026-11-03T12:00');
		await hourly.addManualTime(c.freelancer, { day: W1, from: '10:00', to: '10:30', memo: 'Signup form' }, c.clock.now);
		// Without the test clock, time in the next week has not happened yet on this device.
		const early = await hourly.addManualTime(c.freelancer, { day: '2026-11-10', from: '09:00', to: '10:00', memo: 'Tests' }, c.clock.now);
		expect(early).toMatchObject({ ok: false, errors: { to: 'That time has not ended yet: time in the future cannot be logged.' } });
		// A week on the test clock: the device still reads 3 November, the contract reads 10 November 12:00.
		await c.pair.freelancer.act('testmode.clockAdvanced', { ms: 7 * DAY });
		expect(hourly.diaryNow(c.pair.freelancer.derived().state, c.clock.now)).toBe(utc('2026-11-10T12:00'));
		expect(await hourly.addManualTime(c.freelancer, { day: '2026-11-10', from: '09:00', to: '10:00', memo: 'Tests' }, c.clock.now)).toEqual({ ok: true });
		const s = c.pair.freelancer.derived().state;
		const week2 = [...s.hourly!.segments.values()].filter((x) => x.week === '2026-11-09' && x.status === 'live');
		expect(week2).toHaveLength(6);
		// Dated on the contract's clock, so every peer's rules accept them as written after their slots ended.
		expect(week2.every((x) => x.at === utc('2026-11-10T12:00'))).toBe(true);
		await c.sync();
		expect([...c.pair.client.derived().state.hourly!.segments.values()].filter((x) => x.week === '2026-11-09')).toHaveLength(6);
		// Week 1's edits locked on Monday 9 November 12:00 by the contract's clock: nothing there changes now.
		const w1 = [...s.hourly!.segments.values()].filter((x) => x.week === W1).map((x) => x.id);
		expect(hourly.weekOffers(c.freelancer, 'freelancer', W1, utc('2026-11-10T12:00'), c.clock.now).editable).toBe(false);
		expect(hourly.weekOffers(c.freelancer, 'freelancer', '2026-11-09', utc('2026-11-10T12:00'), c.clock.now).editable).toBe(true);
		expect(await hourly.deleteSegments(c.freelancer, w1.slice(0, 1))).toMatchObject({ ok: false, errors: { form: expect.stringMatching(/locked 2026-11-09 12:00 UTC/) } });
	});

	it('only a TEST MODE contract moves the diary’s clock; with a real provider it is the device’s', async () => {
		const c = await setUp();
		const now = utc('2026-11-03T12:00');
		await c.pair.freelancer.act('testmode.clockAdvanced', { ms: DAY });
		const s = c.pair.freelancer.derived().state;
		expect(hourly.diaryNow(s, now)).toBe(now + DAY);
		const real = { ...s, terms: { ...s.terms!, provider: { ...s.terms!.provider, id: 'stripe', testMode: false } } } as typeof s;
		expect(hourly.diaryNow(real, now)).toBe(now);
	});
});

describe('a week from funding to payment', () => {
	it('funds, submits by itself after the lock, takes a dispute, and claims net after the review — the page offers each only when the rules allow', async () => {
		const c = await setUp();
		const offers = (who: 'client' | 'freelancer') => hourly.weekOffers(who === 'client' ? c.client : c.freelancer, who, W1, c.clock.now, c.clock.now);
		expect(offers('client').fund).toEqual({ amount: 60_000, allowed: true });
		expect(offers('freelancer').fund).toMatchObject({ allowed: false, reason: 'Only the client funds a week.' });
		expect(await hourly.fundWeek(c.client, W1, 60_000, 'card')).toEqual({ ok: true });
		expect(offers('client').fund).toMatchObject({ allowed: false, reason: 'The week is funded.' });
		await c.sync();

		c.clock.now = utc('2026-11-03T12:00');
		await hourly.addManualTime(c.freelancer, { day: W1, from: '10:00', to: '11:00', memo: 'Signup form' }, local('2026-11-03', '12:00'));
		expect(offers('freelancer')).toMatchObject({ editable: true, submit: { allowed: false, reason: expect.stringMatching(/^Edits lock /) } });
		const notes: [string, string][] = [];
		const say = (w: string, text: string) => notes.push([w, text]);
		await hourly.runWeeklyDuties(c.freelancer, 'freelancer', c.clock.now, c.clock.now, money, say);
		expect(notes).toEqual([]);

		// Past the lock (Monday 9 November 12:00 UTC) the freelancer's app submits the timesheet, once.
		c.clock.now = utc('2026-11-09T12:00');
		await hourly.runWeeklyDuties(c.freelancer, 'freelancer', c.clock.now, c.clock.now, money, say);
		await hourly.runWeeklyDuties(c.freelancer, 'freelancer', c.clock.now, c.clock.now, money, say);
		expect(notes).toEqual([[W1, 'The week’s edits locked, so this app submitted its timesheet for you: 1 h billing $60.00.']]);
		expect(hourly.dutyNotes(c.freelancer).get(W1)).toBe(notes[0]![1]);
		expect(offers('freelancer')).toMatchObject({ editable: false, submit: { allowed: false, reason: 'The provider has recorded this week’s timesheet.' } });
		await c.sync();

		// The client disputes two segments: a reason is required.
		const billed = c.pair.client.derived().state.hourly!.timesheets.values().next().value!.segments;
		expect(offers('client').dispute).toMatchObject({ allowed: true, endsAt: utc('2026-11-14T00:00') });
		expect(await hourly.disputeSegments(c.client, W1, billed.slice(4), ' ')).toMatchObject({ errors: { reason: expect.stringMatching(/^Say why/) } });
		expect(await hourly.disputeSegments(c.client, W1, [], 'x')).toMatchObject({ errors: { form: 'Select the time you dispute first.' } });
		expect(await hourly.disputeSegments(c.client, W1, billed.slice(4), 'A coffee break.')).toEqual({ ok: true });
		await c.sync();
		const [dispute] = [...c.pair.freelancer.derived().state.hourly!.disputes.keys()];
		expect(hourly.disputeText(c.pair.freelancer.derived().state, dispute!, c.clock.now).status).toBe('open');
		expect(await hourly.answerDispute(c.freelancer, dispute!, true)).toEqual({ ok: true });
		await c.sync();
		expect(offers('freelancer').claim).toMatchObject({ allowed: false, reason: 'The client\'s review ends 2026-11-14 00:00 UTC.' });

		// After the review the app claims the week: 40 of 60 minutes, and carries the unused escrow on.
		c.clock.now = utc('2026-11-14T09:00');
		expect(offers('freelancer').claim).toEqual({ allowed: true, amount: 4_000, carried: 56_000 });
		await hourly.runWeeklyDuties(c.freelancer, 'freelancer', c.clock.now, c.clock.now, money, say);
		expect(notes.at(-1)).toEqual([W1, 'The client’s review ended, so this app claimed the week’s payment for you: $40.00 released, unused escrow carried on to a later week.']);
		const s = c.pair.freelancer.derived().state;
		expect(weekFigures(s, W1, c.clock.now)).toMatchObject({ released: 4_000, refundedMinutes: 20, held: 0 });
		expect(s.ledger.balance('freelancer:pending')).toBe(4_000);
		expect(offers('freelancer').claim).toMatchObject({ allowed: false });
		// Nothing to take back while the contract runs: unused escrow carries on by itself.
		await c.sync();
		expect(hourly.weekOffers(c.client, 'client', W1, c.clock.now, c.clock.now).reclaim.allowed).toBe(false);
	});
});

describe('the contract', () => {
	it('a bonus needs an amount and a note, and is paid at once', async () => {
		const c = await setUp();
		expect(await hourly.payBonus(c.client, { amount: '', note: '' }, 'card')).toEqual({
			ok: false,
			pending: false,
			errors: { amount: 'Enter the amount of the bonus.', note: 'Write a note: the freelancer sees what the bonus is for.' }
		});
		expect(await hourly.payBonus(c.client, { amount: '12x', note: 'Thanks' }, 'card')).toMatchObject({ errors: { amount: expect.stringContaining('is not an amount') } });
		expect(await hourly.payBonus(c.freelancer, { amount: '25', note: 'To myself' }, 'card')).toMatchObject({ ok: false, errors: { form: expect.stringContaining('Nothing was changed') } });
		expect(await hourly.payBonus(c.client, { amount: '25', note: 'For the extra hours' }, 'card')).toEqual({ ok: true });
		expect(c.pair.client.derived().state.bonuses).toMatchObject([{ amount: 2_500, note: 'For the extra hours', receipt: expect.any(String) }]);
	});

	it('the client pauses and resumes; the weekly limit takes whole hours', async () => {
		const c = await setUp();
		expect(await hourly.changeWeeklyLimit(c.client, '')).toMatchObject({ errors: { hours: 'Enter the new weekly limit in hours.' } });
		expect(await hourly.changeWeeklyLimit(c.client, '2.5')).toMatchObject({ errors: { hours: 'Enter a whole number of hours from 1 to 80.' } });
		expect(await hourly.changeWeeklyLimit(c.client, '20')).toEqual({ ok: true });
		c.clock.now = utc('2026-11-03T09:00');
		expect(await hourly.pauseContract(c.client, 'Waiting for the designs.')).toEqual({ ok: true });
		const s = c.pair.client.derived().state;
		expect([...s.recorded.values()].map((r) => r.kind)).toEqual(expect.arrayContaining(['limit-change', 'pause']));
		expect(await hourly.resumeContract(c.client)).toEqual({ ok: true });
		expect(await hourly.pauseContract(c.freelancer, '')).toMatchObject({ ok: false, errors: { form: expect.stringContaining('Nothing was changed') } });
	});
});
