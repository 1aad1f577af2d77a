/**
 * One open contract: its Yjs document persisted in IndexedDB, its peers, its relays (sync later,
 * relay-sync.ts), a Party to act, and its escrow provider with that provider's clock (real time;
 * for the TEST MODE mock, real time plus the contract's shared test clock offset). Pages read
 * derived state from here and dispatch through `session.party`; they decide nothing.
 */
import type { IndexeddbPersistence } from 'y-indexeddb';
import { nextDisputeDeadline } from '../contract/dispute-affordances';
import type { DerivedContract } from '../contract/log';
import { noticesFor, type Notice } from '../contract/notices';
import { snapshot } from '../contract/snapshot';
import { isTestModeContract, testClockOffset, testModeNow } from '../contract/testclock';
import { DAY_MS, type ContractState } from '../contract/state';
import type { EscrowAdapter } from '../escrow/adapter';
import { app, notify, NOTICES_KEPT, remember, unlist } from './app-state.svelte';
import type { ContractDoc } from './contract-doc';
import { AUTO_SETTLE_RETRY_MS, settleDueDisputes } from './dispute-actions';
import { getContract, identityKeyOf, listContracts, loadDevice, outboxStorage, relayCursorStorage, relayQueue, saveContract, type ContractEntry, type Device } from './device-db';
import { forwardEscrow } from './forward-escrow';
import { retryDelay, type OutboxEntry } from './outbox';
import { Party } from './party';
import type { PeerState, PeerSync } from './peers';
import { chosenEscrow, escrowFor } from './provider-choice';
import type { RelayPool, RelaySync, RelaySyncState } from './relay-sync';
import { contractRelays, loadSettings } from './settings';
import { testModeEscrow } from './test-mode';

/** How long a link's contract may take to arrive before the page says it was not found. */
const NOT_FOUND_AFTER_MS = 20_000;
const NOT_FOUND_KEY = 'milestone.notFoundAfterMs';

/** NOT_FOUND_AFTER_MS, unless a test stored a shorter wait under NOT_FOUND_KEY. */
function notFoundAfterMs(): number {
	try {
		const ms = Number(localStorage.getItem(NOT_FOUND_KEY));
		return Number.isInteger(ms) && ms > 0 ? ms : NOT_FOUND_AFTER_MS;
	} catch {
		return NOT_FOUND_AFTER_MS;
	}
}

/** A relay catch-up held back for a peer's first sync waits at most this long for the page to show what came (see `shown`). */
const SHOWN_MAX_MS = 2000;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Once the page has painted what changed and the thread is free (at most a second later). */
const afterPaint = (): Promise<void> =>
	new Promise((resolve) => (typeof requestIdleCallback === 'function' ? requestIdleCallback(() => resolve(), { timeout: 1000 }) : setTimeout(resolve, 0)));

/**
 * The other party's news in the events from `from` on, as far back as the list of news keeps: a
 * first sync of a long history (thousands of events at once) reads its end, not all of it.
 */
function newsSince(s: ContractState, me: string, from: number): Notice[] {
	for (let back = NOTICES_KEPT; ; back *= 4) {
		const start = Math.max(from, s.applied.length - back);
		const news = noticesFor(s, me, start);
		if (start === from || news.length >= NOTICES_KEPT) return news;
	}
}

/** Once the page has painted what changed (a tenth of a second at most: a hidden page paints nothing). */
const afterFrame = (): Promise<void> =>
	new Promise((resolve) => {
		const timer = setTimeout(resolve, 100);
		if (typeof requestAnimationFrame === 'function')
			requestAnimationFrame(() =>
				setTimeout(() => {
					clearTimeout(timer);
					resolve();
				}, 0)
			);
	});

const contractDb = (contract: string) => `milestone-contract-${contract}`;

/** One connection per relay for every contract open in this page (relay code loads with the first contract). */
let relayPool: RelayPool | undefined;

