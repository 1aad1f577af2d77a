/**
 * The size limit of one signed event (MAX_ENVELOPE_BYTES, in UTF-8 bytes of the stored envelope):
 * what every peer refuses past it on intake (envelope.ts), and what a device checks before it signs
 * anything, so a person learns that a text is too long while they can still shorten it, instead of
 * writing an event every peer (their own device included) would refuse.
 */
import { utf8 } from './encoding';
import { reject, type Rejection } from './rejections';
import { MAX_ENVELOPE_BYTES } from './schema';

/** The envelope's size in UTF-8 bytes, counted only when its length says it may be near the limit. */
export function isOversized(envelope: string): boolean {
	// A UTF-16 unit is at most 3 UTF-8 bytes: short strings cannot be over, and long ones are at once.
	if (envelope.length > MAX_ENVELOPE_BYTES) return true;
	return envelope.length * 3 > MAX_ENVELOPE_BYTES && utf8.encode(envelope).length > MAX_ENVELOPE_BYTES;
}

const kb = (bytes: number): string => `${Math.ceil(bytes / 1024)} KB`;

/**
 * Refusal of a signed envelope that is over the limit, in words: how large it is and what fits. The
 * signed envelope escapes the text twice (the body is JSON inside JSON), so quotes, line breaks and
 * non-Latin letters take more room than the characters on screen.
 */
export function sizeRefusal(envelope: string): Rejection | null {
	if (!isOversized(envelope)) return null;
	const bytes = utf8.encode(envelope).length;
	return reject(
		'oversized',
		`This is ${kb(bytes)} once signed, and one event can hold ${kb(MAX_ENVELOPE_BYTES)}: shorten the longest text by about ${kb(bytes - MAX_ENVELOPE_BYTES)}.`
	);
}

/**
 * The path of the longest text in a payload (`terms.scope`, `text`, `profile`): where a person can
 * shorten an event that is over the limit, so a form shows the refusal next to that field.
 */
export function longestTextPath(value: unknown): string | undefined {
	let best: { path: string; length: number } | undefined;
	const walk = (v: unknown, path: string): void => {
		if (typeof v === 'string') {
			if (!best || v.length > best.length) best = { path, length: v.length };
		} else if (Array.isArray(v)) v.forEach((x, i) => walk(x, path ? `${path}.${i}` : String(i)));
		else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
	};
	walk(value, '');
	return best?.path || undefined;
}
