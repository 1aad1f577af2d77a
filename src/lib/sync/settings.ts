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
