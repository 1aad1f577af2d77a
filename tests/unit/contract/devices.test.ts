/**
 * One person, several devices (contract/devices.ts): an event counts as its identity's through the
 * certificate it names; the contract pins identity keys; expiry and a recorded revocation are judged
 * on the provider's clock and record; two devices of one identity equivocate as that identity; and
 * replicas holding the same events derive the same state whatever the order they arrived in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContractLog, type DerivedContract } from '../../../src/lib/contract/log';
import { equivocations } from '../../../src/lib/contract/equivocation';
import { milestone, roleOf, DAY_MS } from '../../../src/lib/contract/state';
import { bindingOf } from '../../../src/lib/escrow/record';
import { authenticate } from '../../../src/lib/identity/authenticate';
import type { DeviceKey } from '../../../src/lib/identity/ed25519';
import { CLIENT, CLIENT_LAPTOP, CLIENT_PHONE, FREELANCER, FREELANCER_PHONE, PROVIDER, STRANGER, T0, World, terms } from '../../support/world';

const USD = { currency: 'USD' as const, method: 'card' as const };

/** A contract the client proposed and bound from its laptop, a device certified by the CLIENT identity key. */
async function fromLaptop(o: { expires?: number; device?: DeviceKey } = {}) {
	const w = new World();
	const laptop = o.device ?? CLIENT_LAPTOP;
	const payload = { device: laptop.publicKey, name: 'Laptop', created: T0, ...(o.expires !== undefined ? { expires: o.expires } : {}) };
	const [cert, certEnvelope] = w.envelope(CLIENT, w.draft(CLIENT, 'device.certified', payload));
	// The proposal names the certificate (its one dep), which then arrives.
	const proposal = await w.emit(laptop, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() }, { certificate: cert });
	await w.put(cert, certEnvelope);
	const accept = await w.emit(FREELANCER, 'contract.accepted', { proposal, name: 'Grace' });
	const countersign = await w.emit(laptop, 'contract.countersigned', { acceptance: accept }, { certificate: cert });
	await w.record(countersign, 'countersign');
	const as = { certificate: cert };
	const fund = async (amount = 100_000) => {
		const intent = await w.emit(laptop, 'milestone.fund', { milestone: 'design', amount, ...USD }, as);
		const receipt = await w.emit(PROVIDER, 'receipt.funded', { intent, milestone: 'design', amount, fee: 0, ...USD, clearsAt: w.now });
		return { intent, receipt };
	};
	return { w, laptop, cert, proposal, accept, countersign, as, fund };
}

const released = (w: World) => milestone(w.state, 'design')!.released;

