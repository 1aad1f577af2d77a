/**
 * Sync later (relay-sync.ts) against a real Node relay started here: two devices that are never
 * running at the same time converge through it; what each writes waits in its queue until a relay
 * acknowledges it (across a restart of the device and of the relay); pulls start from the stored
 * cursor; what arrives goes through the same verification and fold as a peer's update; pause and
 * offline stop the flow; a long catch-up reports progress; a second relay covers for a missing one;
 * a gap in an author's chain is named.
 */
import type { SignedEvent } from '../../../src/lib/identity/sign-event';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { nameOf } from '../../../src/lib/contract/proposal';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { signSync, type DeviceKey } from '../../../src/lib/identity/ed25519';
import { ContractDoc } from '../../../src/lib/sync/contract-doc';
import { parseJoinLink, randomId, shareLink } from '../../../src/lib/sync/links';
import { contractRelays } from '../../../src/lib/sync/settings';
import { Party } from '../../../src/lib/sync/party';
import { deriveRelayKeys, encryptBundle, itemTag, RelayClient, type SocketFactory, type SocketLike } from '../../../src/lib/sync/relay-client';
import { hashBody } from '../../../src/lib/contract/envelope';
import { MemoryUploadQueue } from '../../../src/lib/sync/relay-queue';
import { MemoryCursorStore, missingEarlier, RELAY_ORIGIN, RelayPool, RelaySync, type RelaySyncState } from '../../../src/lib/sync/relay-sync';
import { decodeItemsFrame, DEFAULT_LIMITS, encodeItemsFrame, openProof, type FramedItem, type RelayLimits, type RelayMessage } from '../../../src/relay/protocol';
import { fromBase64url } from '../../../src/lib/contract/encoding';
import { concatBytes } from '@noble/hashes/utils.js';
import { startRelay, type RunningRelay } from '../../../src/relay/node';
import { envelope as junkEnvelope, RawConnection, type RelayTarget } from '../../relay/harness';
import { CLIENT, FREELANCER, terms } from '../../support/world';

/** A relay on its own port and data folder, which a test can stop and start again. */
class Relay {
	readonly dir = mkdtempSync(join(tmpdir(), 'relay-sync-'));
	relay?: RunningRelay;
	port = 0;
	constructor(private readonly limits: Partial<RelayLimits> = {}) {}
	get url(): string {
		return `ws://127.0.0.1:${this.port}`;
	}
	async start(): Promise<this> {
		this.relay = await startRelay({ port: this.port, dataDir: this.dir, limits: { ...DEFAULT_LIMITS, ...this.limits }, trustProxy: true });
		this.port = this.relay.port;
		return this;
	}
	async stop(): Promise<void> {
		await this.relay?.close();
		this.relay = undefined;
	}
	async dispose(): Promise<void> {
		await this.stop();
		rmSync(this.dir, { recursive: true, force: true });
	}
}

let addresses = 0;
/** Each simulated device connects from its own address, as two people's devices would. */
function socketFrom(): SocketFactory {
	const address = `198.19.${Math.floor(++addresses / 250)}.${(addresses % 250) + 1}`;
	return (url) => new WebSocket(url, { headers: { 'x-forwarded-for': address } }) as unknown as ReturnType<SocketFactory>;
}

/** A socket whose binary frames pass through `lie` first: a relay that rewrites what it serves. */
function lyingSocket(inner: SocketLike, lie: (bytes: Uint8Array) => Uint8Array): SocketLike {
	const outer: SocketLike = {
		get readyState() {
			return inner.readyState;
		},
		set binaryType(v: string) {
			inner.binaryType = v;
		},
		send: (d) => inner.send(d),
		close: (code, reason) => inner.close(code, reason),
		onopen: null,
		onmessage: null,
		onclose: null,
		onerror: null
	};
	inner.onopen = (e) => outer.onopen?.(e);
	inner.onclose = (e) => outer.onclose?.(e);
	inner.onerror = (e) => outer.onerror?.(e);
	inner.onmessage = (e) => outer.onmessage?.({ data: e.data instanceof ArrayBuffer ? lie(new Uint8Array(e.data)) : e.data });
	return outer;
}

