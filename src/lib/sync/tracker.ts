/**
 * The time tracker of hourly contracts. While it runs it keeps the spans of time it tracked and,
 * per 10-minute slot of the UTC grid (contract/weeks.ts), the minutes with keyboard or pointer input
 * in this app's window; once a slot has ended, it hands the slot to the log as one 'hourly.segment'
 * (the rules accept a segment only after its slot ended, so a slot is never written early).
 *
 * A slot is logged when the tracker ran for at least half of it (5 of its 10 minutes): starting at
 * 10:03 logs 10:00–10:10, stopping at 10:34 logs 10:30–10:40 once 10:40 has passed, a run of four
 * minutes inside one slot logs nothing. A gap longer than MAX_GAP_MS between heartbeats (the app was
 * closed, the device slept) is not tracked: the tracker counts only time the app saw pass.
 *
 * Everything survives a reload: the record lives in localStorage, one key per contract (device-local,
 * never synced; the segments it writes go into the contract's Yjs document, which persists offline
 * and syncs later). The pure functions come first; `Trackers` runs them on a timer.
 *
 * TEST MODE: a contract's test clock (contract/testclock.ts) runs ahead of this device's; the record
 * keeps that offset, and slots are cut and logged on the contract's clock, so tracked time lands in
 * the week the test clock shows. The pure functions take that clock's `now`; `since` stays device time.
 *
 * Screenshots (opt-in, with the person's permission to capture the screen: sync/screenshots.ts): one
 * frame per slot, at a random moment of it, so nobody can time their screen to it. The thumbnail is
 * kept in the record until its slot is written, and goes into the contract only with its segment,
 * which signs its hash; a slot that is not logged takes its screenshot with it.
 */
import { toBase64url } from '../contract/encoding';
import { SEGMENT_MS, slotOf } from '../contract/weeks';

/** How often a running tracker notes that time passed (and writes the slots that ended). */
export const BEAT_MS = 15_000;
/** Longer than this between two heartbeats, the time in between is not tracked. */
export const MAX_GAP_MS = 2 * 60_000;
/** A slot is logged when the tracker ran for at least this much of it. */
export const MIN_COVERAGE_MS = SEGMENT_MS / 2;
const MINUTE_MS = 60_000;
const MINUTES_PER_SLOT = SEGMENT_MS / MINUTE_MS;

export interface TrackerRecord {
	contract: string;
	/** What the freelancer is working on: the memo of the segments written from now on. */
	memo: string;
	running: boolean;
	/** When the current run started, by this device's clock (for the display). */
	since?: number;
	/** TEST MODE: how far the contract's clock runs ahead of this device's (absent: not at all). */
	offset?: number;
	/** Tracked time not yet decided, [from, to] in device milliseconds; the last span grows while running. */
	spans: [number, number][];
	/** Slot start → bit mask of its minutes (0–9) with keyboard or pointer input in the app. */
	activity: Record<string, number>;
	/** The freelancer opted in to screenshots for this contract. */
	screenshots?: boolean;
	/** When the current slot's screenshot is to be taken (contract clock); drawn at random per slot. */
	shotAt?: number;
	/** Slot start → the screenshot taken in it, until the slot is written. */
	shots?: Record<string, Shot>;
}

/** A screenshot thumbnail taken in a slot: its hash (what the segment signs) and its bytes, base64url. */
export interface Shot {
	hash: string;
	data: string;
}

/** A slot ready to be logged. */
export interface DueSlot {
	start: number;
	/** Minutes with input, 0–10. */
	activity: number;
	memo: string;
	/** The screenshot taken in the slot, if any. */
	screenshot?: Shot;
}

export function startTracker(rec: TrackerRecord | undefined, contract: string, memo: string, now: number, since = now): TrackerRecord {
	if (rec?.running) return rec;
	const offset = rec?.offset ? { offset: rec.offset } : {};
	const shots = rec?.screenshots ? { screenshots: true, ...(rec.shots ? { shots: rec.shots } : {}) } : {};
	return { contract, memo, running: true, since, ...offset, ...shots, spans: [...(rec?.spans ?? []), [now, now]], activity: { ...(rec?.activity ?? {}) } };
}

