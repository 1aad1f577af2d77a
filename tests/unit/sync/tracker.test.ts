/**
 * The time tracker: which 10-minute slots it logs (at least half tracked, only once ended), the
 * activity it counts, gaps it does not track, what survives a reload, and the engine writing each
 * ended slot exactly once — into a real hourly contract, whose rules then hold the segments.
 */
import { describe, expect, it } from 'vitest';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { logTrackedSlots } from '../../../src/lib/sync/hourly-actions';
import {
	BEAT_MS,
	MAX_GAP_MS,
	TRACKER_KEY_PREFIX,
	Trackers,
	beat,
	dueSlots,
	noteInput,
	parseTracker,
	readTracker,
	settleUpTo,
	startTracker,
	stopTracker,
	type TrackerStorage
} from '../../../src/lib/sync/tracker';
import { activePair } from '../../support/parties';
import { DAY_MS } from '../../../src/lib/contract/state';
import { hourlyTerms } from '../../support/world';

const t = (hm: string) => Date.parse(`2026-11-02T${hm}:00Z`);
const MIN = 60_000;

/** Beats every 15 s from `from` to `to`, as the app's timer does. */
function runFor(rec: ReturnType<typeof startTracker>, from: number, to: number) {
	let r = rec;
	for (let now = from; now <= to; now += BEAT_MS) r = beat(r, now);
	return r;
}

class MemoryStorage implements TrackerStorage {
	readonly map = new Map<string, string>();
	get length() {
		return this.map.size;
	}
	key(i: number) {
		return [...this.map.keys()][i] ?? null;
	}
	getItem(k: string) {
		return this.map.get(k) ?? null;
	}
	setItem(k: string, v: string) {
		this.map.set(k, v);
	}
	removeItem(k: string) {
		this.map.delete(k);
	}
	clear() {
		this.map.clear();
	}
}

describe('which slots the tracker logs', () => {
	it('logs a slot once it ended and was tracked for at least 5 of its 10 minutes', () => {
		let r = startTracker(undefined, 'c1', 'Signup form', t('10:03'));
		r = runFor(r, t('10:03'), t('10:34'));
		r = stopTracker(r, t('10:34'));
		// 10:00 (7 min), 10:10, 10:20 are due at 10:34; 10:30 (4 min) is too short even once it ends.
		expect(dueSlots(r, t('10:34')).map((d) => d.start)).toEqual([t('10:00'), t('10:10'), t('10:20')]);
		expect(dueSlots(r, t('10:40')).map((d) => d.start)).toEqual([t('10:00'), t('10:10'), t('10:20')]);
		expect(dueSlots(r, t('10:34'))[0]!.memo).toBe('Signup form');
	});

	it('a slot whose end has not come is never due, however long it was tracked', () => {
		let r = startTracker(undefined, 'c1', 'x', t('10:00'));
		r = runFor(r, t('10:00'), t('10:09'));
		expect(dueSlots(r, t('10:09'))).toEqual([]);
		r = stopTracker(r, t('10:09'));
		expect(dueSlots(r, t('10:09') + 59_000)).toEqual([]);
		expect(dueSlots(r, t('10:10')).map((d) => d.start)).toEqual([t('10:00')]);
	});

	it('a run of 4 minutes inside one slot logs nothing', () => {
		let r = startTracker(undefined, 'c1', 'x', t('10:02'));
		r = stopTracker(runFor(r, t('10:02'), t('10:06')), t('10:06'));
		expect(dueSlots(r, t('11:00'))).toEqual([]);
	});

	it('does not track a gap between heartbeats longer than MAX_GAP_MS (the app was closed)', () => {
		let r = startTracker(undefined, 'c1', 'x', t('10:00'));
		r = runFor(r, t('10:00'), t('10:10'));
		// Closed at 10:10, opened again at 11:00: the hour in between is not tracked.
		r = beat(r, t('11:00'));
		expect(r.spans).toEqual([
			[t('10:00'), t('10:10')],
			[t('11:00'), t('11:00')]
		]);
		r = runFor(r, t('11:00'), t('11:10'));
		expect(dueSlots(r, t('11:10')).map((d) => d.start)).toEqual([t('10:00'), t('11:00')]);
		// A short gap (a reload) is tracked.
		const short = beat(runFor(startTracker(undefined, 'c1', 'x', t('12:00')), t('12:00'), t('12:05')), t('12:05') + MAX_GAP_MS);
		expect(short.spans).toEqual([[t('12:00'), t('12:05') + MAX_GAP_MS]]);
	});

	it('counts the minutes with input, 0–10 per slot, only while running', () => {
		let r = startTracker(undefined, 'c1', 'x', t('10:00'));
		for (const m of [0, 0.5, 1, 4, 9.9]) r = noteInput(r, t('10:00') + m * MIN);
		r = runFor(r, t('10:00'), t('10:10'));
		expect(dueSlots(r, t('10:10'))[0]!.activity).toBe(4);
		r = stopTracker(r, t('10:10'));
		expect(noteInput(r, t('10:15'))).toBe(r);
		let busy = startTracker(undefined, 'c1', 'x', t('13:00'));
		for (let m = 0; m < 10; m++) busy = noteInput(beat(busy, t('13:00') + m * MIN), t('13:00') + m * MIN + 1);
		expect(dueSlots(beat(busy, t('13:10')), t('13:10'))[0]!.activity).toBe(10);
	});

	it('settling forgets every ended slot, keeping the current one', () => {
		let r = startTracker(undefined, 'c1', 'x', t('10:00'));
		r = noteInput(runFor(r, t('10:00'), t('10:25')), t('10:24'));
		r = noteInput(r, t('10:04'));
		const s = settleUpTo(r, t('10:25'));
		expect(s.spans).toEqual([[t('10:20'), t('10:25')]]);
		expect(Object.keys(s.activity)).toEqual([String(t('10:20'))]);
		expect(dueSlots(s, t('10:25'))).toEqual([]);
	});
});

