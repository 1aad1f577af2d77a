import { describe, expect, it } from 'vitest';
import { ContractLog } from '../../../src/lib/contract/log';
import type { SignatureCheck } from '../../../src/lib/contract/log';
import { authenticate } from '../../../src/lib/identity/authenticate';
import { verifyMany } from '../../../src/lib/identity/ed25519';
import { CLIENT, FREELANCER, World, terms } from '../../support/world';

async function history(messages = 40): Promise<World> {
	const w = new World();
	await w.active();
	await w.fund('design', 100_000);
	await w.submit('design');
	for (let i = 0; i < messages; i++) await w.emit(i % 2 ? CLIENT : FREELANCER, 'message.posted', { text: `message ${i}` });
	await w.release('design', 100_000);
	return w;
}

describe('signature checks follow the per-author chains', () => {
	it('opening a log checks one signature per author head (the provider’s receipts are one chain too)', async () => {
		const w = await history();
		const fresh = new ContractLog(w.contract);
		for (const [id, env] of w.written) fresh.add(id, env);
		const checked: SignatureCheck[] = [];
		await authenticate(fresh, (items) => {
			checked.push(...items);
			return verifyMany(items);
		});
		expect(checked.length).toBe(3);
		expect(fresh.derive().state.applied.length).toBe(w.written.length);
		expect(fresh.derive().unverified).toBe(0);
	});

	it('a forged head is refused and the earlier events of that author still verify, one at a time back', async () => {
		const w = await history(4);
		const last = await w.emit(CLIENT, 'message.posted', { text: 'forged' }, { signWith: FREELANCER });
		expect(w.rejection(last)?.code).toBe('bad-signature');
		expect(w.state.messages.map((m) => m.text)).not.toContain('forged');
		expect(w.state.messages).toHaveLength(4);
	});

	it('events arriving before their signature is checked are not applied', () => {
		const w = new World();
		const log = new ContractLog(w.contract);
		const [id, env] = w.envelope(CLIENT, w.draft(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() }));
		log.add(id, env);
		expect(log.derive().state.status).toBe('empty');
	});
});

describe('fold order and incremental apply', () => {
	it('applying one new event on top does not refold the history', async () => {
		const w = await history(10);
		const before = w.log.refolds;
		await w.emit(CLIENT, 'message.posted', { text: 'on top' });
		expect(w.log.refolds).toBe(before);
		expect(w.state.messages.at(-1)!.text).toBe('on top');
	});

	it('any arrival order derives the same state as the author’s order; late events refold', async () => {
		const w = await history(10);
		const reversed = new ContractLog(w.contract);
		for (const [id, env] of [...w.written].reverse()) {
			reversed.add(id, env);
			await authenticate(reversed);
			reversed.derive();
		}
		const a = w.state;
		const b = reversed.derive().state;
		expect(b.applied.map((e) => e.id)).toEqual(a.applied.map((e) => e.id));
		expect([...b.ledger.balances]).toEqual([...a.ledger.balances]);

		// Concurrent events: two replicas each append one; exchanging them converges on one order.
		const x = new World();
		await x.active();
		const base = [...x.written];
		const y = new World(x.contract);
		for (const [id, env] of base) await y.put(id, env);
		const fromX = await x.emit(CLIENT, 'message.posted', { text: 'from client' });
		const fromY = await y.emit(FREELANCER, 'message.posted', { text: 'from freelancer' });
		await x.put(fromY, y.written.find(([k]) => k === fromY)![1]);
		await y.put(fromX, x.written.find(([k]) => k === fromX)![1]);
		expect(x.state.messages.map((m) => m.id)).toEqual(y.state.messages.map((m) => m.id));
		expect(x.log.refolds + y.log.refolds).toBeGreaterThanOrEqual(1);
	});
});