/** Time passed while running: the open span grows to `now`, or a new one starts after a gap. */
export function beat(rec: TrackerRecord, now: number): TrackerRecord {
	if (!rec.running) return rec;
	const spans = rec.spans.map((s) => [...s] as [number, number]);
	const last = spans[spans.length - 1];
	if (!last || now - last[1] > MAX_GAP_MS) spans.push([now, now]);
	// Far back (a TEST MODE clock reset): what lay ahead of the clock is dropped and a new span starts here.
	else if (last[1] - now > MAX_GAP_MS) return { ...rec, spans: [...spans.filter(([from]) => from < now).map(([from, to]) => [from, Math.min(to, now)] as [number, number]), [now, now]] };
	// A clock that went back a little (the device's time was corrected) tracks nothing until it catches up.
	else if (now > last[1]) last[1] = now;
	return { ...rec, spans };
}

export function stopTracker(rec: TrackerRecord, now: number): TrackerRecord {
	const { since: _since, ...rest } = beat(rec, now);
	return { ...rest, running: false };
}

/** Keyboard or pointer input in the app at `now`: its minute counts as active (while running). */
export function noteInput(rec: TrackerRecord, now: number): TrackerRecord {
	if (!rec.running) return rec;
	const slot = slotOf(now);
	const minute = Math.floor((now - slot) / MINUTE_MS);
	const mask = rec.activity[slot] ?? 0;
	if (mask & (1 << minute)) return rec;
	return { ...rec, activity: { ...rec.activity, [slot]: mask | (1 << minute) } };
}

/** How much of the slot starting at `slot` the spans cover. */
export function coverage(spans: readonly [number, number][], slot: number): number {
	let ms = 0;
	for (const [from, to] of spans) ms += Math.max(0, Math.min(to, slot + SEGMENT_MS) - Math.max(from, slot));
	return ms;
}

function bits(mask: number): number {
	let n = 0;
	for (let i = 0; i < MINUTES_PER_SLOT; i++) if (mask & (1 << i)) n++;
	return n;
}

/** The slots that ended by `now` and were tracked for at least half their length, earliest first. */
export function dueSlots(rec: TrackerRecord, now: number): DueSlot[] {
	const starts = new Set<number>();
	for (const [from, to] of rec.spans) for (let s = slotOf(from); s < to; s += SEGMENT_MS) if (s + SEGMENT_MS <= now) starts.add(s);
	return [...starts]
		.filter((s) => coverage(rec.spans, s) >= MIN_COVERAGE_MS)
		.sort((a, b) => a - b)
		.map((start) => ({ start, activity: bits(rec.activity[start] ?? 0), memo: rec.memo, ...(rec.shots?.[start]?.hash ? { screenshot: rec.shots[start] } : {}) }));
}

/** Forget every slot that ended by `now` (written or too short): only the current slot's time is kept. */
export function settleUpTo(rec: TrackerRecord, now: number): TrackerRecord {
	const cut = slotOf(now);
	const spans = rec.spans.filter(([, to]) => to > cut).map(([from, to]) => [Math.max(from, cut), to] as [number, number]);
	// The open span is kept even when empty: it is where the next heartbeat continues.
	if (rec.running && !spans.length) spans.push([Math.max(cut, rec.spans.at(-1)?.[1] ?? cut), Math.max(cut, rec.spans.at(-1)?.[1] ?? cut)]);
	const activity = Object.fromEntries(Object.entries(rec.activity).filter(([slot]) => Number(slot) >= cut));
	const { shots: all, ...rest } = rec;
	const shots = Object.fromEntries(Object.entries(all ?? {}).filter(([slot]) => Number(slot) >= cut));
	return { ...rest, spans, activity, ...(Object.keys(shots).length ? { shots } : {}) };
}

/**
 * The screenshot plan at `now`: a running tracker with screenshots on takes one per slot, at a
 * moment drawn at random (`random()` in [0, 1)) inside the slot's tracked part. Returns the record
 * with the slot's moment drawn, and whether the shot is due now.
 */
