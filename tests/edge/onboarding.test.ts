/**
 * Onboarding is the only way money leaves the platform's control (a connected account receives the
 * releases), so: it is rate-limited per key and overall; the account is found through the
 * function's key → account index (no scan of every connected account per request); the status is
 * read only with a fresh signature by the key; and the onboarding proof covers the return and
 * refresh URLs, so it cannot send the freelancer's onboarding to a page someone else chose.
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/lib/contract/encoding';
import { encodeBody, encodeEnvelope, signingBytes, type Draft } from '../../src/lib/contract/envelope';
import { onboardingMessage, onboardingStatusMessage, PATHS, type OnboardingBody, type OnboardingStatusBody } from '../../src/lib/escrow/protocol';
import { onboardingRequest, onboardingStatusRequest, type OnboardingSigner } from '../../src/lib/escrow/stripe';
import { certifyDeviceSync } from '../../src/lib/identity/certificate';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import { CLIENT, FREELANCER, FREELANCER_PHONE, keyFrom, STRANGER } from '../support/world';
import { edgeContract } from './contracts';
import { freshNonce, ORIGIN, stack, type Stack } from './harness';

const HOUR = 3_600_000;
/** The older, nonce-less forms of the onboarding and status proofs (replayable within the proof window). */
const oldOnboardingMessage = (publicKey: string, at: number, returnUrl: string, refreshUrl: string) => `milestone-escrow-onboarding\n${publicKey}\n${at}\n${returnUrl}\n${refreshUrl}`;
const oldStatusMessage = (publicKey: string, at: number) => `milestone-escrow-onboarding-status\n${publicKey}\n${at}`;
const BACK = `${ORIGIN}/#/settings`;

function onboard(s: Stack, key: DeviceKey, o: { signedReturn?: string; returnUrl?: string; refreshUrl?: string; signer?: DeviceKey; at?: number } = {}) {
	const at = o.at ?? s.clock.now;
	const returnUrl = o.returnUrl ?? BACK;
	const refreshUrl = o.refreshUrl ?? BACK;
	const nonce = freshNonce();
	const signature = signSync(o.signer ?? key, utf8.encode(onboardingMessage(key.publicKey, at, o.signedReturn ?? returnUrl, refreshUrl, nonce)));
	return s.call(PATHS.onboarding, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ publicKey: key.publicKey, at, nonce, signature, returnUrl, refreshUrl }) });
}

