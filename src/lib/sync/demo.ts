/**
 * A scripted contract between two devices in one page, through the mock provider on a simulated
 * clock: proposal, acceptance, funding, Request Payment, Release Payment, a change request, an
 * auto-release after the review window, a withdrawal, messages — and two bad events (a release
 * signed by the freelancer, and a tampered envelope) that the log keeps and refuses with reasons.
 * It stands in for the real pages until they exist, and doubles as an end-to-end fixture.
 */
import { encodeBody, encodeEnvelope, signingBytes } from '../contract/envelope';
import type { DerivedContract } from '../contract/log';
import { DAY_MS } from '../contract/state';
import { DEFAULT_CLOCKS } from '../contract/schema';
import { MockEscrowProvider } from '../escrow/mock';
import { generateKey, signSync, type DeviceKey } from '../identity/ed25519';
import { link, MemoryContract } from './memory-contract';
import { Party } from './party';

export interface Demo {
	derived: DerivedContract;
	client: DeviceKey;
	freelancer: DeviceKey;
	providerKey: string;
	now: number;
}

export async function runDemo(start = Date.UTC(2026, 10, 2, 9, 0)): Promise<Demo> {
	let now = start;
	const clock = () => now;
	const tick = (ms = 60_000) => (now += ms);
	const provider = new MockEscrowProvider({ now: clock });
	const info = await provider.info();
	const [client, freelancer] = await Promise.all([generateKey(), generateKey()]);
	// Two devices, each with its own store; writes are delivered to the other at once.
	let clientStore!: MemoryContract;
	const { party: c, proposal } = await Party.propose(client, provider, {
		role: 'client',
		name: 'Ada (client)',
		terms: {
			title: 'Marketing site redesign',
			scope: 'Design, build and test a five-page marketing site.',
			currency: 'USD',
			milestones: [
				{ id: 'design', title: 'Design', amount: 120_000, due: '2026-11-20' },
				{ id: 'build', title: 'Build', amount: 250_000, due: '2026-12-10', revisionCap: 2 },
				{ id: 'test', title: 'Testing and launch', amount: 80_000, due: '2026-12-20' }
			],
			provider: { id: info.id, publicKey: info.publicKey, testMode: info.testMode },
			...DEFAULT_CLOCKS
		}
	}, { clock, store: (id) => (clientStore = new MemoryContract(id)) });
	const contract = c.log.contract;
	const freelancerStore = new MemoryContract(contract);
	const f = new Party(freelancer, freelancerStore, provider, clock);
	link(clientStore, freelancerStore);
	const logs = { c: c.log, f: f.log };
	const sync = async () => {
		await c.receive(logs.f.envelopes());
		await f.receive(logs.c.envelopes());
	};
	await sync();
	tick();
	const acceptance = await f.act('contract.accepted', { proposal: proposal.id, name: 'Grace (freelancer)' });
	await sync();
	tick();
	await c.countersign(acceptance.id);
	await sync();
	tick();
	await c.settle('milestone.fund', { milestone: 'design', amount: 120_000, currency: 'USD', method: 'card' });
	await sync();
	tick(3 * DAY_MS);
	const design = await f.act('milestone.submitted', {
		milestone: 'design',
		message: 'Designs for all five pages are ready for review.',
		links: ['https://example.com/designs']
	});
	await f.attest(design.id);
	await sync();
	tick(DAY_MS);
	await c.act('message.posted', { text: 'Looks great — releasing the design milestone now.' });
	await c.settle('milestone.release', { milestone: 'design', amount: 120_000, currency: 'USD', method: 'card' });
	await sync();
	tick();
	await c.settle('milestone.fund', { milestone: 'build', amount: 250_000, currency: 'USD', method: 'paypal' });
	await sync();
	tick(10 * DAY_MS);
	const build1 = await f.act('milestone.submitted', { milestone: 'build', message: 'The site is built.', links: [] });
	await f.attest(build1.id);
	await sync();
	tick(DAY_MS);
	await c.act('milestone.changesRequested', { milestone: 'build', reason: 'The contact form does not send.' });
	await sync();
	tick(2 * DAY_MS);
	const build2 = await f.act('milestone.submitted', { milestone: 'build', message: 'Contact form fixed.', links: [] });
	await f.attest(build2.id);
	await sync();
	// The client does not answer within the review window: the freelancer claims auto-release.
	tick(15 * DAY_MS);
	await f.settle('milestone.autoRelease', { milestone: 'build', submission: build2.id });
	await sync();
	tick(6 * DAY_MS);
	await f.settle('withdrawal.requested', { amount: 100_000, currency: 'USD', method: 'bank' });
	await sync();

	// Two bad events, as a hostile or broken peer might write them: both are kept and refused.
	const forged = encodeBody({
		contract,
		author: freelancer.publicKey,
		prev: logs.f.lastOf(freelancer.publicKey),
		deps: logs.f.heads(),
		at: now,
		type: 'milestone.release',
		payload: { milestone: 'test', amount: 80_000, currency: 'USD', method: 'card' }
	});
	const forgedEnvelope = encodeEnvelope(forged.id, forged.body, signSync(freelancer, signingBytes(forged.id)));
	const tampered = JSON.parse(logs.c.envelopes()[0]![1]) as { id: string; body: string; sig: string };
	const tamperedEnvelope = JSON.stringify({ ...tampered, body: tampered.body.replace('Marketing', 'Murketing') });
	const derived = await c.receive([
		[forged.id, forgedEnvelope],
		['tampered-' + tampered.id.slice(0, 8), tamperedEnvelope]
	]);
	return { derived, client, freelancer, providerKey: info.publicKey, now };
}
