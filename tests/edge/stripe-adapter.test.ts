import { escrowAdapterSuite } from '../unit/escrow/adapter-suite';
import { FREELANCER } from '../support/world';
import { stack } from './harness';

escrowAdapterSuite('stripe', async () => {
	const s = stack();
	await s.onboard(FREELANCER);
	const failNext = (code: 'declined' | 'unavailable' | 'timeout') => s.fake.failNext(code === 'declined' ? 'card_declined' : code === 'unavailable' ? '500' : 'timeout');
	return { adapter: s.adapter, advance: (ms) => void (s.clock.now += ms), failNext };
});
