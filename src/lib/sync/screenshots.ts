/**
 * Screenshot thumbnails beside the log: `doc.getMap('thumbnails')` of the contract's Yjs document maps
 * a thumbnail's hash to its bytes, so they persist in IndexedDB and sync to the other party over
 * WebRTC with the events, as their own kind of item, and over the relay as items of their own kind
 * (relay-sync.ts). They are never part of the log, so no request to the escrow provider carries them.
 *
 * A peer can write anything into the map. What this device keeps and shows follows the rules in
 * contract/thumbnail.ts: bytes that are not a small JPEG or WebP hashing to their key are refused
 * (the reason is kept for the diary) and replaced by this device's good copy, or deleted; a
 * thumbnail is shown only when a verified segment on the diary names it; the bytes of a discarded
 * screenshot (its segment deleted before the lock) are deleted everywhere.
 */
import * as Y from 'yjs';
import { fromBase64url } from '../contract/encoding';
import type { ContractState, Role } from '../contract/state';
import { discardedScreenshots, segmentsNaming, thumbnailContentRefusal, thumbnailVerdict } from '../contract/thumbnail';
import type { ContractDoc } from './contract-doc';
import { screenshotsUnavailable } from './screen-capture';
import { deleteSegments, type HourlySession } from './hourly-actions';
import { relayThumbnailRefusals, THUMBNAILS } from './relay-sync';
import type { DueSlot } from './tracker';

export { THUMBNAILS };

/** What the diary shows for a segment's screenshot. */
export type ScreenshotShown = { hash: string; url: string } | { hash: string; refused: string } | { hash: string; missing: true };

export class ThumbnailStore {
	readonly map: Y.Map<Uint8Array>;
	/** Bytes this device checked, by hash: written back if a peer deletes or overwrites them. */
	private readonly good = new Map<string, Uint8Array>();
	/** Why bytes stored under a hash were refused (the latest refusal). */
	readonly refused = new Map<string, string>();
	private readonly urls = new Map<string, string>();
	private readonly listeners = new Set<() => void>();

	constructor(
		readonly doc: Y.Doc,
		private readonly state: () => ContractState
	) {
		this.map = doc.getMap<Uint8Array>(THUMBNAILS);
		this.map.forEach((_v, key) => this.check(key));
		this.map.observe((e) => {
			for (const key of e.keysChanged) this.check(key);
			this.emit();
		});
	}

	/** Store a thumbnail this device took; returns its hash. Throws when the bytes are not a thumbnail. */
	put(hash: string, bytes: Uint8Array): void {
		const bad = thumbnailContentRefusal(hash, bytes);
		if (bad) throw new Error(`The screenshot was not kept: ${bad}.`);
		this.good.set(hash, bytes);
		if (!(this.map.get(hash) instanceof Uint8Array) || thumbnailContentRefusal(hash, this.map.get(hash))) this.map.set(hash, bytes);
	}

	/** The screenshot named `hash`, as this replica may show it. */
	shown(hash: string): ScreenshotShown {
		const value = this.map.get(hash);
		// Refused here, or (what arrived) refused by the relay sync: said with the reason, never shown.
		const refused = this.refused.get(hash) ?? relayThumbnailRefusals(this.doc).reasons.get(hash);
		if (value === undefined) return refused !== undefined ? { hash, refused } : { hash, missing: true };
		const v = thumbnailVerdict(this.state(), hash, value);
		if (!v.ok) return { hash, refused: v.reason };
		let url = this.urls.get(hash);
		if (!url) this.urls.set(hash, (url = `data:${v.type};base64,${base64(value)}`));
		return { hash, url };
	}

	/** Delete the bytes of a screenshot whose segment was discarded (and of every such one). */
	sweep(): void {
		const discarded = discardedScreenshots(this.state());
		const gone: string[] = [];
		this.map.forEach((_v, key) => {
			if (discarded.has(key)) gone.push(key);
		});
		for (const key of gone) {
			this.good.delete(key);
			this.urls.delete(key);
		}
		if (gone.length) this.doc.transact(() => gone.forEach((key) => this.map.delete(key)));
	}

