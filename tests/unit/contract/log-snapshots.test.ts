/**
 * A late event (one that sorts before events already folded) refolds from the nearest snapshot of
 * the derived state before its position, not from the empty state, and the result is the state a
 * fold from scratch derives.
 */
import { describe, expect, it } from 'vitest';
import { encodeBody, encodeEnvelope, signingBytes, type Draft } from '../../../src/lib/contract/envelope';
import { cloneState } from '../../../src/lib/contract/clone';
import { Ledger } from '../../../src/lib/contract/ledger';
import { ContractLog, type DerivedContract } from '../../../src/lib/contract/log';
import { authenticate } from '../../../src/lib/identity/authenticate';
import { signSync, type DeviceKey } from '../../../src/lib/identity/ed25519';
import { minor } from '../../../src/lib/money/minor';
import { CLIENT, FREELANCER, World } from '../../support/world';

/** Everything derived, in one comparable string (Maps and Sets by their entries, in order). */
function canonical(d: DerivedContract): string {
	return JSON.stringify(d, (_k, v: unknown) => (v instanceof Map ? { map: [...v] } : v instanceof Set ? { set: [...v] } : v));
}

function signed(key: DeviceKey, draft: Pick<Draft, 'contract' | 'prev' | 'deps' | 'at'> & { text: string }): [string, string] {
	const { id, body } = encodeBody({ contract: draft.contract, author: key.publicKey, prev: draft.prev, deps: draft.deps, at: draft.at, type: 'message.posted', payload: { text: draft.text } });
	return [id, encodeEnvelope(id, body, signSync(key, signingBytes(id)))];
}

/** An active contract, then `count` messages of the client, each linked to the one before. */
async function chain(count: number) {
	const w = new World();
	await w.active();
	const contract = w.log.contract;
	const out: [string, string][] = [...w.written];
	let prev = w.log.lastOf(CLIENT.publicKey);
	let deps = w.log.heads();
	for (let i = 0; i < count; i++) {
		const e = signed(CLIENT, { contract, prev, deps, at: w.now + i, text: `m${i}` });
		out.push(e);
		prev = e[0];
		deps = [e[0]];
	}
	return { w, contract, entries: out, freelancerLast: w.log.lastOf(FREELANCER.publicKey)! };
}

/** Open as the document does: add, verify, fold, then (once idle) build the snapshot the open skipped. */
async function open(contract: string, entries: [string, string][], options?: { snapshotEvery?: number }): Promise<ContractLog> {
	const log = new ContractLog(contract, options);
	for (const [id, env] of entries) log.add(id, env);
	await authenticate(log);
	log.derive();
	log.prepareSnapshots();
	return log;
}