describe('a certified device acts for its identity', () => {
	it('the contract, the countersign and the provider’s binding pin the identity key, not the device key', async () => {
		const { w, laptop, cert, fund } = await fromLaptop();
		const s = w.state;
		expect(s.status).toBe('active');
		expect(s.parties).toEqual({ client: CLIENT.publicKey, freelancer: FREELANCER.publicKey });
		expect(s.proposal!.author).toBe(CLIENT.publicKey);
		expect(bindingOf(s)).toMatchObject({ client: CLIENT.publicKey, freelancer: FREELANCER.publicKey });
		expect(roleOf(s, laptop.publicKey)).toBe('client');
		const { intent, receipt } = await fund();
		expect(w.rejection(receipt)).toBeUndefined();
		expect(w.state.intents.get(intent)).toMatchObject({ author: CLIENT.publicKey, device: laptop.publicKey, settledBy: receipt });
		expect(w.state.devices.signedBy.get(intent)).toBe(cert);
		// The laptop's own chain: its events link to each other, not to the identity's.
		expect(w.log.lastOf(laptop.publicKey)).toBe(intent);
	});

	it('an event of a certified key that does not name its certificate is its own key’s, and that key is no party', async () => {
		const { w, laptop } = await fromLaptop();
		const message = await w.emit(laptop, 'message.posted', { text: 'Hello' });
		expect(w.rejection(message)?.code).toBe('not-party');
	});

	it('a forged certificate (signed by another key) makes nothing count: the event naming it waits for an authentic one', async () => {
		const { w } = await fromLaptop();
		const forged = await w.certify(CLIENT, CLIENT_PHONE, { name: 'Phone', signWith: STRANGER });
		const message = await w.emit(CLIENT_PHONE, 'message.posted', { text: 'It is me, Ada' }, { certificate: forged });
		const d = w.derived();
		expect(d.rejected.find((r) => r.id === forged)?.code).toBe('bad-signature');
		expect(d.waiting).toContain(message);
		expect(w.state.messages).toEqual([]);
		expect(roleOf(w.state, CLIENT_PHONE.publicKey)).toBe('none');
	});

	it('a certificate for someone else’s device changes nothing about whose its events are', async () => {
		const { w, laptop, cert, as } = await fromLaptop();
		// A stranger certifies the client's laptop key as its own device (the public key is public)…
		const foreign = await w.certify(STRANGER, laptop, { name: 'Not yours' });
		// …the laptop's events still name the client's certificate (an honest device leaves certificates
		// of its key by others out of its deps, as Party does) and stay the client's.
		const heads = () => w.log.heads().filter((h) => h !== foreign);
		const ok = await w.emit(laptop, 'message.posted', { text: 'Still Ada' }, { deps: heads(), ...as });
		expect(w.state.messages.at(-1)).toMatchObject({ id: ok, author: CLIENT.publicKey, role: 'client' });
		// An event naming certificates of two identities for its key is refused…
		const both = await w.emit(laptop, 'message.posted', { text: 'Who am I?' }, { deps: [...w.log.heads(), cert, foreign] });
		expect(w.rejection(both)?.code).toBe('not-party');
		// …and so is one naming a certificate of another device key, or only the stranger's.
		const otherKey = await w.emit(CLIENT_PHONE, 'message.posted', { text: 'Phone' }, { deps: heads(), ...as });
		expect(w.rejection(otherKey)?.code).toBe('not-party');
		const strangers = await w.emit(laptop, 'milestone.fund', { milestone: 'design', amount: 100_000, ...USD }, { certificate: foreign });
		expect(w.rejection(strangers)?.code).toBe('not-party');
		// A party certifying the other party's device key makes the key ambiguous to pages, never to the fold.
		const claimed = await w.certify(FREELANCER, laptop, { name: 'Mine now' });
		expect(roleOf(w.state, laptop.publicKey)).toBe('none');
		const again = await w.emit(laptop, 'message.posted', { text: 'Ada again' }, { deps: heads().filter((h) => h !== claimed), ...as });
		expect(w.state.messages.at(-1)).toMatchObject({ id: again, role: 'client' });
	});

	it('a second device of the same identity is the same party: it cannot accept its own proposal, and may act as the client', async () => {
		const w = new World();
		const [lap, lapEnv] = w.envelope(CLIENT, w.draft(CLIENT, 'device.certified', { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0 }));
		const proposal = await w.emit(CLIENT_LAPTOP, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() }, { certificate: lap });
		await w.put(lap, lapEnv);
		const phone = await w.certify(CLIENT, CLIENT_PHONE, { name: 'Phone' });
		const selfAccept = await w.emit(CLIENT_PHONE, 'contract.accepted', { proposal, name: 'Ada again' }, { certificate: phone });
		expect(w.rejection(selfAccept)?.code).toBe('wrong-role');
		const accept = await w.emit(FREELANCER, 'contract.accepted', { proposal, name: 'Grace' });
		// The phone countersigns what the laptop proposed: the proposer is the identity.
		const countersign = await w.emit(CLIENT_PHONE, 'contract.countersigned', { acceptance: accept }, { certificate: phone });
		await w.record(countersign, 'countersign');
		expect(w.state.status).toBe('active');
	});

	it('a proposal may name its author’s certificate and nothing else', async () => {
		const w = new World();
		const [cert, env] = w.envelope(CLIENT, w.draft(CLIENT, 'device.certified', { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0 }));
		await w.put(cert, env);
		// A proposal by the identity key naming its device's certificate: not its own certificate.
		const [id, envelope] = w.envelope(CLIENT, w.draft(CLIENT, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() }, { deps: [cert] }));
		const other = new ContractLog(JSON.parse(JSON.parse(envelope).body).contract);
		other.add(cert, env);
		other.add(id, envelope);
		await authenticate(other);
		const d = other.derive();
		expect(d.rejected.find((r) => r.id === id)?.code).toBe('invalid-state');
		expect(d.state.status).toBe('empty');
	});
});

