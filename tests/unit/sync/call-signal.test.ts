/**
 * Call set-up messages (sync/call-signal.ts): only the other party's devices, signing for this
 * contract and this person, fresh, get through. The attacks: someone holding the share link (or the
 * signaling server) answering in the counterparty's place, a forged or swapped session description,
 * a replay, a device certified by someone else, a revoked device.
 */
import { describe, expect, it } from 'vitest';
import { certifyDeviceSync } from '../../../src/lib/identity/certificate';
import { CALL_MESSAGE_MAX_AGE_MS, callTopic, checkCall, messageHash, openCall, sealCall, signCall, type CallContext, type CallSigner } from '../../../src/lib/sync/call-signal';
import { CLIENT, CLIENT_LAPTOP, FREELANCER, FREELANCER_PHONE, STRANGER, T0 } from '../../support/world';

const CONTRACT = 'c'.repeat(43);
const CALL = 'call-id-0123456789abcdef';
const SDP = 'v=0\r\na=fingerprint:sha-256 AA:BB\r\n';
const client: CallSigner = { key: CLIENT, identity: CLIENT.publicKey };
const freelancer: CallSigner = { key: FREELANCER, identity: FREELANCER.publicKey };
/** What the freelancer's app checks a message from the client against. */
const atFreelancer: CallContext = { contract: CONTRACT, me: FREELANCER.publicKey, counterparty: CLIENT.publicKey, now: T0 };
const atClient: CallContext = { contract: CONTRACT, me: CLIENT.publicKey, counterparty: FREELANCER.publicKey, now: T0 };

const offer = (signer: CallSigner = client, over: Record<string, unknown> = {}) =>
	signCall(signer, { kind: 'offer', call: CALL, contract: CONTRACT, to: FREELANCER.publicKey, at: T0, sdp: SDP, ...over });
const answer = (signer: CallSigner, offerHash: string, over: Record<string, unknown> = {}) =>
	signCall(signer, { kind: 'answer', call: CALL, contract: CONTRACT, to: CLIENT.publicKey, at: T0, sdp: SDP, offer: offerHash, ...over });

describe('call messages between the two parties', () => {
	it('an offer from the client and the answer from the freelancer check out, and the answer names the offer', async () => {
		const o = await offer();
		const got = await checkCall(o, atFreelancer);
		expect(got).toMatchObject({ ok: true, body: { kind: 'offer', sdp: SDP, from: CLIENT.publicKey }, hash: messageHash(o) });
		const a = await answer(freelancer, messageHash(o));
		expect(await checkCall(a, atClient)).toMatchObject({ ok: true, body: { kind: 'answer', offer: messageHash(o) } });
	});

	it('a certified device of the other party is accepted with its certificate', async () => {
		const cert = certifyDeviceSync(FREELANCER, { device: FREELANCER_PHONE.publicKey, name: 'Phone', created: T0 });
		const a = await answer({ key: FREELANCER_PHONE, certificate: cert.envelope, identity: FREELANCER.publicKey }, 'h');
		expect(await checkCall(a, atClient)).toMatchObject({ ok: true, body: { device: FREELANCER_PHONE.publicKey } });
	});

	it('seals for the call room: the server sees neither the text nor the room of the document', () => {
		const sealed = sealCall('secret-secret-secret-1234', 'hello sdp');
		expect(sealed).not.toContain('hello');
		expect(openCall('secret-secret-secret-1234', sealed)).toBe('hello sdp');
		expect(openCall('another-secret-secret-123', sealed)).toBeNull();
		const at = 30; // a character inside the ciphertext
		const flipped = sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
		expect(openCall('secret-secret-secret-1234', flipped)).toBeNull();
		expect(callTopic('s1-secret-secret-secret')).not.toBe(callTopic('s2-secret-secret-secret'));
	});
});

