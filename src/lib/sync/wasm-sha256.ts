/**
 * The WebAssembly SHA-256 (hash-wasm, its module embedded in the JavaScript: nothing is fetched),
 * installed into the contract module's synchronous `sha256Utf8`: opening a contract hashes every
 * event body, and this is about twice as fast as the JavaScript compression function. WebAssembly
 * instantiates asynchronously, so this is loaded (lazily, outside the first page's JavaScript) and
 * awaited before a contract document is opened; until then, and if it fails, the JavaScript one runs.
 */
import { createSHA256 } from 'hash-wasm';
import { useSha256 } from '../contract/sha256';

let loading: Promise<boolean> | undefined;

/** Resolves true once the WebAssembly hash is in use; false if it could not be (the JavaScript one stays). */
export function loadWasmSha256(): Promise<boolean> {
	loading ??= createSHA256().then(
		(hasher) => useSha256((bytes) => hasher.init().update(bytes).digest('binary')),
		() => false
	);
	return loading;
}
