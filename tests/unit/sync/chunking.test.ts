import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { CHUNK_BYTES, MAX_MESSAGE_BYTES, Reassembler, frame, inflate, inflateOffer, installChunking } from '../../../src/lib/sync/chunking';
import { parseJoinLink, roomName, shareLink } from '../../../src/lib/sync/links';

describe('data-channel chunking', () => {
	it('splits big messages into frames no larger than the chunk size and reassembles them in any interleaving', () => {
		fc.assert(
			fc.property(fc.array(fc.uint8Array({ maxLength: 5000 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 64, max: 1024 }), (messages, size) => {
				const framed = messages.map((m) => frame(m, size));
				for (const fs of framed) for (const f of fs) expect(f.length).toBeLessThanOrEqual(size + 13);
				// Interleave frames of different messages (a data channel keeps order per message sender).
				const r = new Reassembler();
				const out: Uint8Array[] = [];
				const queues = framed.map((fs) => [...fs]);
				while (queues.some((q) => q.length)) for (const q of queues) if (q.length) { const got = r.push(q.shift()!); if (got) out.push(got); }
				expect(out.map((m) => Buffer.from(m).toString('hex')).sort()).toEqual(messages.map((m) => Buffer.from(m).toString('hex')).sort());
			})
		);
	});

	it('passes small messages through untouched and chunks a 1 MB sync message', () => {
		const small = new Uint8Array([0, 1, 2, 3]);
		expect(frame(small)).toEqual([small]);
		const big = new Uint8Array(1024 * 1024).map((_, i) => i * 7);
		const frames = frame(big);
		expect(frames.length).toBe(Math.ceil(big.length / CHUNK_BYTES));
		expect(frames.length).toBeGreaterThan(1);
		// No frame above 64 KiB, header included: what every WebRTC stack accepts.
		expect(Math.max(...frames.map((f) => f.length))).toBeLessThanOrEqual(64 * 1024);
		const r = new Reassembler();
		let whole: Uint8Array | null = null;
		for (const f of frames) whole = r.push(f) ?? whole;
		expect(whole).toEqual(big);
	});

	it('ignores hostile frames instead of crashing or growing without bound', () => {
		const r = new Reassembler();
		expect(r.push(new Uint8Array([0xf7, 1]))).toBeNull();
		const liar = new Uint8Array(13);
		liar[0] = 0xf7;
		new DataView(liar.buffer).setUint32(9, 1_000_000);
		expect(r.push(liar)).toBeNull();
	});

	it('patches a peer class so send and receive round-trip through frames', () => {
		const wire: Uint8Array[] = [];
		const received: ArrayBuffer[] = [];
		class FakePeer {
			send(chunk: Uint8Array) {
				wire.push(chunk);
			}
			_onChannelMessage(event: { data: ArrayBuffer }) {
				received.push(event.data);
			}
		}
		installChunking(FakePeer as never);
		installChunking(FakePeer as never);
		const a = new FakePeer();
		const b = new FakePeer();
		const msg = new Uint8Array(3 * CHUNK_BYTES + 5).fill(9);
		a.send(msg);
		expect(wire.length).toBe(4);
		for (const f of wire) b._onChannelMessage({ data: f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength) as ArrayBuffer });
		expect(received.length).toBe(1);
		expect(new Uint8Array(received[0]!)).toEqual(msg);
	});
	/** A class of peers patched on its own, on an in-order wire: `sent` holds what left, `got` what was handed to y-webrtc. */
	function peerClass(opens: boolean) {
		class FakePeer {
			sent: Uint8Array[] = [];
			got: Uint8Array[] = [];
			send(chunk: Uint8Array) {
				this.sent.push(chunk);
			}
			_onChannelMessage(event: { data: ArrayBuffer }) {
				this.got.push(new Uint8Array(event.data));
			}
		}
		if (opens) (FakePeer.prototype as unknown as { _onChannelOpen(): void })._onChannelOpen = () => {};
		installChunking(FakePeer as never);
		return FakePeer;
	}
	type Fake = InstanceType<ReturnType<typeof peerClass>>;
	const carry = (from: Fake, to: Fake) => {
		for (const f of from.sent.splice(0)) to._onChannelMessage({ data: f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength) as ArrayBuffer });
	};
	const deflatedFrame = (f: Uint8Array) => f[0] === 0xf7 && (new DataView(f.buffer, f.byteOffset).getUint32(9) & 0x80000000) !== 0;
	// A contract's sync message: envelopes, much alike.
	const syncMessage = new TextEncoder().encode(
		Array.from({ length: 3000 }, (_, i) => `{"id":"ev${i}","body":"{\\"v\\":1,\\"type\\":\\"message.sent\\",\\"at\\":${1_700_000_000_000 + i}}","sig":"${(i * 7919).toString(36).padStart(12, 'x')}"}`).join(',')
	);

	it('deflates a big message for a peer that said it inflates, and keeps the order of messages both ways', async () => {
		const A = peerClass(true);
		const B = peerClass(true);
		const a = new A();
		const b = new B();
		(a as unknown as { _onChannelOpen(): void })._onChannelOpen();
		(b as unknown as { _onChannelOpen(): void })._onChannelOpen();
		carry(a, b);
		carry(b, a);
		const small = new Uint8Array([0, 1, 2]);
		a.send(syncMessage);
		a.send(small);
		// The small message waits behind the one being deflated.
		expect(a.sent).toEqual([]);
		await vi.waitFor(() => expect(a.sent.at(-1)).toEqual(small));
		const wire = a.sent.reduce((n, f) => n + f.length, 0);
		expect(a.sent.some(deflatedFrame)).toBe(true);
		expect(wire).toBeLessThan(syncMessage.length / 3);
		carry(a, b);
		await vi.waitFor(() => expect(b.got.length).toBe(2));
		expect(b.got).toEqual([syncMessage, small]);
	});

	it('sends plainly to a peer that never said it inflates (an older version), which ignores the offer', async () => {
		const A = peerClass(true);
		const Old = peerClass(false);
		const a = new A();
		const old = new Old();
		a.send(syncMessage);
		expect(a.sent.length).toBe(Math.ceil(syncMessage.length / CHUNK_BYTES));
		expect(a.sent.some(deflatedFrame)).toBe(false);
		carry(a, old);
		expect(old.got).toEqual([syncMessage]);
		// What an older version does with the offer: a frame of no message, dropped.
		expect(new Reassembler().push(inflateOffer())).toBeNull();
	});

	it('drops a deflated message that inflates past the size a message may have, and what follows still arrives', async () => {
		await expect(inflate(deflateRawSync(Buffer.alloc(1000)), 999)).rejects.toThrow(/inflates past/);
		expect((await inflate(deflateRawSync(Buffer.alloc(1000)), 1000)).length).toBe(1000);
		// The attack: a few dozen kilobytes that inflate to more than a reassembled message may be.
		const bomb = deflateRawSync(Buffer.alloc(MAX_MESSAGE_BYTES + 1));
		expect(bomb.length).toBeLessThan(CHUNK_BYTES * 2);
		const B = peerClass(true);
		const b = new B();
		const small = new Uint8Array([0, 4, 2]);
		for (const f of [...frame(bomb, CHUNK_BYTES, true), small]) b._onChannelMessage({ data: f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength) as ArrayBuffer });
		await vi.waitFor(() => expect(b.got).toEqual([small]), { timeout: 20_000 });
	});
});

