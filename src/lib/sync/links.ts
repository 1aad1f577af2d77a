/**
 * Share links: `<origin>/#/join/<contractId>/<secret>`. The whole route lives in the URL fragment,
 * which browsers never send to a server, so the secret stays out of every server log. The y-webrtc
 * room name is derived from the secret (the signaling server cannot correlate rooms with contracts),
 * and the secret itself is the room password (y-webrtc encrypts signaling and BroadcastChannel
 * traffic with it).
 */
import { toBase64url } from '../contract/encoding';
import { sha256Utf8 } from '../contract/sha256';

const ID = /^[A-Za-z0-9_-]{16,64}$/;
const SECRET = /^[A-Za-z0-9_-]{22,64}$/;

export interface JoinLink {
	contract: string;
	secret: string;
}

export type ParsedLink = { ok: true; link: JoinLink } | { ok: false; message: string };

export function randomId(bytes = 16): string {
	return toBase64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export function shareLink(origin: string, link: JoinLink): string {
	return `${origin.replace(/\/$/, '')}/#/join/${link.contract}/${link.secret}`;
}

/** Accepts a full link, a hash (`#/join/…`) or a route path (`/join/…`). Never throws. */
export function parseJoinLink(input: string): ParsedLink {
	const text = input.trim();
	const hash = text.includes('#') ? text.slice(text.indexOf('#') + 1) : text;
	const m = /^\/?join\/([^/?#]+)\/([^/?#]+)\/?$/.exec(hash);
	if (!m) return { ok: false, message: 'This link is incomplete or damaged: it should end in /join/<contract>/<secret>.' };
	const [, contract, secret] = m as unknown as [string, string, string];
	if (!ID.test(contract)) return { ok: false, message: 'This link is incomplete or damaged: the contract id is not valid.' };
	if (!SECRET.test(secret)) return { ok: false, message: 'This link is incomplete or damaged: the secret is missing or too short.' };
	return { ok: true, link: { contract, secret } };
}

/** The y-webrtc room for a secret: a hash, so the room name reveals neither the secret nor the contract. */
export function roomName(secret: string): string {
	return 'milestone-' + toBase64url(sha256Utf8('milestone room v1:' + secret)).slice(0, 32);
}

