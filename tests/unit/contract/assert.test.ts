/**
 * The fold owns its invariants: they are checked after every provider event, applied or refused
 * (a refused receipt still moves provider time, which matures releases), and a broken one stops the
 * fold loudly instead of showing a wrong balance.
 */
import { describe, expect, it } from 'vitest';
import { assert, InvariantError, present } from '../../../src/lib/contract/assert';
import { applyEvent } from '../../../src/lib/contract/fold';
import type { Ev } from '../../../src/lib/contract/state';
import { eventId } from '../../../src/lib/contract/ids';
import { minor } from '../../../src/lib/money/minor';
import { World } from '../../support/world';

describe('invariants', () => {
	it('assert and present throw an InvariantError naming what broke', () => {
		expect(() => assert(false, 'two plus two')).toThrow(new InvariantError('two plus two'));
		expect(() => present(undefined, 'the submission')).toThrow(/the submission is missing/);
		expect(present(0, 'zero')).toBe(0);
	});

	it('are checked after a provider event the rules refuse, too', async () => {
		const w = new World();
		await w.active();
		const { receipt } = await w.fund('design', 100_000);
		const s = w.state;
		const funded = s.applied.find((e) => e.id === receipt)!;
		// A state whose books disagree (as only a bug could make them), then a receipt that is refused
		// (it settles the same intent twice): the fold notices on the refused receipt.
		s.ledger.balances.set('freelancer:pending', minor(1));
		const again: Ev = { ...funded, id: eventId('X'.repeat(43)), at: funded.at + 1 };
		expect(() => applyEvent(s, again)).toThrow(InvariantError);
	});
});
