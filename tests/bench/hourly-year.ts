/**
 * A year of hourly work: 52 weeks × 40 h = 12,480 tracked segments, each week funded, its timesheet
 * recorded by the provider and its payment released — every event signed. Measured in Node:
 *  - opening it (decode, verify, fold), as a ratio to opening a fixed-price contract with the same
 *    number of events (fixture.ts), runs interleaved, medians;
 *  - laying out one Work Diary week of it (ui/diary.ts `diaryWeek`, what the Work Diary renders), and
 *    the contract page's hourly panel (its weeks list: up to six diary weeks plus each week's offers).
 * The Svelte render of that week in Chromium is measured by pages.ts (`hourlyYearPages`).
 */
import * as Y from 'yjs';
import { encodeBody, encodeEnvelope, signingBytes, withDerivedContract, type Draft } from '../../src/lib/contract/envelope';
import { ContractLog } from '../../src/lib/contract/log';
import { DEFAULT_CLOCKS, DEFAULT_HOURLY, type EventType, type Payload } from '../../src/lib/contract/schema';
import { SEGMENT_MS, weekOf } from '../../src/lib/contract/weeks';
import { TEST_MODE_KEY } from '../../src/lib/escrow/mock';
import { authenticate } from '../../src/lib/identity/authenticate';
import { sign, type DeviceKey } from '../../src/lib/identity/ed25519';
import { contractWeeks, weekOffers } from '../../src/lib/sync/hourly-actions';
import { loadWasmSha256 } from '../../src/lib/sync/wasm-sha256';
import { diaryWeek } from '../../src/lib/ui/diary';
import { CLIENT, FREELANCER } from '../support/world';
import { bigContract } from './fixture';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RATE = 6_000;
const LIMIT = 40;
const WEEKS = 52;
/** Monday 2 November 2026, 00:00 UTC. */
const FIRST_MONDAY = Date.UTC(2026, 10, 2);

const PROPOSAL: Draft = withDerivedContract({
	contract: '',
	author: CLIENT.publicKey,
	prev: null,
	deps: [],
	at: FIRST_MONDAY - DAY,
	type: 'contract.proposed',
	payload: {
		role: 'client',
		name: 'Ada',
		nonce: 'bench-hourly-year-0001',
		terms: {
			kind: 'hourly',
			title: 'A year of support',
			scope: 'Forty hours a week.',
			currency: 'USD',
			milestones: [],
			provider: { id: 'mock', publicKey: TEST_MODE_KEY.publicKey, testMode: true },
			...DEFAULT_CLOCKS,
			hourly: { rate: RATE, weeklyLimitHours: LIMIT, ...DEFAULT_HOURLY }
		}
	}
});
export const HOURLY_CONTRACT = PROPOSAL.contract;
/** The week the diary figures lay out (and pages.ts renders): one in the middle of the year. */
export const MID_WEEK = weekOf(FIRST_MONDAY + 26 * 7 * DAY);

/** The year's events in fold order: each week funded on Monday, worked Monday to Friday 13:00–21:00, its timesheet recorded the next Monday at 12:01, paid the Saturday after. */
export async function hourlyYear(weeks = WEEKS): Promise<[string, string][]> {
	const drafts: { key: DeviceKey; draft: Draft }[] = [];
	const last = new Map<string, string>();
	let head = '';
	const emit = <T extends EventType>(key: DeviceKey, at: number, type: T, payload: Payload<T>, dep?: string): string => {
		const draft: Draft = { contract: HOURLY_CONTRACT, author: key.publicKey, prev: last.get(key.publicKey) ?? null, deps: [dep ?? head], at, type, payload };
		const { id } = encodeBody(draft);
		last.set(key.publicKey, id);
		head = id;
		drafts.push({ key, draft });
		return id;
	};
	const proposal = encodeBody(PROPOSAL).id;
	last.set(CLIENT.publicKey, proposal);
	head = proposal;
	drafts.push({ key: CLIENT, draft: PROPOSAL });
	const t0 = FIRST_MONDAY - DAY + 60_000;
	const acceptance = emit(FREELANCER, t0, 'contract.accepted', { proposal, name: 'Grace' });
	const countersign = emit(CLIENT, t0 + 60_000, 'contract.countersigned', { acceptance });
	emit(TEST_MODE_KEY, t0 + 120_000, 'receipt.attested', { event: countersign, kind: 'countersign' }, countersign);

	const amount = LIMIT * RATE;
	const segmentsOf = new Map<string, string[]>();
	const close = (week: string, monday: number) => {
		const sheet = emit(FREELANCER, monday + 12 * HOUR + 60_000, 'hourly.timesheet', { week, segments: segmentsOf.get(week)!, minutes: LIMIT * 60, amount, currency: 'USD' });
		emit(TEST_MODE_KEY, monday + 12 * HOUR + 120_000, 'receipt.attested', { event: sheet, kind: 'timesheet' }, sheet);
	};
	const pay = (week: string, saturday: number) => {
		const release = emit(FREELANCER, saturday + HOUR, 'hourly.release', { week, currency: 'USD' });
		emit(TEST_MODE_KEY, saturday + HOUR + 60_000, 'receipt.weekReleased', { intent: release, week, amount, carried: 0, currency: 'USD' }, release);
	};
	for (let w = 0; w <= weeks; w++) {
		const monday = FIRST_MONDAY + w * 7 * DAY;
		const week = weekOf(monday);
		const previous = weekOf(monday - 7 * DAY);
		if (w < weeks) {
			const fund = emit(CLIENT, monday + 8 * HOUR, 'hourly.fund', { week, amount, currency: 'USD', method: 'card' });
			emit(TEST_MODE_KEY, monday + 8 * HOUR + 60_000, 'receipt.weekFunded', { intent: fund, week, amount, fee: 0, currency: 'USD', method: 'card', clearsAt: monday + 8 * HOUR }, fund);
		}
		if (w > 0) close(previous, monday);
		if (w < weeks) {
			const ids: string[] = [];
			for (let day = 0; day < 5; day++)
				for (let slot = 0; slot < 48; slot++) {
					const start = monday + day * DAY + 13 * HOUR + slot * SEGMENT_MS;
					ids.push(emit(FREELANCER, start + SEGMENT_MS, 'hourly.segment', { start, source: 'tracked', memo: `Support ticket ${(day * 48 + slot) % 17}`, activity: slot % 11 }));
				}
			segmentsOf.set(week, ids);
		}
		if (w > 0) pay(previous, monday + 5 * DAY);
	}
	return Promise.all(
		drafts.map(async ({ key, draft }) => {
			const { id, body } = encodeBody(draft);
			return [id, encodeEnvelope(id, body, await sign(key, signingBytes(id)))] as [string, string];
		})
	);
}

