/**
 * Escrow provider choice. New contracts use the provider chosen in Settings; a contract always uses
 * the provider its accepted terms name (id and key), whatever is chosen later. The Stripe function's
 * receipt key is read from its well-known path when the choice is saved and pinned here, so a
 * contract naming a different key is never sent to this function.
 */
import { z } from 'zod';
import { PublicKey } from '../contract/schema';
import { EscrowError, type EscrowAdapter, type ProviderInfo } from '../escrow/adapter';
import { collect, completePayment } from '../escrow/card-step';
import { StripeEscrowAdapter } from '../escrow/stripe';
import { fingerprint } from '../identity/fingerprint';
import { escrow } from './test-mode';

const PROVIDER_KEY = 'milestone.escrowProvider';

/** https://, or http:// on localhost for development; no credentials, query or fragment. */
export const FunctionUrl = z
	.string()
	.trim()
	.max(2000)
	.refine((u) => {
		try {
			const url = new URL(u);
			const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
			return (url.protocol === 'https:' || (url.protocol === 'http:' && local)) && !url.username && !url.password && !url.search && !url.hash;
		} catch {
			return false;
		}
	}, 'Enter the function\'s https:// address (http:// only on localhost), without ?query or #fragment.')
	.transform((u) => u.replace(/\/+$/, ''));

export const PublishableKey = z
	.string()
	.trim()
	.regex(/^pk_(test|live)_[A-Za-z0-9]{8,250}$/, 'A Stripe publishable key starts with pk_test_ or pk_live_ (never enter a secret sk_ key here).');

/** What the person types in Settings before the function has been asked for its key. */
export const StripeFields = z.object({ url: FunctionUrl, publishableKey: PublishableKey });

export const ProviderSettings = z.discriminatedUnion('kind', [
	z.object({ kind: z.literal('mock') }).strict(),
	z
		.object({
			kind: z.literal('stripe'),
			url: FunctionUrl,
			publishableKey: PublishableKey,
			/** The function's receipt key, read from GET /.well-known/escrow-key when this was saved. */
			publicKey: PublicKey,
			testMode: z.boolean(),
			name: z.string().max(200)
		})
		.strict()
]);
export type ProviderSettings = z.input<typeof ProviderSettings>;

export function loadProviderSettings(): ProviderSettings {
	try {
		const parsed = ProviderSettings.safeParse(JSON.parse(localStorage.getItem(PROVIDER_KEY) ?? 'null'));
		return parsed.success ? parsed.data : { kind: 'mock' };
	} catch {
		return { kind: 'mock' };
	}
}

export function saveProviderSettings(s: ProviderSettings): void {
	localStorage.setItem(PROVIDER_KEY, JSON.stringify(ProviderSettings.parse(s)));
}

/**
 * Ask a Stripe escrow function who it is. Rejects with an EscrowError (nothing saved) when it cannot
 * be reached, answers something else than a Stripe escrow key, or runs in the other mode than the
 * publishable key.
 */
export async function checkStripeFunction(fields: z.infer<typeof StripeFields>, fetcher?: typeof fetch): Promise<ProviderSettings & { kind: 'stripe' }> {
	const info = await new StripeEscrowAdapter({ url: fields.url, fetch: fetcher }).info();
	if (info.id !== 'stripe') throw new EscrowError('invalid-request', `That address answers as escrow provider "${info.id}", not the Stripe Connect escrow function.`);
	const testKey = fields.publishableKey.startsWith('pk_test_');
	if (testKey !== info.testMode)
		throw new EscrowError('invalid-request', info.testMode ? 'The function runs in Stripe TEST MODE but the publishable key is a live key (pk_live_).' : 'The function runs live but the publishable key is a test key (pk_test_).');
	return { kind: 'stripe', url: fields.url, publishableKey: fields.publishableKey, publicKey: info.publicKey, testMode: info.testMode, name: info.name };
}

/** An adapter for a provider this device cannot use: every call fails with this message, nothing moves. */
export function unavailableEscrow(message: string): EscrowAdapter {
	const fail = () => Promise.reject(new EscrowError('unavailable', message));
	return { info: fail, now: fail, quoteFunding: fail, quoteWithdrawal: fail, fund: fail, attest: fail, release: fail, refund: fail, withdraw: fail };
}

const stripeAdapters = new Map<string, StripeEscrowAdapter>();
function stripeAdapter(url: string): StripeEscrowAdapter {
	let a = stripeAdapters.get(url);
	// The card step (Stripe.js Payment Element) supplies the PaymentMethod and finishes 3-D Secure.
	if (!a) stripeAdapters.set(url, (a = new StripeEscrowAdapter({ url, paymentMethod: () => collect(), completePayment })));
	return a;
}

/**
 * The adapter for a contract's provider terms: the mock for 'mock'; for 'stripe', the function saved in
 * Settings when its key is the one the terms name; otherwise an adapter that refuses with a clear message.
 */
export function escrowFor(provider: { id: string; publicKey: string }, settings: ProviderSettings = loadProviderSettings()): EscrowAdapter {
	if (provider.id === 'mock') return escrow;
	if (provider.id === 'stripe') {
		if (settings.kind === 'stripe' && settings.publicKey === provider.publicKey) return stripeAdapter(settings.url);
		let print = provider.publicKey;
		try {
			print = fingerprint(provider.publicKey);
		} catch {
			/* keep the raw key */
		}
		return unavailableEscrow(
			`This contract uses the Stripe Connect escrow function with key fingerprint ${print}, and this device is not set up for it. Add that function in Settings → Escrow provider (compare the fingerprint with the other party).`
		);
	}
	return unavailableEscrow(`This contract uses an escrow provider this app does not know ("${provider.id}"). Nothing can be paid through it here.`);
}

/** The adapter new contracts use: the one chosen in Settings (the mock unless Stripe was set up). */
export function chosenEscrow(settings: ProviderSettings = loadProviderSettings()): EscrowAdapter {
	return settings.kind === 'stripe' ? stripeAdapter(settings.url) : escrow;
}

/**
 * The provider a new contract's terms will name, from the chosen adapter's info(). For Stripe the live
 * key must still be the one pinned in Settings: a changed key is refused rather than silently used.
 */
export async function providerForNewContract(settings: ProviderSettings = loadProviderSettings()): Promise<ProviderInfo> {
	const info = await chosenEscrow(settings).info();
	if (settings.kind === 'stripe' && (info.id !== 'stripe' || info.publicKey !== settings.publicKey))
		throw new EscrowError('invalid-request', 'The Stripe escrow function now answers with a different key than the one saved in Settings. Check it in Settings → Escrow provider before proposing a contract.');
	return info;
}
