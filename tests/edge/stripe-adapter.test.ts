import { DAY_MS } from '../../src/lib/contract/state';
import { StripeEscrowAdapter } from '../../src/lib/escrow/stripe';
import { escrowAdapterSuite } from '../unit/escrow/adapter-suite';
import { FREELANCER } from '../support/world';
import { BASE, stack } from './harness';

/** The funding method of the intent a fund request carries: bank debits pay with a bank account. */
function methodOf(req: { log: string[]; event: string }): string | undefined {
	const env = req.log.find((e) => e.startsWith(`{"id":${JSON.stringify(req.event)}`));
	return env ? (JSON.parse(JSON.parse(env).body) as { payload: { method?: string } }).payload.method : undefined;
}

escrowAdapterSuite('stripe', async () => {
	// A short Stripe timeout: an injected timeout is seen quickly.
	const s = stack({ timeoutMs: 500 });
	await s.onboard(FREELANCER);
	// Bank debits clear by themselves when the quoted processing time has passed on the shared clock.
	s.fake.bankDebitsClearAfterMs = 4 * DAY_MS;
	let loseNext = false;
	const adapter = new StripeEscrowAdapter({
		url: BASE,
		fetch: async (input, init) => {
			const res = await s.handler(new Request(input, init));
			// The function executed the call; the answer never reaches the device.
			if (loseNext && /\/(fund|release|refund|withdraw)$/.test(String(input))) {
				loseNext = false;
				throw new TypeError('network connection lost');
			}
			return res;
		},
		paymentMethod: async (req) => (methodOf(req) === 'bank_transfer' ? 'pm_usBankAccount' : 'pm_card_visa')
	});
	const failNext = (code: 'declined' | 'unavailable' | 'timeout') => s.fake.failNext(code === 'declined' ? 'card_declined' : code === 'unavailable' ? '500' : 'timeout');
	return {
		adapter,
		advance: (ms) => void (s.clock.now += ms),
		failNext,
		loseNextAnswer: () => void (loseNext = true),
		bankDebitsProcess: true
	};
});