describe('expiry, on the provider’s clock', () => {
	it('a receipt whose provider time is after the certificate’s expiry is refused; events no provider acts on still count', async () => {
		const { w, laptop, as, fund } = await fromLaptop({ expires: T0 + DAY_MS });
		const { receipt } = await fund();
		expect(w.rejection(receipt)).toBeUndefined();
		w.advance(2);
		const release = await w.emit(laptop, 'milestone.release', { milestone: 'design', amount: 100_000, ...USD }, as);
		expect(w.rejection(release)).toBeUndefined();
		const paid = await w.emit(PROVIDER, 'receipt.released', { intent: release, milestone: 'design', amount: 100_000, currency: 'USD', auto: false });
		expect(w.rejection(paid)?.code).toBe('not-party');
		expect(w.rejection(paid)?.message).toMatch(/Laptop.*expired/);
		expect(released(w)).toBe(0);
		const message = await w.emit(laptop, 'message.posted', { text: 'Still here' }, as);
		expect(w.rejection(message)).toBeUndefined();
	});

	it('the same receipt inside the validity counts', async () => {
		const { w, laptop, as, fund } = await fromLaptop({ expires: T0 + DAY_MS });
		await fund();
		const release = await w.emit(laptop, 'milestone.release', { milestone: 'design', amount: 100_000, ...USD }, as);
		w.advance(0.5);
		const paid = await w.emit(PROVIDER, 'receipt.released', { intent: release, milestone: 'design', amount: 100_000, currency: 'USD', auto: false });
		expect(w.rejection(paid)).toBeUndefined();
		expect(released(w)).toBe(100_000);
	});
});

/** A contract funded from the laptop, then the laptop is stolen; `heads` is what the client's revocation will see. */
async function stolenLaptop() {
	const base = await fromLaptop();
	const { w, cert } = base;
	await base.fund();
	const seen = w.log.heads();
	const revoke = (deps = seen) => w.emit(CLIENT, 'device.revoked', { device: CLIENT_LAPTOP.publicKey, certificate: cert }, { deps: [...deps, cert] });
	return { ...base, seen, revoke };
}

