/**
 * Chromium silently drops a WebRTC data-channel message larger than 256 KiB (y-webrtc issue #20),
 * and the first sync of a big contract is megabytes. Every message above CHUNK_BYTES is therefore
 * split into frames and reassembled on the other side. Frames start with a marker byte no y-webrtc
 * message starts with (its messages begin with a small varint type), so small messages pass as they are.
 *
 * Frame: [0xF7][message id: u32][index: u32][flags | count: u32][payload…]
 *
 * A big message also goes deflated (raw DEFLATE, the browser's CompressionStream) to a peer that
 * said it can inflate: a contract's envelopes shrink about fivefold, and a data channel carries a
 * few megabytes a second, so the first sync of a big contract arrives in a fraction of the time.
 * A peer says so with a control frame (count 0) sent as its channel opens, before any sync message;
 * an older version of this code ignores such a frame, and is never sent a deflated message.
 * Inflating stops at the same bound as reassembling (MAX_FRAMES frames): a small hostile message
 * cannot make this device hold more than a plain one could.
 */
/** Frames of at most 64 KiB, header included: the size every WebRTC stack accepts (RFC 8841's default when none is announced). */
export const CHUNK_BYTES = 64 * 1024 - 13;
const MARKER = 0xf7;
const HEADER = 13;
/** A message may not claim more than this many frames (64 MiB): bounds memory a hostile peer can make us hold. */
const MAX_FRAMES = 1024;
/** The most a message may be, reassembled or inflated. */
export const MAX_MESSAGE_BYTES = MAX_FRAMES * CHUNK_BYTES;
/** Set in the count word of a deflated message's frames. */
const DEFLATED = 0x80000000;
/** Control frame payload: this side inflates deflated messages. */
const CAN_INFLATE = 1;

let nextId = 1;

export function frame(message: Uint8Array, chunkBytes = CHUNK_BYTES, deflated = false): Uint8Array[] {
	if (!deflated && message.length <= chunkBytes && message[0] !== MARKER) return [message];
	const id = nextId++ >>> 0;
	const count = Math.max(1, Math.ceil(message.length / chunkBytes));
	const frames: Uint8Array[] = [];
	for (let i = 0; i < count; i++) {
		const part = message.subarray(i * chunkBytes, (i + 1) * chunkBytes);
		const f = new Uint8Array(HEADER + part.length);
		const v = new DataView(f.buffer);
		f[0] = MARKER;
		v.setUint32(1, id);
		v.setUint32(5, i);
		v.setUint32(9, (count | (deflated ? DEFLATED : 0)) >>> 0);
		f.set(part, HEADER);
		frames.push(f);
	}
	return frames;
}

/** The control frame saying this side can inflate (count 0: ignored by code that cannot). */
export function inflateOffer(): Uint8Array {
	const f = new Uint8Array(HEADER + 1);
	f[0] = MARKER;
	f[HEADER] = CAN_INFLATE;
	return f;
}

export type Received = { bytes: Uint8Array; deflated: boolean } | { offer: true };

/** Reassembles frames of one connection. `receive` returns a whole message when one is complete. */
export class Reassembler {
	private readonly pending = new Map<number, { parts: (Uint8Array | undefined)[]; got: number; bytes: number; deflated: boolean }>();

	/** A whole plain message, or null (a frame of a message not complete yet, junk, or anything else). */
	push(data: Uint8Array): Uint8Array | null {
		const r = this.receive(data);
		return r && 'bytes' in r && !r.deflated ? r.bytes : null;
	}

	receive(data: Uint8Array): Received | null {
		if (data[0] !== MARKER) return { bytes: data, deflated: false };
		if (data.length < HEADER) return null;
		const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
		const id = v.getUint32(1);
		const index = v.getUint32(5);
		const word = v.getUint32(9);
		const deflated = (word & DEFLATED) !== 0;
		const count = word & ~DEFLATED;
		if (count === 0) return !deflated && index === 0 && data[HEADER] === CAN_INFLATE ? { offer: true } : null;
		if (count > MAX_FRAMES || index >= count) return null;
		let p = this.pending.get(id);
		if (!p) this.pending.set(id, (p = { parts: new Array(count), got: 0, bytes: 0, deflated }));
		if (p.parts.length !== count || p.deflated !== deflated || p.parts[index]) return null;
		p.parts[index] = data.subarray(HEADER);
		p.got++;
		p.bytes += data.length - HEADER;
		if (p.got < count) return null;
		this.pending.delete(id);
		const out = new Uint8Array(p.bytes);
		let o = 0;
		for (const part of p.parts) {
			out.set(part!, o);
			o += part!.length;
		}
		return { bytes: out, deflated };
	}
}

/** Whether this browser has raw DEFLATE streams (every current one does). */
export const canDeflate = (): boolean => typeof CompressionStream === 'function' && typeof DecompressionStream === 'function';

