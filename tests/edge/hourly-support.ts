/**
 * An hourly contract on an escrow provider (the Stripe function's stack or the mock), made the way
 * the app makes one, and the steps of a week as the app takes them: log time, submit the timesheet
 * at the lock (the provider records it), dispute and answer, claim, reclaim, pay a bonus.
 */
import { DEFAULT_CLOCKS, type HourlyTerms } from '../../src/lib/contract/schema';
import { SEGMENT_MS } from '../../src/lib/contract/weeks';
import type { EscrowAdapter } from '../../src/lib/escrow/adapter';
import * as hourly from '../../src/lib/sync/hourly-actions';
import type { Party } from '../../src/lib/sync/party';
import { activePair } from '../support/parties';
import { hourlyTerms } from '../support/world';

export const W1 = '2026-11-02';
export const W2 = '2026-11-09';
export const W3 = '2026-11-16';
export const W4 = '2026-11-23';
export const utc = (s: string): number => Date.parse(`${s}Z`);
/** 10 h × $60.00: what a week's escrow holds before its timesheet. */
export const LIMIT = 60_000;

export interface HourlyContract {
	id: string;
	client: Party;
	freelancer: Party;
	sync(): Promise<void>;
	/** Log `slots` ten-minute segments from `from` (UTC, "2026-11-03T09:00"), with a memo. */
	log(from: string, slots: number, memo?: string): Promise<string[]>;
	/** Sign the week's timesheet as the diary drafts it; the provider records it (from the lock). */
	submit(week: string): Promise<void>;
	fund(week: string, amount: number, by?: Party): ReturnType<Party['settle']>;
	claim(week: string, by?: Party): ReturnType<Party['settle']>;
	reclaim(week: string, by?: Party): ReturnType<Party['settle']>;
	bonus(amount: number, note?: string): ReturnType<Party['settle']>;
	/** The client disputes `segments`; the freelancer answers (accept or not). */
	dispute(week: string, segments: string[], accept: boolean): Promise<void>;
}

/** `extra`: terms beside the rate and limit (a mediator named in advance). */
export async function hourlyContract(escrow: EscrowAdapter, clock: { now: number }, extra: Pick<HourlyTerms, 'mediator'> = {}): Promise<HourlyContract> {
	const info = await escrow.info();
	const terms = { ...hourlyTerms({ rate: 6_000, weeklyLimitHours: 10 }), ...DEFAULT_CLOCKS, ...extra, provider: { id: info.id, publicKey: info.publicKey, testMode: info.testMode } };
	const { contract, client, freelancer } = await activePair({ escrow, clock: () => clock.now, terms });
	const sync = async () => {
		await client.receive(freelancer.log.envelopes());
		await freelancer.receive(client.log.envelopes());
	};
	const c: HourlyContract = {
		id: contract,
		client,
		freelancer,
		sync,
		async log(from, slots, memo = 'Signup form') {
			const ids: string[] = [];
			for (let i = 0; i < slots; i++) ids.push((await freelancer.act('hourly.segment', { start: utc(from) + i * SEGMENT_MS, source: 'manual', memo, activity: 0 })).id);
			return ids;
		},
		async submit(week) {
			await sync();
			const r = await hourly.submitTimesheet({ party: freelancer }, week);
			if (!r.ok) throw new Error(`timesheet refused: ${JSON.stringify(r)}`);
			// The provider records it from the lock on its clock (act asks it): without that nothing bills.
			if (!freelancer.derived().state.hourly!.weeks.get(week)?.timesheet) throw new Error(`the provider did not record the timesheet of ${week}`);
			await sync();
		},
		fund: (week, amount, by = client) => by.settle('hourly.fund', { week, amount, currency: 'USD', method: 'card' }),
		claim: (week, by = freelancer) => by.settle('hourly.release', { week, currency: 'USD' }),
		reclaim: (week, by = client) => by.settle('hourly.reclaim', { week, currency: 'USD' }),
		bonus: (amount, note = 'For the extra hours') => client.settle('bonus.paid', { amount, currency: 'USD', method: 'card', note }),
		async dispute(week, segments, accept) {
			await sync();
			const d = await client.act('hourly.disputed', { week, segments, reason: 'A coffee break.' });
			await sync();
			await freelancer.act('hourly.disputeAnswered', { dispute: d.id, accept });
			await sync();
		}
	};
	return c;
}

/** The segments the provider's recorded timesheet of `week` bills, on `p`'s replica. */
export function billed(p: Party, week: string): string[] {
	const s = p.derived().state;
	const id = s.hourly!.weeks.get(week)?.timesheet;
	return id ? s.hourly!.timesheets.get(id)!.segments : [];
}
