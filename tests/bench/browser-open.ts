/**
 * The open figures of open.ts inside Chromium, against Yjs in that Chromium: pages.ts bundles this
 * file and runs it in a page of the app's origin (a secure context, for WebCrypto).
 */
import { openFigures } from './open';

(globalThis as { benchOpen?: unknown }).benchOpen = (contract: string, update: string, events: number) =>
	openFigures(
		contract,
		Uint8Array.from(atob(update), (c) => c.charCodeAt(0)),
		events
	);