export function planShot(rec: TrackerRecord, now: number, random: () => number): { rec: TrackerRecord; due: boolean } {
	if (!rec.running || !rec.screenshots) return { rec, due: false };
	const slot = slotOf(now);
	if (rec.shots?.[slot]) return { rec, due: false };
	let at = rec.shotAt;
	if (at === undefined || slotOf(at) !== slot) {
		// Drawn from what is left of the slot, so a tracker started mid-slot still takes one.
		const left = Math.max(0, slot + SEGMENT_MS - BEAT_MS - now);
		at = now + Math.floor(random() * left);
		rec = { ...rec, shotAt: at };
	}
	return { rec, due: now >= at };
}

/** The screenshot of the slot at `now` was taken. */
export function withShot(rec: TrackerRecord, now: number, shot: Shot): TrackerRecord {
	return { ...rec, shots: { ...(rec.shots ?? {}), [slotOf(now)]: shot } };
}

/** The slot the tracker is in now, and how much of it is tracked so far (for the display). */
export function currentSlot(rec: TrackerRecord, now: number): { start: number; tracked: number; activity: number } | undefined {
	if (!rec.running) return undefined;
	const start = slotOf(now);
	return { start, tracked: coverage(rec.spans, start), activity: bits(rec.activity[start] ?? 0) };
}

// —— storage ——————————————————————————————————————————————————————————————————————————————

export const TRACKER_KEY_PREFIX = 'milestone.tracker.';
export type TrackerStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>;

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** A stored record, or undefined when it is missing or not one (storage is device-local, but still read with care). */
export function parseTracker(text: string | null): TrackerRecord | undefined {
	if (!text) return undefined;
	try {
		const r = JSON.parse(text) as Partial<TrackerRecord>;
		if (typeof r.contract !== 'string' || typeof r.memo !== 'string' || typeof r.running !== 'boolean') return undefined;
		if (!Array.isArray(r.spans) || !r.spans.every((s) => Array.isArray(s) && s.length === 2 && isNum(s[0]) && isNum(s[1]) && s[0] <= s[1])) return undefined;
		const activity: Record<string, number> = {};
		for (const [k, v] of Object.entries(r.activity ?? {})) if (isNum(Number(k)) && isNum(v)) activity[k] = v;
		return {
			contract: r.contract,
			memo: r.memo,
			running: r.running,
			...(r.running && isNum(r.since) ? { since: r.since } : {}),
			...(isNum(r.offset) && r.offset > 0 ? { offset: r.offset } : {}),
			spans: r.spans as [number, number][],
			activity,
			...(r.screenshots === true ? { screenshots: true } : {}),
			...(isNum(r.shotAt) ? { shotAt: r.shotAt } : {}),
			...(shotsOf(r.shots) ? { shots: shotsOf(r.shots)! } : {})
		};
	} catch {
		return undefined;
	}
}

function shotsOf(x: unknown): Record<string, Shot> | undefined {
	if (!x || typeof x !== 'object') return undefined;
	const out: Record<string, Shot> = {};
	for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
		const shot = v as Partial<Shot> | null;
		if (isNum(Number(k)) && typeof shot?.hash === 'string' && typeof shot.data === 'string') out[k] = { hash: shot.hash, data: shot.data };
	}
	return Object.keys(out).length ? out : undefined;
}

export function readTracker(storage: TrackerStorage, contract: string): TrackerRecord | undefined {
	const r = parseTracker(storage.getItem(TRACKER_KEY_PREFIX + contract));
	return r?.contract === contract ? r : undefined;
}

export function storedTrackers(storage: TrackerStorage): TrackerRecord[] {
	const out: TrackerRecord[] = [];
	for (let i = 0; i < storage.length; i++) {
		const key = storage.key(i);
		if (!key?.startsWith(TRACKER_KEY_PREFIX)) continue;
		const r = readTracker(storage, key.slice(TRACKER_KEY_PREFIX.length));
		if (r) out.push(r);
	}
	return out;
}

// —— the running engine ————————————————————————————————————————————————————————————————————

/**
 * Writes the slots to the contract's log. It may refuse some (the week locked, the slot taken): it
 * returns why, and those slots are dropped. A throw (the contract could not be opened) keeps them for the next beat.
 */