describe('onboarding', () => {
	it('is rate-limited per key and overall: past the limit nothing is created', async () => {
		const s = stack();
		s.deps.onboardingLimits = { perKey: { limit: 3, windowMs: HOUR }, overall: { limit: 5, windowMs: HOUR }, statusPerKey: { limit: 100, windowMs: HOUR } };
		for (let i = 0; i < 3; i++) expect((await onboard(s, FREELANCER)).status).toBe(200);
		const limited = await onboard(s, FREELANCER);
		expect(limited.status).toBe(429);
		expect(await limited.json()).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/Too many onboarding requests/) });
		// Other keys share the overall budget: 3 used, 2 left.
		const keys = [1, 2, 3, 4].map((i) => keyFrom(`freelancer ${i}`));
		const statuses = [];
		for (const k of keys) statuses.push((await onboard(s, k)).status);
		expect(statuses).toEqual([200, 200, 429, 429]);
		expect(s.fake.accounts.size).toBe(3);
		// An hour later the window has moved on.
		s.clock.now += HOUR + 1;
		expect((await onboard(s, FREELANCER)).status).toBe(200);
		expect(s.fake.accounts.size).toBe(3);
	});

	it('signs the return and refresh URLs: a proof for one page cannot open the onboarding for another', async () => {
		const s = stack();
		expect((await onboard(s, FREELANCER, { signedReturn: BACK, returnUrl: 'https://evil.example/' })).status).toBe(403);
		const swapped = await onboard(s, FREELANCER, { refreshUrl: 'https://evil.example/' }).then(async (r) => r.status);
		expect(swapped).toBe(200); // signed with that refresh URL: the key's owner chose it
		const at = s.clock.now;
		const nonce = freshNonce();
		const signature = signSync(FREELANCER, utf8.encode(onboardingMessage(FREELANCER.publicKey, at, BACK, BACK, nonce)));
		const relayed = await s.call(PATHS.onboarding, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ publicKey: FREELANCER.publicKey, at, nonce, signature, returnUrl: BACK, refreshUrl: 'https://evil.example/' })
		});
		expect(relayed.status).toBe(403);
		expect((await onboard(s, FREELANCER, { signer: STRANGER })).status).toBe(403);
		expect((await onboard(s, FREELANCER, { at: s.clock.now - 10 * 60_000 })).status).toBe(403);
	});

	it('creates accounts that pay out only when the freelancer withdraws (no automatic schedule)', async () => {
		const s = stack();
		const account = await s.onboard(FREELANCER);
		// Automatic payouts would move released money out before its security period, beyond a reversal.
		expect((s.fake as unknown as { accounts: Map<string, { settings: unknown }> }).accounts.get(account)!.settings).toEqual({ payouts: { schedule: { interval: 'manual' } } });
	});

	it('reads the status only with a fresh signature by the key', async () => {
		const s = stack();
		const account = await s.onboard(FREELANCER);
		expect((await s.call(`${PATHS.onboardingStatus}?key=${FREELANCER.publicKey}`)).status).toBe(404);
		const post = (body: unknown) => s.call(PATHS.onboardingStatus, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
		const at = s.clock.now;
		const nonce = freshNonce();
		const sig = (k: DeviceKey, when = at) => signSync(k, utf8.encode(onboardingStatusMessage(FREELANCER.publicKey, when, nonce)));
		expect((await post({ publicKey: FREELANCER.publicKey })).status).toBe(400);
		expect((await post({ publicKey: FREELANCER.publicKey, at, nonce, signature: sig(STRANGER) })).status).toBe(403);
		expect((await post({ publicKey: FREELANCER.publicKey, at: at - 10 * 60_000, nonce, signature: sig(FREELANCER, at - 10 * 60_000) })).status).toBe(403);
		// The onboarding proof is not a status proof (different message).
		const onboardingSig = signSync(FREELANCER, utf8.encode(onboardingMessage(FREELANCER.publicKey, at, BACK, BACK, nonce)));
		expect((await post({ publicKey: FREELANCER.publicKey, at, nonce, signature: onboardingSig })).status).toBe(403);
		const ok = await s.status(FREELANCER);
		expect(await ok.json()).toMatchObject({ account, transfers: 'active', payoutsEnabled: true });
		expect(await (await s.status(CLIENT)).json()).toMatchObject({ account: null, transfers: 'none' });
	});

	it('finds the account through the index: onboarding, status, release and withdrawal never list connected accounts', async () => {
		const s = stack();
		// Many other freelancers' accounts exist; none of them is read.
		for (let i = 0; i < 30; i++) await s.onboard(keyFrom(`someone ${i}`));
		const account = await s.onboard(FREELANCER);
		await s.status(FREELANCER);
		const c = await edgeContract(s);
		await c.client.settle('milestone.fund', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
		await c.client.settle('milestone.release', { milestone: 'a', amount: 100_000, currency: 'USD', method: 'card' });
		await c.sync();
		s.clock.now += 6 * 86_400_000;
		await c.freelancer.settle('withdrawal.requested', { amount: 50_000, currency: 'USD', method: 'bank' });
		expect([...s.fake.transfers.values()][0]).toMatchObject({ destination: account });
		expect(s.fake.requests.filter((r) => r.method === 'GET' && r.path === '/v1/accounts')).toEqual([]);
	});
});

const DAY = 86_400_000;

/** The freelancer's phone, certified by the freelancer's identity key (as pairing does: no expiry unless given). */
function phoneOf(s: Stack, o: { expires?: number; identity?: DeviceKey; device?: DeviceKey } = {}): OnboardingSigner & { acting: { identity: string; certificate: string } } {
	const identity = o.identity ?? FREELANCER;
	const device = o.device ?? FREELANCER_PHONE;
	const cert = certifyDeviceSync(identity, { device: device.publicKey, name: 'Phone', created: s.clock.now, ...(o.expires !== undefined ? { expires: o.expires } : {}) });
	return { key: device, acting: { identity: identity.publicKey, certificate: cert.envelope } };
}