async function through(bytes: Uint8Array, stream: CompressionStream | DecompressionStream, limit: number): Promise<Uint8Array> {
	const writer = stream.writable.getWriter();
	writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
	writer.close().catch(() => {});
	const reader = stream.readable.getReader();
	const parts: Uint8Array[] = [];
	let length = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		length += value.length;
		if (length > limit) {
			await reader.cancel().catch(() => {});
			throw new Error('The message inflates past the size a message may have.');
		}
		parts.push(value);
	}
	const out = new Uint8Array(length);
	let o = 0;
	for (const p of parts) {
		out.set(p, o);
		o += p.length;
	}
	return out;
}

export const deflate = (bytes: Uint8Array): Promise<Uint8Array> => through(bytes, new CompressionStream('deflate-raw'), Infinity);

/** Inflates a deflated message; rejects once the output passes `limit` bytes (and stops reading). */
export const inflate = (bytes: Uint8Array, limit = MAX_MESSAGE_BYTES): Promise<Uint8Array> => through(bytes, new DecompressionStream('deflate-raw'), limit);

interface PeerLike {
	send(chunk: Uint8Array): void;
	_onChannelMessage(event: { data: unknown }): void;
	_onChannelOpen?(): void;
}

interface PeerWire {
	/** The other side said it inflates. */
	inflates?: boolean;
	/** Sends waiting behind a message being deflated, in order. */
	sending?: Promise<void>;
	/** Messages waiting behind one being inflated, in order. */
	receiving?: Promise<void>;
	assembler?: Reassembler;
}

/** Per peer: which whole incoming messages go on to y-webrtc (`filterInbound`). */
const filters = new WeakMap<object, (message: Uint8Array) => boolean>();

/** Let `keep` drop some of this peer's whole incoming messages before y-webrtc sees them (peers.ts: how often a peer may ask for a sync). */
export function filterInbound(peer: object, keep: (message: Uint8Array) => boolean): void {
	filters.set(peer, keep);
}

/**
 * Teach simple-peer (as bundled by y-webrtc) to chunk: patch its prototype once, so every data
 * channel y-webrtc opens frames big messages (deflated when the other side can inflate) and
 * reassembles incoming ones. Messages keep their order both ways: while one is being deflated or
 * inflated, later ones wait behind it.
 */
export function installChunking(Peer: { prototype: PeerLike }): void {
	const proto = Peer.prototype as PeerLike & { __chunking?: boolean };
	if (proto.__chunking) return;
	proto.__chunking = true;
	const send = proto.send;
	const receive = proto._onChannelMessage;
	const open = proto._onChannelOpen;
	const wires = new WeakMap<object, PeerWire>();
	const wireOf = (peer: object) => {
		let w = wires.get(peer);
		if (!w) wires.set(peer, (w = {}));
		return w;
	};
	const sendFrames = (peer: PeerLike, message: Uint8Array, deflated: boolean) => {
		for (const f of frame(message, CHUNK_BYTES, deflated)) send.call(peer, f);
	};
	if (open && canDeflate())
		proto._onChannelOpen = function () {
			// Before the channel is announced open (and y-webrtc's first sync message): in order, ahead of it.
			try {
				send.call(this, inflateOffer());
			} catch {
				// closing already
			}
			return open.call(this);
		};
	proto.send = function (chunk: Uint8Array) {
		const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayBuffer);
		const w = wireOf(this);
		const squeeze = w.inflates && bytes.length > CHUNK_BYTES && canDeflate();
		if (!squeeze && !w.sending) return sendFrames(this, bytes, false);
		const run = async () => {
			const deflated = squeeze ? await deflate(bytes).catch(() => undefined) : undefined;
			sendFrames(this, deflated ?? bytes, !!deflated);
		};
		const next = (w.sending ?? Promise.resolve()).then(run).catch(() => {
			// The channel closed meanwhile: what was left to send goes nowhere, as with a plain send.
		});
		w.sending = next;
		void next.then(() => {
			if (w.sending === next) w.sending = undefined;
		});
	};
	proto._onChannelMessage = function (event: { data: unknown }) {
		const raw = event.data;
		const bytes = raw instanceof ArrayBuffer ? new Uint8Array(raw) : raw instanceof Uint8Array ? raw : null;
		if (!bytes) return receive.call(this, event);
		const w = wireOf(this);
		const r = (w.assembler ??= new Reassembler()).receive(bytes);
		if (!r) return;
		if ('offer' in r) {
			w.inflates = true;
			return;
		}
		const deliver = (whole: Uint8Array) => {
			if (filters.get(this)?.(whole) === false) return;
			receive.call(this, { data: whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.byteLength) });
		};
		if (!r.deflated && !w.receiving) return deliver(r.bytes);
		const next = (w.receiving ?? Promise.resolve())
			.then(async () => {
				// A message that does not inflate (junk, or past the bound) is dropped, like a broken frame.
				const whole = r.deflated ? await inflate(r.bytes).catch(() => null) : r.bytes;
				if (whole) deliver(whole);
			})
			.catch((e: unknown) => {
				// What handling a message threw is reported as before (uncaught), and later messages still come.
				setTimeout(() => {
					throw e;
				});
			});
		w.receiving = next;
		void next.then(() => {
			if (w.receiving === next) w.receiving = undefined;
		});
	};
}