describe('storage', () => {
	it('a record survives a reload; anything else in its place is ignored', () => {
		const storage = new MemoryStorage();
		const engine = new Trackers(storage, () => t('10:03'), async () => ({ refused: [] }));
		engine.start('c1', '  Signup form ');
		const again = new Trackers(storage, () => t('10:04'), async () => ({ refused: [] }));
		expect(again.get('c1')).toMatchObject({ running: true, since: t('10:03'), memo: 'Signup form' });
		expect(again.running().map((r) => r.contract)).toEqual(['c1']);
		for (const junk of ['', 'nope', '{"contract":"c1"}', JSON.stringify({ contract: 'c1', memo: '', running: true, spans: [[5, 1]], activity: {} })]) {
			storage.setItem(`${TRACKER_KEY_PREFIX}c1`, junk);
			expect(readTracker(storage, 'c1')).toBeUndefined();
		}
		expect(parseTracker(JSON.stringify({ contract: 'c2', memo: 'm', running: false, since: 3, spans: [], activity: { x: 1, 5: 2 } }))).toEqual({
			contract: 'c2',
			memo: 'm',
			running: false,
			spans: [],
			activity: { 5: 2 }
		});
	});
});

describe('the engine', () => {
	it('writes each ended slot once, keeps slots a failed write could not take, and reports refusals', async () => {
		let now = t('10:00');
		const storage = new MemoryStorage();
		const written: number[][] = [];
		let fail = false;
		const engine = new Trackers(storage, () => now, async (_c, slots) => {
			if (fail) throw new Error('offline storage closed');
			written.push(slots.map((d) => d.start));
			return { refused: slots.some((d) => d.start === t('10:20')) ? ['10:20 was not logged: the week is locked.'] : [] };
		});
		const settle = () => new Promise((r) => setTimeout(r, 0));
		engine.start('c1', 'Work');
		for (; now < t('10:10'); now += BEAT_MS) await engine.tick();
		expect(written).toEqual([]);
		now = t('10:10');
		await engine.tick();
		expect(written).toEqual([[t('10:00')]]);
		await engine.tick();
		expect(written).toHaveLength(1);
		fail = true;
		for (now += BEAT_MS; now <= t('10:20'); now += BEAT_MS) await engine.tick();
		expect(engine.problems.get('c1')).toMatch(/could not be written yet/);
		fail = false;
		await engine.tick();
		// The slot kept through the failure is written on the next beat, and the problem is gone.
		expect(written).toEqual([[t('10:00')], [t('10:10')]]);
		expect(engine.problems.get('c1')).toBeUndefined();
		for (; now < t('10:27'); now += BEAT_MS) await engine.tick();
		engine.stop('c1');
		await settle();
		expect(engine.get('c1')!.running).toBe(false);
		// Stopped at 10:27: the 10:20 slot (7 min) is written once it ended; the rules' refusal is reported.
		now = t('10:30');
		await engine.tick();
		expect(written).toEqual([[t('10:00')], [t('10:10')], [t('10:20')]]);
		expect(engine.problems.get('c1')).toMatch(/week is locked/);
		// After a reload the stopped tracker has nothing left to write.
		const reloaded = new Trackers(storage, () => t('11:00'), async () => {
			throw new Error('should not write');
		});
		await reloaded.tick();
		expect(reloaded.problems.size).toBe(0);
	});

	it('writes tracked segments into an hourly contract; a slot already logged (another tab) is skipped', async () => {
		const at = t('10:00');
		let now = at;
		const provider = new MockEscrowProvider({ now: () => now });
		const info = await provider.info();
		const terms = { ...hourlyTerms({ rate: 6_000 }), provider: { id: 'mock', publicKey: info.publicKey, testMode: true } };
		const pair = await activePair({ escrow: provider, clock: () => now, terms });
		const session = { party: pair.freelancer };
		const engine = new Trackers(new MemoryStorage(), () => now, (_c, slots) => logTrackedSlots(session, slots));
		engine.start(pair.contract, 'Built the signup form');
		for (; now <= t('10:31'); now += BEAT_MS) {
			if (now === t('10:05')) engine.input();
			await engine.tick();
		}
		const h = pair.freelancer.derived().state.hourly!;
		const live = [...h.segments.values()].filter((x) => x.status === 'live');
		// Bound at 10:00: 10:00, 10:10 and 10:20 ended by 10:31.
		expect(live.map((x) => [x.start, x.source, x.memo])).toEqual([
			[t('10:00'), 'tracked', 'Built the signup form'],
			[t('10:10'), 'tracked', 'Built the signup form'],
			[t('10:20'), 'tracked', 'Built the signup form']
		]);
		expect(live[0]!.activity).toBe(1);
		expect(await logTrackedSlots(session, [{ start: t('10:00'), activity: 3, memo: 'again' }])).toEqual({ refused: [] });
		expect([...h.segments.values()].length).toBe(3);
		// A slot the rules refuse (not on the grid) is dropped with the reason.
		const r = await logTrackedSlots(session, [{ start: t('10:40') + 1, activity: 0, memo: 'x' }]);
		expect(r.refused[0]).toMatch(/whole ten minutes/);
	});

	it('TEST MODE: logs on the contract’s test clock, into the week it shows; the clock’s jump is not tracked', async () => {
		let now = t('10:00');
		const provider = new MockEscrowProvider({ now: () => now });
		const info = await provider.info();
		const terms = { ...hourlyTerms({ rate: 6_000 }), provider: { id: 'mock', publicKey: info.publicKey, testMode: true } };
		const pair = await activePair({ escrow: provider, clock: () => now, terms });
		const session = { party: pair.freelancer };
		const storage = new MemoryStorage();
		const engine = new Trackers(storage, () => now, (_c, slots) => logTrackedSlots(session, slots));
		engine.start(pair.contract, 'Built the signup form');
		for (; now <= t('10:11'); now += BEAT_MS) await engine.tick();
		// A week on the test clock, while the tracker runs: the contract now reads Monday 9 November.
		await pair.freelancer.act('testmode.clockAdvanced', { ms: 7 * DAY_MS });
		engine.setOffset(pair.contract, 7 * DAY_MS);
		expect(readTracker(storage, pair.contract)!.offset).toBe(7 * DAY_MS);
		for (; now <= t('10:31'); now += BEAT_MS) await engine.tick();
		const live = [...pair.freelancer.derived().state.hourly!.segments.values()].filter((x) => x.status === 'live');
		// 10:00 on 2 November before the jump; then 10:10 and 10:20 on 9 November (the jump itself is a gap, not tracked).
		expect(live.map((x) => [new Date(x.start).toISOString(), x.week])).toEqual([
			['2026-11-02T10:00:00.000Z', '2026-11-02'],
			['2026-11-09T10:10:00.000Z', '2026-11-09'],
			['2026-11-09T10:20:00.000Z', '2026-11-09']
		]);
		expect(engine.problems.size).toBe(0);
	});

	it('a clock set far back (a TEST MODE reset) starts a new span at once instead of waiting for the old time', () => {
		let r = runFor(startTracker(undefined, 'c1', 'Work', t('10:00') + 7 * DAY_MS), t('10:00') + 7 * DAY_MS, t('10:04') + 7 * DAY_MS);
		r = runFor(r, t('10:06'), t('10:16'));
		// Tracking resumed at 10:06 (the 10:00 slot got only 4 minutes); nothing is left ahead of the clock.
		expect(dueSlots(r, t('10:20')).map((d) => d.start)).toEqual([t('10:10')]);
		expect(r.spans.every(([, to]) => to <= t('10:16'))).toBe(true);
		expect(dueSlots(r, t('10:20') + 7 * DAY_MS).map((d) => d.start)).toEqual([t('10:10')]);
	});
});
