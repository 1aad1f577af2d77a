/**
 * A person's profile: a file they control (export, send, attach to a proposal) holding a card — name,
 * headline, optional links, signed by their identity key — and their references (reference.ts), each
 * with the escrow provider's attestation. Whoever opens it checks the card's signature and every
 * reference on its own, so one edited reference fails alone, with its reason, and the rest still
 * count. The summary counts only what verified. Pure.
 */
import { z } from 'zod';
import { PublicKey } from '../contract/schema';
import type { CurrencyCode } from '../money/currency';
import { bandTotal } from '../money/bands';
import { readCertificate } from './certificate';
import type { DeviceKey } from './ed25519';
import { verifyReference, type ReferenceEntry, type ReferenceVerdict, type VerifyContext } from './reference';
import { isStatement, openStatement, signStatement, type SignedStatement } from './statement';

export const PROFILE_DOMAIN = 'milestone-profile/1';
export const PROFILE_FORMAT = 'milestone-profile';
/** A profile file opened in the app. */
export const MAX_PROFILE_BYTES = 512 * 1024;
/** A profile attached to a proposal shares the proposal's 32 KiB envelope with the terms. */
export const MAX_ATTACHED_PROFILE_BYTES = 12 * 1024;
export const MAX_REFERENCES = 200;
export const MAX_LINKS = 5;

export interface ProfileFields {
	name: string;
	headline: string;
	links: string[];
	/** Opt-in proofs of control (link-proof.ts): a link and the raw address of the gist that proves it. */
	proofs?: { link: string; gist: string }[];
}

export interface ProfileFile {
	format: typeof PROFILE_FORMAT;
	version: 1;
	card: SignedStatement;
	references: ReferenceEntry[];
}

const Link = z
	.string()
	.max(300)
	.refine((u) => {
		try {
			return new URL(u).protocol === 'https:';
		} catch {
			return false;
		}
	});

const CardBody = z
	.object({
		v: z.literal(1),
		type: z.literal('profile'),
		identity: PublicKey,
		name: z.string().min(1).max(80),
		headline: z.string().max(200),
		links: z.array(Link).max(MAX_LINKS),
		proofs: z.array(z.object({ link: Link, gist: Link }).strict()).max(MAX_LINKS).optional(),
		at: z.number().int().nonnegative()
	})
	.strict();
export type CardBody = z.input<typeof CardBody>;

/** Every field problem at once, in words, keyed by field (`links` covers the list). */
export function fieldErrors(f: ProfileFields): Record<string, string> {
	const errors: Record<string, string> = {};
	const name = f.name.trim();
	if (name.length < 1 || name.length > 80) errors.name = 'Enter a name of 1 to 80 characters.';
	if (f.headline.trim().length > 200) errors.headline = 'Keep the headline under 200 characters.';
	const links = f.links.map((l) => l.trim()).filter(Boolean);
	if (links.length > MAX_LINKS) errors.links = `At most ${MAX_LINKS} links.`;
	else {
		const bad = links.find((l) => !Link.safeParse(l).success);
		if (bad) errors.links = `“${bad.slice(0, 60)}” is not an https:// address.`;
	}
	const badProof = (f.proofs ?? []).find((p) => p.gist.trim() && links.includes(p.link) && !Link.safeParse(p.gist.trim()).success);
	if (badProof) errors.proofs = `The proof of ${badProof.link.slice(0, 60)} needs the gist's https:// raw address.`;
	return errors;
}

/** Sign the card and put the file together. `certificate` when `key` is a certified device of the identity. */
export function makeProfile(key: DeviceKey, fields: ProfileFields, references: readonly ReferenceEntry[], at: number, certificate?: string): ProfileFile {
	const errors = fieldErrors(fields);
	if (Object.keys(errors).length) throw new Error(Object.values(errors).join(' '));
	const identity = certificate ? readCertificate(certificate, key.publicKey).identity : key.publicKey;
	const links = fields.links.map((l) => l.trim()).filter(Boolean);
	const proofs = (fields.proofs ?? []).map((p) => ({ link: p.link, gist: p.gist.trim() })).filter((p) => p.gist && links.includes(p.link));
	const body: CardBody = { v: 1, type: 'profile', identity, name: fields.name.trim(), headline: fields.headline.trim(), links, ...(proofs.length ? { proofs } : {}), at };
	return { format: PROFILE_FORMAT, version: 1, card: signStatement(key, PROFILE_DOMAIN, body, certificate), references: references.slice(0, MAX_REFERENCES) };
}