export type SlotWriter = (contract: string, slots: DueSlot[]) => Promise<{ refused: string[] }>;

/** Takes the screenshots (sync/screen-capture.ts in the app). */
export interface Camera {
	/** A thumbnail of the shared screen now, or why there is none (the person stopped sharing it). */
	capture(contract: string): Promise<{ hash: string; bytes: Uint8Array } | { unavailable: string }>;
	/** Where in the slot the shot falls: [0, 1). */
	random?: () => number;
}

export const SHARING_ENDED = 'Screen sharing has ended, so no screenshots are being taken. Use “Allow screenshots” to share your screen again, or turn screenshots off.';

/** Every tracker of this device: start, stop, memo, input, and a heartbeat that writes the slots that ended. */
export class Trackers {
	private readonly records = new Map<string, TrackerRecord>();
	private readonly listeners = new Set<() => void>();
	private readonly writing = new Set<string>();
	private readonly shooting = new Set<string>();
	/** The latest refusal per contract, for the tracker to show. */
	readonly problems = new Map<string, string>();

	constructor(
		private readonly storage: TrackerStorage,
		private readonly now: () => number,
		private readonly write: SlotWriter,
		private readonly camera?: Camera
	) {
		for (const r of storedTrackers(storage)) this.records.set(r.contract, r);
	}

	get(contract: string): TrackerRecord | undefined {
		return this.records.get(contract);
	}

	running(): TrackerRecord[] {
		return [...this.records.values()].filter((r) => r.running);
	}

	/** Start tracking; `offset`: the contract's TEST MODE clock offset (0 for any other provider). */
	start(contract: string, memo: string, offset = 0): void {
		this.problems.delete(contract);
		const prev = this.records.get(contract);
		if (prev?.running) return this.put(prev);
		const rec = prev && withOffset(prev, offset);
		this.put(withOffset(startTracker(rec, contract, memo.trim(), this.now() + offset, this.now()), offset));
	}

	stop(contract: string): void {
		const r = this.records.get(contract);
		if (r?.running) this.put(stopTracker(r, this.clockOf(r)));
		void this.tick();
	}

	/**
	 * The contract's TEST MODE clock moved (either party advanced or reset it): from now on its slots
	 * are cut on the new clock. The jump is a gap the tracker does not count.
	 */
	setOffset(contract: string, offset: number): void {
		const r = this.records.get(contract);
		if (r && (r.offset ?? 0) !== offset) this.put(withOffset(r, offset));
	}

	/** Screenshots on or off for this contract (on: the page has asked for screen capture first). */
	setScreenshots(contract: string, on: boolean): void {
		const r = this.records.get(contract) ?? { contract, memo: '', running: false, spans: [], activity: {} };
		const { screenshots: _on, shotAt: _at, ...rest } = r;
		if (!on) this.problems.delete(contract);
		this.put(on ? { ...rest, screenshots: true } : rest);
	}

	setMemo(contract: string, memo: string): void {
		const r = this.records.get(contract) ?? { contract, memo: '', running: false, spans: [], activity: {} };
		this.put({ ...r, memo: memo.trim() });
	}

	/** Keyboard or pointer input in the app: noted for every running tracker (saved with the next heartbeat). */
	input(): void {
		for (const r of this.running()) this.records.set(r.contract, noteInput(r, this.clockOf(r)));
	}

	/** Another tab changed a tracker: read it again. */
	reload(contract: string): void {
		const r = readTracker(this.storage, contract);
		if (r) this.records.set(contract, r);
		else this.records.delete(contract);
		this.emit();
	}