describe('late events refold from a snapshot', () => {
	it('a late event near the end re-applies only the events after the snapshot before it', async () => {
		const every = 32;
		const { contract, entries, freelancerLast } = await chain(400);
		const log = new ContractLog(contract, { snapshotEvery: every });
		// Arrive in a few batches, as from a peer, so the fold advances incrementally.
		for (let i = 0; i < entries.length; i += 50) {
			for (const [id, env] of entries.slice(i, i + 50)) log.add(id, env);
			await authenticate(log);
			log.derive();
		}
		expect(log.refolds).toBe(0);
		const folded = log.derive().state.applied.length;

		// The freelancer answers message 390 without having seen the ten after it: it sorts before them.
		const answered = entries[entries.length - 10]![0];
		const late = signed(FREELANCER, { contract, prev: freelancerLast, deps: [answered], at: 1, text: 'late' });
		const before = log.reapplied;
		log.add(...late);
		await authenticate(log);
		const d = log.derive();
		expect(log.refolds).toBe(1);
		const reapplied = log.reapplied - before;
		expect(reapplied).toBeGreaterThan(0);
		// From the snapshot before its position, never from the start.
		expect(reapplied).toBeLessThanOrEqual(2 * every + 10);
		expect(reapplied).toBeLessThan(folded / 4);

		const scratch = await open(contract, [...entries, late], { snapshotEvery: 0 });
		expect(canonical(d)).toBe(canonical(scratch.derive()));
		// It sorts right after the message it answers (ties at one level go by id).
		const texts = d.state.messages.map((m) => m.text);
		expect(texts.indexOf('late')).toBeGreaterThan(texts.indexOf('m390'));
		expect(texts.indexOf('late')).toBeLessThan(texts.indexOf('m392'));
	});

	it('late events anywhere, one after another, always equal a fold from scratch', async () => {
		const { contract, entries } = await chain(300);
		const log = await open(contract, entries, { snapshotEvery: 16 });
		const all = [...entries];
		// Positions from the very start to the very end, out of order. Each is a new root of the
		// freelancer (prev null), as a hostile party may write, so nothing keeps it from sorting early.
		for (const [n, at] of [
			[299, 1],
			[5, 2],
			[150, 3],
			[298, 4],
			[0, 5]
		] as const) {
			const dep = entries[entries.length - 300 + n]![0];
			const late = signed(FREELANCER, { contract, prev: null, deps: [dep], at, text: `late ${n}` });
			all.push(late);
			log.add(...late);
			await authenticate(log);
			const d = log.derive();
			const scratch = await open(contract, all, { snapshotEvery: 0 });
			expect(canonical(d)).toBe(canonical(scratch.derive()));
		}
		expect(log.refolds).toBeGreaterThanOrEqual(1);
	});

	it('keeps a bounded number of snapshots however long the log grows', async () => {
		const { contract, entries } = await chain(500);
		const log = new ContractLog(contract, { snapshotEvery: 8 });
		for (let i = 0; i < entries.length; i += 7) {
			for (const [id, env] of entries.slice(i, i + 7)) log.add(id, env);
			await authenticate(log);
			log.derive();
			expect(log.snapshots.length).toBeLessThanOrEqual(2);
		}
		const n = log.derive().state.applied.length;
		expect(log.snapshots.every((at) => at % 8 === 0 && at <= n && at > n - 3 * 8)).toBe(true);
	});

	it('a snapshot is not changed by the fold that goes on past it: two late events restore the same one', async () => {
		const every = 16;
		const { contract, entries } = await chain(100);
		const log = await open(contract, entries, { snapshotEvery: every });
		const n = log.derive().state.applied.length;
		const at = Math.max(...log.snapshots.filter((p) => p <= n - 3));
		const all = [...entries];
		// Both sort right after the event at fold position `at + 1`, so both refold from the snapshot at `at`.
		for (const text of ['late 1', 'late 2']) {
			const late = signed(FREELANCER, { contract, prev: null, deps: [entries[at + 1]![0]], at: 1, text });
			all.push(late);
			const before = log.reapplied;
			const folded = log.derive().state.applied.length;
			log.add(...late);
			await authenticate(log);
			const d = log.derive();
			expect(log.reapplied - before).toBe(folded - at);
			expect(canonical(d)).toBe(canonical((await open(contract, all, { snapshotEvery: 0 })).derive()));
		}
		expect(log.refolds).toBe(2);
	});
});

