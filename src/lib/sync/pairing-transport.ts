/**
 * Pairing messages (identity/pairing.ts) through the relay. The room's key pair derives from the
 * rendezvous code exactly as a contract's derives from its link secret, so the relay's rules apply
 * unchanged: only a holder of the code opens, reads or writes the room, and every item is encrypted
 * with a key from the code. Past the key exchange, the bundle is also sealed under the X25519 shared
 * key: a relay (or anyone) that learned the code sees the public keys, never the certificate or a
 * link secret.
 *
 * One item per message, under a fixed name ("offer", "answer", "reveal", "sealed-0"…): the relay
 * keeps the first item under a tag, so a second answer to the same code cannot replace the first.
 */
import {
	CODE_LIFETIME_MS,
	ExistingDevice,
	NewDevice,
	PairingError,
	parseMessage,
	roomSecret,
	type Answer,
	type Offer,
	type PairingMessage,
	type PairingBundle,
	type ReceivedBundle,
	type Reveal,
	type Sealed
} from '../identity/pairing';
import { deriveRelayKeys, RelayClient, type ReceivedEnvelope, type RelayRoom, type SocketFactory } from './relay-client';

/** Sealed data split into items that fit the relay's envelope limit. */
const PART_CHARS = 24_000;

type Received = { name: string; text: string };

/** One pairing room on one relay. */
export class PairingChannel {
	private readonly seen = new Map<string, string>();
	private waiters: (() => void)[] = [];
	private closed = false;

	private constructor(
		private readonly client: RelayClient,
		private room?: RelayRoom
	) {}

	/** Open the room of `code` on the relay at `url`. */
	static async open(url: string, code: string, opts: { socket?: SocketFactory } = {}): Promise<PairingChannel> {
		const client = new RelayClient({ url, socket: opts.socket, reconnect: true });
		const channel = new PairingChannel(client);
		try {
			channel.room = await client.room(deriveRelayKeys(roomSecret(code)), { onEnvelopes: (e) => channel.receive(e) });
			await channel.room.pull();
		} catch (e) {
			client.close();
			throw e;
		}
		return channel;
	}

	private receive(envelopes: ReceivedEnvelope[]): void {
		for (const e of envelopes) {
			let name: unknown;
			try {
				name = (JSON.parse(e.envelope) as { id?: unknown }).id;
			} catch {
				continue;
			}
			// The first item under a name counts (the relay keeps one per tag anyway).
			if (typeof name === 'string' && !this.seen.has(name)) this.seen.set(name, e.envelope);
		}
		for (const w of this.waiters.splice(0)) w();
	}

	private async send(name: string, body: object): Promise<void> {
		const envelope = JSON.stringify({ id: name, ...body });
		this.seen.set(name, envelope);
		await this.room!.push([{ id: name, envelope }]);
	}

	/** What is in the room under `name`, once it is (the relay's live items, or a pull every 2 s). */
	private async wait(name: string, signal?: AbortSignal): Promise<Received> {
		for (;;) {
			if (this.closed || signal?.aborted) throw new PairingError('Pairing was cancelled.');
			const text = this.seen.get(name);
			if (text !== undefined) return { name, text };
			await new Promise<void>((resolve) => {
				const timer = setTimeout(() => {
					void this.room?.pull().catch(() => {});
					resolve();
				}, 2000);
				this.waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
				signal?.addEventListener('abort', () => resolve(), { once: true });
			});
		}
	}

	/** Was `name` written by someone (before this device wrote it)? */
	has(name: string): boolean {
		return this.seen.has(name);
	}

	private async message<T extends PairingMessage>(name: string, t: T['t'], signal?: AbortSignal): Promise<T> {
		const { text } = await this.wait(name, signal);
		const m = parseMessage(text);
		if (!m || m.t !== t) throw new PairingError('Something unreadable was written to this pairing code: start again with a new code.');
		return m as T;
	}

	// —— the new device's side ——
	sendOffer = (m: Offer) => this.send('offer', m);
	waitAnswer = (signal?: AbortSignal) => this.message<Answer>('answer', 'answer', signal);
	sendReveal = (m: Reveal) => this.send('reveal', m);
	async waitSealed(signal?: AbortSignal): Promise<Sealed> {
		const first = JSON.parse((await this.wait('sealed-0', signal)).text) as { n?: unknown; cancelled?: unknown };
		if (first.cancelled === true) throw new PairingError('Your other device cancelled (the numbers differed, or it was stopped there). Nothing was added.');
		const n = typeof first.n === 'number' && Number.isSafeInteger(first.n) && first.n > 0 && first.n < 1000 ? first.n : 1;
		let data = '';
		for (let i = 0; i < n; i++) {
			const part = JSON.parse((await this.wait(`sealed-${i}`, signal)).text) as { part?: unknown };
			if (typeof part.part !== 'string') throw new PairingError('What the other device sent arrived damaged: start again.');
			data += part.part;
		}
		const m = parseMessage(JSON.stringify({ t: 'sealed', data }));
		if (!m || m.t !== 'sealed') throw new PairingError('What the other device sent arrived damaged: start again.');
		return m;
	}

