/**
 * Screenshots for the time tracker, with the Screen Capture API. The person allows it once (the
 * browser asks which screen, window or tab to share); the shared stream is kept while the page
 * lives, and the tracker grabs one frame from it per 10-minute slot, drawn down to a thumbnail of at
 * most THUMBNAIL_MAX_BYTES (contract/thumbnail.ts). Nothing is captured without that permission, and
 * sharing ends when the person stops it in the browser or turns screenshots off.
 *
 * Phones and tablets cannot capture the screen from a web page, and some browsers lack the API:
 * `screenshotsUnavailable` says so in words, and the page shows it instead of the choice.
 */
import { THUMBNAIL_MAX_BYTES, THUMBNAIL_MAX_WIDTH, thumbnailHash, thumbnailType } from '../contract/thumbnail';
import { keepStream, sharedStream } from './screen-sharing';
import { SHARING_ENDED } from './tracker';

export { onSharingChange, sharing, stopSharing } from './screen-sharing';

/** Why this browser cannot take screenshots, in words (null: it can). */
export function screenshotsUnavailable(nav: Navigator | undefined = typeof navigator === 'undefined' ? undefined : navigator): string | null {
	const mobile = (nav as (Navigator & { userAgentData?: { mobile?: boolean } }) | undefined)?.userAgentData?.mobile ?? /Android|iPhone|iPad|iPod|Mobile/i.test(nav?.userAgent ?? '');
	if (mobile) return 'Screenshots are not available on phones and tablets: their browsers cannot capture the screen.';
	if (!nav?.mediaDevices || typeof nav.mediaDevices.getDisplayMedia !== 'function') return 'Screenshots are not available in this browser: it cannot capture the screen (no Screen Capture API).';
	return null;
}

/**
 * Ask to share the screen for this contract's screenshots. Call it straight from the click that
 * turns screenshots on: browsers allow screen capture only in answer to the person's own action.
 * Returns null once shared, or why not, in words.
 */
export async function allowScreenshots(contract: string): Promise<string | null> {
	const why = screenshotsUnavailable();
	if (why) return why;
	let stream: MediaStream;
	try {
		// The browser's own picker: the person chooses what is shared (this tab may be among the choices).
		stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false, selfBrowserSurface: 'include' } as DisplayMediaStreamOptions);
	} catch (e) {
		const name = e instanceof Error ? e.name : '';
		return name === 'NotAllowedError' ? 'Screen sharing was not allowed, so no screenshots are taken.' : `The screen could not be shared (${e instanceof Error ? e.message : String(e)}), so no screenshots are taken.`;
	}
	keepStream(contract, stream);
	return null;
}

/** One frame of the shared screen as a thumbnail (the tracker's camera), or why there is none. */
export async function grabThumbnail(contract: string): Promise<{ hash: string; bytes: Uint8Array } | { unavailable: string }> {
	const stream = sharedStream(contract);
	const track = stream?.getVideoTracks().find((t) => t.readyState === 'live');
	if (!track) return { unavailable: SHARING_ENDED };
	const frame = await frameOf(stream!, track);
	const bytes = await encode(frame);
	return { hash: thumbnailHash(bytes), bytes };
}

type Drawable = { source: CanvasImageSource; width: number; height: number; close?: () => void };

/** A frame of the track: ImageCapture where the browser has it (Chromium), else a video element. */
async function frameOf(stream: MediaStream, track: MediaStreamTrack): Promise<Drawable> {
	const IC = (globalThis as unknown as { ImageCapture?: new (t: MediaStreamTrack) => { grabFrame(): Promise<ImageBitmap> } }).ImageCapture;
	if (IC) {
		try {
			const bitmap = await new IC(track).grabFrame();
			return { source: bitmap, width: bitmap.width, height: bitmap.height, close: () => bitmap.close() };
		} catch {
			// Fall back to a video element.
		}
	}
	const video = document.createElement('video');
	video.muted = true;
	video.playsInline = true;
	video.srcObject = stream;
	await video.play();
	if (!video.videoWidth) await new Promise((ok) => video.addEventListener('loadeddata', ok, { once: true }));
	return { source: video, width: video.videoWidth, height: video.videoHeight, close: () => (video.srcObject = null) };
}

/** Drawn down and compressed until it fits the cap: smaller quality first, then fewer pixels. */
async function encode(frame: Drawable): Promise<Uint8Array> {
	try {
		for (let width = Math.min(THUMBNAIL_MAX_WIDTH, frame.width || THUMBNAIL_MAX_WIDTH); width >= 40; width = Math.floor(width / 2)) {
			const height = Math.max(1, Math.round((width * (frame.height || 1)) / (frame.width || 1)));
			const canvas = document.createElement('canvas');
			canvas.width = width;
			canvas.height = height;
			canvas.getContext('2d')!.drawImage(frame.source, 0, 0, width, height);
			for (const quality of [0.7, 0.5, 0.35, 0.2]) {
				for (const type of ['image/webp', 'image/jpeg']) {
					const blob = await new Promise<Blob | null>((ok) => canvas.toBlob(ok, type, quality));
					if (!blob) continue;
					const bytes = new Uint8Array(await blob.arrayBuffer());
					if (thumbnailType(bytes) && bytes.length <= THUMBNAIL_MAX_BYTES) return bytes;
				}
			}
		}
		throw new Error('The screenshot could not be made small enough.');
	} finally {
		frame.close?.();
	}
}
