/**
 * A real contract for the evidence tests, made the way the app makes one: two parties on the mock
 * provider, funding, messages, a submission, a change request, a second submission and a release.
 */
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { activePair } from '../../support/parties';
import { T0, terms } from '../../support/world';

export const HOSTILE = 'Look: </script><script>alert("owned")</script><img src=x onerror=alert(2)> & "quotes"';

export async function evidenceContract() {
	let now = T0;
	const provider = new MockEscrowProvider({ now: () => now });
	const info = await provider.info();
	const pair = await activePair({ escrow: provider, terms: terms({ provider: { id: 'mock', publicKey: info.publicKey, testMode: true } }), clock: () => (now += 60_000) });
	const { client, freelancer } = pair;
	await client.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
	await client.act('message.posted', { text: 'Hello Grace, the brief is attached.' });
	await freelancer.receive(client.log.envelopes());
	await freelancer.act('message.posted', { text: HOSTILE });
	await freelancer.act('milestone.submitted', { milestone: 'design', message: 'First draft', links: ['https://example.com/draft'] });
	await client.receive(freelancer.log.envelopes());
	await client.act('milestone.changesRequested', { milestone: 'design', reason: 'The logo is too small' });
	await client.act('message.posted', { text: 'One more thing: the colours.' });
	await freelancer.receive(client.log.envelopes());
	await freelancer.act('milestone.submitted', { milestone: 'design', message: 'Second draft', links: [] });
	await client.receive(freelancer.log.envelopes());
	await client.settle('milestone.release', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
	await freelancer.receive(client.log.envelopes());
	return { ...pair, provider, providerKey: info.publicKey };
}
