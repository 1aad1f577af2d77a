/**
 * The app's live state for Svelte pages: this device (key, name), the contracts it holds, and one
 * open session per contract (its Yjs document persisted in IndexedDB, its peers, a Party to act).
 * Pages read derived state from here and dispatch through `session.party`; they decide nothing.
 */
import * as Y from 'yjs';
import type { DerivedContract } from '../contract/log';
import { snapshot } from '../contract/snapshot';
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

export const escrow: EscrowAdapter = new MockEscrowProvider({ latencyMs: 250 });

class AppState {
	device = $state<Device | undefined>();
	contracts = $state<ContractEntry[]>([]);
	ready = $state(false);
	error = $state<string | undefined>();
}

export const app = new AppState();

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
		cdoc.subscribe((d) => {
			// The fold mutates in place: hand Svelte a fresh snapshot so every page notices the change.
			this.derived = snapshot(d);
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