	// —— the existing device's side ——
	waitOffer = (signal?: AbortSignal) => this.message<Offer>('offer', 'offer', signal);
	/** Answer, unless someone answered this code already (then the new device is pairing with them, not us). */
	async sendAnswer(m: Answer): Promise<void> {
		const taken = () => new PairingError('Another device already answered this code. Start again: get a new code on the new device.');
		if (this.has('answer')) throw taken();
		const head = this.room!.head;
		const envelope = JSON.stringify({ id: 'answer', ...m });
		// The relay keeps the first item per tag and answers a repeat with that item's number: a number
		// it had before our push means another answer was there first. (Even unnoticed, the two screens
		// would show different numbers.)
		const [seq] = await this.room!.push([{ id: 'answer', envelope }]);
		if (seq !== undefined && seq <= head) throw taken();
		this.seen.set('answer', envelope);
	}
	waitReveal = (signal?: AbortSignal) => this.message<Reveal>('reveal', 'reveal', signal);
	/** Tell the new device the person cancelled: in place of the bundle, so nothing can follow it. */
	sendCancel = () => this.send('sealed-0', { cancelled: true });
	async sendSealed(m: Sealed): Promise<void> {
		const parts: string[] = [];
		for (let i = 0; i < m.data.length; i += PART_CHARS) parts.push(m.data.slice(i, i + PART_CHARS));
		for (let i = 0; i < parts.length; i++) await this.send(`sealed-${i}`, { n: parts.length, part: parts[i] });
	}

	close(): void {
		this.closed = true;
		for (const w of this.waiters.splice(0)) w();
		void this.room?.leave().catch(() => {});
		this.client.close();
	}
}

/** Rejects after `ms` unless `work` settles first, and cancels the channel then. */
function within<T>(work: Promise<T>, ms: number, channel: PairingChannel, message: string): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			channel.close();
			reject(new PairingError(message));
		}, ms);
	});
	return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export interface NewDeviceHooks {
	/** The code to show (and put in a QR code). */
	onCode(code: string): void;
	/** The other device answered: the numbers to show for the person to compare. */
	onFingerprint(fingerprint: string): void;
	/** Resolves when the person confirmed the numbers on this device; rejects to cancel. */
	confirmed: Promise<void>;
	signal?: AbortSignal;
	socket?: SocketFactory;
	/** How long the code waits for the other device (default CODE_LIFETIME_MS). */
	lifetimeMs?: number;
}

/**
 * The new device's whole side: post the offer, wait for the existing device, show the numbers, and
 * once the person confirmed here, open the bundle (certificate checked against `device`).
 */
export async function pairAsNewDevice(relay: string, device: string, name: string, hooks: NewDeviceHooks): Promise<ReceivedBundle> {
	const me = new NewDevice(device, name);
	const channel = await PairingChannel.open(relay, me.code, { socket: hooks.socket });
	const stop = () => channel.close();
	hooks.signal?.addEventListener('abort', stop, { once: true });
	try {
		await channel.sendOffer(me.offer());
		hooks.onCode(me.code);
		const answer = await within(channel.waitAnswer(hooks.signal), hooks.lifetimeMs ?? CODE_LIFETIME_MS, channel, 'Nobody entered the code in time. Get a new code and try again.');
		const { reveal, fingerprint } = me.answer(answer);
		await channel.sendReveal(reveal);
		hooks.onFingerprint(fingerprint);
		const [sealed] = await Promise.all([channel.waitSealed(hooks.signal), hooks.confirmed]);
		return me.open(sealed);
	} finally {
		hooks.signal?.removeEventListener('abort', stop);
		channel.close();
	}
}

export interface ExistingDeviceHooks {
	/**
	 * The new device showed itself: display the numbers; resolve with the bundle once the person
	 * confirmed (and the identity was unlocked to certify `device`), or null to cancel.
	 */
	onNewDevice(found: { fingerprint: string; device: string; name: string }): Promise<PairingBundle | null>;
	signal?: AbortSignal;
	socket?: SocketFactory;
	/** How long to wait for each step of the new device (default one minute). */
	stepMs?: number;
}

/** The existing device's whole side: answer the code, show the numbers, send the bundle once confirmed. Resolves true once sent. */
export async function pairAsExistingDevice(relay: string, code: string, hooks: ExistingDeviceHooks): Promise<boolean> {
	const me = new ExistingDevice(code);
	const channel = await PairingChannel.open(relay, me.code, { socket: hooks.socket });
	const stop = () => channel.close();
	hooks.signal?.addEventListener('abort', stop, { once: true });
	const step = hooks.stepMs ?? 60_000;
	try {
		const offer = await within(channel.waitOffer(hooks.signal), step, channel, 'No device is showing this code. Check the code on the new device (it is valid for 10 minutes) and try again.');
		await channel.sendAnswer(me.offer(offer));
		const reveal = await within(channel.waitReveal(hooks.signal), step, channel, 'The new device stopped answering. Start again with a new code.');
		const found = me.reveal(reveal);
		const bundle = await hooks.onNewDevice(found);
		if (!bundle) {
			await channel.sendCancel().catch(() => {});
			return false;
		}
		await channel.sendSealed(me.seal(bundle));
		return true;
	} finally {
		hooks.signal?.removeEventListener('abort', stop);
		channel.close();
	}
}
