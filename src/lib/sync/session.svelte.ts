/**
 * The app's live state for Svelte pages: this device (key, name), the contracts it holds, and one
 * open session per contract (its Yjs document persisted in IndexedDB, its peers, a Party to act).
 * Pages read derived state from here and dispatch through `session.party`; they decide nothing.
 */
import * as Y from 'yjs';
import type { DerivedContract } from '../contract/log';
import { snapshot } from '../contract/snapshot';
import { noticesFor, type Notice } from '../contract/notices';
import { z } from 'zod';
import { PublicKey } from '../contract/schema';
import { EscrowError, type EscrowAdapter, type ProviderInfo } from '../escrow/adapter';
import { MockEscrowProvider } from '../escrow/mock';
import { StripeEscrowAdapter } from '../escrow/stripe';
import { fingerprint } from '../identity/fingerprint';
import { generateKey } from '../identity/ed25519';
import { collect, completePayment } from '../escrow/card-step';
import { ContractDoc } from './contract-doc';
import { getContract, listContracts, loadDevice, outboxStorage, saveContract, saveDevice, type ContractEntry, type Device } from './device-db';
import { retryDelay, type OutboxEntry } from './outbox';
import { Party } from './party';
import type { PeerState, PeerSync } from './peers';
import { persist } from './persistence';
import { loadSettings } from './settings';
import { randomId } from './links';

const CLOCK_KEY = 'milestone.testClockOffsetMs';

/** TEST MODE only: move the mock provider's clock forward, like a payment provider's test clock. */
export function testClockOffset(): number {
	try {
		return Number(localStorage.getItem(CLOCK_KEY) ?? 0) || 0;
	} catch {
		return 0;
	}
}

export function advanceTestClock(ms: number): void {
	localStorage.setItem(CLOCK_KEY, String(testClockOffset() + ms));
}

const FAIL_KEY = 'milestone.testFailNext';

/** TEST MODE only: make the next provider call fail (kept in storage so it survives a reload). */
export function failNextPayment(code: 'declined' | 'unavailable'): void {
	localStorage.setItem(FAIL_KEY, code);
}

const mock = new MockEscrowProvider({ latencyMs: 250, now: () => Date.now() + testClockOffset() });

/** Before each call that moves money, arm a failure the person asked for in Settings. */
function armed<T>(call: () => Promise<T>): Promise<T> {
	const code = localStorage.getItem(FAIL_KEY);
	if (code === 'declined' || code === 'unavailable') {
		localStorage.removeItem(FAIL_KEY);
		mock.failNext(code);
	}
	return call();
}

export const escrow: EscrowAdapter = {
	info: () => mock.info(),
	now: () => mock.now(),
	quoteFunding: (a, c, m) => mock.quoteFunding(a, c, m),
	quoteWithdrawal: (a, c, m) => mock.quoteWithdrawal(a, c, m),
	fund: (r) => armed(() => mock.fund(r)),
	attest: (r) => mock.attest(r),
	record: (r) => mock.record(r),
	release: (r) => armed(() => mock.release(r)),
	refund: (r) => armed(() => mock.refund(r)),
	withdraw: (r) => armed(() => mock.withdraw(r))
};

/*
 * Escrow provider choice. New contracts use the provider chosen in Settings; a contract always uses
 * the provider its accepted terms name (id and key), whatever is chosen later. The Stripe function's
 * receipt key is read from its well-known path when the choice is saved and pinned here, so a
 * contract naming a different key is never sent to this function.
 */
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
export type ProviderSettings = z.infer<typeof ProviderSettings>;

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

/** A contract's adapter, chosen per call from its terms (before the terms exist: the chosen provider). */
function contractEscrow(provider: () => { id: string; publicKey: string } | undefined): EscrowAdapter {
	const pick = () => {
		const p = provider();
		return p ? escrowFor(p) : chosenEscrow();
	};
	return {
		info: () => pick().info(),
		now: () => pick().now(),
		quoteFunding: (a, c, m) => pick().quoteFunding(a, c, m),
		quoteWithdrawal: (a, c, m) => pick().quoteWithdrawal(a, c, m),
		fund: (r) => pick().fund(r),
		attest: (r) => pick().attest(r),
		record: (r) => pick().record?.(r) ?? Promise.resolve([]),
		release: (r) => pick().release(r),
		refund: (r) => pick().refund(r),
		withdraw: (r) => pick().withdraw(r)
	};
}

class AppState {
	/** News from the other parties since this page opened, newest first. */
	notices = $state<Notice[]>([]);
	// Raw, not a deep proxy: the device is written to IndexedDB, which cannot clone proxies.
	device = $state.raw<Device | undefined>();
	contracts = $state.raw<ContractEntry[]>([]);
	ready = $state(false);
	error = $state<string | undefined>();
}

export const app = new AppState();

/** Into the in-app inbox, and through the browser's notifications when the person allowed them. */
function notify(news: Notice[]): void {
	app.notices = [...news.reverse(), ...app.notices].slice(0, 100);
	if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
	for (const n of news) new Notification('Milestone', { body: n.text, tag: n.id });
}

