/**
 * References and completion attestations. The attacks come first: each is what a person building a
 * work history could try (edit the band, write their own reference, move a reference onto a better
 * contract, attest with a key of their own), with the honest case next to it so a refusal is not
 * just everything being refused.
 */
import { describe, expect, it } from 'vitest';
import { contractHash } from '../../../src/lib/contract/completion';
import type { DeviceKey } from '../../../src/lib/identity/ed25519';
import { signSync } from '../../../src/lib/identity/ed25519';
import { addVerified, EMPTY_ADDRESS_BOOK } from '../../../src/lib/identity/address-book';
import { certifyDeviceSync } from '../../../src/lib/identity/certificate';
import { issueReference, referenceRefusal, REFERENCE_DOMAIN, verifyReference, type ReferenceEntry, type VerifyContext } from '../../../src/lib/identity/reference';
import { signStatement, type SignedStatement } from '../../../src/lib/identity/statement';
import { ATTESTATION_DOMAIN, completionRequestMessage, readAttestation } from '../../../src/lib/escrow/attestation';
import type { TrustedProvider } from '../../../src/lib/escrow/attestation-trust';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { attestation, ended, entry, type Ended } from '../../support/work-history';
import { bandText } from '../../../src/lib/money/bands';
import { activePair } from '../../support/parties';
import { CLIENT, CLIENT_LAPTOP, FREELANCER, keyFrom, STRANGER, T0, terms } from '../../support/world';

const REAL = keyFrom('a real escrow provider');
const ROGUE = keyFrom('a provider nobody set up');
const CONFIGURED: TrustedProvider[] = [{ publicKey: REAL.publicKey, name: 'Stripe Connect escrow', testMode: false }];

const ctx = (over: Partial<VerifyContext> = {}): VerifyContext => ({ owner: FREELANCER.publicKey, trusted: CONFIGURED, book: EMPTY_ADDRESS_BOOK, ...over });

/** Re-serialise a statement's body with `edit` applied, keeping the old signature. */
function edited(st: SignedStatement, edit: (body: Record<string, unknown>) => void): SignedStatement {
	const body = JSON.parse(st.body) as Record<string, unknown>;
	edit(body);
	return { ...st, body: JSON.stringify(body) };
}

describe('attacks on a work history', () => {
	it('attack: the amount band of an attestation is edited — the signature fails', async () => {
		const e = await ended({ key: REAL });
		const honest = await entry(e);
		expect(verifyReference(honest, ctx()).status).toBe('verified');
		const forged = { ...honest, attestation: edited(honest.attestation!, (b) => (b.band = '50k+')) };
		const v = verifyReference(forged, ctx());
		expect(v.status).toBe('failed');
		expect(v.failures.join(' ')).toMatch(/Attestation: The signature does not match/);
		expect(readAttestation(forged.attestation).ok).toBe(false);
	});

	it('attack: the freelancer writes a reference about themselves (signed by their own key)', async () => {
		const e = await ended({ key: REAL });
		const honest = await entry(e);
		const body = { ...(JSON.parse(honest.reference.body) as Record<string, unknown>), issuer: FREELANCER.publicKey, subject: FREELANCER.publicKey, rating: 5, feedback: 'The best.' };
		const self = { reference: signStatement(FREELANCER, REFERENCE_DOMAIN, body), attestation: honest.attestation };
		const v = verifyReference(self, ctx());
		expect(v.status).toBe('failed');
		expect(v.failures.join(' ')).toMatch(/written by the person it is about/);
	});

	it('attack: the freelancer signs a reference in the client’s name', async () => {
		const e = await ended({ key: REAL });
		const honest = await entry(e);
		const body = { ...(JSON.parse(honest.reference.body) as Record<string, unknown>), rating: 5 };
		const v = verifyReference({ reference: signStatement(FREELANCER, REFERENCE_DOMAIN, body), attestation: honest.attestation }, ctx());
		expect(v.status).toBe('failed');
		expect(v.failures.join(' ')).toMatch(/not signed by the identity key of the person it names/);
	});

	it('attack: the rating of a reference is edited — the signature fails', async () => {
		const e = await ended({ key: REAL });
		const honest = await entry(e);
		const v = verifyReference({ ...honest, reference: edited(honest.reference, (b) => (b.rating = 1)) }, ctx());
		expect(v.status).toBe('failed');
		expect(v.failures.join(' ')).toMatch(/Reference: The signature does not match/);
	});

	it('attack: a reference is moved onto the attestation of another (bigger) contract of the same two people', async () => {
		const small = await entry(await ended({ key: REAL, released: 5_000 }));
		const big = await entry(await ended({ key: REAL }));
		expect(JSON.parse(small.attestation!.body).band).toBe('under-100');
		expect(JSON.parse(big.attestation!.body).band).toBe('1k-5k');
		const moved = verifyReference({ reference: small.reference, attestation: big.attestation }, ctx());
		expect(moved.status).toBe('failed');
		expect(moved.failures.join(' ')).toMatch(/another contract/);
		expect(verifyReference(small, ctx()).status).toBe('verified');
	});

	it('attack: an attestation signed by a provider key the viewer never set up is not trusted', async () => {
		const e = await ended({ key: ROGUE });
		const v = verifyReference(await entry(e), ctx());
		expect(v.status).toBe('untrusted');
		expect(v.checks.find((c) => c.what === 'provider')).toMatchObject({ ok: false, text: expect.stringMatching(/not set up/) });
		// The same attestation, once the viewer has set that provider up: verified.
		expect(verifyReference(await entry(e), ctx({ trusted: [{ publicKey: ROGUE.publicKey, name: 'Mine', testMode: false }] })).status).toBe('verified');
	});

	it('attack: a reference about someone else is put into a profile', async () => {
		const e = await ended({ key: REAL });
		const v = verifyReference(await entry(e), ctx({ owner: STRANGER.publicKey }));
		expect(v.status).toBe('failed');
		expect(v.failures.join(' ')).toMatch(/about someone else/);
	});

	it('attack: an attestation whose keys are swapped (signed by a provider for other roles) does not fit the reference', async () => {
		const e = await ended({ key: REAL });
		const honest = await entry(e);
		const body = { ...(JSON.parse(honest.attestation!.body) as Record<string, unknown>), client: FREELANCER.publicKey, freelancer: CLIENT.publicKey };
		const v = verifyReference({ ...honest, attestation: signStatement(REAL, ATTESTATION_DOMAIN, body) }, ctx());
		expect(v.status).toBe('failed');
		expect(v.failures.join(' ')).toMatch(/other keys \(or other roles\)/);
	});
});