const post = (s: Stack, path: string, body: unknown) => s.call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const onboardWith = async (s: Stack, body: OnboardingBody) => post(s, PATHS.onboarding, body);
const statusWith = async (s: Stack, body: OnboardingStatusBody) => post(s, PATHS.onboardingStatus, body);
const refused = async (res: Response, message: RegExp) => {
	expect(res.status).toBe(403);
	expect(await res.json()).toMatchObject({ code: 'not-authorised', message: expect.stringMatching(message) });
};

describe('onboarding from a second device of the person', () => {
	it('a certified device gets the identity’s account and status: the same connected account from any device', async () => {
		const s = stack();
		const account = await s.onboard(FREELANCER);
		const phone = phoneOf(s);
		const fromPhone = await s.adapter.onboard(phone, BACK, { at: s.clock.now });
		expect(fromPhone.account).toBe(account);
		expect(fromPhone.url).toMatch(/^https:\/\//);
		expect(s.fake.accounts.size).toBe(1);
		const own = await s.adapter.onboardingStatus({ key: FREELANCER }, s.clock.now);
		expect(own).toMatchObject({ account, transfers: 'active', payoutsEnabled: true });
		expect(await s.adapter.onboardingStatus(phone, s.clock.now)).toEqual(own);
	});

	it('a device that asks first creates the account under the identity key, which the identity then finds', async () => {
		const s = stack();
		const { account } = await s.adapter.onboard(phoneOf(s), BACK, { at: s.clock.now });
		expect((s.fake as unknown as { accounts: Map<string, { metadata: Record<string, string> }> }).accounts.get(account)!.metadata).toMatchObject({ party_key: FREELANCER.publicKey });
		expect((await s.adapter.onboardingStatus({ key: FREELANCER }, s.clock.now)).account).toBe(account);
		// The device's own key has no account of its own.
		expect((await s.adapter.onboardingStatus({ key: FREELANCER_PHONE }, s.clock.now)).account).toBeNull();
	});

	it('refuses a certificate signed by a stranger: in its own name, and forged in the identity’s name', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		// The stranger certifies the phone key it holds and asks for the freelancer's account.
		const own = phoneOf(s, { identity: STRANGER, device: keyFrom('stolen-looking phone') });
		const mine = await onboardingRequest(own, { returnUrl: BACK, refreshUrl: BACK, at: s.clock.now });
		const asked = { ...mine, publicKey: FREELANCER.publicKey };
		asked.signature = signSync(own.key, utf8.encode(onboardingMessage(FREELANCER.publicKey, asked.at, BACK, BACK, asked.nonce!)));
		await refused(await onboardWith(s, asked), /another identity key/);
		// A certificate that names the freelancer as its author, signed with the stranger's key.
		const genuine = phoneOf(s).acting.certificate;
		const draft = JSON.parse((JSON.parse(genuine) as { body: string }).body) as Draft;
		const { id, body } = encodeBody({ ...draft, payload: { ...(draft.payload as object), device: STRANGER.publicKey } } as Draft);
		const forged = encodeEnvelope(id, body, signSync(STRANGER, signingBytes(id)));
		const device = { key: STRANGER, acting: { identity: FREELANCER.publicKey, certificate: forged } };
		await refused(await onboardWith(s, await onboardingRequest(device, { returnUrl: BACK, refreshUrl: BACK, at: s.clock.now })), /certificate is refused/);
		await refused(await statusWith(s, await onboardingStatusRequest(device, { at: s.clock.now })), /certificate is refused/);
		expect(s.fake.accounts.size).toBe(1);
	});

	it('refuses the phone’s genuine certificate presented by another key (certificates are public: they are in every contract)', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		const stolen = { key: STRANGER, acting: phoneOf(s).acting };
		await refused(await onboardWith(s, await onboardingRequest(stolen, { returnUrl: BACK, refreshUrl: BACK, at: s.clock.now })), /not signed by the device key its certificate names/);
		await refused(await statusWith(s, await onboardingStatusRequest(stolen, { at: s.clock.now })), /not signed by the device key/);
	});

	it('refuses a certificate that expired on the function’s clock, whatever time the device signs', async () => {
		const s = stack();
		const account = await s.onboard(FREELANCER);
		const phone = phoneOf(s, { expires: s.clock.now + DAY });
		expect((await s.adapter.onboardingStatus(phone, s.clock.now)).account).toBe(account);
		s.clock.now += DAY + 1;
		await refused(await statusWith(s, await onboardingStatusRequest(phone, { at: s.clock.now })), /“Phone” has expired/);
		await refused(await onboardWith(s, await onboardingRequest(phone, { returnUrl: BACK, refreshUrl: BACK, at: s.clock.now })), /has expired/);
		// A device clock set back does not help: the proof is then too old.
		await refused(await statusWith(s, await onboardingStatusRequest(phone, { at: s.clock.now - DAY })), /too old/);
	});

	it('refuses a device of identity A asking for identity B’s account or status', async () => {
		const s = stack();
		await s.onboard(CLIENT);
		const phone = phoneOf(s); // the freelancer's
		const forClient = async (message: (at: number, nonce: string) => string) => {
			const at = s.clock.now;
			const nonce = `cross-identity-${at}`;
			return { publicKey: CLIENT.publicKey, at, nonce, signature: signSync(phone.key, utf8.encode(message(at, nonce))), certificate: phone.acting.certificate };
		};
		const onboarding = await forClient((at, nonce) => onboardingMessage(CLIENT.publicKey, at, BACK, BACK, nonce));
		await refused(await onboardWith(s, { ...onboarding, returnUrl: BACK, refreshUrl: BACK }), /another identity key/);
		s.clock.now += 1;
		await refused(await statusWith(s, await forClient((at, nonce) => onboardingStatusMessage(CLIENT.publicKey, at, nonce))), /another identity key/);
		expect(s.fake.accounts.size).toBe(1);
	});

	it('refuses a replayed request, from a device or the identity, and a device’s request without a nonce', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		for (const signer of [phoneOf(s), { key: FREELANCER }] as OnboardingSigner[]) {
			const onboarding = await onboardingRequest(signer, { returnUrl: BACK, refreshUrl: BACK, at: s.clock.now });
			expect((await onboardWith(s, onboarding)).status).toBe(200);
			// Replayed, the captured request would hand a fresh onboarding link to whoever holds it.
			await refused(await onboardWith(s, onboarding), /used already/);
			const status = await onboardingStatusRequest(signer, { at: s.clock.now });
			expect((await statusWith(s, status)).status).toBe(200);
			await refused(await statusWith(s, status), /used already/);
			// Replayed without its nonce, as the older replayable form: the signature covers the nonce.
			const { nonce: _, ...bare } = onboarding;
			await refused(await onboardWith(s, bare), /not signed|one-time nonce/);
		}
		// A device's request must be one-time: its certificate is public, its signature could be captured.
		const phone = phoneOf(s);
		const at = s.clock.now;
		const signature = signSync(phone.key, utf8.encode(oldStatusMessage(FREELANCER.publicKey, at)));
		await refused(await statusWith(s, { publicKey: FREELANCER.publicKey, at, signature, certificate: phone.acting.certificate }), /one-time nonce/);
	});

	it('refuses the identity’s old nonce-less form too: captured, it could be replayed for the whole proof window', async () => {
		const s = stack();
		await s.onboard(FREELANCER);
		const at = s.clock.now;
		const onboarding = { publicKey: FREELANCER.publicKey, at, returnUrl: BACK, refreshUrl: BACK, signature: signSync(FREELANCER, utf8.encode(oldOnboardingMessage(FREELANCER.publicKey, at, BACK, BACK))) };
		const status = { publicKey: FREELANCER.publicKey, at, signature: signSync(FREELANCER, utf8.encode(oldStatusMessage(FREELANCER.publicKey, at))) };
		// Twice each: the second would be the replay.
		for (let i = 0; i < 2; i++) {
			await refused(await onboardWith(s, onboarding), /one-time nonce/);
			await refused(await statusWith(s, status), /one-time nonce/);
		}
	});
});
