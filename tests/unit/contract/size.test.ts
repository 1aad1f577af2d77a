import { describe, expect, it } from 'vitest';
import { encodeBody, encodeEnvelope, decodeEnvelope } from '../../../src/lib/contract/envelope';
import { MAX_ENVELOPE_BYTES } from '../../../src/lib/contract/schema';
import { isOversized, longestTextPath, sizeRefusal } from '../../../src/lib/contract/size';

const envelopeOf = (text: string) => {
	const { id, body } = encodeBody({ contract: 'c'.repeat(43), author: 'a'.repeat(43), prev: null, deps: [], at: 1, type: 'message.posted', payload: { text } });
	return { id, envelope: encodeEnvelope(id, body, 's'.repeat(86)) };
};

describe('the signed event size limit', () => {
	it('agrees with what every peer refuses on intake, at the boundary, for ASCII and multi-byte text', () => {
		for (const char of ['x', 'é', '€', '"', '\n']) {
			// Find the longest text of `char` whose envelope fits, then one more character.
			let lo = 0;
			let hi = MAX_ENVELOPE_BYTES;
			while (lo < hi) {
				const mid = (lo + hi + 1) >> 1;
				if (isOversized(envelopeOf(char.repeat(mid)).envelope)) hi = mid - 1;
				else lo = mid;
			}
			const fits = envelopeOf(char.repeat(lo));
			const over = envelopeOf(char.repeat(lo + 1));
			expect(sizeRefusal(fits.envelope)).toBeNull();
			expect(sizeRefusal(over.envelope)).toMatchObject({ code: 'oversized' });
			expect(decodeEnvelope(over.id, over.envelope, 'c'.repeat(43))).toMatchObject({ ok: false, rejection: { code: 'oversized' } });
			const kept = decodeEnvelope(fits.id, fits.envelope, 'c'.repeat(43));
			expect(kept.ok ? null : kept.rejection.code).not.toBe('oversized');
		}
	});

	it('says how large it is and by how much to shorten, in KB', () => {
		// Quotes are escaped twice (JSON inside JSON): 10,000 of them take about 40 KB.
		const r = sizeRefusal(envelopeOf('"'.repeat(10_000)).envelope);
		expect(r?.detail).toMatch(/^This is \d+ KB once signed, and one event can hold 32 KB: shorten the longest text by about \d+ KB\.$/);
	});

	it('finds the longest text of a payload, where a person can shorten it', () => {
		expect(longestTextPath({ text: 'hello' })).toBe('text');
		expect(longestTextPath({ role: 'client', terms: { title: 'Logo', scope: 'x'.repeat(50), milestones: [{ title: 'y'.repeat(60) }] }, profile: 'z'.repeat(40) })).toBe('terms.milestones.0.title');
		expect(longestTextPath({ amount: 5 })).toBeUndefined();
	});
});