	/** The heartbeat: running trackers note the time, and every slot that ended is written. */
	async tick(): Promise<void> {
		for (const r of [...this.records.values()]) {
			const now = this.clockOf(r);
			let rec = beat(r, now);
			if (this.camera) {
				const plan = planShot(rec, now, this.camera.random ?? Math.random);
				rec = plan.rec;
				if (plan.due && !this.shooting.has(rec.contract)) void this.shoot(rec.contract, now);
			}
			this.records.set(rec.contract, rec);
			const due = dueSlots(rec, now);
			if (!due.length || this.writing.has(rec.contract)) {
				if (!due.length) this.put(settleUpTo(rec, now));
				continue;
			}
			this.writing.add(rec.contract);
			try {
				const { refused } = await this.write(rec.contract, due);
				if (refused.length) this.problems.set(rec.contract, refused.join(' '));
				else this.problems.delete(rec.contract);
				// Settled on the latest record: the memo or the running state may have changed meanwhile.
				this.put(settleUpTo(this.records.get(rec.contract) ?? rec, now));
			} catch (e) {
				this.problems.set(rec.contract, `The tracked time could not be written yet: ${e instanceof Error ? e.message : String(e)} It is kept and written on the next try.`);
				this.emit();
			} finally {
				this.writing.delete(rec.contract);
			}
		}
	}

	/** Take the slot's screenshot; the record keeps it until the slot is written. */
	private async shoot(contract: string, now: number): Promise<void> {
		this.shooting.add(contract);
		try {
			const shot = await this.camera!.capture(contract);
			const r = this.records.get(contract);
			if (!r?.running || !r.screenshots) return;
			if ('unavailable' in shot) {
				this.problems.set(contract, shot.unavailable);
				this.emit();
			} else {
				if (this.problems.get(contract) === SHARING_ENDED) this.problems.delete(contract);
				this.put(withShot(r, now, { hash: shot.hash, data: toBase64url(shot.bytes) }));
			}
		} catch (e) {
			// A frame that could not be read: this slot goes without a screenshot (marked taken, so it is not retried every beat).
			this.problems.set(contract, `No screenshot could be taken for these ten minutes (${e instanceof Error ? e.message : String(e)}).`);
			const r = this.records.get(contract);
			if (r) this.put(withShot(r, now, { hash: '', data: '' }));
		} finally {
			this.shooting.delete(contract);
		}
	}

	subscribe(fn: () => void): () => void {
		this.listeners.add(fn);
		return () => this.listeners.delete(fn);
	}

	/** The record's contract clock: this device's, plus its TEST MODE offset. */
	private clockOf(r: TrackerRecord): number {
		return this.now() + (r.offset ?? 0);
	}

	private put(r: TrackerRecord): void {
		this.records.set(r.contract, r);
		try {
			this.storage.setItem(TRACKER_KEY_PREFIX + r.contract, JSON.stringify(r));
		} catch {
			// Storage full or blocked: the tracker keeps running in memory.
		}
		this.emit();
	}

	private emit(): void {
		for (const fn of this.listeners) fn();
	}
}

function withOffset(r: TrackerRecord, offset: number): TrackerRecord {
	const { offset: _old, ...rest } = r;
	return offset > 0 ? { ...rest, offset } : rest;
}

let shared: Trackers | undefined;

/**
 * This browser's trackers, with their heartbeat and the input listeners on the app's window. The
 * slots go to the contract's session (opened if needed), written by the use case in hourly-actions.
 */
export function sharedTrackers(): Trackers {
	if (shared) return shared;
	const camera: Camera = {
		async capture(contract) {
			const { grabThumbnail } = await import('./screen-capture');
			return grabThumbnail(contract);
		}
	};
	const engine = new Trackers(
		localStorage,
		() => Date.now(),
		async (contract, slots) => {
			const [{ openSession }, { logTrackedSlots }, { keepWrittenShots }] = await Promise.all([import('./session.svelte'), import('./hourly-actions'), import('./screenshots')]);
			const session = await openSession(contract);
			const out = await logTrackedSlots(session, slots);
			// The thumbnails go into the contract only beside the segments that now sign their hashes.
			keepWrittenShots(session, slots);
			return out;
		},
		camera
	);
	shared = engine;
	const onInput = () => engine.input();
	for (const type of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const) window.addEventListener(type, onInput, { passive: true, capture: true });
	window.addEventListener('storage', (e) => {
		if (e.key?.startsWith(TRACKER_KEY_PREFIX)) engine.reload(e.key.slice(TRACKER_KEY_PREFIX.length));
	});
	setInterval(() => void engine.tick(), BEAT_MS);
	void engine.tick();
	return engine;
}