export async function boot(): Promise<void> {
	try {
		app.device = await loadDevice();
		app.contracts = await listContracts();
		// Money intents left pending when the app last closed: open their contracts, which resume them.
		if (app.device)
			void outboxStorage.list().then(
				(pending) => new Set(pending.map((e) => e.contract)).forEach((c) => void openSession(c).catch(() => {})),
				() => {}
			);
	} catch (e) {
		app.error = e instanceof Error ? e.message : String(e);
	} finally {
		app.ready = true;
	}
}

export async function createDevice(name: string): Promise<void> {
	const device: Device = { key: await generateKey(), name: name.trim(), createdAt: Date.now() };
	await saveDevice(device);
	app.device = device;
}

export async function rename(name: string): Promise<void> {
	if (!app.device) return;
	const device = { ...app.device, name: name.trim() };
	await saveDevice(device);
	app.device = device;
}

export async function remember(entry: ContractEntry): Promise<void> {
	const known = await getContract(entry.contract);
	// A link to a contract this device already has opens it; keep the first secret and title.
	if (!known) await saveContract(entry);
	else if (entry.title && entry.title !== known.title) await saveContract({ ...known, title: entry.title });
	app.contracts = await listContracts();
}

/** The secret of a new contract's share link (the contract id itself is the hash of its proposal). */
export function newLinkSecret(): string {
	return randomId(24);
}

export class ContractSession {
	derived = $state.raw<DerivedContract>(undefined as never);
	peer = $state.raw<PeerState>({ status: 'connecting', peers: 0 });
	readonly party: Party;
	/** This device's money intents still waiting for the provider's receipt (its outbox). */
	pending = $state.raw<OutboxEntry[]>([]);
	/** Pending intents the provider refused when asked again: what happened to them, for the page. */
	refused = $state.raw<{ milestone?: string; type: string; message: string }[]>([]);
	/** This contract's escrow provider (from its terms): quotes and provider time come from here too. */
	readonly escrow: EscrowAdapter;
	private readonly peers: PeerSync;
	private retry: ReturnType<typeof setTimeout> | undefined;

	constructor(
		readonly entry: ContractEntry,
		readonly cdoc: ContractDoc,
		device: Device,
		Peers: typeof PeerSync
	) {
		// The provider the contract's terms name, looked up at each call: Settings may change meanwhile.
		this.escrow = contractEscrow(() => cdoc.derived.state.terms?.provider);
		this.party = new Party(device.key, cdoc.log, this.escrow, cdoc.sink, undefined, outboxStorage);
		this.party.outbox.subscribe((entries) => {
			this.pending = entries;
			if (entries.length && !this.retry) this.retryLater();
		});
		let seen = cdoc.derived.state.applied.length;
		cdoc.subscribe((d) => {
			// The fold mutates in place: hand Svelte a fresh snapshot so every page notices the change.
			this.derived = snapshot(d);
			const news = noticesFor(d.state, device.key.publicKey, seen);
			seen = d.state.applied.length;
			if (news.length) notify(news);
			const title = d.state.terms?.title;
			if (title && title !== entry.title) void remember({ ...entry, title });
		});
		this.peers = new Peers(cdoc.doc, entry.secret, loadSettings());
		this.peers.subscribe((s) => (this.peer = s));
		// Opening the contract resumes what this device left pending; so does coming back online.
		void this.resumePending();
		if (typeof window !== 'undefined') window.addEventListener('online', () => void this.resumePending());
	}

	/** Ask the provider again about every pending money intent (same intent ids); again later while any remain. */
	async resumePending(): Promise<void> {
		clearTimeout(this.retry);
		this.retry = undefined;
		try {
			// What this device wrote that the provider has not recorded, and what the provider recorded
			// that never reached this device (the other party may have withheld it).
			await this.party.catchUp();
			const r = await this.party.resume();
			if (r.refused.length)
				this.refused = [...r.refused.map(({ entry, error }) => ({ milestone: entry.milestone, type: entry.type, message: error.message })), ...this.refused];
		} catch {
			// Storage could not be read: what it holds stays there for the next try.
		} finally {
			this.retryLater();
		}
	}

	private retryLater(): void {
		clearTimeout(this.retry);
		this.retry = undefined;
		const left = this.party.pending();
		if (!left.length) return;
		const now = Date.now();
		this.retry = setTimeout(() => void this.resumePending(), Math.min(...left.map((e) => retryDelay(e, now))));
	}

	pause(): void {
		this.peers.pause();
	}

	resume(): void {
		this.peers.resume();
	}
}

const sessions = new Map<string, Promise<ContractSession>>();

export function openSession(contract: string): Promise<ContractSession> {
	let s = sessions.get(contract);
	if (!s) {
		s = (async () => {
			const entry = await getContract(contract);
			if (!entry) throw new Error('This device does not hold that contract. Open its share link to join it.');
			if (!app.device) throw new Error('Set up this device first.');
			const doc = new Y.Doc();
			// WebRTC (y-webrtc, simple-peer) loads with the first contract, not with the first page.
			const [{ PeerSync: Peers }] = await Promise.all([import('./peers'), persist(`milestone-contract-${contract}`, doc)]);
			const cdoc = new ContractDoc(contract, doc);
			await cdoc.settled();
			return new ContractSession(entry, cdoc, app.device, Peers);
		})();
		s.catch(() => sessions.delete(contract));
		sessions.set(contract, s);
	}
	return s;
}
