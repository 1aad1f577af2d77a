/**
 * What a device sends the escrow provider: the causal past of the event it asks about (and nothing
 * a hostile peer wrote into the shared map), or every authentic envelope — never junk.
 */
import { describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../../src/lib/contract/envelope';
import { ContractLog } from '../../../src/lib/contract/log';
import { authenticate } from '../../../src/lib/identity/authenticate';
import { CLIENT, FREELANCER, STRANGER, World } from '../../support/world';

const idOf = (w: World, envelope: string): string => w.written.find(([, e]) => e === envelope)?.[0] ?? '?';

async function concurrent() {
	const w = new World();
	await w.active();
	const a = await w.emit(CLIENT, 'message.posted', { text: 'a' });
	const b = await w.emit(FREELANCER, 'message.posted', { text: 'b' });
	const base = w.written.map(([id]) => id);
	// Client and freelancer write at the same time, neither seeing the other's new event.
	const x = await w.emit(CLIENT, 'message.posted', { text: 'x' }, { deps: [b], prev: a });
	const y = await w.emit(FREELANCER, 'message.posted', { text: 'y' }, { deps: [b], prev: b });
	// And things a hostile peer writes into the map.
	await w.put('junk-not-json', '{"id": oops');
	await w.put('junk-not-a-string', 42);
	const forged = await w.emit(CLIENT, 'message.posted', { text: 'forged' }, { signWith: STRANGER, deps: [x] });
	const stranger = await w.emit(STRANGER, 'message.posted', { text: 'hello' }, { deps: [x] });
	const broken = await w.emit(CLIENT, 'message.posted', { text: 'broken' }, { prev: b, deps: [x] });
	return { w, base, a, b, x, y, forged, stranger, broken };
}

describe('causalPast', () => {
	it('is the event and everything it reaches through prev and deps: no junk, no concurrent events', async () => {
		const { w, base, x, y, forged, stranger, broken } = await concurrent();
		expect(w.rejection(forged)?.code).toBe('bad-signature');
		expect(w.rejection(broken)?.code).toBe('broken-chain');
		const past = w.log.causalPast(x).map((e) => idOf(w, e));
		expect(new Set(past)).toEqual(new Set([...base, x]));
		for (const id of [y, forged, stranger, broken, 'junk-not-json', 'junk-not-a-string']) expect(past).not.toContain(id);
		expect(w.log.causalPast(y).map((e) => idOf(w, e))).not.toContain(x);
	});

	it('lists each event after everything it names, so the provider can add them in order', async () => {
		const { w, x, stranger } = await concurrent();
		for (const id of [x, stranger]) {
			const past = w.log.causalPast(id);
			const seen = new Set<string>();
			for (const env of past) {
				const d = decodeEnvelope(idOf(w, env), env, w.log.contract);
				expect(d.ok).toBe(true);
				if (!d.ok) continue;
				for (const ref of [d.body.prev, ...d.body.deps]) if (ref) expect(seen.has(ref)).toBe(true);
				seen.add(d.id);
			}
			expect(past.at(-1)).toBe(w.log.envelope(id));
		}
	});

	it('an unknown id has no past; several ids give one past without duplicates', async () => {
		const { w, x, y } = await concurrent();
		expect(w.log.causalPast('no-such-event')).toEqual([]);
		const both = w.log.causalPast(x, y);
		expect(new Set(both).size).toBe(both.length);
		expect(new Set(both)).toEqual(new Set([...w.log.causalPast(x), ...w.log.causalPast(y)]));
	});

	it('what a fresh provider log opens from the causal past derives the same state for that event', async () => {
		const { w, x } = await concurrent();
		const provider = new ContractLog(w.log.contract);
		for (const env of w.log.causalPast(x)) provider.add(idOf(w, env), env);
		await authenticate(provider);
		const d = provider.derive();
		expect(d.rejected).toEqual([]);
		expect(d.waiting).toEqual([]);
		expect(d.state.applied.at(-1)!.id).toBe(x);
	});

	it('junk first written under an event’s key is never sent: the real envelope is', async () => {
		const { w, a, x } = await concurrent();
		const log = new ContractLog(w.log.contract);
		const real = w.written.find(([id]) => id === a)![1];
		const e = JSON.parse(real) as { sig: string };
		const forgedSig = JSON.stringify({ ...e, sig: (e.sig[0] === 'A' ? 'B' : 'A') + e.sig.slice(1) });
		expect(decodeEnvelope(a, forgedSig, w.log.contract).ok).toBe(true);
		log.add(a, '{"id": oops');
		log.add(a, forgedSig);
		for (const [id, env] of w.written) log.add(id, env);
		await authenticate(log);
		log.derive();
		expect(log.causalPast(x)).toContain(real);
		expect(log.causalPast(x)).not.toContain(forgedSig);
	});
});

describe('authenticEnvelopes', () => {
	it('every decoded, authentic, unbroken entry: no junk, forgeries or broken chains', async () => {
		const { w, base, x, y, forged, stranger, broken } = await concurrent();
		const got = w.log.authenticEnvelopes();
		const ids = got.map(([id]) => id);
		expect(new Set(ids)).toEqual(new Set([...base, x, y, stranger]));
		for (const [id, env] of got) expect(env).toBe(w.log.envelope(id));
		for (const id of [forged, broken, 'junk-not-json', 'junk-not-a-string']) expect(ids).not.toContain(id);
		// Everything stored is still there for peers: envelopes() keeps what it always returned.
		expect(w.log.envelopes().map(([id]) => id)).toContain('junk-not-json');
	});
});
