/**
 * The catch-up figures of catch-up-run.ts inside Chromium: catch-up.ts bundles this file and runs it
 * in a page of a local origin (a secure context, for WebCrypto), against the Node relay it started.
 */
import type { SocketLike } from '../../src/lib/sync/relay-client';
import { loadWasmSha256 } from '../../src/lib/sync/wasm-sha256';
import { catchUpFigures } from './catch-up-run';

function bytes(b64: string): Uint8Array {
	const text = atob(b64);
	const out = new Uint8Array(text.length);
	for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
	return out;
}

(globalThis as { benchCatchUp?: unknown }).benchCatchUp = async (url: string, update: string, held: string, total: number, runs: number, frames: boolean) => {
	await loadWasmSha256();
	return catchUpFigures({ socket: (u) => new WebSocket(u) as unknown as SocketLike, frames }, url, bytes(update), bytes(held), total, runs);
};
