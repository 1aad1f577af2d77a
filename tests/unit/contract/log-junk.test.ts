/**
 * Junk a peer writes under an event's key (the shared map is writable by anyone holding the link)
 * must not change the verdict: a replica that saw junk first, then the real event, derives exactly
 * what a replica that only ever saw the real event derives.
 */
import { describe, expect, it } from 'vitest';
import { ContractLog } from '../../../src/lib/contract/log';
import { utf8 } from '../../../src/lib/contract/encoding';
import { authenticate } from '../../../src/lib/identity/authenticate';
import { signSync, verifyMany } from '../../../src/lib/identity/ed25519';
import { CLIENT, FREELANCER, STRANGER, World } from '../../support/world';

async function history(messages: number): Promise<World> {
	const w = new World();
	await w.active();
	for (let i = 0; i < messages; i++) await w.emit(i % 2 ? CLIENT : FREELANCER, 'message.posted', { text: `message ${i}` });
	return w;
}

describe('junk under an event’s key never changes the verdict', () => {
	/** Everything derived, in one comparable string (Maps by their entries, in order). */
	const canonical = (d: ReturnType<ContractLog['derive']>) => JSON.stringify(d, (_k, v: unknown) => (v instanceof Map ? [...v] : v));

	async function replica(contract: string, deliveries: [string, unknown][][]): Promise<string> {
		const log = new ContractLog(contract);
		for (const batch of deliveries) {
			for (const [id, env] of batch) log.add(id, env);
			await authenticate(log);
			log.derive();
		}
		return canonical(log.derive());
	}

	const forgedSig = (env: string) => {
		const e = JSON.parse(env) as { sig: string };
		return JSON.stringify({ ...e, sig: (e.sig[0] === 'A' ? 'B' : 'A') + e.sig.slice(1) });
	};

	it('junk where a prev belongs, then the real event: no broken chain', async () => {
		const w = await history(2);
		const a = await w.emit(CLIENT, 'message.posted', { text: 'a' });
		const b = await w.emit(CLIENT, 'message.posted', { text: 'b' });
		const env = new Map(w.written);
		const early = w.written.filter(([id]) => id !== a && id !== b);
		const clean = await replica(w.contract, [early, [[a, env.get(a)!]], [[b, env.get(b)!]]]);
		const junked = await replica(w.contract, [early, [[a, 'not json']], [[b, env.get(b)!]], [[a, env.get(a)!]]]);
		expect(junked).toBe(clean);
		expect(JSON.parse(clean).rejected).toEqual([]);
	});

	it('junk where a dep belongs, then the real event: the same level', async () => {
		const w = await history(2);
		const m: string[] = [];
		for (let i = 0; i < 4; i++) m.push(await w.emit(CLIENT, 'message.posted', { text: `c${i}` }));
		// The freelancer answers the last of them: its level comes from that dep.
		const reply = await w.emit(FREELANCER, 'message.posted', { text: 'reply' }, { deps: [m[3]!] });
		const env = new Map(w.written);
		const rest = w.written.filter(([id]) => id !== m[3]);
		const clean = await replica(w.contract, [rest, [[m[3]!, env.get(m[3]!)!]]]);
		const junked = await replica(w.contract, [[[m[3]!, '{"id":"x"}']], rest, [[m[3]!, env.get(m[3]!)!]]]);
		expect(junked).toBe(clean);
		const texts = (JSON.parse(clean) as { state: { messages: { text: string }[] } }).state.messages.map((x) => x.text);
		expect(texts.indexOf('reply')).toBeGreaterThan(texts.indexOf('c3'));
		expect(reply).toBeTruthy();
	});

	it('a forged signature under a head’s key, then the real event: applied, as on a replica that never saw the forgery', async () => {
		const w = await history(2);
		const head = await w.emit(FREELANCER, 'message.posted', { text: 'head' });
		const env = new Map(w.written);
		const rest = w.written.filter(([id]) => id !== head);
		const clean = await replica(w.contract, [rest, [[head, env.get(head)!]]]);
		const forged = await replica(w.contract, [rest, [[head, forgedSig(env.get(head)!)]], [[head, env.get(head)!]]]);
		const both = await replica(w.contract, [[...rest, [head, forgedSig(env.get(head)!)], [head, env.get(head)!]]]);
		const after = await replica(w.contract, [rest, [[head, env.get(head)!]], [[head, forgedSig(env.get(head)!)]]]);
		expect(forged).toBe(clean);
		expect(both).toBe(clean);
		expect(after).toBe(clean);
		expect(JSON.parse(clean).state.messages.at(-1).text).toBe('head');
	});

	it('many forged signatures for one event are settled in one round of checks, not one round each', async () => {
		const w = await history(2);
		const head = await w.emit(FREELANCER, 'message.posted', { text: 'head' });
		const real = new Map(w.written).get(head)!;
		const log = new ContractLog(w.contract);
		for (const [id, env] of w.written) if (id !== head) log.add(id, env);
		const e = JSON.parse(real) as { sig: string };
		for (let i = 0; i < 30; i++) log.add(head, JSON.stringify({ ...e, sig: signSync(STRANGER, utf8.encode(`forged ${i}`)) }));
		log.add(head, real);
		let rounds = 0;
		await authenticate(log, (items) => {
			rounds++;
			return verifyMany(items);
		});
		expect(rounds).toBeLessThanOrEqual(2);
		expect(log.derive().state.messages.at(-1)!.text).toBe('head');
		expect(log.envelope(head)).toBe(real);
	});

	it('an event that names a dep nobody can authenticate waits for it', async () => {
		const w = await history(0);
		const forged = await w.emit(CLIENT, 'message.posted', { text: 'forged' }, { signWith: FREELANCER });
		const after = await w.emit(FREELANCER, 'message.posted', { text: 'after' }, { deps: [forged] });
		const d = w.derived();
		expect(d.rejected.map((r) => r.id)).toEqual([forged]);
		expect(d.waiting).toEqual([after]);
	});
});