export function profileText(file: ProfileFile): string {
	return JSON.stringify(file, null, 1);
}

export type ReadProfile = { ok: true; file: ProfileFile } | { ok: false; reason: string };

/** Parse a profile file (or the text of one): shape and size only; `verifyProfile` judges it. */
export function readProfile(input: string | unknown): ReadProfile {
	let raw: unknown = input;
	if (typeof input === 'string') {
		if (input.length > MAX_PROFILE_BYTES) return { ok: false, reason: `This file is larger than a profile can be (${MAX_PROFILE_BYTES / 1024} KiB).` };
		try {
			raw = JSON.parse(input);
		} catch {
			return { ok: false, reason: 'This is not a profile file: it is not JSON.' };
		}
	}
	const o = raw as Partial<ProfileFile> | null;
	if (!o || typeof o !== 'object' || o.format !== PROFILE_FORMAT || o.version !== 1) return { ok: false, reason: 'This is not a Milestone profile file.' };
	if (!isStatement(o.card)) return { ok: false, reason: 'The profile has no signed card (name, headline, links).' };
	if (!Array.isArray(o.references) || o.references.length > MAX_REFERENCES) return { ok: false, reason: `A profile holds a list of at most ${MAX_REFERENCES} references.` };
	return { ok: true, file: { format: PROFILE_FORMAT, version: 1, card: o.card, references: o.references as ReferenceEntry[] } };
}

export type CardVerdict = { ok: true; card: CardBody } | { ok: false; reason: string; claimed?: Partial<CardBody> };

export interface ProfileVerdict {
	card: CardVerdict;
	/** The identity the profile speaks for (claimed, when the card failed). */
	identity?: string;
	references: ReferenceVerdict[];
}

function verifyCard(card: SignedStatement): CardVerdict {
	const claimed = (() => {
		try {
			const b = JSON.parse(card.body) as Partial<CardBody>;
			return { identity: typeof b.identity === 'string' ? b.identity : undefined, name: typeof b.name === 'string' ? b.name.slice(0, 80) : undefined };
		} catch {
			return {};
		}
	})();
	const opened = openStatement(card, PROFILE_DOMAIN);
	if (!opened.ok) return { ok: false, reason: `Profile card: ${opened.reason}`, claimed };
	const parsed = CardBody.safeParse(opened.body);
	if (!parsed.success) return { ok: false, reason: 'Profile card: not a profile card.', claimed };
	if (parsed.data.identity !== opened.identity) return { ok: false, reason: 'Profile card: it is not signed by the identity key it names.', claimed };
	return { ok: true, card: parsed.data };
}

/** The card, then every reference against the card's identity: each fails alone, with its reasons. */
export function verifyProfile(file: ProfileFile, ctx: Omit<VerifyContext, 'owner'>): ProfileVerdict {
	const card = verifyCard(file.card);
	const identity = card.ok ? card.card.identity : card.claimed?.identity;
	// Without an identity nobody owns the references: each then fails its "about the owner" check.
	const owner = identity ?? '';
	return { card, ...(identity ? { identity } : {}), references: file.references.map((r) => verifyReference(r, { ...ctx, owner })) };
}