describe('revocation, once the provider recorded it', () => {
	it('only the device’s events in the recorded revocation’s past count: a stolen device cannot stay concurrent by choosing old deps', async () => {
		const { w, laptop, cert, seen, revoke } = await stolenLaptop();
		// The thief writes on old heads, concurrent with the revocation.
		const stolen = await w.emit(laptop, 'milestone.release', { milestone: 'design', amount: 100_000, ...USD }, { deps: [...seen, cert] });
		const chat = await w.emit(laptop, 'message.posted', { text: 'Pay me' }, { deps: [...seen, cert] });
		expect(w.rejection(stolen)).toBeUndefined();
		const revocation = await revoke();
		// Written, not recorded yet: it says nothing yet.
		expect(w.rejection(chat)).toBeUndefined();
		await w.record(revocation, 'revocation');
		expect(w.rejection(stolen)?.code).toBe('not-party');
		expect(w.rejection(chat)?.message).toMatch(/revoked/);
		expect(w.state.messages.map((m) => m.id)).not.toContain(chat);
		// What the laptop did before (the countersign, the funding) still counts.
		expect(w.state.status).toBe('active');
		expect(milestone(w.state, 'design')!.funded).toBe(100_000);
		// Later events of the laptop, whatever they name, and a receipt for the stolen intent are refused.
		const later = await w.emit(laptop, 'message.posted', { text: 'Again' }, { certificate: cert });
		expect(w.rejection(later)?.code).toBe('not-party');
		const paid = await w.emit(PROVIDER, 'receipt.released', { intent: stolen, milestone: 'design', amount: 100_000, currency: 'USD', auto: false });
		expect(w.rejection(paid)).toBeDefined();
		expect(released(w)).toBe(0);
		expect(roleOf(w.state, laptop.publicKey)).toBe('none');
	});

	it('revoked concurrently with a money intent: executed before the provider recorded the revocation, it stands', async () => {
		const { w, laptop, cert, seen, revoke } = await stolenLaptop();
		const intent = await w.emit(laptop, 'milestone.release', { milestone: 'design', amount: 100_000, ...USD }, { deps: [...seen, cert] });
		const revocation = await revoke();
		// The provider executed the intent first: its record of the revocation chains after that receipt.
		const paid = await w.emit(PROVIDER, 'receipt.released', { intent, milestone: 'design', amount: 100_000, currency: 'USD', auto: false });
		await w.record(revocation, 'revocation');
		expect(w.rejection(intent)).toBeUndefined();
		expect(w.rejection(paid)).toBeUndefined();
		expect(released(w)).toBe(100_000);
	});

	it('revoked concurrently with a money intent: recorded first, the intent is refused and so is any receipt for it', async () => {
		const { w, laptop, cert, seen, revoke } = await stolenLaptop();
		const intent = await w.emit(laptop, 'milestone.release', { milestone: 'design', amount: 100_000, ...USD }, { deps: [...seen, cert] });
		const revocation = await revoke();
		await w.record(revocation, 'revocation');
		const paid = await w.emit(PROVIDER, 'receipt.released', { intent, milestone: 'design', amount: 100_000, currency: 'USD', auto: false });
		expect(w.state.intents.get(intent)?.rejection?.code).toBe('not-party');
		expect(w.rejection(paid)).toBeDefined();
		expect(released(w)).toBe(0);
	});

	it('an intent the revocation saw but the provider never executed is not executed after it', async () => {
		const { w, laptop, as, revoke } = await stolenLaptop();
		const intent = await w.emit(laptop, 'milestone.release', { milestone: 'design', amount: 40_000, ...USD }, as);
		const revocation = await revoke(w.log.heads());
		await w.record(revocation, 'revocation');
		expect(w.rejection(intent)).toBeUndefined();
		const paid = await w.emit(PROVIDER, 'receipt.released', { intent, milestone: 'design', amount: 40_000, currency: 'USD', auto: false });
		expect(w.rejection(paid)?.message).toMatch(/revoked/);
	});

	it('only the identity key revokes, only a device it certified, and only a recorded revocation counts', async () => {
		const { w, laptop, cert, seen } = await stolenLaptop();
		const phone = await w.certify(CLIENT, CLIENT_PHONE, { name: 'Phone' });
		const byPhone = await w.emit(CLIENT_PHONE, 'device.revoked', { device: laptop.publicKey, certificate: cert }, { deps: [...w.log.heads(), cert, phone] });
		expect(w.rejection(byPhone)?.code).toBe('wrong-role');
		const byFreelancer = await w.emit(FREELANCER, 'device.revoked', { device: laptop.publicKey, certificate: cert }, { deps: [...w.log.heads(), cert] });
		expect(w.rejection(byFreelancer)?.code).toBe('invalid-state');
		// A provider-looking record signed by someone else is no record.
		const stolen = await w.emit(laptop, 'message.posted', { text: 'Still me' }, { deps: [...seen, cert] });
		const revocation = await w.emit(CLIENT, 'device.revoked', { device: laptop.publicKey, certificate: cert }, { deps: [...seen, cert] });
		await w.emit(STRANGER, 'receipt.attested', { event: revocation, kind: 'revocation' });
		expect(w.rejection(stolen)).toBeUndefined();
	});
});