	subscribe(fn: () => void): () => void {
		this.listeners.add(fn);
		const relay = relayThumbnailRefusals(this.doc).listeners;
		relay.add(fn);
		return () => (this.listeners.delete(fn), relay.delete(fn));
	}

	/** A change to one key, by anyone: keep good bytes, refuse and undo bad ones. */
	private check(key: string): void {
		const value = this.map.get(key);
		if (value === undefined) {
			// Deleted by a peer: written back while a segment on the diary still names it.
			const keep = this.good.get(key);
			if (keep && segmentsNaming(this.state(), key).length) this.map.set(key, keep);
			return;
		}
		const bad = thumbnailContentRefusal(key, value);
		if (!bad) {
			this.good.set(key, value);
			this.refused.delete(key);
			return;
		}
		this.refused.set(key, bad);
		this.urls.delete(key);
		const keep = this.good.get(key);
		if (keep) this.map.set(key, keep);
		else this.map.delete(key);
	}

	private emit(): void {
		for (const fn of this.listeners) fn();
	}
}

const stores = new WeakMap<Y.Doc, ThumbnailStore>();

/** The thumbnail store of a contract's document (one per document; it sweeps discarded ones as the log changes). */
export function thumbnailsOf(cdoc: Pick<ContractDoc, 'doc' | 'log' | 'subscribe'>): ThumbnailStore {
	let store = stores.get(cdoc.doc);
	if (!store) {
		const made = new ThumbnailStore(cdoc.doc, () => cdoc.log.derive().state);
		stores.set(cdoc.doc, (store = made));
		cdoc.subscribe(() => made.sweep());
	}
	return store;
}

/** After the tracker's slots are written: the thumbnails of those whose segment now signs their hash go into the contract. */
export function keepWrittenShots(session: { cdoc: Pick<ContractDoc, 'doc' | 'log' | 'subscribe'> }, slots: readonly DueSlot[]): void {
	const store = thumbnailsOf(session.cdoc);
	const h = session.cdoc.log.derive().state.hourly;
	for (const slot of slots) {
		const shot = slot.screenshot;
		if (!shot?.hash) continue;
		const id = h?.slots.get(slot.start);
		if (id === undefined || h!.segments.get(id)?.screenshot !== shot.hash) continue;
		try {
			store.put(shot.hash, fromBase64url(shot.data));
		} catch {
			// Not a thumbnail after all (storage altered): the segment shows its screenshot as missing.
		}
	}
}

/** What the Work Diary's grid needs for screenshots: the thumbnail of a cell, and discarding it. */
export interface DiaryScreenshots {
	/** undefined: the segment has no screenshot. */
	of(segment: string): ScreenshotShown | undefined;
	/** The freelancer may discard this segment's screenshot now (before the lock). */
	canDiscard(segment: string): boolean;
	/** Discard: deletes the segment and its screenshot. Resolves with an error message, or undefined. */
	discard(segment: string): Promise<string | undefined>;
	subscribe(fn: () => void): () => void;
	/** To the freelancer on a phone or a browser without screen capture: screenshots cannot be taken here. */
	unavailable: string | null;
}

export function diaryScreenshots(session: HourlySession & { cdoc: Pick<ContractDoc, 'doc' | 'log' | 'subscribe'> }, role: Role | undefined, editable: boolean): DiaryScreenshots {
	const store = thumbnailsOf(session.cdoc);
	const seg = (id: string) => session.cdoc.log.derive().state.hourly?.segments.get(id);
	return {
		of(id) {
			const hash = seg(id)?.screenshot;
			return hash ? store.shown(hash) : undefined;
		},
		canDiscard: (id) => role === 'freelancer' && editable && seg(id)?.status === 'live' && !!seg(id)?.screenshot,
		async discard(id) {
			const r = await deleteSegments(session, [id]);
			if (!r.ok) return r.errors.form ?? Object.values(r.errors)[0];
			store.sweep();
			return undefined;
		},
		subscribe: (fn) => store.subscribe(fn),
		unavailable: role === 'freelancer' ? screenshotsUnavailable() : null
	};
}

function base64(bytes: Uint8Array): string {
	let s = '';
	for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	return btoa(s);
}
