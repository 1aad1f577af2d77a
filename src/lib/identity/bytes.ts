/** Internal byte helpers for identity (not part of the public API). */
import { fromBase64url, toBase64url } from '../contract/encoding';

/**
 * Decodes base64url that must be the one canonical encoding of exactly `length` bytes.
 * Returns null on anything else (wrong type, bad characters, wrong length, or a non-canonical
 * spelling whose unused trailing bits are set — otherwise two different strings would name the
 * same key or signature).
 */
export function decodeExact(text: unknown, length: number): Uint8Array | null {
	if (typeof text !== 'string' || text.length !== Math.ceil((length * 4) / 3)) return null;
	let bytes: Uint8Array;
	try {
		bytes = fromBase64url(text);
	} catch {
		return null;
	}
	if (bytes.length !== length || toBase64url(bytes) !== text) return null;
	return bytes;
}

/** WebCrypto's BufferSource wants ArrayBuffer-backed views; copy only when needed. */
export function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
	return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

/** Map used as a small LRU-ish cache: insertion order, oldest evicted past `cap`. */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, cap: number): V {
	if (map.size >= cap && !map.has(key)) {
		const oldest = map.keys().next();
		if (!oldest.done) map.delete(oldest.value);
	}
	map.set(key, value);
	return value;
}