describe('attacks on the call set-up', () => {
	it('someone with the share link answers the call with their own key: refused', async () => {
		const o = await offer();
		const a = await answer({ key: STRANGER, identity: STRANGER.publicKey }, messageHash(o));
		expect(await checkCall(a, atClient)).toEqual({ ok: false, reason: 'not from the other party of this contract' });
	});

	it('someone claims to be the freelancer but signs with their own key: refused', async () => {
		const a = await answer({ key: STRANGER, identity: FREELANCER.publicKey }, 'h');
		expect(await checkCall(a, atClient)).toEqual({ ok: false, reason: 'a device that is not the identity key needs its certificate' });
	});

	it('someone names the freelancer’s key as the device but cannot sign for it: refused', async () => {
		const real = JSON.parse(await answer(freelancer, 'h')) as { body: string; sig: string };
		const forged = JSON.parse(await answer({ key: STRANGER, identity: FREELANCER.publicKey }, 'h')) as { body: string; sig: string };
		const body = { ...JSON.parse(forged.body), device: FREELANCER.publicKey };
		expect(await checkCall(JSON.stringify({ body: JSON.stringify(body), sig: forged.sig }), atClient)).toEqual({ ok: false, reason: 'bad signature' });
		// Nor can the real signature be moved onto another body (another call id here).
		const other = { ...JSON.parse(real.body), call: 'another-call-0123456789' };
		expect(await checkCall(JSON.stringify({ body: JSON.stringify(other), sig: real.sig }), atClient)).toEqual({ ok: false, reason: 'bad signature' });
	});

	it('the signaling server swaps the DTLS fingerprint in a genuine answer: refused', async () => {
		const a = JSON.parse(await answer(freelancer, 'h')) as { body: string; sig: string };
		const swapped = a.body.replace('AA:BB', 'EE:FF');
		expect(swapped).not.toBe(a.body);
		expect(await checkCall(JSON.stringify({ body: swapped, sig: a.sig }), atClient)).toEqual({ ok: false, reason: 'bad signature' });
	});

	it('a stranger certifies a device "for" the freelancer, or the freelancer’s own device shows a stranger’s certificate: refused', async () => {
		const byStranger = certifyDeviceSync(STRANGER, { device: FREELANCER_PHONE.publicKey, name: 'Phone', created: T0 });
		const a = await answer({ key: FREELANCER_PHONE, certificate: byStranger.envelope, identity: FREELANCER.publicKey }, 'h');
		expect(await checkCall(a, atClient)).toEqual({ ok: false, reason: 'the device is certified by another identity' });
		const forOther = certifyDeviceSync(FREELANCER, { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0 });
		const b = await answer({ key: FREELANCER_PHONE, certificate: forOther.envelope, identity: FREELANCER.publicKey }, 'h');
		expect(await checkCall(b, atClient)).toMatchObject({ ok: false, reason: 'The certificate is for another device key.' });
	});

	it('a device whose revocation the contract holds, or whose certificate expired: refused', async () => {
		const cert = certifyDeviceSync(FREELANCER, { device: FREELANCER_PHONE.publicKey, name: 'Phone', created: T0, expires: T0 + 1000 });
		const a = await answer({ key: FREELANCER_PHONE, certificate: cert.envelope, identity: FREELANCER.publicKey }, 'h');
		const revoked = (device: string, identity: string) => device === FREELANCER_PHONE.publicKey && identity === FREELANCER.publicKey;
		expect(await checkCall(a, { ...atClient, revoked })).toEqual({ ok: false, reason: 'the device was revoked' });
		expect(await checkCall(a, { ...atClient, now: T0 + 1001 })).toEqual({ ok: false, reason: 'the device certificate expired' });
	});

	it('a message recorded earlier and replayed later: refused as stale', async () => {
		const o = await offer();
		expect(await checkCall(o, { ...atFreelancer, now: T0 + CALL_MESSAGE_MAX_AGE_MS + 1 })).toEqual({ ok: false, reason: 'stale' });
	});

	it('the client’s own offer reflected back to it, or an offer for another contract or person: refused', async () => {
		const o = await offer();
		expect(await checkCall(o, atClient)).toEqual({ ok: false, reason: 'not from the other party of this contract' });
		expect(await checkCall(o, { ...atFreelancer, contract: 'd'.repeat(43) })).toEqual({ ok: false, reason: 'for another contract' });
		const toStranger = await offer(client, { to: STRANGER.publicKey });
		expect(await checkCall(toStranger, atFreelancer)).toEqual({ ok: false, reason: 'not for this person' });
	});

	it('junk is refused without throwing', async () => {
		for (const junk of ['', 'null', '{"body":"{}","sig":"x"}', JSON.stringify({ body: JSON.stringify({ v: 1, kind: 'offer' }), sig: 'x' })])
			expect((await checkCall(junk, atClient)).ok).toBe(false);
	});
});
