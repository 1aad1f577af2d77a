/**
 * Which escrow provider a person may accept a contract with. The proposer writes the provider's key
 * into the terms, so a proposer could name a key of its own and sign its own "funded" receipts, or
 * label the published TEST MODE key as real money. Before accepting, the app therefore accepts only:
 * - the published TEST MODE key, marked as test mode; or
 * - the key of a Stripe escrow function whose URL this person entered in their own Settings (read
 *   from its /.well-known/escrow-key when saved).
 * Whether money is real is derived from the key, never from the proposer's flag.
 */
import { fingerprint } from '../identity/fingerprint';
import { TEST_MODE_KEY } from './mock';

export interface ProviderTermsLike {
	id: string;
	publicKey: string;
	testMode: boolean;
}

/** The escrow provider this person set up in Settings (what session.svelte.ts stores). */
export type ProviderChoice = { kind: 'mock' } | { kind: 'stripe'; publicKey: string; testMode: boolean; name: string };

export type ProviderVerdict =
	| { ok: true; name: string; testMode: boolean; fingerprint: string }
	| { ok: false; reason: string; fingerprint: string };

export function isTestModeKey(publicKey: string): boolean {
	return publicKey === TEST_MODE_KEY.publicKey;
}

function printOf(publicKey: string): string {
	try {
		return fingerprint(publicKey);
	} catch {
		return publicKey;
	}
}

export function judgeProvider(p: ProviderTermsLike, mine: ProviderChoice): ProviderVerdict {
	const print = printOf(p.publicKey);
	if (isTestModeKey(p.publicKey)) {
		if (!p.testMode || p.id !== 'mock')
			return { ok: false, fingerprint: print, reason: 'The terms present the published TEST MODE key as a real escrow provider. Anyone can sign with that key: do not accept.' };
		return { ok: true, name: 'Mock escrow provider (TEST MODE)', testMode: true, fingerprint: print };
	}
	if (mine.kind === 'stripe' && p.id === 'stripe' && mine.publicKey === p.publicKey)
		return { ok: true, name: mine.name || 'Stripe Connect escrow', testMode: mine.testMode, fingerprint: print };
	return {
		ok: false,
		fingerprint: print,
		reason:
			'This contract names an escrow provider this device does not know. Money would move only on receipts signed with its key, so accept only a provider you set up yourself: enter its function URL in Settings → Escrow provider and compare its fingerprint with the one shown here.'
	};
}
