/**
 * Screenshot thumbnails: the tracker takes one per slot at a random moment and its segment signs
 * the hash; the bytes sync beside the log in their own map, are shown only when they are a small
 * image that hashes to a name a verified segment signed, and never reach the escrow provider.
 * Attacks: a peer writes junk or an oversize image under a real hash, deletes a thumbnail, or writes
 * a thumbnail no segment names; a discarded screenshot's bytes are deleted on both sides.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { toBase64url } from '../../../src/lib/contract/encoding';
import { THUMBNAIL_MAX_BYTES, thumbnailContentRefusal, thumbnailHash, thumbnailType, thumbnailVerdict } from '../../../src/lib/contract/thumbnail';
import type { EscrowAdapter } from '../../../src/lib/escrow/adapter';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { ContractDoc } from '../../../src/lib/sync/contract-doc';
import * as hourly from '../../../src/lib/sync/hourly-actions';
import { diaryScreenshots, keepWrittenShots, ThumbnailStore, THUMBNAILS } from '../../../src/lib/sync/screenshots';
import { BEAT_MS, Trackers, dueSlots, parseTracker, planShot, settleUpTo, startTracker, type DueSlot, type TrackerStorage } from '../../../src/lib/sync/tracker';
import { screenshotsUnavailable } from '../../../src/lib/sync/screen-capture';
import { activePair } from '../../support/parties';
import { hourlyTerms } from '../../support/world';

const t = (hm: string) => Date.parse(`2026-11-02T${hm}:00Z`);
const MIN = 60_000;

/** A JPEG's first bytes, then `n` bytes of picture. */
function jpeg(n: number, seed = 1): Uint8Array {
	const b = new Uint8Array(n + 4).map((_, i) => (i * 7 + seed) & 0xff);
	b.set([0xff, 0xd8, 0xff, 0xe0]);
	return b;
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
}

/** Two documents that sync every change to each other (what y-webrtc does between two browsers). */
function linked(): [Y.Doc, Y.Doc] {
	const a = new Y.Doc();
	const b = new Y.Doc();
	a.on('update', (u: Uint8Array, origin: unknown) => origin !== 'peer' && Y.applyUpdate(b, u, 'peer'));
	b.on('update', (u: Uint8Array, origin: unknown) => origin !== 'peer' && Y.applyUpdate(a, u, 'peer'));
	return [a, b];
}

/** An hourly contract with a freelancer's ContractDoc (as in the app), recording every provider request. */
async function contract() {
	const clock = { now: t('00:00') };
	const requests: unknown[] = [];
	const mock = new MockEscrowProvider({ now: () => clock.now });
	const info = await mock.info();
	const escrow = new Proxy(mock, {
		get(target, key) {
			const v = Reflect.get(target, key);
			return typeof v === 'function' ? (...args: unknown[]) => (requests.push(args), v.apply(target, args)) : v;
		}
	}) as EscrowAdapter;
	const terms = { ...hourlyTerms({ rate: 6_000, weeklyLimitHours: 10 }), provider: { id: 'mock', publicKey: info.publicKey, testMode: true } };
	const [fdoc, cdocOther] = linked();
	const pair = await activePair({ escrow, clock: () => clock.now, terms });
	const fcdoc = new ContractDoc(pair.contract, fdoc);
	const ccdoc = new ContractDoc(pair.contract, cdocOther);
	const toDocs = async () => {
		for (const [id, env] of pair.freelancer.log.envelopes()) if (fcdoc.events.get(id) !== env) fcdoc.events.set(id, env);
		for (const [id, env] of pair.client.log.envelopes()) if (ccdoc.events.get(id) !== env) ccdoc.events.set(id, env);
		await fcdoc.settled();
		await ccdoc.settled();
		await pair.freelancer.receive(pair.client.log.envelopes());
		await pair.client.receive(pair.freelancer.log.envelopes());
	};
	await toDocs();
	return { clock, pair, requests, fcdoc, ccdoc, toDocs, freelancer: { party: pair.freelancer, pending: [] as never[] } };
}

/** A tracked slot with a screenshot, as the tracker hands it over. */
function shotSlot(start: number, bytes: Uint8Array): DueSlot {
	return { start, activity: 7, memo: 'Signup form', screenshot: { hash: thumbnailHash(bytes), data: toBase64url(bytes) } };
}