/** The profile cut down to fit `maxBytes` (a proposal's attachment): newest references first; undefined if the card alone does not fit. */
export function fitProfile(file: ProfileFile, maxBytes = MAX_ATTACHED_PROFILE_BYTES): ProfileFile | undefined {
	const size = (f: ProfileFile) => new TextEncoder().encode(JSON.stringify(f)).length;
	const byNewest = [...file.references].sort((a, b) => endedOf(b) - endedOf(a));
	const out: ProfileFile = { ...file, references: [] };
	if (size(out) > maxBytes) return undefined;
	for (const r of byNewest) {
		out.references.push(r);
		if (size(out) > maxBytes) out.references.pop();
	}
	return out;
}

function endedOf(e: ReferenceEntry): number {
	try {
		const t = (JSON.parse(e.reference.body) as { endedAt?: unknown }).endedAt;
		return typeof t === 'number' ? t : 0;
	} catch {
		return 0;
	}
}

export interface HistorySummary {
	/** Contracts with a verified reference (TEST MODE ones included, and counted apart). */
	completed: number;
	testMode: number;
	/** Per currency, the sum of the attested bands. */
	totals: { currency: CurrencyCode; text: string }[];
	disputes: number;
	ratings?: { count: number; average: number };
	/** When the oldest counted contract ended (provider time). */
	oldest?: number;
	/** References that did not count: failed, unattested or from a provider this viewer did not set up. */
	notCounted: number;
	failed: number;
}

/** What the verified references add up to; anything that did not verify is only counted as not counted. */
export function summarize(verdicts: readonly ReferenceVerdict[]): HistorySummary {
	const seen = new Set<string>();
	const bands = new Map<CurrencyCode, string[]>();
	let testMode = 0;
	let disputes = 0;
	let ratingSum = 0;
	let oldest: number | undefined;
	for (const v of verdicts) {
		if ((v.status !== 'verified' && v.status !== 'test-mode') || !v.attestation || !v.reference) continue;
		if (seen.has(v.attestation.contract)) continue;
		seen.add(v.attestation.contract);
		if (v.status === 'test-mode') testMode++;
		if (v.attestation.disputed) disputes++;
		ratingSum += v.reference.rating;
		bands.set(v.attestation.currency, [...(bands.get(v.attestation.currency) ?? []), v.attestation.band]);
		oldest = oldest === undefined ? v.attestation.endedAt : Math.min(oldest, v.attestation.endedAt);
	}
	const completed = seen.size;
	return {
		completed,
		testMode,
		totals: [...bands].map(([currency, ids]) => ({ currency, text: bandTotal(ids, currency) })),
		disputes,
		...(completed ? { ratings: { count: completed, average: Math.round((ratingSum / completed) * 10) / 10 } } : {}),
		...(oldest !== undefined ? { oldest } : {}),
		notCounted: verdicts.length - completed,
		failed: verdicts.filter((v) => v.status === 'failed').length
	};
}

/** The summary in plain sentences, for a person deciding whether to accept; "no history" said plainly. */
export function summaryLines(s: HistorySummary, date: (ms: number) => string): string[] {
	if (s.completed === 0) {
		const lines = ['No history: this key has no verified references. It may be new; nothing here vouches for it either way.'];
		if (s.notCounted) lines.push(`${s.notCounted} reference${s.notCounted === 1 ? '' : 's'} in the file did not verify and ${s.notCounted === 1 ? 'is' : 'are'} not counted.`);
		return lines;
	}
	const lines = [
		`${s.completed} completed contract${s.completed === 1 ? '' : 's'}${s.testMode ? ` (${s.testMode === s.completed ? 'all' : s.testMode} in TEST MODE: no real money)` : ''}.`,
		`Paid through escrow: ${s.totals.map((t) => t.text).join(' and ')}.`,
		s.disputes ? `${s.disputes} with a dispute.` : 'No disputes.',
		`Rating ${s.ratings!.average} of 5 from ${s.ratings!.count} reference${s.ratings!.count === 1 ? '' : 's'}.`,
		`Oldest reference: a contract that ended ${date(s.oldest!)}.`
	];
	if (s.notCounted) lines.push(`${s.notCounted} more reference${s.notCounted === 1 ? '' : 's'} did not verify and ${s.notCounted === 1 ? 'is' : 'are'} not counted.`);
	return lines;
}