export function updateOf(entries: [string, string][]): Uint8Array {
	const doc = new Y.Doc();
	doc.transact(() => {
		const map = doc.getMap<string>('events');
		for (const [id, env] of entries) map.set(id, env);
	});
	return Y.encodeStateAsUpdate(doc);
}

/** A first open: apply the stored update, then decode, verify and fold every event. */
async function open(contract: string, update: Uint8Array): Promise<ContractLog> {
	const doc = new Y.Doc();
	Y.applyUpdate(doc, update);
	const log = new ContractLog(contract);
	doc.getMap<string>('events').forEach((env, id) => log.add(id, env));
	await authenticate(log);
	log.derive();
	return log;
}

export async function hourlyYearBench(runs = 5) {
	await loadWasmSha256();
	const hourly = await hourlyYear();
	const events = hourly.length;
	const fixed = await bigContract(events);
	const [hourlyUpdate, fixedUpdate] = [updateOf(hourly), updateOf(fixed)];
	const fixedContract = JSON.parse(JSON.parse(fixed[0]![1]).body).contract as string;

	const first = await open(HOURLY_CONTRACT, hourlyUpdate);
	const d = first.derive();
	const s = d.state;
	if (d.rejected.length) throw new Error(`the hourly year folds with ${d.rejected.length} rejected events: ${d.rejected[0]!.type}: ${d.rejected[0]!.message}`);
	if (s.hourly!.segments.size !== WEEKS * LIMIT * 6) throw new Error('unequal segments');
	if (s.ledger.balance('freelancer:pending') + s.ledger.balance('freelancer:available') !== WEEKS * LIMIT * RATE) throw new Error('the year did not pay');
	await open(fixedContract, fixedUpdate);

	const hourlyMs: number[] = [];
	const fixedMs: number[] = [];
	for (let i = 0; i < runs; i++) {
		let t = performance.now();
		await open(HOURLY_CONTRACT, hourlyUpdate);
		hourlyMs.push(performance.now() - t);
		t = performance.now();
		await open(fixedContract, fixedUpdate);
		fixedMs.push(performance.now() - t);
	}

	// One diary week in the middle of the year, and the contract page's hourly panel, at the year's end.
	const now = FIRST_MONDAY + WEEKS * 7 * DAY + 6 * DAY;
	const week = MID_WEEK;
	const session = { party: { derived: () => d, ask: () => null, act: async () => undefined as never, settle: async () => undefined as never, now: () => now } } as unknown as Parameters<typeof weekOffers>[0];
	const diaryMs: number[] = [];
	const panelMs: number[] = [];
	let cells = 0;
	for (let i = 0; i < runs * 4; i++) {
		let t = performance.now();
		cells = diaryWeek(s, week, now, 'Europe/Berlin').cells.length;
		diaryMs.push(performance.now() - t);
		t = performance.now();
		const shown = contractWeeks(s, now).reverse().slice(0, 6);
		for (const w of shown) {
			weekOffers(session, 'freelancer', w, now, now);
			diaryWeek(s, w, now, 'Europe/Berlin');
		}
		panelMs.push(performance.now() - t);
	}
	if (cells !== LIMIT * 6) throw new Error(`the diary week shows ${cells} cells`);

	const open_ = median(hourlyMs);
	const fixedOpen = median(fixedMs);
	return {
		benchmark: 'hourly-year',
		events,
		segments: s.hourly!.segments.size,
		weeks: WEEKS,
		updateBytes: hourlyUpdate.byteLength,
		coldOpenMs: round(open_),
		fixedPriceSameEventsColdOpenMs: round(fixedOpen),
		coldOpenToFixedPriceRatio: round(open_ / fixedOpen),
		diaryWeekMs: round(median(diaryMs), 3),
		hourlyPanelMs: round(median(panelMs), 3),
		browserRender: 'see the pages figures (hourlyYearDiaryWeekMs)',
		targets: { coldOpenToFixedPriceRatio: 2, diaryWeekMs: 16 }
	};
}

// `node --import tsx tests/bench/hourly-year.ts` runs it alone.
if (process.argv[1]?.endsWith('hourly-year.ts'))
	hourlyYearBench().then(
		(f) => console.log(JSON.stringify(f, null, 2)),
		(e) => {
			console.error(e);
			process.exit(1);
		}
	);