async function until(what: string, ok: () => boolean, timeoutMs = 8000): Promise<void> {
	const end = Date.now() + timeoutMs;
	while (!ok()) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

/**
 * One device of one party: its stored document, its persistent queues and cursors (kept across
 * "app runs"), and — while the app runs — a RelaySync on its own connection.
 */
class Device {
	readonly queues = new Map<string, MemoryUploadQueue>();
	readonly cursors = new MemoryCursorStore();
	readonly events = new EventTarget();
	cdoc!: ContractDoc;
	party!: Party;
	sync?: RelaySync;
	states: RelaySyncState[] = [];

	constructor(
		readonly key: DeviceKey,
		readonly escrow: MockEscrowProvider
	) {}

	/** The stored document (what y-indexeddb would load): a new ContractDoc over its bytes. */
	load(contract: string, stored?: Uint8Array): void {
		const doc = new Y.Doc();
		if (stored) Y.applyUpdate(doc, stored, 'storage');
		this.cdoc = new ContractDoc(contract, doc);
		this.party = new Party(this.key, this.cdoc, this.escrow);
	}

	stored(): Uint8Array {
		return Y.encodeStateAsUpdate(this.cdoc.doc);
	}

	/** Open the app: sync with these relays. */
	async open(secret: string, relays: string[], options: { pullEveryMs?: number; seedAfterMs?: number; compactFrom?: number; socket?: SocketFactory } = {}): Promise<RelaySync> {
		this.states = [];
		this.sync = new RelaySync({
			cdoc: this.cdoc,
			secret,
			relays,
			pool: new RelayPool({ socket: options.socket ?? socketFrom(), requestTimeoutMs: 5000 }),
			queue: (url) => {
				let q = this.queues.get(url);
				if (!q) this.queues.set(url, (q = new MemoryUploadQueue()));
				return q;
			},
			cursors: this.cursors,
			events: this.events,
			offline: false,
			retryMaxMs: 500,
			pullEveryMs: options.pullEveryMs ?? 60_000,
			seedAfterMs: options.seedAfterMs,
			compactFrom: options.compactFrom
		});
		this.sync.subscribe((s) => this.states.push(s));
		await this.sync.start();
		return this.sync;
	}

	/** Everything this device wrote is acknowledged by every relay it can reach. */
	async saved(): Promise<void> {
		await until('all saved to the relay', () => !!this.sync && !this.sync.queueing && this.sync.state.relays.every((r) => r.waiting === 0 && r.reachable));
	}

	/** Close the app. */
	async close(): Promise<void> {
		await this.sync?.stop();
		this.sync = undefined;
	}

	applied(): string[] {
		return this.cdoc.derived.state.applied.map((e) => e.id);
	}

	async has(what: string, ok: () => boolean, timeoutMs?: number): Promise<void> {
		await until(what, () => {
			void this.cdoc.settled();
			return ok();
		}, timeoutMs);
		await this.cdoc.settled();
	}
}

let escrow: MockEscrowProvider;
let contractTerms: ReturnType<typeof terms>;
beforeAll(async () => {
	escrow = new MockEscrowProvider();
	const info = await escrow.info();
	contractTerms = terms({ title: 'Harbour Bakery logo', provider: { id: 'mock', publicKey: info.publicKey, testMode: true } });
});

const relays: Relay[] = [];
async function relay(limits: Partial<RelayLimits> = {}): Promise<Relay> {
	const r = await new Relay(limits).start();
	relays.push(r);
	return r;
}
const devices: Device[] = [];
function device(key: DeviceKey): Device {
	const d = new Device(key, escrow);
	devices.push(d);
	return d;
}
afterEach(async () => {
	for (const d of devices.splice(0)) await d.close();
});
afterAll(async () => {
	for (const r of relays.splice(0)) await r.dispose();
});

/** The client proposes on its device with no relay open yet (the document starts empty, as in the app). */
async function proposeOffline(ada: Device): Promise<SignedEvent & { contract: string }> {
	const proposal = await Party.signProposal(ada.key, { role: 'client', name: 'Ada', terms: contractTerms }, Date.now());
	ada.load(proposal.contract);
	await ada.party.publish([proposal]);
	return proposal;
}

/** The client proposes on its device (the document starts empty, as in the app), with the app running. */
async function propose(ada: Device, secret: string, urls: string[]): Promise<string> {
	const proposal = await Party.signProposal(ada.key, { role: 'client', name: 'Ada', terms: contractTerms }, Date.now());
	ada.load(proposal.contract);
	await ada.open(secret, urls);
	await ada.party.publish([proposal]);
	return proposal.contract;
}

describe('two devices never running at the same time', () => {
	it('converge through the relay: propose, accept, countersign, fund, message', async () => {
		const r = await relay();
		const secret = randomId(24);
		const ada = device(CLIENT);
		const grace = device(FREELANCER);

		// The client proposes and closes the app once the proposal is saved to the relay.
		const contract = await propose(ada, secret, [r.url]);
		await ada.saved();
		const adaStored = ada.stored();
		await ada.close();

		// The freelancer opens the link later: the contract comes from the relay, verified and folded.
		grace.load(contract);
		await grace.open(secret, [r.url]);
		await grace.has('the proposal', () => grace.cdoc.derived.state.terms?.title === 'Harbour Bakery logo');
		const proposal = grace.cdoc.derived.state.applied[0]!.id;
		const acceptance = await grace.party.act('contract.accepted', { proposal, name: 'Grace' });
		await grace.saved();
		const graceStored = grace.stored();
		await grace.close();

		// The client opens again: it reads from its cursor (its own proposal is not sent back to it).
		expect((await ada.cursors.get(contract, r.url))?.cursor).toBe(1);
		ada.load(contract, adaStored);
		await ada.open(secret, [r.url]);
		await ada.has('the acceptance', () => ada.cdoc.log.has(acceptance.id));
		const { recorded } = await ada.party.countersign(acceptance.id);
		expect(recorded).toBe(true);
		await ada.party.settle('milestone.fund', { milestone: 'design', amount: 100_000, currency: 'USD', method: 'card' });
		await ada.party.act('message.posted', { text: 'Welcome aboard, Grace!' });
		await ada.saved();
		await ada.close();

		// The freelancer opens again and sees all of it: the same state as the client's.
		grace.load(contract, graceStored);
		await grace.open(secret, [r.url]);
		await grace.has('everything the client did', () => grace.applied().length === ada.applied().length);
		const s = grace.cdoc.derived.state;
		expect(s.status).toBe('active');
		expect(s.parties).toEqual({ client: CLIENT.publicKey, freelancer: FREELANCER.publicKey });
		expect(s.messages.map((m) => m.text)).toContain('Welcome aboard, Grace!');
		expect(s.milestones.find((m) => m.id === 'design')?.funded).toBe(100_000);
		expect(grace.applied()).toEqual(ada.applied());
		expect(grace.cdoc.derived.waiting).toEqual([]);
		expect(grace.sync!.state.relays[0]).toMatchObject({ reachable: true, waiting: 0, cursor: ada.applied().length });
		expect(grace.sync!.state.relays[0]!.lastPullAt).toBeGreaterThan(0);
	});

	it('what a device wrote with the relay down waits in its queue, across a restart of the app and of the relay', async () => {
		const r = await relay();
		const secret = randomId(24);
		const ada = device(CLIENT);
		const contract = await propose(ada, secret, [r.url]);
		await ada.saved();

		await r.stop();
		await ada.party.act('message.posted', { text: 'Written while the relay was down' });
		await until('the write to count as waiting', () => ada.sync!.state.relays[0]!.waiting === 1 && ada.sync!.state.relays[0]!.reachable === false);
		const stored = ada.stored();
		await ada.close();

		// The app opens again from storage (nothing is "written" now: the queue alone remembers).
		await r.start();
		ada.load(contract, stored);
		await ada.open(secret, [r.url]);
		await ada.saved();
		expect(await ada.queues.get(r.url)!.count()).toBe(0);
		await ada.close();

		const grace = device(FREELANCER);
		grace.load(contract);
		await grace.open(secret, [r.url]);
		await grace.has('the message written while the relay was down', () => grace.cdoc.derived.state.messages.some((m) => m.text === 'Written while the relay was down'));
	});

	it('a relay restarted while both run: the writer reconnects and uploads, the reader reconnects and pulls', async () => {
		const r = await relay();
		const secret = randomId(24);
		const ada = device(CLIENT);
		const contract = await propose(ada, secret, [r.url]);
		const grace = device(FREELANCER);
		grace.load(contract);
		await grace.open(secret, [r.url]);
		await grace.has('the proposal', () => grace.cdoc.derived.state.terms !== undefined);

		await r.stop();
		await ada.party.act('message.posted', { text: 'During the restart' });
		await until('the relay to be seen down', () => ada.sync!.state.relays[0]!.reachable === false && grace.sync!.state.relays[0]!.reachable === false);
		await r.start();
		await grace.has('the message after the restart', () => grace.cdoc.derived.state.messages.some((m) => m.text === 'During the restart'), 10_000);
		await ada.saved();
	});
});

describe('what arrives from the relay', () => {
	it('a contract from before relays is uploaded whole the first time its device uses a relay', async () => {
		const r = await relay();
		const secret = randomId(24);
		const ada = device(CLIENT);
		const proposal = await proposeOffline(ada);
		for (const text of ['one', 'two', 'three']) await ada.party.act('message.posted', { text });
		await ada.open(secret, [r.url]);
		await ada.saved();
		const grace = device(FREELANCER);
		grace.load(proposal.contract);
		await grace.open(secret, [r.url]);
		await grace.has('the whole contract', () => grace.applied().length === 4);
		expect(grace.applied()).toEqual(ada.applied());
	});

	it('the app gives a relay the past of such a contract only after a while, so opening and peers go first', async () => {
		const r = await relay();
		const secret = randomId(24);
		const ada = device(CLIENT);
		const proposal = await proposeOffline(ada);
		await ada.party.act('message.posted', { text: 'before relays' });
		const opened = Date.now();
		await ada.open(secret, [r.url], { seedAfterMs: 1500 });
		// Opening did not wait for the upload.
		expect(Date.now() - opened).toBeLessThan(1500);
		const grace = device(FREELANCER);
		grace.load(proposal.contract);
		await grace.open(secret, [r.url], { pullEveryMs: 200 });
		await new Promise((done) => setTimeout(done, 600));
		expect(grace.applied()).toHaveLength(0);
		await grace.has('the past, once the delay is over', () => grace.applied().length === 2);
	});

	it('goes through the same verification and fold: a link holder’s junk is kept and refused, never applied', async () => {
		const r = await relay();
		const secret = randomId(24);
		const ada = device(CLIENT);
		const contract = await propose(ada, secret, [r.url]);
		await ada.saved();
		// Someone holding the link writes an item the relay must accept (it cannot read it).
		const junk = junkEnvelope('Pay Mallory instead');
		const mallory = new RelayClient({ url: r.url, socket: socketFrom(), reconnect: false });
		await (await mallory.room(secret)).push([junk]);
		mallory.close();

		const grace = device(FREELANCER);
		grace.load(contract);
		await grace.open(secret, [r.url]);
		await grace.has('the junk to be judged', () => grace.cdoc.derived.rejected.some((x) => x.id === junk.id));
		expect(grace.applied()).toEqual(ada.applied());
		expect(grace.sync!.state.relays[0]!.cursor).toBe(2);
	});

	it('pause and offline stop the flow; resume and online pull what was missed', async () => {
		const r = await relay();
		const secret = randomId(24);
		const ada = device(CLIENT);
		const contract = await propose(ada, secret, [r.url]);
		const grace = device(FREELANCER);
		grace.load(contract);
		await grace.open(secret, [r.url]);
		await grace.has('the proposal', () => grace.cdoc.derived.state.terms !== undefined);
		const text = () => grace.cdoc.derived.state.messages.map((m) => m.text);

		// Live items flow while both run.
		await ada.party.act('message.posted', { text: 'live' });
		await grace.has('the live message', () => text().includes('live'));

		grace.sync!.pause();
		await ada.party.act('message.posted', { text: 'during the pause' });
		await ada.saved();
		await new Promise((r) => setTimeout(r, 600));
		expect(text()).not.toContain('during the pause');
		expect(grace.sync!.state.paused).toBe(true);
		grace.sync!.resume();
		await grace.has('the message sent during the pause', () => text().includes('during the pause'));

		grace.events.dispatchEvent(new Event('offline'));
		await ada.party.act('message.posted', { text: 'while offline' });
		await ada.saved();
		await new Promise((r) => setTimeout(r, 600));
		expect(text()).not.toContain('while offline');
		expect(grace.sync!.state.offline).toBe(true);
		grace.events.dispatchEvent(new Event('online'));
		await grace.has('the message sent while offline', () => text().includes('while offline'));

		// The writer offline: its write waits, and goes when it is back online.
		ada.events.dispatchEvent(new Event('offline'));
		await ada.party.act('message.posted', { text: 'written offline' });
		await until('the offline write to wait', () => ada.sync!.state.relays[0]!.waiting === 1);
		await new Promise((r) => setTimeout(r, 300));
		expect(ada.sync!.state.relays[0]!.waiting).toBe(1);
		ada.events.dispatchEvent(new Event('online'));
		await ada.saved();
		await grace.has('the message written offline', () => text().includes('written offline'));
	});

	it('a catch-up writes what it pulled into the document in a few batches, not one write per relay page', async () => {
		const r = await relay({ maxPullItems: 5 });
		const secret = randomId(24);
		const ada = device(CLIENT);
		const contract = await propose(ada, secret, [r.url]);
		for (let i = 0; i < 79; i++) await ada.party.act('message.posted', { text: `message ${i}` });
		await ada.saved();
		const expected = ada.applied();
		await ada.close();

		const grace = device(FREELANCER);
		grace.load(contract);
		const writes: number[] = [];
		grace.cdoc.doc.on('afterTransaction', (tx: Y.Transaction) => {
			if (tx.origin === RELAY_ORIGIN) writes.push([...tx.changed.values()].reduce((n, keys) => n + keys.size, 0));
		});
		await grace.open(secret, [r.url]);
		await grace.has('all 80 events', () => grace.applied().length === 80);
		// 16 pages of 5, handed over in about four batches of a quarter each.
		expect(writes.reduce((a, b) => a + b, 0)).toBe(80);
		expect(writes.length).toBeGreaterThanOrEqual(2);
		expect(writes.length).toBeLessThanOrEqual(5);
		expect(grace.applied()).toEqual(expected);
		expect(grace.cdoc.log.refolds).toBe(0);
	});

	it('a device that holds the contract (from a peer) reads its relay from the start without writing or folding anything twice', async () => {
		const r = await relay({ maxPullItems: 5 });
		const secret = randomId(24);
		const ada = device(CLIENT);
		const contract = await propose(ada, secret, [r.url]);
		for (let i = 0; i < 39; i++) await ada.party.act('message.posted', { text: `message ${i}` });
		await ada.saved();

		// Grace got everything over WebRTC (the same document update), then her relay catch-up runs.
		const grace = device(FREELANCER);
		grace.load(contract, ada.stored());
		await grace.cdoc.settled();
		const folded = grace.cdoc.log.folded;
		let writes = 0;
		grace.cdoc.doc.on('afterTransaction', (tx: Y.Transaction) => void (tx.origin === RELAY_ORIGIN && writes++));
		const sync = await grace.open(secret, [r.url]);
		await sync.syncNow();
		expect(sync.state.relays[0]!.cursor).toBe(40);
		expect(writes).toBe(0);
		expect(grace.cdoc.log.folded).toBe(folded);
		expect(grace.applied()).toEqual(ada.applied());
	});

	it('a long catch-up reports its progress as it goes', async () => {
		const r = await relay({ maxPullItems: 10 });
		const secret = randomId(24);
		const ada = device(CLIENT);
		const contract = await propose(ada, secret, [r.url]);
		for (let i = 0; i < 60; i++) await ada.party.act('message.posted', { text: `message ${i}` });
		await ada.saved();
		await ada.close();

		const grace = device(FREELANCER);
		grace.load(contract);
		await grace.open(secret, [r.url]);
		await grace.has('all 61 events', () => grace.applied().length === 61);
		const progress = grace.states.map((s) => s.relays[0]!.catchUp).filter((c) => c !== undefined);
		expect(progress.some((c) => c.total === 61 && c.done > 0 && c.done < c.total)).toBe(true);
		const done = progress.map((c) => c.done);
		expect(done).toEqual([...done].sort((a, b) => a - b));
		expect(grace.sync!.state.relays[0]!.catchUp).toBeUndefined();
	});

	it('with two relays, one that is down (or withholds) is covered by the other', async () => {
		const [r1, r2] = [await relay(), await relay()];
		const secret = randomId(24);
		const ada = device(CLIENT);
		const contract = await propose(ada, secret, [r1.url, r2.url]);
		await ada.party.act('message.posted', { text: 'on both relays' });
		await ada.saved();
		await ada.close();

		await r1.stop();
		const grace = device(FREELANCER);
		grace.load(contract);
		await grace.open(secret, [r1.url, r2.url]);
		await grace.has('the contract from the second relay', () => grace.applied().length === 2);
		await until('the first relay to be seen down', () => grace.sync!.state.relays[0]!.reachable === false);
		expect(grace.sync!.state.relays[1]).toMatchObject({ url: r2.url, reachable: true, cursor: 2 });
	});
});

describe('bundles: a contract’s past in a few items', () => {
	/** Ada's envelope for `id`, as a link holder who got it from a peer would have it. */
	const envelopeOf = (d: Device, id: string) => ({ id, envelope: d.cdoc.events.get(id)! });

	it('a backlog goes up sealed in bundles and comes down in a few writes; live events go one item each', async () => {
		const r = await relay();
		const secret = randomId(24);
		const ada = device(CLIENT);
		const proposal = await proposeOffline(ada);
		for (let i = 0; i < 119; i++) await ada.party.act('message.posted', { text: `before relays ${i}` });
		await ada.open(secret, [r.url]);
		await ada.saved();
		// 120 events in a couple of items, not 120.
		expect(ada.sync!.state.relays[0]!.head).toBeLessThanOrEqual(3);
		const head = ada.sync!.state.relays[0]!.head;
		await ada.party.act('message.posted', { text: 'live' });
		await ada.saved();
		await until('the live event acknowledged', () => ada.sync!.state.relays[0]!.head === head + 1);

		const grace = device(FREELANCER);
		grace.load(proposal.contract);
		const writes: number[] = [];
		grace.cdoc.doc.on('afterTransaction', (tx: Y.Transaction) => {
			if (tx.origin === RELAY_ORIGIN) writes.push([...tx.changed.values()].reduce((n, keys) => n + keys.size, 0));
		});
		await grace.open(secret, [r.url]);
		await grace.has('all 121 events', () => grace.applied().length === 121);
		expect(grace.applied()).toEqual(ada.applied());
		expect(writes.reduce((a, b) => a + b, 0)).toBe(121);
		expect(writes.length).toBeLessThanOrEqual(5);
		expect(grace.cdoc.log.refolds).toBe(0);
	});

	it('attack: a forged event inside a bundle is refused by the fold; the other events in it apply', async () => {
		const r = await relay();
		const secret = randomId(24);
		const ada = device(CLIENT);
		const proposal = await proposeOffline(ada);
		await ada.party.act('message.posted', { text: 'first' });
		await ada.party.act('message.posted', { text: 'second' });
		const [p, m1, m2] = ada.applied().map((id) => envelopeOf(ada, id));
		// Mallory holds the link and Ada's events (from a peer); she bundles them with one she forged in
		// Ada's name: another text under Ada's signature of the real one.
		const real = JSON.parse(m2!.envelope) as { id: string; body: string; sig: string };
		const body = real.body.replace('second', 'Pay Mallory instead');
		const forged = { id: hashBody(body), envelope: JSON.stringify({ ...real, id: hashBody(body), body }) };
		const mallory = new RelayClient({ url: r.url, socket: socketFrom(), reconnect: false });
		const room = await mallory.room(secret);
		await room.pushItems([await encryptBundle(room.keys, [p!, m1!, forged, m2!])]);
		mallory.close();

		const grace = device(FREELANCER);
		grace.load(proposal.contract);
		await grace.open(secret, [r.url]);
		await grace.has('Ada’s three events', () => grace.applied().length === 3);
		await grace.cdoc.settled();
		expect(grace.applied()).toEqual(ada.applied());
		expect(grace.applied()).not.toContain(forged.id);
		expect(grace.cdoc.log.authenticEnvelopes().map(([id]) => id)).not.toContain(forged.id);
	});

	it('attack: a bundle claiming the tags of Ada’s next events cannot keep them from the other party', async () => {
		const r = await relay();
		const secret = randomId(24);
		const ada = device(CLIENT);
		const contract = await propose(ada, secret, [r.url]);
		await ada.saved();
		const keys = deriveRelayKeys(secret);
		const junk = junkEnvelope('Pay Mallory instead');
		/** Mallory saw Ada's new events over WebRTC and uploads first bundles claiming their tags, with junk inside. */
		const lie = async (ids: string[]) => {
			const mallory = new RelayClient({ url: r.url, socket: socketFrom(), reconnect: false });
			const room = await mallory.room(secret);
			for (let i = 0; i < ids.length; i += 100)
				await room.pushItems([await encryptBundle(keys, [junk], ids.slice(i, i + 100).map((id) => itemTag(keys, id)))]);
			mallory.close();
		};
		// Ada writes while her relay connection is paused: one event (it goes up as a single item) …
		ada.sync!.pause();
		await ada.party.act('message.posted', { text: 'one by one' });
		await ada.sync!.settled();
		await lie(ada.applied().slice(1));
		ada.sync!.resume();
		await ada.saved();
		// … then a backlog of 120 (it goes up in a bundle).
		ada.sync!.pause();
		for (let i = 0; i < 120; i++) await ada.party.act('message.posted', { text: `backlog ${i}` });
		await ada.sync!.settled();
		await lie(ada.applied().slice(2));
		ada.sync!.resume();
		await ada.saved();

		const grace = device(FREELANCER);
		grace.load(contract);
		await grace.open(secret, [r.url]);
		await grace.has('all of Ada’s events', () => grace.applied().length === 122);
		expect(grace.applied()).toEqual(ada.applied());
	});
});

describe('compaction: a room whose events went up one by one', () => {
	/** Ada proposes and writes `n` messages, each acknowledged as a single item before the next. */
	async function oneByOne(r: Relay[], n: number): Promise<{ ada: Device; contract: string; secret: string }> {
		const secret = randomId(24);
		const ada = device(CLIENT);
		const contract = await propose(ada, secret, r.map((x) => x.url));
		await ada.saved();
		for (let i = 0; i < n; i++) {
			await ada.party.act('message.posted', { text: `one by one ${i}` });
			await ada.saved();
		}
		await until('every event acknowledged one by one', () => ada.sync!.state.relays.every((x) => x.head === n + 1));
		return { ada, contract, secret };
	}
	/** What the relay serves a reader that takes compactions, by hand. */
	async function compactedPage(r: Relay, secret: string, after: number): Promise<FramedItem[]> {
		const keys = deriveRelayKeys(secret);
		const conn = new RawConnection({ url: r.url, addressHeader: 'x-forwarded-for' } as RelayTarget, keys.room, `198.18.250.${++addresses % 250}`);
		const { challenge } = await conn.hello;
		await conn.request({ t: 'open', room: keys.room, key: keys.roomKey.publicKey, sig: signSync(keys.roomKey, openProof(challenge, keys.room)) });
		const page = (await conn.request({ t: 'pull', room: keys.room, after, bin: 1, compact: true })) as Extract<RelayMessage, { t: 'items' }>;
		conn.close();
		return page.items as FramedItem[];
	}

	it('a device that read it compacts it; a new device catches up from the compaction, whole and in order', async () => {
		const r = await relay();
		const { ada, contract, secret } = await oneByOne([r], 24);
		await ada.close();
		expect((await compactedPage(r, secret, 0)).some((i) => i.covers)).toBe(false);
		// Grace reads the 25 single items, holds them all, and compacts (here from 20 single items on).
		const grace = device(FREELANCER);
		grace.load(contract);
		await grace.open(secret, [r.url], { compactFrom: 20 });
		await grace.has('Ada’s 25 events', () => grace.applied().length === 25);
		await until('the room compacted', () => grace.sync!.state.relays[0]!.cursor === 25);
		await grace.sync!.syncNow();
		const units = (await compactedPage(r, secret, 0)).filter((i) => i.covers);
		expect(units.flatMap((u) => u.covers!).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
		await grace.close();
		// A new device of Ada's reads the compaction instead of 25 single items.
		const fresh = device(CLIENT);
		fresh.load(contract);
		await fresh.open(secret, [r.url]);
		await fresh.has('all 25 events', () => fresh.applied().length === 25);
		expect(fresh.applied()).toEqual(grace.applied());
		await until('the cursor at the head', () => fresh.sync!.state.relays[0]!.cursor === 25);
	});

	it('attack: a relay that withholds through a compaction (claiming it stands in for a later item) is caught by the other relay', async () => {
		const [r1, r2] = [await relay(), await relay()];
		const { ada, contract, secret } = await oneByOne([r1, r2], 5);
		const held = ada.cdoc.log.authenticEnvelopes().map(([id, envelope]) => ({ id, envelope }));
		const compacting = new RelayClient({ url: r1.url, socket: socketFrom(), reconnect: false });
		expect(await (await compacting.room(secret)).compact(held)).toMatchObject({ covered: 6 });
		compacting.close();
		await ada.party.act('message.posted', { text: 'the one r1 keeps back' });
		await ada.saved();
		const withheld = ada.applied().at(-1)!;
		await ada.close();

		// r1 lies in its compacted page: the compaction's last item is said to be the new event's (it
		// sends junk in the old one's place), and the page to end at the head.
		const lie = (bytes: Uint8Array): Uint8Array => {
			const m = decodeItemsFrame(bytes);
			const unit = m.items.find((i) => i.covers);
			if (!unit) return bytes;
			const top = Math.max(...unit.covers!);
			unit.covers![unit.covers!.indexOf(top)] = m.head;
			const raw = (i: (typeof m.items)[number]) =>
				i.tags ? { seq: i.seq, tags: concatBytes(...i.tags.map((t) => fromBase64url(t))), covers: i.covers, data: i.bytes! } : { seq: i.seq, tag: fromBase64url(i.tag), data: i.bytes! };
			const junk = { seq: top, tag: crypto.getRandomValues(new Uint8Array(32)), data: crypto.getRandomValues(new Uint8Array(80)) };
			return encodeItemsFrame({ id: m.id, room: m.room, head: m.head, more: false, end: m.head }, [...m.items.map(raw), junk]);
		};
		const honest = socketFrom();
		const socket: SocketFactory = (url) => (url.startsWith(r1.url) ? lyingSocket(honest(url), lie) : honest(url));
		const grace = device(FREELANCER);
		grace.load(contract);
		await grace.open(secret, [r1.url, r2.url], { socket });
		await grace.has('every event, the withheld one from the second relay', () => grace.applied().length === 7);
		expect(grace.applied()).toContain(withheld);
		await until('both cursors at the head', () => grace.sync!.state.relays.every((x) => x.cursor === 7));

		// With r1 alone, the lie would have kept it back: that is what a second relay is for.
		const alone = device(FREELANCER);
		alone.load(contract);
		await alone.open(secret, [r1.url], { socket });
		await until('the lying relay’s cursor at the head', () => alone.sync!.state.relays[0]!.cursor === 7);
		await alone.cdoc.settled();
		expect(alone.applied()).not.toContain(withheld);
	});
});

describe('completeness', () => {
	it('an author’s chain with a gap is named, not hidden; a missing dependency is reported too', async () => {
		const ada = device(CLIENT);
		const proposal = await proposeOffline(ada);
		const one = await ada.party.act('message.posted', { text: 'one' });
		const two = await ada.party.act('message.posted', { text: 'two' });
		const grace = device(FREELANCER);
		grace.load(proposal.contract);
		await grace.party.receive([
			[proposal.id, proposal.envelope],
			[two.id, two.envelope]
		]);
		let d = grace.party.derived();
		expect(d.waiting).toEqual([two.id]);
		const missing = missingEarlier(grace.cdoc.log, d.waiting);
		expect(missing).toEqual([{ author: CLIENT.publicKey, events: 1 }]);
		expect(nameOf(d.state, missing[0]!.author!)).toBe('Ada');

		// The freelancer's acceptance without the proposal it depends on: the author of what is missing is unknown.
		const carol = device(FREELANCER);
		const acceptance = await grace.party.act('contract.accepted', { proposal: proposal.id, name: 'Grace' });
		carol.load(proposal.contract);
		await carol.party.receive([[acceptance.id, acceptance.envelope]]);
		d = carol.party.derived();
		expect(missingEarlier(carol.cdoc.log, d.waiting)).toEqual([{ author: undefined, events: 1 }]);

		// Once the gap closes, nothing is reported.
		await grace.party.receive([[one.id, one.envelope]]);
		d = grace.party.derived();
		expect(missingEarlier(grace.cdoc.log, d.waiting)).toEqual([]);
	});
});

describe('share links name the relays', () => {
	const contract = 'AAAAAAAAAAAAAAAAAAAAAA';
	const secret = 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0';

	it('carry the proposer’s relays after the secret, and read them back (encoded or as the router decoded them)', () => {
		const link = { contract, secret, relays: ['wss://relay.example/milestone', 'ws://localhost:4446'] };
		const url = shareLink('https://app.example/', link);
		expect(url).toBe(`https://app.example/#/join/${contract}/${secret}?relay=wss%3A%2F%2Frelay.example%2Fmilestone&relay=ws%3A%2F%2Flocalhost%3A4446`);
		expect(parseJoinLink(url)).toEqual({ ok: true, link });
		expect(parseJoinLink(decodeURIComponent(new URL(url).hash))).toEqual({ ok: true, link });
	});

	it('keep old links working: no relay named, none added', () => {
		expect(parseJoinLink(`https://app.example/#/join/${contract}/${secret}`)).toEqual({ ok: true, link: { contract, secret } });
		expect(shareLink('https://app.example', { contract, secret, relays: [] })).toBe(`https://app.example/#/join/${contract}/${secret}`);
	});

	it('a damaged relay address is reported, not dropped', () => {
		for (const bad of ['https://relay.example', 'ws://', 'javascript:alert(1)']) {
			const r = parseJoinLink(`#/join/${contract}/${secret}?relay=${encodeURIComponent(bad)}`);
			expect(r).toMatchObject({ ok: false, message: expect.stringMatching(/relay address/) });
		}
	});

	it('a contract uses the link’s relays and this device’s, once each', () => {
		expect(contractRelays(['ws://a.example/', 'ws://b.example'], ['ws://b.example', 'ws://c.example'])).toEqual(['ws://a.example', 'ws://b.example', 'ws://c.example']);
		expect(contractRelays(undefined, ['ws://localhost:4446'])).toEqual(['ws://localhost:4446']);
	});
});
