/**
 * Opt-in proofs of control of a link: the person publishes, in a public GitHub gist under the
 * account their profile links to, a statement signed by their identity key naming that link. Whoever
 * checks fetches the gist's raw text (the one network call, made only when the viewer asks), finds
 * the statement, checks its signature, that it names this identity and this link, and that the gist
 * belongs to the same GitHub account as the link. A proof shows the account holder published the
 * key; it says nothing about the person's work.
 */
import { z } from 'zod';
import { PublicKey } from '../contract/schema';
import type { DeviceKey } from './ed25519';
import { openStatement, signStatement } from './statement';

export const LINK_PROOF_DOMAIN = 'milestone-link-proof/1';
const BEGIN = '-----BEGIN MILESTONE LINK PROOF-----';
const END = '-----END MILESTONE LINK PROOF-----';
/** A gist holding a proof is small; a larger answer is refused before it is read further. */
export const MAX_GIST_BYTES = 64 * 1024;

const ProofBody = z.object({ v: z.literal(1), type: z.literal('link-proof'), identity: PublicKey, link: z.string().max(300), at: z.number().int().nonnegative() }).strict();

/** The GitHub account a profile link names: https://github.com/<account> (nothing after it). */
export function githubAccount(link: string): string | undefined {
	try {
		const u = new URL(link);
		const m = /^\/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/?$/.exec(u.pathname);
		return u.protocol === 'https:' && u.hostname === 'github.com' && m ? m[1]!.toLowerCase() : undefined;
	} catch {
		return undefined;
	}
}

/**
 * The account a gist's raw address belongs to: https://gist.githubusercontent.com/<account>/<id>/raw/….
 * `rawHost` is that host unless a test points it at a local server (then http:// is allowed too).
 */
export function gistAccount(rawUrl: string, rawHost = 'gist.githubusercontent.com'): string | undefined {
	try {
		const u = new URL(rawUrl);
		const local = rawHost !== 'gist.githubusercontent.com';
		if (u.host !== rawHost || (u.protocol !== 'https:' && !(local && u.protocol === 'http:'))) return undefined;
		const m = /^\/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/[A-Za-z0-9]+\/raw(\/|$)/.exec(u.pathname);
		return m ? m[1]!.toLowerCase() : undefined;
	} catch {
		return undefined;
	}
}

/** The text to paste into a public gist: a readable line, then the signed statement between markers. */
export function linkProofText(key: DeviceKey, link: string, at: number, certificate?: string, identity = key.publicKey): string {
	const st = signStatement(key, LINK_PROOF_DOMAIN, { v: 1, type: 'link-proof', identity, link, at }, certificate);
	return `I control ${link} and my Milestone identity key is ${identity}.\n\n${BEGIN}\n${JSON.stringify(st)}\n${END}\n`;
}

export type LinkProofVerdict = { ok: true } | { ok: false; reason: string };

/** Check a gist's text against `identity` and `link` (pure: the fetch is `checkLinkProof`'s). */
export function verifyLinkProofText(text: string, identity: string, link: string): LinkProofVerdict {
	const start = text.indexOf(BEGIN);
	const end = text.indexOf(END, start + BEGIN.length);
	if (start < 0 || end < 0) return { ok: false, reason: 'The gist holds no Milestone link proof.' };
	let st: unknown;
	try {
		st = JSON.parse(text.slice(start + BEGIN.length, end).trim());
	} catch {
		return { ok: false, reason: 'The proof in the gist is damaged.' };
	}
	const opened = openStatement(st, LINK_PROOF_DOMAIN);
	if (!opened.ok) return { ok: false, reason: `The proof in the gist: ${opened.reason}` };
	const body = ProofBody.safeParse(opened.body);
	if (!body.success || body.data.identity !== opened.identity) return { ok: false, reason: 'The proof in the gist is not signed by the identity it names.' };
	if (body.data.identity !== identity) return { ok: false, reason: 'The proof in the gist is for another identity key.' };
	if (body.data.link !== link) return { ok: false, reason: 'The proof in the gist names another link.' };
	return { ok: true };
}

/**
 * Fetch the gist's raw text and check it: the gist must belong to the GitHub account the link names.
 * `fetcher` and `rawHost` are the test's local server; the app passes neither.
 */
export async function checkLinkProof(identity: string, link: string, rawUrl: string, o: { fetcher?: typeof fetch; rawHost?: string } = {}): Promise<LinkProofVerdict> {
	const account = githubAccount(link);
	if (!account) return { ok: false, reason: 'Only a GitHub account link (https://github.com/name) can be proven with a gist.' };
	const owner = gistAccount(rawUrl, o.rawHost);
	if (!owner) return { ok: false, reason: 'That is not the raw address of a gist (https://gist.githubusercontent.com/name/…/raw/…).' };
	if (owner !== account) return { ok: false, reason: `The gist belongs to ${owner}, not to ${account}.` };
	let res: Response;
	try {
		res = await (o.fetcher ?? fetch)(rawUrl, { redirect: 'error', credentials: 'omit' });
	} catch {
		return { ok: false, reason: 'The gist could not be fetched.' };
	}
	if (!res.ok) return { ok: false, reason: `The gist could not be fetched (${res.status}).` };
	const text = await res.text();
	if (text.length > MAX_GIST_BYTES) return { ok: false, reason: 'The gist is too large to be a proof.' };
	return verifyLinkProofText(text, identity, link);
}