export class ContractSession {
	derived = $state.raw<DerivedContract>(undefined as never);
	peer = $state.raw<PeerState>({ status: 'connecting', peers: 0 });
	/** The relay channel: reachable or not, what waits to upload, last pull, catch-up progress. */
	relay = $state.raw<RelaySyncState>({ relays: [], paused: false, offline: false, queueing: false });
	/** Still no contract this long after opening: the link is damaged or the other party unreachable. */
	missing = $state(false);
	readonly party: Party;
	/** This device's money intents still waiting for the provider's receipt (its outbox). */
	pending = $state.raw<OutboxEntry[]>([]);
	/** Pending intents the provider refused when asked again: what happened to them, for the page. */
	refused = $state.raw<{ milestone?: string; type: string; message: string }[]>([]);
	/** This contract's escrow provider (from its terms): quotes and provider time come from here too. */
	readonly escrow: EscrowAdapter;
	private readonly peers: PeerSync;
	/** Sync later: this contract's events through its relays (entry.relays). */
	readonly relaySync: RelaySync;
	private retry: ReturnType<typeof setTimeout> | undefined;
	/** The next dispute deadline: a due outcome is paid out then (settleDue). */
	private disputeTimer: ReturnType<typeof setTimeout> | undefined;
	/** When this session last submitted each dispute's due outcome (settleDueDisputes: once, again only after a refusal's pause). */
	private readonly autoSettled = new Map<string, number>();
	private settling: Promise<void> | undefined;
	private settleAgain = false;
	private readonly me: string | undefined;
	private notFound: ReturnType<typeof setTimeout> | undefined;
	private readonly onOnline = () => void this.resumePending();
	private showing?: () => void;
	/** Resolves once a page has drawn this contract (`shown`). */
	private readonly onPage = new Promise<void>((resolve) => (this.showing = resolve));

	constructor(
		readonly entry: ContractEntry,
		readonly cdoc: ContractDoc,
		device: Device,
		Peers: typeof PeerSync,
		Relay: typeof import('./relay-sync'),
		private readonly persistence?: IndexeddbPersistence
	) {
		// The log the party writes to: read at each call, so a clock step counts from the next call on.
		const state = () => cdoc.log.derive().state;
		const mock = testModeEscrow(() => testClockOffset(state()));
		// The provider the contract's terms name, looked up at each call: Settings may change meanwhile.
		this.escrow = forwardEscrow(() => {
			const provider = state().terms?.provider;
			if (!provider) return chosenEscrow();
			return provider.id === 'mock' ? mock : escrowFor(provider);
		});
		// Before anything writes: every event written from here on is queued for the relays.
		this.relaySync = new Relay.RelaySync({
			cdoc,
			secret: entry.secret,
			relays: entry.relays ?? [],
			pool: (relayPool ??= new Relay.RelayPool()),
			queue: relayQueue,
			cursors: relayCursorStorage,
			// A relay new to this contract gets its past once the page is open and peers had their turn.
			seedAfterMs: 10_000
		});
		this.relaySync.subscribe((s) => (this.relay = s));
		void this.relaySync.start();
		this.me = identityKeyOf(device);
		// The document is the one place it writes; its outbox stays on this device.
		this.party = new Party(device.key, cdoc, this.escrow, undefined, outboxStorage);
		// A device added to an identity (Settings → Devices) signs as that identity's certified device.
		if (device.acting) void this.party.actAs(device.acting.certificate).catch((e) => (app.error = e instanceof Error ? e.message : String(e)));
		this.party.outbox.subscribe((entries) => {
			this.pending = entries;
			if (entries.length && !this.retry) this.retryLater();
		});
		let seen = cdoc.derived.state.applied.length;
		// What tests/bench/sync.ts reads: when events from elsewhere were first verified and folded here.
		let folded = false;
		let offset = testClockOffset(cdoc.derived.state);
		cdoc.subscribe((d) => {
			// A TEST MODE clock step (from either party) may make a pending bank debit due: ask again now.
			const moved = testClockOffset(d.state);
			const changed = moved !== offset || d.state.applied.length !== seen;
			if (!folded && d.state.applied.length > seen) {
				folded = true;
				performance.mark?.('sync:folded');
			}
			if (moved !== offset) {
				offset = moved;
				if (this.party?.pending().length) void this.resumePending();
			}
			// The fold mutates in place: hand Svelte a fresh snapshot so every page notices the change.
			this.derived = snapshot(d);
			// A dispute step or a clock step may have made a dispute's outcome due (or moved its deadline).
			if (this.party && changed && [...d.state.disputes.values()].some((x) => !x.settlement)) void this.settleDue();
			const news = newsSince(d.state, identityKeyOf(device)!, seen);
			seen = d.state.applied.length;
			if (news.length) notify(news);
			if (d.state.status !== 'empty') {
				clearTimeout(this.notFound);
				this.missing = false;
			}
			const title = d.state.terms?.title;
			if (title && title !== entry.title) void remember({ ...entry, title });
		});
		if (cdoc.derived.state.status === 'empty') this.notFound = setTimeout(() => (this.missing = this.derived.state.status === 'empty'), notFoundAfterMs());
		/** Once what came is verified, folded and on the page (or a moment later), and the thread is free. */
		const shownAndPainted = () =>
			cdoc
				.settled()
				.then(() => Promise.race([this.onPage, delay(SHOWN_MAX_MS)]))
				.then(afterPaint);
		// A peer's first sync is written to IndexedDB once it is drawn, not on the way (peers.ts, storeFirstSyncLater).
		const drawn = () =>
			cdoc
				.settled()
				.then(() => Promise.race([this.onPage, delay(SHOWN_MAX_MS)]))
				.then(afterFrame);
		this.peers = new Peers(cdoc.doc, entry.secret, loadSettings(), { storeAfter: drawn });
		// A relay catch-up waits while a peer's first sync brings the same events (or one the
		// signaling server says is in the room is about to), and then until they are shown: its own
		// work on them (tagging what is held) would otherwise come first, on the same thread.
		this.relaySync.deferTo(() => {
			performance.mark?.('sync:relay-asks');
			const peer = this.peers.settled();
			return peer && peer.then(shownAndPainted);
		});
		this.peers.subscribe((s) => (this.peer = s));
		// Opening the contract resumes what this device left pending; so does coming back online.
		// Then (the provider's record taken in) a dispute outcome a deadline made due is paid out.
		void this.resumePending().then(() => this.settleDue());
		if (typeof window !== 'undefined') window.addEventListener('online', this.onOnline);
	}

