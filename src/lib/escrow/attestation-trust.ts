/**
 * Which completion attestations a viewer trusts: only those signed by a provider this person set up
 * (Settings → Escrow provider: the Stripe function's pinned key), and the TEST MODE mock's, labelled
 * as such — its key is published, so anyone can sign "TEST MODE" attestations: they prove nothing.
 * A key the viewer never configured is somebody's claim about money, never proof of it.
 */
import { fingerprint } from '../identity/fingerprint';
import { isTestModeKey, type ProviderChoice } from './provider-trust';

export interface TrustedProvider {
	publicKey: string;
	name: string;
	testMode: boolean;
}

/** The providers this person set up (the Stripe function in Settings, if any); the TEST MODE key is judged apart. */
export function trustedProviders(choice: ProviderChoice): TrustedProvider[] {
	return choice.kind === 'stripe' ? [{ publicKey: choice.publicKey, name: choice.name || 'Stripe Connect escrow', testMode: choice.testMode }] : [];
}

export type ProviderTrust =
	| { trusted: true; name: string; testMode: boolean }
	| { trusted: false; reason: string };

export function judgeAttestationProvider(key: string, trusted: readonly TrustedProvider[]): ProviderTrust {
	// Derived from the key, never from a label: the published TEST MODE key is always TEST MODE.
	if (isTestModeKey(key)) return { trusted: true, name: 'Mock escrow provider (TEST MODE)', testMode: true };
	const p = trusted.find((t) => t.publicKey === key);
	if (p) return { trusted: true, name: p.name, testMode: p.testMode };
	let print = key;
	try {
		print = fingerprint(key);
	} catch {
		/* keep the raw key */
	}
	return { trusted: false, reason: `The attestation is signed by an escrow provider you have not set up (key fingerprint ${print}). Only providers in Settings → Escrow provider are trusted.` };
}
