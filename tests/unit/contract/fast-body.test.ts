/**
 * fast-body.ts checks the common event types by hand on the open path. It must give zod's answer:
 * for those types, accept exactly what `Body` + `PAYLOADS` accept and return the same value (same
 * keys in the same order, trimmed text), the parsed body itself when it already is that value and
 * otherwise a copy that shares no array with it; for any other type, defer to zod.
 * Inputs are JSON texts (what a body is), valid, mutated and hostile.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeBody, encodeEnvelope } from '../../../src/lib/contract/envelope';
import { fastBody } from '../../../src/lib/contract/fast-body';
import { ATTESTED_KINDS, Body, PAYLOADS, type EventType } from '../../../src/lib/contract/schema';

const FAST = ['message.posted', 'receipt.attested', 'hourly.segment'] as const;

/** zod's answer for a parsed body: the validated body, or undefined if refused. */
function zodBody(json: unknown): unknown {
	const parsed = Body.safeParse(json);
	if (!parsed.success) return undefined;
	const payload = PAYLOADS[parsed.data.type as EventType].safeParse(parsed.data.payload);
	return payload.success ? { ...parsed.data, payload: payload.data } : undefined;
}

/** Values and key order, as JSON shows them (-0 aside, which JSON texts cannot tell apart from 0 here). */
const shape = (x: unknown) => JSON.stringify(x);

/** Checks fast-body against zod on one text; returns whether the fast path accepted it. */
function agrees(text: string): boolean {
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		return false;
	}
	const fast = fastBody(json);
	const zod = zodBody(json);
	const type = (json as { type?: unknown } | null)?.type;
	if (typeof type === 'string' && (FAST as readonly string[]).includes(type)) {
		expect(fast === undefined, `acceptance differs for ${text}`).toBe(zod === undefined);
		if (fast) {
			expect(shape(fast), text).toBe(shape(zod));
			// In place only when the parsed body is already exactly zod's value; a copy is fresh.
			if (fast === json) expect(shape(json), text).toBe(shape(zod));
			else expect((fast as { deps: unknown }).deps).not.toBe((json as { deps: unknown }).deps);
		}
	} else expect(fast, text).toBeUndefined();
	return fast !== undefined;
}

const b64 = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
/** Mostly right, sometimes just wrong: a generator that sits on the boundaries. */
const mostly = <T, U>(right: fc.Arbitrary<T>, wrong: fc.Arbitrary<U>) => fc.oneof({ arbitrary: right, weight: 9 }, { arbitrary: wrong, weight: 1 });
const nearB64 = mostly(b64, fc.oneof(fc.stringMatching(/^[A-Za-z0-9_+/=-]{42,44}$/), fc.string({ maxLength: 50 }), fc.constant(null)));
const ws = fc.constantFrom('', '', ' ', '\t', '\n', '\u00a0', '\u2028', '\ufeff', '\u3000', '\u200b');
const text = (min: number, max: number) =>
	fc.oneof(
		fc.tuple(ws, fc.string({ minLength: min, maxLength: 20 }), ws).map(([a, b, c]) => a + b + c),
		fc.tuple(ws, fc.integer({ min: max - 2, max: max + 2 }), ws).map(([a, n, c]) => a + 'x'.repeat(n) + c),
		ws,
		fc.constant(7)
	);
const num = (max: number) =>
	fc.oneof(
		fc.integer({ min: -2, max: Math.min(max + 2, 1000) }),
		fc.constantFrom(0, -0, max, max + 1, max + 2, 0.5, -1, 1.0000001, 1e21, 2 ** 53, '1'),
		fc.double({ noNaN: true, noDefaultInfinity: true })
	);
const kinds = mostly(fc.constantFrom(...ATTESTED_KINDS), fc.constantFrom('', 'x', 'toString', 'constructor'));
const payloadOf = {
	'message.posted': fc.record({ text: text(1, 10_000) }),
	'receipt.attested': fc.record({ event: nearB64, kind: kinds }),
	'hourly.segment': fc.record(
		{
			start: mostly(fc.integer({ min: 0, max: 2 ** 40 }), num(8.64e15)),
			source: mostly(fc.constantFrom('tracked', 'manual'), fc.constantFrom('auto', '', 1)),
			memo: text(0, 500),
			activity: num(10),
			screenshot: nearB64,
			replaces: nearB64
		},
		{ requiredKeys: ['start', 'source', 'memo', 'activity'] }
	)
};
const anyType = fc.oneof({ arbitrary: fc.constantFrom(...FAST), weight: 6 }, fc.constantFrom('milestone.fund', 'refund.disputed', 'contract.proposed', 'message', '', 'toString'));

/** One change that may make a body wrong: drop a key, add one, or set one to any JSON value. */
const mutate = <T extends Record<string, unknown>>(o: T): fc.Arbitrary<Record<string, unknown>> =>
	fc.oneof(
		{ arbitrary: fc.constant(o), weight: 8 },
		fc.constantFrom(...Object.keys(o)).map((k) => {
			const { [k]: _, ...rest } = o;
			return rest;
		}),
		fc.tuple(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...Object.keys(o), '__proto__', 'constructor')), fc.jsonValue()).map(([k, v]) => ({ ...o, [k]: v }))
	);