describe('the thumbnail rules', () => {
	it('knows a JPEG and a WebP by their bytes, caps the size and checks the hash', () => {
		const img = jpeg(1000);
		const hash = thumbnailHash(img);
		expect(thumbnailType(img)).toBe('image/jpeg');
		expect(thumbnailType(new Uint8Array([82, 73, 70, 70, 0, 0, 0, 0, 87, 69, 66, 80]))).toBe('image/webp');
		expect(thumbnailContentRefusal(hash, img)).toBeNull();
		expect(thumbnailContentRefusal(hash, 'a string')).toBe('it is not image data');
		expect(thumbnailContentRefusal(hash, jpeg(1001))).toBe('its image does not match the one its segment signed');
		const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
		expect(thumbnailContentRefusal(thumbnailHash(png), png)).toBe('it is not a JPEG or WebP image');
		const big = jpeg(THUMBNAIL_MAX_BYTES);
		expect(thumbnailContentRefusal(thumbnailHash(big), big)).toBe('it is 25 KB, larger than the 24 KB a thumbnail may be');
	});
});

describe('where screenshots can be taken', () => {
	it('not on phones, nor without the Screen Capture API: the page says so in words', () => {
		const desktop = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0', mediaDevices: { getDisplayMedia() {} } } as unknown as Navigator;
		expect(screenshotsUnavailable(desktop)).toBeNull();
		const phone = { userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126.0 Mobile Safari/537.36', mediaDevices: { getDisplayMedia() {} } } as unknown as Navigator;
		expect(screenshotsUnavailable(phone)).toBe('Screenshots are not available on phones and tablets: their browsers cannot capture the screen.');
		const hinted = { ...desktop, userAgentData: { mobile: true } } as unknown as Navigator;
		expect(screenshotsUnavailable(hinted)).toMatch(/not available on phones/);
		const old = { userAgent: desktop.userAgent, mediaDevices: {} } as unknown as Navigator;
		expect(screenshotsUnavailable(old)).toBe('Screenshots are not available in this browser: it cannot capture the screen (no Screen Capture API).');
	});
});

describe('screenshots in the tracker', () => {
	it('one per slot, at a random moment inside it, kept until the slot is written and handed over with it', async () => {
		const storage = new MemoryStorage();
		let now = t('10:00');
		const written: DueSlot[][] = [];
		const taken: number[] = [];
		const camera = {
			random: () => 0.5,
			async capture() {
				taken.push(now);
				return { hash: thumbnailHash(jpeg(100, taken.length)), bytes: jpeg(100, taken.length) };
			}
		};
		const engine = new Trackers(storage, () => now, async (_c, slots) => (written.push(slots), { refused: [] }), camera);
		engine.start('c1', 'Signup form');
		await engine.tick();
		expect(taken).toEqual([]);
		// Off until the freelancer opts in.
		for (; now < t('10:10'); now += BEAT_MS) await engine.tick();
		expect(taken).toEqual([]);
		engine.setScreenshots('c1', true);
		for (; now < t('10:30'); now += BEAT_MS) await engine.tick();
		// One a slot, half-way into what was left of it (random() = 0.5).
		// One a slot, at random (random() = 0.5: half-way into what was left of the slot), taken on the next heartbeat.
		expect(taken).toEqual([t('10:15'), t('10:25')]);
		expect(written.flat().map((s) => [s.start, s.screenshot?.hash])).toEqual([
			[t('10:00'), undefined],
			[t('10:10'), thumbnailHash(jpeg(100, 1))]
		]);
		// The record survives a reload with its screenshot choice and untaken shots; written ones are gone.
		const rec = parseTracker(storage.getItem('milestone.tracker.c1'))!;
		expect(rec.screenshots).toBe(true);
		expect(Object.keys(rec.shots ?? {})).toEqual([String(t('10:20'))]);
		engine.setScreenshots('c1', false);
		expect(parseTracker(storage.getItem('milestone.tracker.c1'))!.screenshots).toBeUndefined();
	});

	it('a slot that is not logged takes its screenshot with it; sharing that ended is said, not retried silently', async () => {
		const rec0 = { ...startTracker(undefined, 'c1', 'm', t('10:00')), screenshots: true };
		const plan = planShot(rec0, t('10:00'), () => 0);
		expect(plan.due).toBe(true);
		const rec = { ...plan.rec, spans: [[t('10:00'), t('10:03')]] as [number, number][], running: false, shots: { [t('10:00')]: { hash: 'h', data: 'd' } } };
		// Three minutes tracked: the slot is not logged, and settling forgets its screenshot too.
		expect(dueSlots(rec, t('10:10'))).toEqual([]);
		expect(settleUpTo(rec, t('10:10')).shots).toBeUndefined();

		let now = t('10:00');
		const engine = new Trackers(new MemoryStorage(), () => now, async () => ({ refused: [] }), { random: () => 0, capture: async () => ({ unavailable: 'Screen sharing has ended.' }) });
		engine.start('c1', 'm');
		engine.setScreenshots('c1', true);
		await engine.tick();
		await new Promise((r) => setTimeout(r, 0));
		expect(engine.problems.get('c1')).toBe('Screen sharing has ended.');
	});
});

describe('thumbnails beside the log', () => {
	it('the tracker’s screenshot reaches the other party with its segment, and is shown there', async () => {
		const c = await contract();
		c.clock.now = t('10:20');
		const img = jpeg(2000);
		const slot = shotSlot(t('10:00'), img);
		expect(await hourly.logTrackedSlots(c.freelancer, [slot])).toEqual({ refused: [] });
		await c.toDocs();
		keepWrittenShots({ cdoc: c.fcdoc }, [slot]);
		const seg = [...c.ccdoc.log.derive().state.hourly!.segments.values()][0]!;
		expect(seg.screenshot).toBe(thumbnailHash(img));
		const client = new ThumbnailStore(c.ccdoc.doc, () => c.ccdoc.log.derive().state);
		expect(client.shown(seg.screenshot!)).toEqual({ hash: seg.screenshot, url: expect.stringMatching(/^data:image\/jpeg;base64,/) });
	});

	it('attack: a peer writes junk, or an oversize image, under a real hash — refused with the reason, and the good copy written back', async () => {
		const c = await contract();
		c.clock.now = t('10:20');
		const img = jpeg(2000);
		const slot = shotSlot(t('10:00'), img);
		await hourly.logTrackedSlots(c.freelancer, [slot]);
		await c.toDocs();
		const hash = thumbnailHash(img);
		// The client's copy of the document receives junk first (the freelancer's device has not sent its bytes yet).
		const client = new ThumbnailStore(c.ccdoc.doc, () => c.ccdoc.log.derive().state);
		const attacker = new Y.Doc();
		Y.applyUpdate(attacker, Y.encodeStateAsUpdate(c.ccdoc.doc));
		attacker.getMap(THUMBNAILS).set(hash, jpeg(1500, 9));
		Y.applyUpdate(c.ccdoc.doc, Y.encodeStateAsUpdate(attacker));
		expect(client.shown(hash)).toEqual({ hash, refused: 'its image does not match the one its segment signed' });
		// An oversize one under the same name: refused too.
		attacker.getMap(THUMBNAILS).set(hash, jpeg(THUMBNAIL_MAX_BYTES + 10));
		Y.applyUpdate(c.ccdoc.doc, Y.encodeStateAsUpdate(attacker));
		expect(client.shown(hash)).toMatchObject({ refused: expect.stringMatching(/larger than the 24 KB/) });
		// The real bytes arrive and are shown; junk written over them later is undone at once.
		keepWrittenShots({ cdoc: c.fcdoc }, [slot]);
		expect(client.shown(hash)).toMatchObject({ url: expect.any(String) });
		const junk = new Y.Doc();
		Y.applyUpdate(junk, Y.encodeStateAsUpdate(c.ccdoc.doc));
		junk.getMap(THUMBNAILS).set(hash, jpeg(10, 3));
		Y.applyUpdate(c.ccdoc.doc, Y.encodeStateAsUpdate(junk));
		expect(c.ccdoc.doc.getMap<Uint8Array>(THUMBNAILS).get(hash)).toEqual(img);
		expect(client.shown(hash)).toMatchObject({ url: expect.any(String) });
		// Deleting it does not take it away either while a segment names it.
		const del = new Y.Doc();
		Y.applyUpdate(del, Y.encodeStateAsUpdate(c.ccdoc.doc));
		del.getMap(THUMBNAILS).delete(hash);
		Y.applyUpdate(c.ccdoc.doc, Y.encodeStateAsUpdate(del));
		expect(c.ccdoc.doc.getMap<Uint8Array>(THUMBNAILS).get(hash)).toEqual(img);
	});

	it('attack: a well-formed thumbnail that no verified segment names is never shown', async () => {
		const c = await contract();
		const store = new ThumbnailStore(c.ccdoc.doc, () => c.ccdoc.log.derive().state);
		const stray = jpeg(500, 4);
		c.fcdoc.doc.getMap(THUMBNAILS).set(thumbnailHash(stray), stray);
		expect(store.map.get(thumbnailHash(stray))).toEqual(stray);
		expect(store.shown(thumbnailHash(stray))).toEqual({ hash: thumbnailHash(stray), refused: 'no verified segment on the diary names it' });
		expect(thumbnailVerdict(c.ccdoc.log.derive().state, thumbnailHash(stray), stray)).toEqual({ ok: false, reason: 'no verified segment on the diary names it' });
	});

	it('discarding a screenshot before the lock deletes its segment, and its bytes on both sides', async () => {
		const c = await contract();
		c.clock.now = t('10:30');
		const a = jpeg(800, 1);
		const b = jpeg(800, 2);
		const slots = [shotSlot(t('10:00'), a), shotSlot(t('10:10'), b)];
		await hourly.logTrackedSlots(c.freelancer, slots);
		await c.toDocs();
		keepWrittenShots({ cdoc: c.fcdoc }, slots);
		const session = { party: c.pair.freelancer, cdoc: c.fcdoc };
		const shots = diaryScreenshots(session, 'freelancer', true);
		const ids = [...c.fcdoc.log.derive().state.hourly!.segments.keys()];
		const first = ids.find((id) => c.fcdoc.log.derive().state.hourly!.segments.get(id)!.screenshot === thumbnailHash(a))!;
		expect(shots.canDiscard(first)).toBe(true);
		expect(diaryScreenshots(session, 'client', true).canDiscard(first)).toBe(false);
		expect(diaryScreenshots(session, 'freelancer', false).canDiscard(first)).toBe(false);
		expect(await shots.discard(first)).toBeUndefined();
		await c.toDocs();
		expect(c.ccdoc.log.derive().state.hourly!.segments.get(first)!.status).toBe('deleted');
		// Gone from both documents (synced), the other screenshot kept.
		expect(c.ccdoc.doc.getMap(THUMBNAILS).has(thumbnailHash(a))).toBe(false);
		expect(c.fcdoc.doc.getMap(THUMBNAILS).has(thumbnailHash(a))).toBe(false);
		expect(c.ccdoc.doc.getMap(THUMBNAILS).has(thumbnailHash(b))).toBe(true);
		expect(shots.of(first)).toEqual({ hash: thumbnailHash(a), missing: true });
	});

	it('no request to the escrow provider carries a thumbnail', async () => {
		const c = await contract();
		c.clock.now = t('10:20');
		const img = jpeg(3000, 5);
		const slot = shotSlot(t('10:00'), img);
		expect(await hourly.fundWeek({ party: c.pair.client }, '2026-11-02', 60_000, 'card')).toEqual({ ok: true });
		await hourly.logTrackedSlots(c.freelancer, [slot]);
		await c.toDocs();
		keepWrittenShots({ cdoc: c.fcdoc }, [slot]);
		expect(c.fcdoc.doc.getMap(THUMBNAILS).size).toBe(1);
		// The week locks, the timesheet is recorded, the review passes and the week is claimed.
		c.clock.now = Date.parse('2026-11-09T12:00:00Z');
		await hourly.runWeeklyDuties(c.freelancer, 'freelancer', c.clock.now, c.clock.now, String);
		c.clock.now = Date.parse('2026-11-14T09:00:00Z');
		await hourly.runWeeklyDuties(c.freelancer, 'freelancer', c.clock.now, c.clock.now, String);
		expect(c.pair.freelancer.derived().state.ledger.balance('freelancer:pending')).toBe(1_000);
		const sent = JSON.stringify(c.requests);
		expect(sent).toContain(thumbnailHash(img));
		for (const form of [toBase64url(img), Buffer.from(img).toString('base64'), Buffer.from(img.subarray(0, 64)).toString('base64')]) expect(sent).not.toContain(form.slice(0, 60));
		expect(sent).not.toContain('"0":255,"1":216');
		expect(sent).not.toContain(THUMBNAILS);
	});
});
