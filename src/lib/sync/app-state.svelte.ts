/**
 * The app's live state for Svelte pages: this device (key, name), the contracts it holds, and the
 * contract sessions open in this page. What needs the person's attention is derived from those
 * sessions (inbox.ts), never stored.
 */
import type { Notice } from '../contract/notices';
import { generateKey } from '../identity/ed25519';
import { getContract, listContracts, removeContract, saveContract, saveDevice, type ContractEntry, type Device } from './device-db';
import { randomId } from './links';
import type { ContractSession } from './contract-session.svelte';

class AppState {
	/** News from the other parties since this page opened, newest first (what browser notifications show). */
	notices = $state<Notice[]>([]);
	// Raw, not a deep proxy: the device is written to IndexedDB, which cannot clone proxies.
	device = $state.raw<Device | undefined>();
	contracts = $state.raw<ContractEntry[]>([]);
	/** The contract sessions open in this page, by contract id: what the Inbox and its count read. */
	sessions = $state.raw<Record<string, ContractSession>>({});
	ready = $state(false);
	error = $state<string | undefined>();
}

export const app = new AppState();

/** How many of the newest notices the list of news keeps. */
export const NOTICES_KEPT = 100;

/** Into the list of news, and through the browser's notifications when the person allowed them. */
export function notify(news: Notice[]): void {
	app.notices = [...news.reverse(), ...app.notices].slice(0, NOTICES_KEPT);
	if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
	for (const n of news) new Notification('Milestone', { body: n.text, tag: n.id });
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
	// A link naming relays this device does not use for the contract yet adds them (the session opens them).
	else if (entry.relays?.some((r) => !known.relays?.includes(r))) await saveContract({ ...known, relays: [...new Set([...(known.relays ?? []), ...entry.relays])] });
	app.contracts = await listContracts();
}

/** Drop a contract from this device's list (its session and stored document go in contract-session). */
export async function unlist(contract: string): Promise<void> {
	await removeContract(contract);
	app.contracts = await listContracts();
	if (app.sessions[contract]) {
		const { [contract]: _gone, ...rest } = app.sessions;
		app.sessions = rest;
	}
}

/** The secret of a new contract's share link (the contract id itself is the hash of its proposal). */
export function newLinkSecret(): string {
	return randomId(24);
}
