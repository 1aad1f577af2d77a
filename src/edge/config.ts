/**
 * Builds the handler's dependencies from environment variables (Workers bindings, Deno.env).
 * Secrets are read here and nowhere else; a missing or malformed one fails with a message that
 * names the variable, never its value.
 */
import Stripe from 'stripe';
import { fromBase64url } from '../lib/contract/encoding';
import { publicKeyFromSeed } from '../lib/identity/ed25519';
import { IsolateAccountStore } from './accounts';
import type { HandlerDeps } from './handler';
import type { AccountStore, RecordStore } from './store';

export interface EdgeEnv {
	/** sk_live_… / sk_test_… (or a restricted rk_ key). */
	STRIPE_SECRET_KEY?: string;
	/** whsec_… of the webhook endpoint. */
	STRIPE_WEBHOOK_SECRET?: string;
	/** The receipt signing key: 32 random bytes, base64url (43 characters). */
	ESCROW_SIGNING_SEED?: string;
	/** Comma-separated browser origins allowed to call the function. */
	ALLOWED_ORIGINS?: string;
}

export class ConfigError extends Error {
	constructor(variable: string, what: string) {
		super(`${variable}: ${what}`);
		this.name = 'ConfigError';
	}
}

export interface ConfigOptions {
	/** The Stripe HTTP transport: the runtime's fetch, or the fake in tests. */
	fetch?: typeof fetch;
	now?: () => number;
	/** Stripe SDK retries; 0 in tests so an injected failure is seen once. */
	maxNetworkRetries?: number;
	timeoutMs?: number;
	log?: (line: string) => void;
	/**
	 * The provider's record of each contract. Left out (the Deno entry), nothing is recorded and
	 * auto-release and refunds of unanswered requests are refused.
	 */
	records?: RecordStore;
	/** Key → account index and rate limits; left out, an isolate-local one that falls back to a metadata scan. */
	accounts?: AccountStore;
}

export function depsFromEnv(env: EdgeEnv, o: ConfigOptions = {}): HandlerDeps {
	const secret = env.STRIPE_SECRET_KEY ?? '';
	if (!/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/.test(secret)) throw new ConfigError('STRIPE_SECRET_KEY', 'missing or not a Stripe secret key');
	const webhookSecret = env.STRIPE_WEBHOOK_SECRET ?? '';
	if (!/^whsec_[A-Za-z0-9_+/=]+$/.test(webhookSecret)) throw new ConfigError('STRIPE_WEBHOOK_SECRET', 'missing or not a webhook signing secret');
	const seed = env.ESCROW_SIGNING_SEED ?? '';
	if (!/^[A-Za-z0-9_-]{43}$/.test(seed) || fromBase64url(seed).length !== 32)
		throw new ConfigError('ESCROW_SIGNING_SEED', 'missing or not 32 bytes of base64url');
	const origins = (env.ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
	const stripe = new Stripe(secret, {
		httpClient: Stripe.createFetchHttpClient(o.fetch),
		maxNetworkRetries: o.maxNetworkRetries ?? 2,
		timeout: o.timeoutMs ?? 20_000,
		appInfo: { name: 'milestone-escrow' }
	});
	return {
		stripe,
		key: { seed, publicKey: publicKeyFromSeed(seed) },
		now: o.now ?? (() => Date.now()),
		webhookSecret,
		origins,
		testMode: /^(sk|rk)_test_/.test(secret),
		crypto: Stripe.createSubtleCryptoProvider(),
		log: o.log,
		records: o.records,
		accounts: o.accounts ?? new IsolateAccountStore(stripe)
	};
}
