import { describe, expect, it } from 'vitest';
import { noticesFor } from '../../../src/lib/contract/notices';
import { CLIENT, FREELANCER, World } from '../../support/world';

describe('notices', () => {
	it('tells each party what the other did, never what they did themselves', async () => {
		const w = new World();
		await w.active();
		const from = w.state.applied.length;
		await w.fund('design', 100_000);
		await w.submit('design');
		await w.emit(CLIENT, 'message.posted', { text: 'Looks good' });
		expect(noticesFor(w.state, CLIENT.publicKey, from).map((n) => n.text)).toEqual(['Design is funded', 'Grace requested payment for Design']);
		expect(noticesFor(w.state, FREELANCER.publicKey, from).map((n) => n.text)).toEqual(['Design is funded', 'New message from Ada: Looks good']);
	});
});
