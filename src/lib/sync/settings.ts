/**
 * Network settings of this device: which signaling server finds peers, and which ICE servers
 * (STUN/TURN) help connect them. Defaults work on a LAN and on loopback; peers behind symmetric
 * NATs need a TURN server added here. Never a public signaling server by default.
 */
import { z } from 'zod';

const IceServer = z
	.object({
		urls: z.union([z.string().regex(/^(stun|turn|turns):/, 'must start with stun:, turn: or turns:'), z.array(z.string().regex(/^(stun|turn|turns):/))]),
		username: z.string().optional(),
		credential: z.string().optional()
	})
	.strict();

export const NetworkSettings = z.object({
	signaling: z.array(z.string().regex(/^wss?:\/\/[^\s]+$/, 'must be a ws:// or wss:// URL')).min(1).max(4),
	iceServers: z.array(IceServer).max(8)
});
export type NetworkSettings = z.infer<typeof NetworkSettings>;

const KEY = 'milestone.network';

/** Build-time default: `VITE_SIGNALING_URL`, else the signaling server `npm start` runs beside the app. */
export function defaultSettings(): NetworkSettings {
	const fromBuild = import.meta.env?.VITE_SIGNALING_URL as string | undefined;
	const host = typeof location === 'undefined' ? 'localhost' : location.hostname;
	return { signaling: [fromBuild || `ws://${host}:4444`], iceServers: [] };
}

export function loadSettings(): NetworkSettings {
	try {
		const parsed = NetworkSettings.safeParse(JSON.parse(localStorage.getItem(KEY) ?? 'null'));
		return parsed.success ? parsed.data : defaultSettings();
	} catch {
		return defaultSettings();
	}
}

export function saveSettings(s: NetworkSettings): void {
	localStorage.setItem(KEY, JSON.stringify(NetworkSettings.parse(s)));
}

/**
 * This device's relays: where it keeps the encrypted events of its contracts for the other party to
 * pick up later (src/relay/). A new contract uses them and its share link names them; a contract
 * joined by link also uses the relays the link names (see `contractRelays`). Stored apart from the
 * network settings, so either form saves without the other.
 */
export const RelayUrl = z
	.string()
	.trim()
	.regex(/^wss?:\/\/[^\s/?#&]+(\/[^\s?#&]*)?$/, 'must be a ws:// or wss:// URL (no ?, # or & in it)')
	.transform((u) => u.replace(/\/+$/, ''));
export const MAX_RELAYS = 4;
export const RelaySettings = z.object({ relays: z.array(RelayUrl).max(MAX_RELAYS, `at most ${MAX_RELAYS} relays`) });
export type RelaySettings = z.infer<typeof RelaySettings>;

const RELAYS_KEY = 'milestone.relays';

/** Build-time default: `VITE_RELAY_URL`, else the relay `npm start` runs beside the app. */
export function defaultRelays(): string[] {
	const fromBuild = import.meta.env?.VITE_RELAY_URL as string | undefined;
	const host = typeof location === 'undefined' ? 'localhost' : location.hostname;
	return [(fromBuild || `ws://${host}:4446`).replace(/\/+$/, '')];
}

export function loadRelays(): string[] {
	try {
		const parsed = RelaySettings.safeParse(JSON.parse(localStorage.getItem(RELAYS_KEY) ?? 'null'));
		return parsed.success ? parsed.data.relays : defaultRelays();
	} catch {
		return defaultRelays();
	}
}

export function saveRelays(relays: readonly string[]): void {
	localStorage.setItem(RELAYS_KEY, JSON.stringify(RelaySettings.parse({ relays })));
}

/**
 * The relays one contract uses on this device: those it already had (the share link's, or this
 * device's when it was created) and this device's own, without duplicates, at most MAX_RELAYS * 2.
 * A relay removed from Settings stays with the contracts that already use it: the other party may
 * rely on it.
 */
export function contractRelays(stored: readonly string[] | undefined, device: readonly string[] = loadRelays()): string[] {
	const out: string[] = [];
	for (const r of [...(stored ?? []), ...device]) {
		const u = r.replace(/\/+$/, '');
		if (!out.includes(u)) out.push(u);
	}
	return out.slice(0, MAX_RELAYS * 2);
}