describe('equivocation is judged per identity', () => {
	it('two devices of one person countersigning different acceptances: shown, and the provider’s record decides', async () => {
		const w = new World();
		const [lap, lapEnv] = w.envelope(CLIENT, w.draft(CLIENT, 'device.certified', { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0 }));
		const proposal = await w.emit(CLIENT_LAPTOP, 'contract.proposed', { role: 'client', name: 'Ada', terms: terms() }, { certificate: lap });
		await w.put(lap, lapEnv);
		const phone = await w.certify(CLIENT, CLIENT_PHONE, { name: 'Phone' });
		const grace = await w.emit(FREELANCER, 'contract.accepted', { proposal, name: 'Grace' });
		const mallory = await w.emit(STRANGER, 'contract.accepted', { proposal, name: 'Mallory' });
		const heads = w.log.heads();
		const one = await w.emit(CLIENT_LAPTOP, 'contract.countersigned', { acceptance: grace }, { deps: [...heads, lap] });
		const two = await w.emit(CLIENT_PHONE, 'contract.countersigned', { acceptance: mallory }, { deps: [...heads, phone] });
		expect(equivocations(w.state)).toEqual([{ author: CLIENT.publicKey, kind: 'countersign', events: [one, two].sort() }]);
		await w.record(two, 'countersign');
		expect(w.state.parties.freelancer).toBe(STRANGER.publicKey);
		const late = await w.record(one, 'countersign');
		expect(w.rejection(late)?.code).toBe('invalid-state');
	});

	it('two devices releasing the same escrow without seeing each other: shown, and only one release is paid', async () => {
		const { w, laptop, as, fund } = await fromLaptop();
		await fund();
		const phone = await w.certify(CLIENT, CLIENT_PHONE, { name: 'Phone' });
		const heads = w.log.heads();
		const a = await w.emit(laptop, 'milestone.release', { milestone: 'design', amount: 100_000, ...USD }, { deps: heads, certificate: as.certificate });
		const b = await w.emit(CLIENT_PHONE, 'milestone.release', { milestone: 'design', amount: 100_000, ...USD }, { deps: heads, certificate: phone });
		expect(equivocations(w.state)).toContainEqual({ author: CLIENT.publicKey, kind: 'escrow', events: [a, b].sort() });
		const first = await w.emit(PROVIDER, 'receipt.released', { intent: b, milestone: 'design', amount: 100_000, currency: 'USD', auto: false });
		const second = await w.emit(PROVIDER, 'receipt.released', { intent: a, milestone: 'design', amount: 100_000, currency: 'USD', auto: false });
		expect(w.rejection(first)).toBeUndefined();
		expect(w.rejection(second)).toBeDefined();
		expect(released(w)).toBe(100_000);
	});

	it('a release by one device after it saw the other’s is no equivocation', async () => {
		const { w, laptop, as, fund } = await fromLaptop();
		await fund();
		const phone = await w.certify(CLIENT, CLIENT_PHONE, { name: 'Phone' });
		const a = await w.emit(laptop, 'milestone.release', { milestone: 'design', amount: 40_000, ...USD }, as);
		await w.emit(PROVIDER, 'receipt.released', { intent: a, milestone: 'design', amount: 40_000, currency: 'USD', auto: false });
		const b = await w.emit(CLIENT_PHONE, 'milestone.release', { milestone: 'design', amount: 60_000, ...USD }, { certificate: phone });
		await w.emit(PROVIDER, 'receipt.released', { intent: b, milestone: 'design', amount: 60_000, currency: 'USD', auto: false });
		expect(equivocations(w.state)).toEqual([]);
		expect(released(w)).toBe(100_000);
	});

	it('a fork is per device chain, reported for the identity and the device', async () => {
		const { w, laptop, as } = await fromLaptop();
		const prev = w.log.lastOf(laptop.publicKey);
		const x = await w.emit(laptop, 'message.posted', { text: 'x' }, { ...as, prev });
		const y = await w.emit(laptop, 'message.posted', { text: 'y' }, { ...as, prev });
		expect(equivocations(w.state)).toEqual([{ author: CLIENT.publicKey, device: laptop.publicKey, kind: 'fork', events: [x, y].sort() }]);
	});
});

