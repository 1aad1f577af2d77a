/**
 * Screenshot thumbnails of hourly segments: the rules for accepting one. A tracked segment may name
 * a screenshot by the SHA-256 of its thumbnail's bytes (base64url, like an event id), and signs that
 * name with the segment. The bytes travel beside the log (a map of their own in the contract's
 * document, sync/screenshots.ts), never inside an event and never in a request to the escrow provider.
 *
 * Anyone holding the document can write into that map, so a thumbnail is accepted — kept, shown —
 * only when its bytes are a small JPEG or WebP image, they hash to the name they are stored under,
 * and a verified segment the diary shows names that hash. Content decides: which copy arrived first,
 * or from whom, never does.
 */
import { toBase64url } from './encoding';
import { sha256Bytes } from './sha256';
import type { ContractState } from './state';
import { recordedTimesheet, type Segment } from './timesheet';

/** The largest thumbnail accepted, in bytes: a small preview, never a full screenshot. */
export const THUMBNAIL_MAX_BYTES = 24 * 1024;
/** The widest a thumbnail is drawn when it is made (pixels); its height keeps the screen's proportions. */
export const THUMBNAIL_MAX_WIDTH = 320;

export type ThumbnailType = 'image/jpeg' | 'image/webp';

/** What the bytes are, by their first bytes (never by a claimed type): JPEG or WebP, else undefined. */
export function thumbnailType(bytes: Uint8Array): ThumbnailType | undefined {
	if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
	const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
	if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
	return undefined;
}

/** The name a segment signs for a thumbnail: the SHA-256 of its bytes, base64url. */
export function thumbnailHash(bytes: Uint8Array): string {
	// A copy: an installed (WebAssembly) hash may use the buffer it is given as scratch space.
	return toBase64url(sha256Bytes(bytes.slice()));
}

/**
 * Why these stored bytes are not the thumbnail named `hash`, whatever the log says; null if they
 * are. Checked in the order that costs least: kind, size, format, then the hash.
 */
export function thumbnailContentRefusal(hash: string, value: unknown): string | null {
	if (!(value instanceof Uint8Array)) return 'it is not image data';
	if (value.length > THUMBNAIL_MAX_BYTES) return `it is ${Math.ceil(value.length / 1024)} KB, larger than the ${THUMBNAIL_MAX_BYTES / 1024} KB a thumbnail may be`;
	if (!thumbnailType(value)) return 'it is not a JPEG or WebP image';
	if (thumbnailHash(value) !== hash) return 'its image does not match the one its segment signed';
	return null;
}

/** Does the diary show this segment: live, or billed by the week's recorded timesheet? */
function shown(s: ContractState, seg: Segment): boolean {
	if (seg.status === 'live') return true;
	return recordedTimesheet(s, seg.week)?.segments.includes(seg.id) ?? false;
}

/** The shown, verified segments that name the screenshot `hash`. */
export function segmentsNaming(s: ContractState, hash: string): Segment[] {
	const out: Segment[] = [];
	for (const seg of s.hourly?.segments.values() ?? []) if (seg.screenshot === hash && shown(s, seg)) out.push(seg);
	return out;
}

/** The screenshots named only by segments the diary no longer shows (discarded): their bytes may go. */
export function discardedScreenshots(s: ContractState): Set<string> {
	const shownHashes = new Set<string>();
	const hidden = new Set<string>();
	for (const seg of s.hourly?.segments.values() ?? []) {
		if (seg.screenshot === undefined) continue;
		(shown(s, seg) ? shownHashes : hidden).add(seg.screenshot);
	}
	for (const hash of shownHashes) hidden.delete(hash);
	return hidden;
}

export type ThumbnailVerdict = { ok: true; type: ThumbnailType } | { ok: false; reason: string };

/** May these bytes be shown as the screenshot `hash` on this replica? */
export function thumbnailVerdict(s: ContractState, hash: string, value: unknown): ThumbnailVerdict {
	const bad = thumbnailContentRefusal(hash, value);
	if (bad) return { ok: false, reason: bad };
	if (!segmentsNaming(s, hash).length) return { ok: false, reason: 'no verified segment on the diary names it' };
	return { ok: true, type: thumbnailType(value as Uint8Array)! };
}
