/**
 * The app's live state for Svelte pages: this device (key, name), the contracts it holds, and one
 * open session per contract (its Yjs document persisted in IndexedDB, its peers, a Party to act).
 * Pages read derived state from here and dispatch through `session.party`; they decide nothing.
 */
import * as Y from 'yjs';
import type { DerivedContract } from '../contract/log';
import { snapshot } from '../contract/snapshot';
import { noticesFor, type Notice } from '../contract/notices';
import type { EscrowAdapter } from '../escrow/adapter';
import { MockEscrowProvider } from '../escrow/mock';
import { generateKey } from '../identity/ed25519';
import { ContractDoc } from './contract-doc';
import { getContract, listContracts, loadDevice, saveContract, saveDevice, type ContractEntry, type Device } from './device-db';
import { Party } from './party';
import { PeerSync, type PeerState } from './peers';
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
	release: (r) => armed(() => mock.release(r)),
	refund: (r) => armed(() => mock.refund(r)),
	withdraw: (r) => armed(() => mock.withdraw(r))
};

class AppState {
	/** News from the other parties since this page opened, newest first. */
	notices = $state<Notice[]>([]);
	device = $state<Device | undefined>();
	contracts = $state<ContractEntry[]>([]);
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

export function newContractIds(): { contract: string; secret: string } {
	return { contract: randomId(16), secret: randomId(24) };
}

export class ContractSession {
	derived = $state.raw<DerivedContract>(undefined as never);
	peer = $state.raw<PeerState>({ status: 'connecting', peers: 0 });
	readonly party: Party;
	private readonly peers: PeerSync;

	constructor(
		readonly entry: ContractEntry,
		readonly cdoc: ContractDoc,
		device: Device
	) {
		this.party = new Party(device.key, cdoc.log, escrow, cdoc.sink);
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
		this.peers = new PeerSync(cdoc.doc, entry.secret, loadSettings());
		this.peers.subscribe((s) => (this.peer = s));
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
			await persist(`milestone-contract-${contract}`, doc);
			const cdoc = new ContractDoc(contract, doc);
			await cdoc.settled();
			return new ContractSession(entry, cdoc, app.device);
		})();
		s.catch(() => sessions.delete(contract));
		sessions.set(contract, s);
	}
	return s;
}
