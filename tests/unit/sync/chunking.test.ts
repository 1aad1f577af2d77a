import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, Reassembler, frame, installChunking } from '../../../src/lib/sync/chunking';
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
		expect(frames.length).toBe(64);
		expect(Math.max(...frames.map((f) => f.length))).toBeLessThan(256 * 1024);
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
