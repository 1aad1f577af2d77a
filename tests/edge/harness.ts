/**
 * The Stripe escrow stack as the tests run it: the edge function's handler (the real code, with
 * the real `stripe` package) talking to the in-process Stripe fake, the app's StripeEscrowAdapter
 * talking to the handler through an in-memory fetch, and one clock shared by the fake and the
 * function so `advance()` moves provider time everywhere. The function keeps its record in the
 * in-memory store (or none at all, like the Deno entry, with `records: false`). The freelancer is
 * onboarded the way a device would do it: a signed proof to the function, then the hosted
 * onboarding completed.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import Stripe from 'stripe';
import { toBase64url, utf8 } from '../../src/lib/contract/encoding';
import { depsFromEnv } from '../../src/edge/config';
import { createHandler, type HandlerDeps } from '../../src/edge/handler';
import { MemoryAccountStore, MemoryRecordStore, type RecordLimits, type RecordStore } from '../../src/edge/store';
import { onboardingMessage, onboardingStatusMessage, PATHS, recordRequestMessage } from '../../src/lib/escrow/protocol';
import { StripeEscrowAdapter } from '../../src/lib/escrow/stripe';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import { FakeStripe } from './fake-stripe/fake';

export const ORIGIN = 'https://app.milestone.test';
export const WEBHOOK_SECRET = 'whsec_fakeSecretForTests0123456789';
export const SIGNING_SEED = toBase64url(sha256(utf8.encode('milestone stripe escrow function - test key')));
export const BASE = 'https://escrow.milestone.test';

export interface Stack {
	fake: FakeStripe;
	deps: HandlerDeps;
	handler: (req: Request) => Promise<Response>;
	adapter: StripeEscrowAdapter;
	clock: { now: number };
	/** Call the function like a browser on the allowed origin would. */
	call(path: string, init?: RequestInit): Promise<Response>;
	/** Onboard a freelancer key through the function, then finish the hosted onboarding in the fake. */
	onboard(key: DeviceKey): Promise<string>;
	/** The onboarding status, read with a fresh signature by `key`. */
	status(key: DeviceKey): Promise<Response>;
	/** The provider's record of a contract, read with a fresh signature by `key`. */
	record(contract: string, key: DeviceKey, nonce?: string): Promise<string[]>;
	/** The record store the function uses (undefined with `records: false`). */
	records?: RecordStore;
}

export interface StackOptions {
	timeoutMs?: number;
	start?: number;
	/** false: no record at all (the Deno entry); else the in-memory store, with these bounds. */
	records?: false | Partial<RecordLimits>;
	/** Share a fake (two function instances in front of one Stripe account). */
	fake?: FakeStripe;
	clock?: { now: number };
}

let nonces = 0;
/** A fresh one-time nonce for a signed request (onboarding, status, record). */
export const freshNonce = (): string => `nonce-${String(++nonces).padStart(12, '0')}`;

export function stack(o: StackOptions = {}): Stack {
	const clock = o.clock ?? { now: o.start ?? Date.UTC(2026, 10, 2) };
	const fake = o.fake ?? new FakeStripe(() => clock.now);
	const records = o.records === false ? undefined : new MemoryRecordStore(o.records ?? {});
	const deps = depsFromEnv(
		{ STRIPE_SECRET_KEY: 'sk_test_fakeKeyForTheInProcessStripe', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ESCROW_SIGNING_SEED: SIGNING_SEED, ALLOWED_ORIGINS: ORIGIN },
		{ fetch: fake.fetch, now: () => clock.now, maxNetworkRetries: 0, timeoutMs: o.timeoutMs ?? 10_000, records, accounts: new MemoryAccountStore() }
	);
	const handler = createHandler(deps);
	const call = (path: string, init: RequestInit = {}) =>
		handler(new Request(BASE + path, { ...init, headers: { origin: ORIGIN, ...(init.headers as Record<string, string> | undefined) } }));
	const adapter = new StripeEscrowAdapter({
		url: BASE,
		fetch: (input, init) => handler(new Request(input, init)),
		paymentMethod: async () => 'pm_card_visa'
	});
	const onboard = async (key: DeviceKey) => {
		const at = clock.now;
		const back = `${ORIGIN}/#/settings`;
		const nonce = freshNonce();
		const signature = signSync(key, utf8.encode(onboardingMessage(key.publicKey, at, back, back, nonce)));
		const res = await call(PATHS.onboarding, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ publicKey: key.publicKey, at, nonce, signature, returnUrl: back, refreshUrl: back })
		});
		if (!res.ok) throw new Error(`onboarding failed: ${await res.text()}`);
		const { account } = (await res.json()) as { account: string };
		fake.completeOnboarding(account);
		return account;
	};
	const status = (key: DeviceKey) => {
		const at = clock.now;
		const nonce = freshNonce();
		const signature = signSync(key, utf8.encode(onboardingStatusMessage(key.publicKey, at, nonce)));
		return call(PATHS.onboardingStatus, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ publicKey: key.publicKey, at, nonce, signature }) });
	};
	const record = (contract: string, key: DeviceKey, nonce = freshNonce()) => {
		const at = clock.now;
		const signature = signSync(key, utf8.encode(recordRequestMessage(contract, key.publicKey, at, nonce)));
		return adapter.record({ contract, publicKey: key.publicKey, at, nonce, signature });
	};
	return { fake, deps, handler, adapter, clock, call, onboard, status, record, records };
}

/** A Stripe-Signature header for a payload, made the way Stripe signs deliveries. */
export async function signedHeader(payload: string, timestampS: number, secret = WEBHOOK_SECRET): Promise<string> {
	return Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp: timestampS, cryptoProvider: Stripe.createSubtleCryptoProvider() });
}
