/**
 * Profile files: the signed card and the references, each verified on its own; the summary counts
 * only what verified, and says "no history" plainly for a key with none.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_ADDRESS_BOOK } from '../../../src/lib/identity/address-book';
import { fieldErrors, fitProfile, makeProfile, profileText, readProfile, summarize, summaryLines, verifyProfile, type ProfileFile } from '../../../src/lib/identity/profile';
import type { ReferenceEntry } from '../../../src/lib/identity/reference';
import { ended, entry } from '../../support/work-history';
import { FREELANCER, keyFrom, STRANGER, T0 } from '../../support/world';

const REAL = keyFrom('a real escrow provider');
const ctx = { trusted: [{ publicKey: REAL.publicKey, name: 'Stripe Connect escrow', testMode: false }], book: EMPTY_ADDRESS_BOOK };
const FIELDS = { name: 'Grace', headline: 'Compilers and websites', links: ['https://example.org/grace'] };
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function twoReferences(): Promise<ReferenceEntry[]> {
	return [await entry(await ended({ key: REAL })), await entry(await ended({ key: REAL, released: 40_000 }))];
}

/** Round-trip through the file's text, as an import does. */
function reopened(file: ProfileFile, edit?: (raw: Record<string, unknown>) => void): ProfileFile {
	const raw = JSON.parse(profileText(file)) as Record<string, unknown>;
	edit?.(raw);
	const r = readProfile(JSON.stringify(raw));
	if (!r.ok) throw new Error(r.reason);
	return r.file;
}

describe('profile files', () => {
	it('an exported profile imports and verifies: card and every reference', async () => {
		const file = makeProfile(FREELANCER, FIELDS, await twoReferences(), T0);
		const v = verifyProfile(reopened(file), ctx);
		expect(v.card).toMatchObject({ ok: true, card: { name: 'Grace', identity: FREELANCER.publicKey } });
		expect(v.references.map((r) => r.status)).toEqual(['verified', 'verified']);
	});

	it('attack: the name on the card is edited — the card fails, with why', async () => {
		const file = makeProfile(FREELANCER, FIELDS, [], T0);
		const v = verifyProfile(
			reopened(file, (raw) => {
				const card = raw.card as { body: string };
				card.body = card.body.replace('Grace', 'Grace Hopper');
			}),
			ctx
		);
		expect(v.card).toMatchObject({ ok: false, reason: expect.stringMatching(/changed after signing/) });
	});

	it('attack: one reference is edited inside the file — it alone fails, the other still counts', async () => {
		const file = makeProfile(FREELANCER, FIELDS, await twoReferences(), T0);
		const v = verifyProfile(
			reopened(file, (raw) => {
				const refs = raw.references as { reference: { body: string } }[];
				refs[1]!.reference.body = refs[1]!.reference.body.replace('"rating":5', '"rating":4');
			}),
			ctx
		);
		expect(v.references.map((r) => r.status)).toEqual(['verified', 'failed']);
		expect(v.references[1]!.failures[0]).toMatch(/Reference: The signature does not match/);
		const s = summarize(v.references);
		expect(s).toMatchObject({ completed: 1, failed: 1, notCounted: 1 });
	});

	it('attack: someone else re-signs the card with their key and keeps the references — none of them is about them', async () => {
		const refs = await twoReferences();
		const v = verifyProfile(reopened(makeProfile(STRANGER, FIELDS, refs, T0)), ctx);
		expect(v.card.ok).toBe(true);
		expect(v.references.every((r) => r.status === 'failed' && /about someone else/.test(r.failures.join(' ')))).toBe(true);
		expect(summaryLines(summarize(v.references), day)[0]).toMatch(/^No history/);
	});

	it('a proof of a link is part of the signed card; one for a link no longer listed is left out', () => {
		const gist = 'https://gist.githubusercontent.com/grace/abc123/raw/proof.txt';
		const fields = { ...FIELDS, links: ['https://github.com/grace'], proofs: [{ link: 'https://github.com/grace', gist }, { link: 'https://github.com/old', gist }] };
		const v = verifyProfile(reopened(makeProfile(FREELANCER, fields, [], T0)), ctx);
		expect(v.card.ok && v.card.card.proofs).toEqual([{ link: 'https://github.com/grace', gist }]);
		expect(fieldErrors({ ...fields, proofs: [{ link: 'https://github.com/grace', gist: 'gist.github.com/x' }] })).toEqual({ proofs: expect.stringMatching(/raw address/) });
	});

	it('refuses what is not a profile, and bad fields all at once', () => {
		expect(readProfile('not json')).toMatchObject({ ok: false, reason: expect.stringMatching(/not JSON/) });
		expect(readProfile('{"format":"something-else"}')).toMatchObject({ ok: false });
		expect(fieldErrors({ name: '', headline: 'x'.repeat(201), links: ['http://plain.example'] })).toEqual({
			name: expect.any(String),
			headline: expect.any(String),
			links: expect.stringMatching(/not an https/)
		});
	});
});

describe('the summary before accepting', () => {
	it('no history, stated plainly, for a new key', () => {
		const s = summarize([]);
		expect(s.completed).toBe(0);
		expect(summaryLines(s, day)).toEqual(['No history: this key has no verified references. It may be new; nothing here vouches for it either way.']);
	});

	it('completed contracts, total band, disputes, ratings, oldest reference', async () => {
		const first = await ended({ key: REAL, released: 40_000 });
		const refs = [await entry(first), await entry(await ended({ key: REAL }))];
		const v = verifyProfile(reopened(makeProfile(FREELANCER, FIELDS, refs, T0)), ctx);
		const s = summarize(v.references);
		expect(s).toMatchObject({ completed: 2, testMode: 0, disputes: 0, ratings: { count: 2, average: 5 }, notCounted: 0 });
		// $400 (100–500) + $2,500 (1k–5k) = $1.1k–5.5k
		expect(s.totals).toEqual([{ currency: 'USD', text: '$1.1k–5.5k' }]);
		const lines = summaryLines(s, day);
		expect(lines).toContain('2 completed contracts.');
		expect(lines).toContain('Paid through escrow: $1.1k–5.5k.');
		expect(lines).toContain('No disputes.');
		expect(lines).toContain('Rating 5 of 5 from 2 references.');
		expect(lines.join(' ')).toMatch(/Oldest reference: a contract that ended \d{4}-\d{2}-\d{2}/);
	});

	it('TEST MODE references count, labelled; the same contract twice counts once', async () => {
		const e = await ended();
		const one = await entry(e);
		const s = summarize(verifyProfile(reopened(makeProfile(FREELANCER, FIELDS, [one, one], T0)), ctx).references);
		expect(s).toMatchObject({ completed: 1, testMode: 1 });
		expect(summaryLines(s, day)[0]).toBe('1 completed contract (all in TEST MODE: no real money).');
	});

	it('an attached profile is cut to its size cap, newest references kept', async () => {
		const refs = await twoReferences();
		const file = makeProfile(FREELANCER, FIELDS, refs, T0);
		const oneFits = JSON.stringify({ ...file, references: [refs[0]] }).length + 10;
		expect(fitProfile(file, oneFits)!.references).toHaveLength(1);
		expect(fitProfile(file, 100)).toBeUndefined();
		expect(fitProfile(file)!.references).toHaveLength(2);
	});
});