describe('references and attestations', () => {
	it('valid: a reference with the attestation of a configured provider; the band, outcome and dispute flag are the record’s', async () => {
		const e = await ended({ key: REAL, released: 150_000 });
		const v = verifyReference(await entry(e), ctx());
		expect(v.status).toBe('verified');
		expect(v.reference).toMatchObject({ issuer: CLIENT.publicKey, subject: FREELANCER.publicKey, issuerRole: 'client', rating: 5, feedback: 'Delivered on time.', outcome: 'paid-in-part', contract: contractHash(e.contract) });
		expect(v.attestation).toMatchObject({ band: '1k-5k', outcome: 'paid-in-part', disputed: false, currency: 'USD' });
		expect(bandText(v.attestation!.band, 'USD')).toBe('$1k–5k');
		// No amount anywhere in what is signed.
		expect(Object.keys(v.attestation!)).not.toContain('paid');
		expect(JSON.stringify(v)).not.toMatch(/"(amount|paid|refunded)"/);
		expect(v.issuerVerified).toBe(false);
	});

	it('TEST MODE: the mock’s attestation verifies, labelled TEST MODE, whatever the viewer set up', async () => {
		const e = await ended();
		const v = verifyReference(await entry(e), ctx({ trusted: [] }));
		expect(v.status).toBe('test-mode');
		expect(v.provider).toEqual({ name: 'Mock escrow provider (TEST MODE)', testMode: true });
	});

	it('without an attestation a reference is signed but proves no money moved; the author verified in the address book shows', async () => {
		const e = await ended({ key: REAL });
		const book = addVerified(EMPTY_ADDRESS_BOOK, { identity: CLIENT.publicKey, name: 'Ada', verifiedAt: T0, by: 'safety-number' });
		const v = verifyReference({ reference: (await entry(e)).reference }, ctx({ book }));
		expect(v.status).toBe('unattested');
		expect(v.issuerVerified).toBe(true);
	});

	it('the freelancer’s reference about the client verifies in the client’s profile', async () => {
		const e = await ended({ key: REAL });
		const ref = issueReference(e.freelancer.log.derive().state, FREELANCER, e.clock.now);
		const v = verifyReference({ reference: ref, attestation: await attestation(e, CLIENT) }, ctx({ owner: CLIENT.publicKey }));
		expect(v.status).toBe('verified');
		expect(v.reference).toMatchObject({ rating: 3, issuerRole: 'freelancer' });
	});

	it('a certified device issues the reference for its identity', async () => {
		const e = await ended({ key: REAL });
		const cert = certifyDeviceSync(CLIENT, { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0 });
		const ref = issueReference(e.client.log.derive().state, CLIENT_LAPTOP, e.clock.now, cert.envelope);
		expect(verifyReference({ reference: ref, attestation: await attestation(e) }, ctx()).status).toBe('verified');
		// Without the certificate the laptop's key is nobody in this contract.
		expect(() => issueReference(e.client.log.derive().state, CLIENT_LAPTOP, e.clock.now)).toThrow(/Only a party/);
	});

	it('no reference before the end, nor before feedback; the provider attests only after the end, only to a party, only on a fresh request', async () => {
		const clock = { now: T0 };
		const mock = new MockEscrowProvider({ key: REAL, now: () => clock.now });
		const { contract, client } = await activePair({ escrow: mock, clock: () => clock.now, terms: terms({ provider: { id: 'mock', publicKey: REAL.publicKey, testMode: true } }) });
		expect(referenceRefusal(client.log.derive().state, CLIENT.publicKey)).toMatch(/not ended/);
		const e: Ended = { contract, client, freelancer: client, mock, clock };
		await expect(attestation(e, CLIENT)).rejects.toMatchObject({ code: 'too-early' });
		await client.act('contract.ended', {});
		expect(referenceRefusal(client.log.derive().state, CLIENT.publicKey)).toMatch(/Leave feedback first/);
		await expect(attestation(e, STRANGER)).rejects.toMatchObject({ code: 'not-authorised' });
		await expect(attestation(e, CLIENT, T0 - 60 * 60_000)).rejects.toMatchObject({ code: 'not-authorised' });
		const att = readAttestation(await attestation(e, CLIENT));
		expect(att.ok && att.body).toMatchObject({ band: 'none', outcome: 'not-paid' });
	});

});