describe('contracts from before devices', () => {
	it('fold exactly as before, even when a certificate of the same identity is copied in', async () => {
		const w = new World();
		await w.active();
		await w.fund('design', 100_000);
		await w.submit('design');
		await w.release('design', 100_000);
		const before = summary(w.derived());
		// The client key becomes an identity key and certifies a new device; the certificate reaches this old contract.
		const cert = await w.certify(CLIENT, CLIENT_LAPTOP);
		expect(summary(w.derived())).toEqual({ ...before, rejected: before.rejected });
		// The identity key itself still acts here as the client (a key with no certificate is its own identity).
		const message = await w.emit(CLIENT, 'message.posted', { text: 'Thanks!' });
		expect(w.rejection(message)).toBeUndefined();
		expect(w.log.lastOf(CLIENT.publicKey)).toBe(message);
		// And the new device may act here too, naming its certificate.
		const fromDevice = await w.emit(CLIENT_LAPTOP, 'message.posted', { text: 'From my laptop' }, { certificate: cert });
		expect(w.state.messages.at(-1)).toMatchObject({ id: fromDevice, author: CLIENT.publicKey, role: 'client' });
	});
});

/** What two replicas must agree on. */
function summary(d: DerivedContract) {
	const s = d.state;
	return {
		status: s.status,
		parties: s.parties,
		applied: s.applied.map((e) => e.id),
		rejected: d.rejected.map((r) => `${r.id} ${r.code}`).sort(),
		intents: [...s.intents.values()].map((i) => `${i.id} ${i.rejection?.code ?? 'ok'} ${i.settledBy ?? '-'}`).sort(),
		milestones: s.milestones.map((m) => [m.id, m.funded, m.released, m.refunded]),
		equivocations: equivocations(s),
		waiting: d.waiting
	};
}

describe('replicas holding the same events derive the same state, whatever the order', () => {
	it('certificates, revocations, their records, intents and receipts, in any arrival order', async () => {
		// One history with everything: two devices, a revocation recorded after the provider paid one
		// stolen intent and before another, a concurrent release by the other device, an expiry.
		const { w, laptop, cert, seen, revoke } = await stolenLaptop();
		const phone = await w.certify(CLIENT, CLIENT_PHONE, { name: 'Phone', expires: T0 + 3 * DAY_MS });
		const paidStolen = await w.emit(laptop, 'milestone.release', { milestone: 'design', amount: 30_000, ...USD }, { deps: [...seen, cert] });
		const byPhone = await w.emit(CLIENT_PHONE, 'milestone.release', { milestone: 'design', amount: 30_000, ...USD }, { deps: [...seen, phone] });
		await w.emit(PROVIDER, 'receipt.released', { intent: paidStolen, milestone: 'design', amount: 30_000, currency: 'USD', auto: false });
		const revocation = await revoke();
		await w.record(revocation, 'revocation');
		const refused = await w.emit(laptop, 'milestone.release', { milestone: 'design', amount: 70_000, ...USD }, { deps: [...seen, cert] });
		await w.emit(laptop, 'message.posted', { text: 'later' }, { certificate: cert });
		await w.emit(PROVIDER, 'receipt.released', { intent: refused, milestone: 'design', amount: 70_000, currency: 'USD', auto: false });
		w.advance(4);
		await w.emit(PROVIDER, 'receipt.released', { intent: byPhone, milestone: 'design', amount: 30_000, currency: 'USD', auto: false });
		await w.emit(FREELANCER_PHONE, 'message.posted', { text: 'no certificate' });
		const entries = [...w.written];
		const expected = summary(w.derived());
		expect(expected.intents).toContain(`${refused} not-party -`);
		expect(released(w)).toBe(30_000);

		await fc.assert(
			fc.asyncProperty(fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }), fc.integer({ min: 1, max: 6 }), async (order, batch) => {
				const log = new ContractLog(w.contract, { snapshotEvery: 4, snapshotsKept: 2 });
				for (let i = 0; i < order.length; i += batch) {
					for (const [id, env] of order.slice(i, i + batch)) log.add(id, env);
					await authenticate(log);
					log.derive();
				}
				expect(summary(log.derive())).toEqual(expected);
			}),
			{ numRuns: 60 }
		);
	});
});
