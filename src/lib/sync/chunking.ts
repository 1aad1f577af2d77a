/**
 * Chromium silently drops a WebRTC data-channel message larger than 256 KiB (y-webrtc issue #20),
 * and the first sync of a big contract is megabytes. Every message above CHUNK_BYTES is therefore
 * split into frames and reassembled on the other side. Frames start with a marker byte no y-webrtc
 * message starts with (its messages begin with a small varint type), so small messages pass as they are.
 *
 * Frame: [0xF7][message id: u32][index: u32][count: u32][payload…]
 */
export const CHUNK_BYTES = 16 * 1024;
const MARKER = 0xf7;
const HEADER = 13;
/** A message may not claim more than this many frames: bounds memory a hostile peer can make us hold. */
const MAX_FRAMES = 4096;

let nextId = 1;

export function frame(message: Uint8Array, chunkBytes = CHUNK_BYTES): Uint8Array[] {
	if (message.length <= chunkBytes && message[0] !== MARKER) return [message];
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
		v.setUint32(9, count);
		f.set(part, HEADER);
		frames.push(f);
	}
	return frames;
}

/** Reassembles frames of one connection. `push` returns a whole message when one is complete. */
export class Reassembler {
	private readonly pending = new Map<number, { parts: (Uint8Array | undefined)[]; got: number; bytes: number }>();

	push(data: Uint8Array): Uint8Array | null {
		if (data[0] !== MARKER) return data;
		if (data.length < HEADER) return null;
		const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
		const id = v.getUint32(1);
		const index = v.getUint32(5);
		const count = v.getUint32(9);
		if (count === 0 || count > MAX_FRAMES || index >= count) return null;
		let p = this.pending.get(id);
		if (!p) this.pending.set(id, (p = { parts: new Array(count), got: 0, bytes: 0 }));
		if (p.parts.length !== count || p.parts[index]) return null;
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
		return out;
	}
}

interface PeerLike {
	send(chunk: Uint8Array): void;
	_onChannelMessage(event: { data: unknown }): void;
}

/**
 * Teach simple-peer (as bundled by y-webrtc) to chunk: patch its prototype once, so every data
 * channel y-webrtc opens frames big messages and reassembles incoming ones.
 */
export function installChunking(Peer: { prototype: PeerLike }): void {
	const proto = Peer.prototype as PeerLike & { __chunking?: boolean };
	if (proto.__chunking) return;
	proto.__chunking = true;
	const send = proto.send;
	const receive = proto._onChannelMessage;
	const assemblers = new WeakMap<object, Reassembler>();
	proto.send = function (chunk: Uint8Array) {
		const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayBuffer);
		for (const f of frame(bytes)) send.call(this, f);
	};
	proto._onChannelMessage = function (event: { data: unknown }) {
		const raw = event.data;
		const bytes = raw instanceof ArrayBuffer ? new Uint8Array(raw) : raw instanceof Uint8Array ? raw : null;
		if (!bytes) return receive.call(this, event);
		let r = assemblers.get(this);
		if (!r) assemblers.set(this, (r = new Reassembler()));
		const whole = r.push(bytes);
		if (whole) receive.call(this, { data: whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.byteLength) });
	};
}