/** A body of a fast type, most fields valid and each one sometimes wrong, then maybe one more change here or in its payload. */
const body = anyType.chain((type) =>
	fc
		.record({
			v: mostly(fc.constant(1), fc.constantFrom(0, 2, '1', 1.5)),
			contract: mostly(fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/), fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{14,17}$/), fc.stringMatching(/^[A-Za-z0-9_-]{63,66}$/), fc.constant('bad contract!'))),
			author: nearB64,
			prev: fc.oneof(fc.constant(null), nearB64),
			deps: fc.oneof({ arbitrary: fc.array(b64, { maxLength: 3 }), weight: 4 }, fc.array(nearB64, { maxLength: 3 }), fc.array(b64, { minLength: 63, maxLength: 66 }), fc.constant('x')),
			at: mostly(fc.integer({ min: 0, max: 2 ** 45 }), num(8.64e15)),
			type: fc.constant(type),
			payload: Object.hasOwn(payloadOf, type) ? mostly(payloadOf[type as keyof typeof payloadOf].chain(mutate), fc.jsonValue()) : fc.jsonValue()
		})
		.chain(mutate)
);

describe('fast body check', () => {
	it('gives zod’s answer on generated bodies, valid and not', () => {
		let accepted = 0;
		fc.assert(
			fc.property(body, (b) => {
				if (agrees(JSON.stringify(b))) accepted++;
			}),
			{ numRuns: 4000 }
		);
		// Not vacuous: valid bodies of every fast type are among them.
		expect(accepted).toBeGreaterThan(400);
	});

	it('gives zod’s answer on any JSON text', () => {
		fc.assert(fc.property(fc.json(), (t) => void agrees(t)), { numRuns: 2000 });
	});

	it('gives zod’s answer on hostile texts', () => {
		const good = { v: 1, contract: 'c'.repeat(43), author: 'A'.repeat(43), prev: null, deps: [], at: 1, type: 'message.posted', payload: { text: ' hi ' } };
		const g = JSON.stringify(good);
		for (const t of [
			g,
			g.replace('{"v"', '{"__proto__":{"x":1},"v"'),
			g.replace('"text"', '"__proto__":{},"text"'),
			g.replace('{"text":" hi "}', '{"text":" hi ","text":"x"}'),
			g.replace('"at":1', '"at":-0'),
			g.replace('"at":1', '"at":1e2'),
			g.replace('"at":1', '"at":8640000000000001'),
			g.replace('"payload":{"text":" hi "}', '"payload":{"text":"   "}'),
			g.replace('"payload":{"text":" hi "}', '"payload":[" hi "]'),
			g.replace('"payload":{"text":" hi "}', '"payload":null'),
			g.replace('"deps":[]', `"deps":["${'A'.repeat(43)}",null]`),
			g.replace('"prev":null', '"prev":false'),
			g.replace('"type":"message.posted"', '"type":"receipt.attested"').replace('{"text":" hi "}', `{"event":"${'B'.repeat(43)}","kind":"submission"}`),
			g.replace('"type":"message.posted"', '"type":"receipt.attested"').replace('{"text":" hi "}', `{"event":"${'B'.repeat(43)}","kind":"constructor"}`),
			g.replace('"type":"message.posted"', '"type":"hourly.segment"').replace('{"text":" hi "}', '{"start":5,"source":"tracked","memo":" m ","activity":10}'),
			g.replace('"type":"message.posted"', '"type":"hourly.segment"').replace('{"text":" hi "}', '{"start":5,"source":"tracked","memo":"","activity":10,"replaces":null}'),
			g.replace('"type":"message.posted"', '"type":"hourly.segment"').replace('{"text":" hi "}', `{"replaces":"${'C'.repeat(43)}","start":5,"source":"manual","memo":"","activity":0,"screenshot":"${'D'.repeat(43)}"}`)
		])
			agrees(t);
		expect(agrees(g)).toBe(true);
	});

	it('returns a body that is already zod’s value itself, and copies one that is not (key order, untrimmed text)', () => {
		const good = { v: 1, contract: 'c'.repeat(43), author: 'A'.repeat(43), prev: null, deps: ['B'.repeat(43)], at: 1, type: 'message.posted', payload: { text: 'hi' } };
		const exact = JSON.parse(JSON.stringify(good));
		expect(fastBody(exact)).toBe(exact);
		const segment = JSON.parse(JSON.stringify({ ...good, type: 'hourly.segment', payload: { start: 5, source: 'manual', memo: 'm', activity: 1, screenshot: 'D'.repeat(43) } }));
		expect(fastBody(segment)).toBe(segment);
		for (const copied of [
			{ ...good, payload: { text: ' hi ' } },
			{ v: 1, author: good.author, contract: good.contract, prev: null, deps: good.deps, at: 1, type: 'message.posted', payload: { text: 'hi' } },
			{ ...good, type: 'hourly.segment', payload: { source: 'manual', start: 5, memo: 'm', activity: 1 } },
			{ ...good, type: 'receipt.attested', payload: { kind: 'submission', event: 'B'.repeat(43) } }
		]) {
			const json = JSON.parse(JSON.stringify(copied));
			const fast = fastBody(json);
			expect(fast, JSON.stringify(copied)).toBeDefined();
			expect(fast).not.toBe(json);
			expect(shape(fast)).toBe(shape(zodBody(json)));
		}
	});

	it('is what opening a contract uses: a message decodes to zod’s value, and a refused one keeps zod’s words', () => {
		const draft = { contract: 'c'.repeat(43), author: 'A'.repeat(43), prev: null, deps: [], at: 1, type: 'message.posted' as const, payload: { text: '  hello  ' } };
		const ok = encodeBody(draft);
		const decoded = decodeEnvelope(ok.id, encodeEnvelope(ok.id, ok.body, 'S'.repeat(86)), draft.contract);
		expect(decoded.ok && decoded.body.payload).toEqual({ text: 'hello' });
		const bad = encodeBody({ ...draft, payload: { text: '   ' } });
		const refused = decodeEnvelope(bad.id, encodeEnvelope(bad.id, bad.body, 'S'.repeat(86)), draft.contract);
		expect(refused.ok).toBe(false);
		expect(!refused.ok && refused.rejection.message).toContain('text: Too small');
	});
});
