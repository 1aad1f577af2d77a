import { describe, expect, it } from 'vitest';
import { snapshot } from '../../../src/lib/contract/snapshot';
import { CLIENT, World } from '../../support/world';

describe('snapshot of the derived state', () => {
	it('is equal in content, new at every container, and does not change when the fold goes on', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		const before = snapshot(w.derived());
		expect(before.state).not.toBe(w.state);
		expect(before.state.milestones).toEqual(w.state.milestones);
		expect(before.state.milestones[0]).not.toBe(w.state.milestones[0]);
		await w.emit(CLIENT, 'message.posted', { text: 'later' });
		await w.release('design', 100_000);
		expect(before.state.messages).toHaveLength(0);
		expect(before.state.milestones[0]!.released).toBe(0);
		expect(before.state.ledger.balance('freelancer:pending')).toBe(0);
		expect(w.state.ledger.balance('freelancer:pending')).toBe(100_000);
	});
});
