/**
 * decodeEnvelope reads an envelope written exactly as `encodeEnvelope` writes it without parsing the
 * envelope object (envelope.ts, `canonicalBody`), and checks the body's hash without building the id
 * string (`bodyHashIs`). Both must decide exactly what the general path decides: the same envelope
 * with whitespace between its parts takes the general path (JSON.parse), and must decode the same.
 * A peer writes whatever it likes into the map, so the texts here include ones built to confuse a
 * reader that looks at the envelope's layout: a second "sig" key, a literal that ends early, an id
 * in the envelope other than its key, escapes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyHashIs, decodeEnvelope, encodeBody, encodeEnvelope, hashBody } from '../../../src/lib/contract/envelope';

const CONTRACT = 'c'.repeat(43);
const AUTHOR = 'A'.repeat(43);
const SIG = 'S'.repeat(86);

/** The same JSON with whitespace everywhere JSON allows it: never the canonical layout. */
const spaced = (text: string): string => JSON.stringify(JSON.parse(text), null, 1);

/** What a decode says, without the raw text (which differs between the two forms). */
function verdict(key: string, text: string) {
	const d = decodeEnvelope(key, text, CONTRACT);
	return d.ok ? { ok: true, id: d.id, body: d.body, sig: d.sig } : { ok: false, id: d.id, code: d.rejection.code, message: d.rejection.message, body: d.body };
}

function sameAsGeneralPath(key: string, text: string): ReturnType<typeof verdict> {
	const fast = verdict(key, text);
	let general: ReturnType<typeof verdict>;
	try {
		general = verdict(key, spaced(text));
	} catch {
		// Not JSON at all: both paths must refuse it as such.
		expect(fast.ok).toBe(false);
		return fast;
	}
	expect(fast, text).toEqual(general);
	return fast;
}

const message = (text: string) => encodeBody({ contract: CONTRACT, author: AUTHOR, prev: null, deps: [], at: 1, type: 'message.posted', payload: { text } });

describe('decoding an envelope', () => {
	it('decodes a canonical envelope as the general path does, for any message text', () => {
		let ok = 0;
		fc.assert(
			fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }), fc.stringMatching(/^[A-Za-z0-9_-]{86}$/), (text, sig) => {
				const { id, body } = message(text);
				if (sameAsGeneralPath(id, encodeEnvelope(id, body, sig)).ok) ok++;
			}),
			{ numRuns: 500 }
		);
		expect(ok).toBeGreaterThan(300);
	});

	it('refuses an altered body in either form', () => {
		const { id, body } = message('pay me');
		const other = message('pay me more').body;
		const d = sameAsGeneralPath(id, encodeEnvelope(id, other, SIG));
		expect(d).toMatchObject({ ok: false, code: 'hash-mismatch' });
		// Stored under another key than its id.
		expect(sameAsGeneralPath(message('x').id, encodeEnvelope(id, body, SIG))).toMatchObject({ ok: false, code: 'hash-mismatch' });
	});

	it('reads hostile layouts exactly as JSON.parse does', () => {
		const { id, body } = message('say "hi" \\ \u2028 é');
		const env = encodeEnvelope(id, body, SIG);
		const literal = JSON.stringify(body);
		const other = 'T'.repeat(86);
		const texts = [
			env,
			// A second "sig": JSON.parse keeps the last one, and the envelope still has three keys.
			env.slice(0, -2) + `","sig":"${other}"}`,
			`{"id":"${id}","body":${literal},"sig":"${SIG}","sig":"${other}"}`,
			// The literal ends early and a forged sig follows inside what looks like the body.
			`{"id":"${id}","body":${literal.slice(0, -1)}","sig":"${other}","x":"","sig":"${SIG}"}`,
			// Escapes the writer never uses, for the same body.
			`{"id":"${id}","body":${literal.replace(/\\"/g, '\\u0022')},"sig":"${SIG}"}`,
			// Another id inside the envelope than the key it is stored under.
			`{"id":"${'B'.repeat(43)}","body":${literal},"sig":"${SIG}"}`,
			// Signature of another length, a fourth key, a body that is not a string.
			`{"id":"${id}","body":${literal},"sig":"${SIG}x"}`,
			`{"id":"${id}","body":${literal},"sig":"${SIG}","more":1}`,
			`{"id":"${id}","body":${body},"sig":"${SIG}"}`,
			// A signature of the right length with a character outside base64url, at either end.
			`{"id":"${id}","body":${literal},"sig":"${'S'.repeat(85)}!"}`,
			`{"id":"${id}","body":${literal},"sig":"é${'S'.repeat(85)}"}`,
			`{"id":"${id}","body":${literal},"sig":"${'S'.repeat(85)}="}`,
			`{"id":"${id}","body":${literal},"sig":"${'S'.repeat(42)}œ${'S'.repeat(43)}"}`
		];
		const verdicts = texts.map((t) => sameAsGeneralPath(id, t));
		expect(verdicts[0]).toMatchObject({ ok: true, sig: SIG });
		expect(verdicts[1]).toMatchObject({ ok: true, sig: other });
		expect(verdicts[2]).toMatchObject({ ok: true, sig: other });
		expect(verdicts[4]).toMatchObject({ ok: true, sig: SIG });
		expect(verdicts[5]).toMatchObject({ ok: false, code: 'hash-mismatch' });
		for (const v of verdicts.slice(6)) expect(v).toMatchObject({ ok: false, code: 'bad-envelope' });
	});

	it('checks a hash as hashBody does, and only a 43-character id', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), (body, random) => {
				const id = hashBody(body);
				expect(bodyHashIs(body, id)).toBe(true);
				expect(bodyHashIs(body, random)).toBe(random === id);
				// One character off, anywhere.
				const at = body.length % 43;
				const off = id.slice(0, at) + (id[at] === 'A' ? 'B' : 'A') + id.slice(at + 1);
				expect(bodyHashIs(body, off)).toBe(false);
				expect(bodyHashIs(body, id + 'A')).toBe(false);
			}),
			{ numRuns: 300 }
		);
	});
});