describe('opening takes no snapshot copy; idle time replays one', () => {
	it('a fold from the empty state copies nothing, and prepareSnapshots builds the snapshot it skipped', async () => {
		const every = 16;
		const { contract, entries } = await chain(100);
		const log = new ContractLog(contract, { snapshotEvery: every });
		for (const [id, env] of entries) log.add(id, env);
		await authenticate(log);
		const n = log.derive().state.applied.length;
		expect(log.snapshots).toEqual([]);
		expect(log.prepareSnapshots()).toBe(true);
		const at = log.snapshots[0]!;
		expect(log.snapshots).toEqual([(Math.floor(n / every) - 1) * every]);
		// Nothing more to build; the live state was not touched.
		expect(log.prepareSnapshots()).toBe(false);
		expect(log.derive().state.applied.length).toBe(n);

		// A late event right after position `at + 1` refolds from the replayed snapshot, twice (the first
		// restore learns whether the replayed state aliases anything), and equals a fold from scratch.
		const all = [...entries];
		for (const text of ['late 1', 'late 2']) {
			const late = signed(FREELANCER, { contract, prev: null, deps: [entries[at + 1]![0]], at: 1, text });
			all.push(late);
			const before = log.reapplied;
			const folded = log.derive().state.applied.length;
			log.add(...late);
			await authenticate(log);
			const d = log.derive();
			expect(log.reapplied - before).toBe(folded - at);
			const scratch = new ContractLog(contract, { snapshotEvery: 0 });
			for (const [id, env] of all) scratch.add(id, env);
			await authenticate(scratch);
			expect(canonical(d)).toBe(canonical(scratch.derive()));
		}
	});

	it('a fold that goes on from where it was takes its snapshot on the way; a batch that outweighs it (a catch-up) leaves it to idle time', async () => {
		const every = 16;
		const { contract, entries } = await chain(100);
		const foldInTwo = async (first: number) => {
			const log = new ContractLog(contract, { snapshotEvery: every });
			for (const [id, env] of entries.slice(0, first)) log.add(id, env);
			await authenticate(log);
			log.derive();
			for (const [id, env] of entries.slice(first)) log.add(id, env);
			await authenticate(log);
			return { log, n: log.derive().state.applied.length };
		};
		const going = await foldInTwo(60);
		expect(going.log.snapshots).toEqual([(Math.floor(going.n / every) - 1) * every]);
		const caughtUp = await foldInTwo(10);
		expect(caughtUp.log.snapshots).toEqual([]);
		expect(caughtUp.log.prepareSnapshots()).toBe(true);
		expect(caughtUp.log.snapshots).toEqual([(Math.floor(caughtUp.n / every) - 1) * every]);
	});
});

describe('cloneState: the copy a snapshot holds', () => {
	it('copies every container and class instance, keeps aliasing, shares what it is told to', () => {
		const shared = { id: 'event', payload: { text: 'hi' } };
		const lot = { amount: 5, matured: false };
		const ledger = new Ledger();
		ledger.post([{ receipt: 'r', kind: 'fund', from: 'client:source', to: 'escrow:m', amount: minor(5), at: 1 }]);
		const state = {
			lots: [lot],
			byId: new Map([['lot', lot]]),
			tags: new Set(['a']),
			ledger,
			applied: [shared],
			// A field nobody told the cloner about.
			added: { nested: { deep: [1, 2, { x: 1 }] }, when: new Date(5) }
		};
		const { copy, aliased, kept } = cloneState(state, { keep: (o) => o === shared });
		expect(copy).toEqual(state);
		expect(aliased).toBe(true);
		expect(kept).toEqual([shared]);
		expect(copy.lots[0]).not.toBe(lot);
		expect(copy.byId.get('lot')).toBe(copy.lots[0]);
		expect(copy.ledger).toBeInstanceOf(Ledger);
		expect(copy.ledger.balances).not.toBe(ledger.balances);
		expect(copy.applied[0]).toBe(shared);
		expect(copy.added.nested.deep[2]).not.toBe(state.added.nested.deep[2]);
		// Folding on changes the original only.
		lot.matured = true;
		ledger.post([{ receipt: 's', kind: 'release', from: 'escrow:m', to: 'freelancer:pending', amount: minor(5), at: 2 }]);
		state.tags.add('b');
		expect(copy.lots[0]!.matured).toBe(false);
		expect(copy.ledger.balance('escrow:m')).toBe(5);
		expect(copy.ledger.transfers).toHaveLength(1);
		expect([...copy.tags]).toEqual(['a']);
		// Without aliasing, it says so: the log then restores that snapshot without an identity table.
		const plain = { a: [{ x: 1 }], m: new Map([['k', { y: 2 }]]) };
		const c = cloneState(plain);
		expect(c.aliased).toBe(false);
		const again = cloneState(c.copy, { aliasing: false }).copy;
		expect(again).toEqual(plain);
		expect(again.a[0]).not.toBe(c.copy.a[0]);
	});
});