describe('share links', () => {
	it('round-trips and keeps the secret in the fragment', () => {
		const link = { contract: 'AAAAAAAAAAAAAAAAAAAAAA', secret: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' };
		const url = shareLink('https://app.example/', link);
		expect(url).toBe('https://app.example/#/join/AAAAAAAAAAAAAAAAAAAAAA/c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0');
		expect(new URL(url).pathname).toBe('/');
		expect(parseJoinLink(url)).toEqual({ ok: true, link });
		expect(parseJoinLink('/join/AAAAAAAAAAAAAAAAAAAAAA/c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0')).toEqual({ ok: true, link });
	});

	it('says clearly when a link is incomplete or damaged', () => {
		for (const bad of ['', 'https://app.example/#/join/', '#/join/short/x', '#/join/AAAAAAAAAAAAAAAAAAAAAA', '#/join/AAAAAAAAAAAAAAAAAAAAAA/sh', '#/join/AAA$AAAAAAAAAAAAAAAAAA/c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0']) {
			const r = parseJoinLink(bad);
			expect(r.ok).toBe(false);
			expect((r as { message: string }).message).toMatch(/incomplete or damaged/);
		}
	});

	it('derives the room from the secret, not the contract id', () => {
		expect(roomName('secret-a')).not.toBe(roomName('secret-b'));
		expect(roomName('secret-a')).toBe(roomName('secret-a'));
		expect(roomName('secret-a')).not.toContain('secret');
	});
});