	/** A page has drawn this contract with its terms: a relay catch-up held back for a peer's first sync may go on (see the constructor). */
	shown(): void {
		this.showing?.();
	}

	/**
	 * Provider time for this contract now, as this device reckons it without asking: real time, plus
	 * the shared TEST MODE offset when the provider is the mock. (`escrow.now()` asks the provider.)
	 */
	now(): number {
		// Never behind the latest time the provider signed: its clock has reached at least that.
		return Math.max(testModeNow(this.derived.state, Date.now()), this.derived.state.providerNow);
	}

	/** TEST MODE: move this contract's provider clock forward by whole days, for both parties. */
	async advanceTestClock(days: number): Promise<void> {
		await this.party.act('testmode.clockAdvanced', { ms: days * DAY_MS });
	}

	/** TEST MODE: back to real time (the rules refuse once the provider signed on the advanced clock). */
	async resetTestClock(): Promise<void> {
		await this.party.act('testmode.clockReset', {});
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

	/**
	 * Issue 12: pay out every dispute outcome the rules say is due now (silence past the answer
	 * deadline, no mediator agreed, a late ruling), on this person's behalf, then wait for the next
	 * deadline. The provider judges it on its record and clock (sync/dispute-actions.ts).
	 */
	async settleDue(): Promise<void> {
		if (this.settling) {
			this.settleAgain = true;
			return this.settling;
		}
		this.settling = (async () => {
			let refused = false;
			try {
				do {
					this.settleAgain = false;
					const done = await settleDueDisputes(this, this.me, this.now(), this.autoSettled).catch(() => []);
					refused ||= done.some((r) => r.result === 'refused');
				} while (this.settleAgain);
			} finally {
				this.settling = undefined;
				this.scheduleDisputeDeadline(refused);
			}
		})();
		return this.settling;
	}

	/** Wake at the next dispute deadline, or sooner to submit again an outcome the provider refused (its clock was behind). */
	private scheduleDisputeDeadline(refused: boolean): void {
		clearTimeout(this.disputeTimer);
		this.disputeTimer = undefined;
		const now = this.now();
		const next = nextDisputeDeadline(this.cdoc.log.derive().state, now);
		// Real time runs at the provider clock's pace (a TEST MODE step is a log change, which calls settleDue).
		const waits = [...(next !== undefined ? [next - now + 1_000] : []), ...(refused ? [AUTO_SETTLE_RETRY_MS + 1_000] : [])];
		if (waits.length) this.disputeTimer = setTimeout(() => void this.settleDue(), Math.min(...waits, 2 ** 31 - 1));
	}

	private retryLater(): void {
		clearTimeout(this.retry);
		this.retry = undefined;
		const left = this.party.pending();
		if (!left.length) return;
		// Provider time: a processing debit's expected date is on the provider's (TEST MODE: shifted) clock.
		const now = this.now();
		this.retry = setTimeout(() => void this.resumePending(), Math.min(...left.map((e) => retryDelay(e, now))));
	}

	/** The relays this contract uses (what its share link names). */
	get relays(): string[] {
		return this.relaySync.relays;
	}

	pause(): void {
		this.peers.pause();
		this.relaySync.pause();
	}

	resume(): void {
		this.peers.resume();
		this.relaySync.resume();
	}

	/** Stop syncing and let go of the stored document (before the contract is removed). */
	async close(): Promise<void> {
		clearTimeout(this.retry);
		clearTimeout(this.notFound);
		clearTimeout(this.disputeTimer);
		this.retry = this.notFound = this.disputeTimer = undefined;
		if (typeof window !== 'undefined') window.removeEventListener('online', this.onOnline);
		this.peers.destroy();
		await this.relaySync.stop();
		await this.persistence?.destroy();
		this.cdoc.doc.destroy();
	}
}

const sessions = new Map<string, Promise<ContractSession>>();

export function openSession(contract: string): Promise<ContractSession> {
	let s = sessions.get(contract);
	if (!s) {
		s = (async () => {
			performance.mark?.('sync:session-open');
			const stored = await getContract(contract);
			if (!stored) throw new Error('This device does not hold that contract. Open its share link to join it.');
			// The link's relays and this device's; kept with the contract, so a relay removed from
			// Settings later still serves the contracts that already use it.
			const relays = contractRelays(stored.relays);
			const entry = relays.join('\n') === (stored.relays ?? []).join('\n') ? stored : { ...stored, relays };
			if (entry !== stored) await saveContract(entry).catch(() => {});
			if (!app.device) throw new Error('Set up this device first.');
			// The document (Yjs, its IndexedDB store, the log), WebRTC (y-webrtc, simple-peer) and the relay
			// client load with the first contract, not with the first page.
			const network = Promise.all([import('./peers'), import('./relay-sync')]);
			network.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
			const [Y, { ContractDoc }, { persist }] = await Promise.all([import('yjs'), import('./contract-doc'), import('./persistence')]);
			const doc = new Y.Doc();
			const [[{ PeerSync: Peers }, Relay], persistence] = await Promise.all([network, persist(contractDb(contract), doc, undefined, contract)]);
			performance.mark?.('sync:document-loaded');
			const cdoc = new ContractDoc(contract, doc);
			await cdoc.settled();
			const session = new ContractSession(entry, cdoc, app.device, Peers, Relay, persistence);
			if (sessions.get(contract) === s) app.sessions = { ...app.sessions, [contract]: session };
			return session;
		})();
		s.catch(() => sessions.delete(contract));
		sessions.set(contract, s);
		firstOpen ??= s.then(
			() => undefined,
			() => undefined
		);
	}
	return s;
}

/**
 * Remove a contract from this device: its entry, its session and its stored document. The other
 * party and the provider keep theirs. Refused while a payment of this device still waits for the
 * provider's answer (its outbox must be asked again, or money could be lost track of).
 */
export async function forgetContract(contract: string): Promise<void> {
	if ((await outboxStorage.list(contract)).length)
		throw new Error('A payment on this contract is still waiting for the escrow provider’s answer. It can be removed once that payment is settled.');
	const open = sessions.get(contract);
	sessions.delete(contract);
	const session = await open?.catch(() => undefined);
	// Nothing of it stays queued for a relay, and its cursors go too.
	await session?.relaySync.forget();
	await session?.close();
	await unlist(contract);
	await (await import('y-indexeddb')).clearDocument(contractDb(contract));
}

/** Resolves once the first session a page asked for has opened (or failed). */
let firstOpen: Promise<void> | undefined;

/**
 * Start the app: this device and its contracts. Every contract is opened — what the Inbox count
 * derives from, and money intents left pending resume there — but after the contract the page
 * itself opens, so the page does not wait for the others.
 */
export async function boot(): Promise<void> {
	try {
		app.device = await loadDevice();
		app.contracts = await listContracts();
		if (app.device) {
			const pageFirst = new Promise<void>((resolve) => setTimeout(() => void (firstOpen ?? Promise.resolve()).then(resolve), 1000));
			void pageFirst.then(() => app.contracts.forEach((c) => void openSession(c.contract).catch(() => {})));
		}
	} catch (e) {
		app.error = e instanceof Error ? e.message : String(e);
	} finally {
		app.ready = true;
	}
}

/** The largest TEST MODE offset among the open contracts (Settings' former per-browser clock). */
export function testClockOffsetOfOpen(): number {
	return Math.max(0, ...Object.values(app.sessions).map((s) => testClockOffset(s.derived.state)));
}

/**
 * Settings' TEST MODE control: move the clock of every TEST MODE contract this device is a party to,
 * for both parties. The clock is a contract's now; its page has the same control for it alone.
 */
export async function advanceAllTestClocks(ms: number): Promise<void> {
	for (const c of app.contracts) {
		const session = await openSession(c.contract).catch(() => undefined);
		if (!session || !isTestModeContract(session.cdoc.log.derive().state)) continue;
		if (session.party.ask('testmode.clockAdvanced', { ms }) === null) await session.party.act('testmode.clockAdvanced', { ms });
	}
}
