/**
 * Share links: `<origin>/#/join/<contractId>/<secret>`, then `?relay=<url>` once per relay the
 * proposer's device uses (percent-encoded; links without it, from before relays, still open). The
 * whole route lives in the URL fragment, which browsers never send to a server, so the secret
 * stays out of every server log. The y-webrtc room name is derived from the secret (the signaling
 * server cannot correlate rooms with contracts), and the secret itself is the room password
 * (y-webrtc encrypts signaling and BroadcastChannel traffic with it). The relay's room and keys
 * are derived from the secret too (relay-client.ts): the relay URL in the link is not a secret.
 */
import { toBase64url } from '../contract/encoding';
import { sha256Utf8 } from '../contract/sha256';
import { MAX_RELAYS, RelayUrl } from './settings';

const ID = /^[A-Za-z0-9_-]{16,64}$/;
const SECRET = /^[A-Za-z0-9_-]{22,64}$/;

export interface JoinLink {
	contract: string;
	secret: string;
	/** Relays that hold the contract's encrypted events (absent in links made before relays). */
	relays?: string[];
}

export type ParsedLink = { ok: true; link: JoinLink } | { ok: false; message: string };

export function randomId(bytes = 16): string {
	return toBase64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export function shareLink(origin: string, link: JoinLink): string {
	const base = `${origin.replace(/\/$/, '')}/#/join/${link.contract}/${link.secret}`;
	const relays = (link.relays ?? []).slice(0, MAX_RELAYS);
	return relays.length ? `${base}?${relays.map((r) => `relay=${encodeURIComponent(r)}`).join('&')}` : base;
}

function decoded(value: string): string {
	try {
		return decodeURIComponent(value);
	} catch {
		return value;
	}
}

/**
 * Accepts a full link, a hash (`#/join/…`) or a route path (`/join/…`), with or without relays;
 * the router may have decoded the fragment already, so both forms of a relay URL are read.
 * Never throws.
 */
export function parseJoinLink(input: string): ParsedLink {
	const text = input.trim();
	const hash = text.includes('#') ? text.slice(text.indexOf('#') + 1) : text;
	const m = /^\/?join\/([^/?#]+)\/([^/?#]+)\/?(?:\?([^#]*))?$/.exec(hash);
	if (!m) return { ok: false, message: 'This link is incomplete or damaged: it should end in /join/<contract>/<secret>.' };
	const [, contract, secret, query] = m as unknown as [string, string, string, string | undefined];
	if (!ID.test(contract)) return { ok: false, message: 'This link is incomplete or damaged: the contract id is not valid.' };
	if (!SECRET.test(secret)) return { ok: false, message: 'This link is incomplete or damaged: the secret is missing or too short.' };
	if (query === undefined) return { ok: true, link: { contract, secret } };
	const relays: string[] = [];
	for (const part of query.split('&')) {
		if (!part) continue;
		const [name, ...rest] = part.split('=');
		if (name !== 'relay') continue; // room for later parameters: an unknown one is not damage
		const url = RelayUrl.safeParse(decoded(rest.join('=')));
		if (!url.success) return { ok: false, message: 'This link is incomplete or damaged: a relay address in it is not a ws:// or wss:// URL.' };
		if (!relays.includes(url.data)) relays.push(url.data);
	}
	if (relays.length > MAX_RELAYS) return { ok: false, message: `This link is damaged: it names more than ${MAX_RELAYS} relays.` };
	return { ok: true, link: relays.length ? { contract, secret, relays } : { contract, secret } };
}

/** The y-webrtc room for a secret: a hash, so the room name reveals neither the secret nor the contract. */
export function roomName(secret: string): string {
	return 'milestone-' + toBase64url(sha256Utf8('milestone room v1:' + secret)).slice(0, 32);
}
