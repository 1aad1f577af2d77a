/**
 * The app's side of the work history: this person's profile kept in this browser (name, headline,
 * links, the references others wrote about them), writing a reference on an ended contract with the
 * escrow provider's completion attestation, and what a viewer trusts (its Settings, its address book).
 * The rules are in identity/reference.ts, identity/profile.ts and escrow/attestation.ts.
 */
import { testClockOffset } from '../contract/testclock';
import type { ContractLog } from '../contract/log';
import { toBase64url, utf8 } from '../contract/encoding';
import { EscrowError } from '../escrow/adapter';
import { COMPLETION_PATH, completionRequestMessage, readAttestation } from '../escrow/attestation';
import { trustedProviders } from '../escrow/attestation-trust';
import { MockEscrowProvider } from '../escrow/mock';
import { parseAddressBook } from '../identity/address-book';
import { signSync, type DeviceKey } from '../identity/ed25519';
import { issueReference, type ReferenceEntry, type VerifyContext } from '../identity/reference';
import { fieldErrors, fitProfile, makeProfile, MAX_ATTACHED_PROFILE_BYTES, type ProfileFields } from '../identity/profile';
import type { SignedStatement } from '../identity/statement';
import type { Device } from './device-db';
import { loadProviderSettings } from './provider-choice';

const PROFILE_KEY = 'milestone.profile';
/** The address book's storage key (ui/verified.svelte.ts keeps it; read-only here). */
const ADDRESS_BOOK_KEY = 'milestone.addressBook';

export interface MyProfile {
	fields: ProfileFields;
	references: ReferenceEntry[];
	/** Attach the profile to every contract this person proposes (the other party sees it before accepting). */
	attach?: boolean;
}

export function loadMyProfile(fallbackName = ''): MyProfile {
	try {
		const raw = JSON.parse(localStorage.getItem(PROFILE_KEY) ?? 'null') as Partial<MyProfile> | null;
		const f = raw?.fields;
		return {
			fields: {
				name: typeof f?.name === 'string' ? f.name : fallbackName,
				headline: typeof f?.headline === 'string' ? f.headline : '',
				links: Array.isArray(f?.links) ? f.links.filter((l) => typeof l === 'string') : [],
				proofs: Array.isArray(f?.proofs) ? f.proofs.filter((p) => typeof p?.link === 'string' && typeof p?.gist === 'string') : []
			},
			references: Array.isArray(raw?.references) ? raw.references : [],
			attach: raw?.attach === true
		};
	} catch {
		return { fields: { name: fallbackName, headline: '', links: [] }, references: [] };
	}
}

export function saveMyProfile(p: MyProfile): void {
	localStorage.setItem(PROFILE_KEY, JSON.stringify(p));
}

/** What this viewer trusts: the escrow provider set up in Settings (TEST MODE always, labelled) and its address book. */
export function viewerContext(): Omit<VerifyContext, 'owner'> {
	let book = parseAddressBook(null);
	try {
		book = parseAddressBook(localStorage.getItem(ADDRESS_BOOK_KEY));
	} catch {
		/* no storage: nobody verified */
	}
	const settings = loadProviderSettings();
	return { trusted: trustedProviders(settings.kind === 'stripe' ? { kind: 'stripe', publicKey: settings.publicKey, testMode: settings.testMode, name: settings.name } : { kind: 'mock' }), book };
}

/** Ask the contract's escrow provider for its completion attestation, signed by this device's key. */
export async function requestAttestation(log: ContractLog, key: DeviceKey): Promise<SignedStatement> {
	const s = log.derive().state;
	const provider = s.terms?.provider;
	if (!provider) throw new EscrowError('invalid-request', 'The contract has no terms yet.');
	const nonce = toBase64url(crypto.getRandomValues(new Uint8Array(18)));
	if (provider.id === 'mock') {
		// The TEST MODE mock on the contract's shared test clock; it reads what this device holds.
		const now = () => Date.now() + testClockOffset(s);
		const mock = new MockEscrowProvider({ now });
		const at = now();
		const signature = signSync(key, utf8.encode(completionRequestMessage(s.contract, key.publicKey, at, nonce)));
		return mock.completion({ contract: s.contract, publicKey: key.publicKey, at, nonce, signature, log: log.authenticEnvelopes().map(([, e]) => e) });
	}
	const settings = loadProviderSettings();
	if (settings.kind !== 'stripe' || settings.publicKey !== provider.publicKey)
		throw new EscrowError('invalid-request', 'This contract’s escrow provider is not the one set up in Settings → Escrow provider, so this device cannot ask it.');
	const at = Date.now();
	const signature = signSync(key, utf8.encode(completionRequestMessage(s.contract, key.publicKey, at, nonce)));
	const res = await fetch(settings.url + COMPLETION_PATH, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ contract: s.contract, publicKey: key.publicKey, at, nonce, signature })
	}).catch(() => {
		throw new EscrowError('unavailable', 'The escrow provider could not be reached.');
	});
	const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
	if (!res.ok) throw new EscrowError(res.status === 403 ? 'not-authorised' : 'invalid-request', body.message ?? `The escrow provider answered ${res.status}.`);
	const read = readAttestation(body);
	if (!read.ok || read.body.provider !== provider.publicKey) throw new EscrowError('invalid-request', 'The escrow provider answered with something that is not its attestation.');
	return body as SignedStatement;
}

/**
 * A reference about the other party of this ended contract, with the provider's attestation when it
 * answers (without one the reference is still signed, and says nothing about money).
 */
export async function writeReference(log: ContractLog, device: Device): Promise<{ entry: ReferenceEntry; attestationError?: string }> {
	const reference = issueReference(log.derive().state, device.key, Date.now(), device.acting?.certificate);
	try {
		return { entry: { reference, attestation: await requestAttestation(log, device.key) } };
	} catch (e) {
		return { entry: { reference }, attestationError: e instanceof Error ? e.message : String(e) };
	}
}

export function referenceFileName(otherName: string, at = Date.now()): string {
	const slug = otherName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'reference';
	return `milestone-reference-${slug}-${new Date(at).toISOString().slice(0, 10)}.json`;
}

/**
 * What a new proposal carries of this person's profile: nothing unless they chose to attach it; then
 * the signed profile, cut to the size a proposal can hold (newest references first).
 */
export function attachedProfile(device: Device): { profile?: string } {
	const mine = loadMyProfile(device.name);
	if (!mine.attach || Object.keys(fieldErrors(mine.fields)).length) return {};
	const file = fitProfile(makeProfile(device.key, mine.fields, mine.references, Date.now(), device.acting?.certificate), MAX_ATTACHED_PROFILE_BYTES - 512);
	return file ? { profile: JSON.stringify(file) } : {};
}
