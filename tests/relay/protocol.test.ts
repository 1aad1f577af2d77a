/**
 * One protocol suite, run against the Node relay (SQLite in a temp folder) and the Durable Object
 * build under workerd (miniflare): round trip, cursor reads, dedup, live delivery, outsiders, forged
 * writes, every limit with its message, slow readers, and no plaintext at rest.
 */
import { describe, expect, it } from 'vitest';
import { toBase64url } from '../../src/lib/contract/encoding';
import { generateKey, signSync } from '../../src/lib/identity/ed25519';
import { deriveRelayKeys, encryptItem, type ReceivedEnvelope } from '../../src/lib/sync/relay-client';
import { randomId } from '../../src/lib/sync/links';
import { openProof, pushProof, roomIdOf, type FramedItem, type RelayMessage } from '../../src/relay/protocol';
import { durableTarget, envelope, newAddress, nodeTarget, RawConnection, TEST_LIMITS, until, relayUnderTest } from './harness';


describe.each([
	['node', () => nodeTarget()],
	['durable-object', () => durableTarget()]
] as const)('relay protocol: %s', (_name, make) => {
	const { target, client, raw, openRaw } = relayUnderTest(make);
	const pushRaw = (conn: RawConnection, keys: ReturnType<typeof deriveRelayKeys>, challenge: string, items: { tag: string; data: string }[]) =>
		conn.request({ t: 'push', room: keys.room, items, sig: signSync(keys.roomKey, pushProof(challenge, keys.room, items)) });

	it('round trip: what one device pushes another pulls, decrypted, in order', async () => {
		const secret = randomId(24);
		const sent = [envelope('Logo design for Ada: first draft'), envelope('second'), envelope('third')];
		const a = await client().room(secret);
		expect(await a.push(sent)).toEqual([1, 2, 3]);
		const got: ReceivedEnvelope[] = [];
		const b = await client().room(secret, { live: false, onEnvelopes: (e) => got.push(...e) });
		expect(await b.pull()).toBe(3);
		expect(got.map((g) => [g.seq, g.id, g.envelope])).toEqual(sent.map((s, i) => [i + 1, s.id, s.envelope]));
		expect(b.cursor).toBe(3);
	});

	it('cursor reads: only what comes after the cursor, across pages of the pull limit', async () => {
		const secret = randomId(24);
		const sent = Array.from({ length: 25 }, (_, i) => envelope(`item ${i}`));
		await (await client().room(secret)).push(sent);
		const got: ReceivedEnvelope[] = [];
		const b = await client().room(secret, { cursor: 7, live: false, onEnvelopes: (e) => got.push(...e) });
		expect(await b.pull()).toBe(25);
		expect(got.map((g) => g.seq)).toEqual(Array.from({ length: 18 }, (_, i) => i + 8));
		// By hand: one page is at most maxPullItems, and says there is more.
		const { conn } = await openRaw(secret);
		const page = (await conn.request({ t: 'pull', room: deriveRelayKeys(secret).room, after: 3 })) as Extract<RelayMessage, { t: 'items' }>;
		expect(page.items.map((i) => i.seq)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
		expect(page).toMatchObject({ head: 25, more: true });
	});

	it('binary frames: a pull asking for them gets the same page as JSON, bytes for bytes; an old client still gets JSON', async () => {
		const secret = randomId(24);
		const sent = Array.from({ length: 14 }, (_, i) => envelope(`framed ${i}`, i * 40));
		await (await client().room(secret)).push(sent.slice(0, 2));
		await (await client().room(secret)).push(sent.slice(2), { bundle: true });
		const { conn, keys, opened } = await openRaw(secret);
		expect((await conn.hello).frames).toEqual([1]);
		const json = (await conn.request({ t: 'pull', room: keys.room, after: 0 })) as Extract<RelayMessage, { t: 'items' }>;
		expect(conn.frames).toBe(0);
		const framed = (await conn.request({ t: 'pull', room: keys.room, after: 0, bin: 1 })) as Extract<RelayMessage, { t: 'items' }>;
		expect(conn.frames).toBe(1);
		expect(framed).toMatchObject({ t: 'items', room: keys.room, head: (opened as Extract<RelayMessage, { t: 'opened' }>).head, more: json.more });
		expect((framed.items as FramedItem[]).map((i) => ({ seq: i.seq, tag: i.tag, tags: i.tags, data: toBase64url(i.bytes!) }))).toEqual(json.items.map((i) => ({ seq: i.seq, tag: i.tag, tags: i.tags, data: i.data })));
		expect(json.items.some((i) => i.tags)).toBe(true);
		// A framing this relay does not speak is refused in words; the client library reads either way.
		expect(await conn.request({ t: 'pull', room: keys.room, after: 0, bin: 2 })).toMatchObject({ t: 'error', code: 'bad-message' });
		for (const frames of [true, false]) {
			const got: ReceivedEnvelope[] = [];
			const c = client(newAddress(), { frames });
			await (await c.room(secret, { live: false, onEnvelopes: (e) => got.push(...e) })).pull();
			expect(got.map((g) => g.envelope)).toEqual(sent.map((e) => e.envelope));
		}
	});

	it('dedup: the same event pushed again (re-encrypted, fresh nonce) keeps its first sequence number', async () => {
		const secret = randomId(24);
		const e = envelope('only once');
		const a = await client().room(secret);
		expect(await a.push([e, envelope('other')])).toEqual([1, 2]);
		const again = await (await client().room(secret)).push([e, e]);
		expect(again).toEqual([1, 1]);
		const got: ReceivedEnvelope[] = [];
		const c = await client().room(secret, { live: false, onEnvelopes: (x) => got.push(...x) });
		await c.pull();
		expect(got.map((g) => g.id)).toEqual([e.id, envelope('other').id]);
		expect(c.head).toBe(2);
	});

	it('live: a device with the room open receives new items at once; the writer is not echoed', async () => {
		const secret = randomId(24);
		const got: ReceivedEnvelope[] = [];
		const echoed: ReceivedEnvelope[] = [];
		const a = await client().room(secret, { onEnvelopes: (e) => echoed.push(...e) });
		await client().room(secret, { onEnvelopes: (e) => got.push(...e) });
		const sent = [envelope('live 1'), envelope('live 2')];
		await a.push(sent);
		await until(() => got.length === 2);
		expect(got.map((g) => g.envelope)).toEqual(sent.map((s) => s.envelope));
		await new Promise((r) => setTimeout(r, 100));
		expect(echoed).toEqual([]);
		expect(a.cursor).toBe(2);
	});

	it('an outsider with only the room id can neither read nor write', async () => {
		const secret = randomId(24);
		await (await client().room(secret)).push([envelope('private')]);
		const keys = deriveRelayKeys(secret);
		const outsider = raw(keys.room);
		const { challenge } = await outsider.hello;
		// Without opening: no read, no write.
		expect(await outsider.request({ t: 'pull', room: keys.room, after: 0 })).toMatchObject({ t: 'error', code: 'not-open' });
		const item = encryptItem(keys, 'x', 'junk');
		expect(await outsider.request({ t: 'push', room: keys.room, items: [item], sig: 'A'.repeat(86) })).toMatchObject({ t: 'error', code: 'not-open' });
		// A key of its own does not hash to the room.
		const mine = await generateKey();
		expect(await outsider.request({ t: 'open', room: keys.room, key: mine.publicKey, sig: signSync(mine, openProof(challenge, keys.room)) })).toMatchObject({
			t: 'error',
			code: 'wrong-room'
		});
		// The room's public key (which a relay operator could learn) without its private key.
		const forged = await outsider.request({ t: 'open', room: keys.room, key: keys.roomKey.publicKey, sig: signSync(mine, openProof(challenge, keys.room)) });
		expect(forged).toMatchObject({ t: 'error', code: 'bad-proof', message: expect.stringContaining('only a holder of the link') });
		// A proof captured from another connection (another challenge) is no proof here.
		const other = await openRaw(secret);
		const replay = await outsider.request({ t: 'open', room: keys.room, key: keys.roomKey.publicKey, sig: signSync(keys.roomKey, openProof(other.challenge, keys.room)) });
		expect(replay).toMatchObject({ t: 'error', code: 'bad-proof' });
		expect(await outsider.request({ t: 'pull', room: keys.room, after: 0 })).toMatchObject({ t: 'error', code: 'not-open' });
		expect(outsider.received.some((m) => m.t === 'items' || m.t === 'item')).toBe(false);
	});

	it('a write signed by another key, or for another connection, is refused and stores nothing', async () => {
		const secret = randomId(24);
		const { conn, keys, challenge } = await openRaw(secret);
		const items = [encryptItem(keys, 'e1', envelope('forged').envelope)];
		const stranger = await generateKey();
		expect(await conn.request({ t: 'push', room: keys.room, items, sig: signSync(stranger, pushProof(challenge, keys.room, items)) })).toMatchObject({
			t: 'error',
			code: 'bad-signature',
			message: expect.stringContaining('not signed by the room key')
		});
		const other = await openRaw(secret);
		expect(await conn.request({ t: 'push', room: keys.room, items, sig: signSync(keys.roomKey, pushProof(other.challenge, keys.room, items)) })).toMatchObject({
			code: 'bad-signature'
		});
		// Signed for other items: the signature covers every item.
		const swapped = [encryptItem(keys, 'e2', envelope('swapped').envelope)];
		expect(await conn.request({ t: 'push', room: keys.room, items: swapped, sig: signSync(keys.roomKey, pushProof(challenge, keys.room, items)) })).toMatchObject({
			code: 'bad-signature'
		});
		expect(await conn.request({ t: 'pull', room: keys.room, after: 0 })).toMatchObject({ t: 'items', items: [], head: 0 });
		expect(await pushRaw(conn, keys, challenge, items)).toMatchObject({ t: 'acked', seqs: [1] });
	});

	it('limits: item size (the envelope limit plus encryption), items per push, and a room’s quota of items and bytes', async () => {
		const secret = randomId(24);
		const { conn, keys, challenge } = await openRaw(secret);
		const max = TEST_LIMITS.maxItemBytes;
		const big = { tag: encryptItem(keys, 'big', 'x').tag, data: toBase64url(new Uint8Array(max + 1)) };
		expect(await pushRaw(conn, keys, challenge, [big])).toMatchObject({
			code: 'item-too-large',
			message: `An item is at most ${max} bytes (one envelope of at most 32768 bytes, plus 40 of encryption); this one is ${max + 1}.`
		});
		// The largest envelope the contract allows does fit.
		const largest = envelope('largest', 0);
		const fill = 32768 - largest.envelope.length;
		const atLimit = envelope('largest', fill);
		expect(new TextEncoder().encode(atLimit.envelope).length).toBe(32768);
		expect(await pushRaw(conn, keys, challenge, [encryptItem(keys, atLimit.id, atLimit.envelope)])).toMatchObject({ t: 'acked', seqs: [1] });

		const many = Array.from({ length: TEST_LIMITS.maxItemsPerPush + 1 }, (_, i) => encryptItem(keys, `m${i}`, `item ${i}`));
		expect(await pushRaw(conn, keys, challenge, many)).toMatchObject({
			code: 'too-many-items',
			message: `A push carries at most ${TEST_LIMITS.maxItemsPerPush} items; this one has ${many.length}. Send them in several pushes.`
		});
		// Bytes: 10 items of ~32 KB more make ~350 KB, past the 300,000-byte quota; the push is refused whole.
		const heavy = Array.from({ length: 10 }, (_, i) => encryptItem(keys, `h${i}`, 'y'.repeat(32_000)));
		const refusedBytes = await pushRaw(conn, keys, challenge, heavy);
		expect(refusedBytes).toMatchObject({ code: 'room-full', message: `This room is full: it holds at most ${TEST_LIMITS.maxBytesPerRoom} bytes (it has ${32768 + 40}); nothing of this push was stored.` });
		expect(await conn.request({ t: 'pull', room: keys.room, after: 0 })).toMatchObject({ head: 1 });
		// Items: fill the room to maxItemsPerRoom, then one more is refused.
		for (let i = 0; i < 3; i++) {
			const batch = Array.from({ length: 13 }, (_, j) => encryptItem(keys, `f${i}-${j}`, 'small'));
			expect(await pushRaw(conn, keys, challenge, batch)).toMatchObject({ t: 'acked' });
		}
		expect(await pushRaw(conn, keys, challenge, [encryptItem(keys, 'over', 'one too many')])).toMatchObject({
			code: 'room-full',
			message: `This room is full: it holds at most ${TEST_LIMITS.maxItemsPerRoom} items (it has 40); nothing of this push was stored.`
		});
		// An item it already holds is still acknowledged (nothing new stored).
		expect(await pushRaw(conn, keys, challenge, [encryptItem(keys, 'f0-0', 'small')])).toMatchObject({ t: 'acked', seqs: [2] });
	});

	it('limits: a message over the size limit, and the request rate per connection', async () => {
		const { conn, keys } = await openRaw(randomId(24));
		const huge = conn.send({ t: 'pull', room: keys.room, after: 0, pad: 'z'.repeat(TEST_LIMITS.maxMessageBytes) });
		expect(await conn.answer(huge)).toMatchObject({ code: 'message-too-large', message: expect.stringContaining(`A message is at most ${TEST_LIMITS.maxMessageBytes} bytes`) });
		const ids = Array.from({ length: TEST_LIMITS.maxMessagesPerSecond + 10 }, () => conn.send({ t: 'ping' }));
		const answers = await Promise.all(ids.map((id) => conn.answer(id)));
		const limited = answers.filter((a) => a.t === 'error');
		expect(limited.length).toBeGreaterThanOrEqual(9);
		expect(limited[0]).toMatchObject({ code: 'rate-limited', message: `Too many requests: at most ${TEST_LIMITS.maxMessagesPerSecond} messages a second on one connection. Slow down and retry.` });
	});

	it('limits: connections per client address', async () => {
		const address = newAddress();
		const conns = Array.from({ length: TEST_LIMITS.maxConnectionsPerAddress }, () => raw(deriveRelayKeys(randomId(24)).room, address));
		await Promise.all(conns.map((c) => c.hello));
		const extra = raw(deriveRelayKeys(randomId(24)).room, address);
		expect(await extra.closed).toEqual({ code: 1008, reason: `too many connections from this address (at most ${TEST_LIMITS.maxConnectionsPerAddress})` });
		// Another address is not affected; and closing one frees a place.
		await raw(deriveRelayKeys(randomId(24)).room).hello;
		conns[0]!.close();
		await conns[0]!.closed;
		await until(() => false, 300).catch(() => {});
		await raw(deriveRelayKeys(randomId(24)).room, address).hello;
	});

	it('limits: rooms per client address (open at once on a shared socket; one per socket otherwise)', async () => {
		const address = newAddress();
		const secrets = Array.from({ length: TEST_LIMITS.maxRoomsPerAddress + 1 }, () => randomId(24));
		if (target().mux) {
			const c = client(address);
			for (const s of secrets.slice(0, -1)) await c.room(s);
			await expect(c.room(secrets.at(-1)!)).rejects.toMatchObject({
				code: 'too-many-rooms',
				message: `This address has ${TEST_LIMITS.maxRoomsPerAddress} rooms open, the most allowed at once (${TEST_LIMITS.maxRoomsPerAddress}). Leave one first.`
			});
		} else {
			// One room per socket: a socket cannot open a second room, and rooms per address are its connections.
			const { conn, challenge } = await openRaw(secrets[0]!, address);
			const k2 = deriveRelayKeys(secrets[1]!);
			expect(await conn.request({ t: 'open', room: k2.room, key: k2.roomKey.publicKey, sig: signSync(k2.roomKey, openProof(challenge, k2.room)) })).toMatchObject({
				code: 'too-many-rooms',
				message: expect.stringContaining('one room per connection')
			});
		}
	});

	it('limits: rooms created per client address per hour', async () => {
		const address = newAddress();
		const c = client(address);
		for (let i = 0; i < TEST_LIMITS.maxNewRoomsPerAddressPerHour; i++) {
			const r = await c.room(randomId(24));
			await r.push([envelope(`room ${i}`)]);
			await r.leave();
		}
		const r = await c.room(randomId(24));
		await expect(r.push([envelope('one room too many')])).rejects.toMatchObject({
			code: 'too-many-new-rooms',
			message: `This address created ${TEST_LIMITS.maxNewRoomsPerAddressPerHour} rooms in the last hour, the most allowed (${TEST_LIMITS.maxNewRoomsPerAddressPerHour}). Try again later.`
		});
		// Writing to a room that exists is not creating one.
		const existing = randomId(24);
		await (await client().room(existing)).push([envelope('made elsewhere')]);
		await r.leave();
		expect(await (await c.room(existing)).push([envelope('still fine')])).toEqual([2]);
	});

	it('a slow reader is dropped, never buffered without bound; a reader that keeps up is not', async () => {
		const secret = randomId(24);
		const keys = deriveRelayKeys(secret);
		// Reads nothing back to the relay: never confirms what it was sent.
		const { conn: slow } = await openRaw(secret);
		const got: ReceivedEnvelope[] = [];
		const fast = await client().room(secret, { onEnvelopes: (e) => got.push(...e) });
		const writer = await client().room(secret);
		const total = Math.ceil((TEST_LIMITS.maxUnreadBytes * 1.5) / 24_000);
		for (let i = 0; i < total; i += 2) {
			await writer.push([envelope(`burst ${i}`, 18_000), envelope(`burst ${i + 1}`, 18_000)]);
			// The fast reader keeps up (and confirms as it reads); the slow one falls further behind.
			await until(() => got.length >= i + 2);
		}
		expect(await slow.closed).toEqual({ code: 1008, reason: `reading too slowly: more than ${TEST_LIMITS.maxUnreadBytes} bytes of items sent and not confirmed read` });
		expect(got.length).toBe(Math.ceil(total / 2) * 2);
		expect(fast.cursor).toBe(got.length);
		expect(keys.room).toBe(fast.keys.room);
	});

	it('acknowledged items outlive a restart of the relay; the database holds no plaintext and no secret', async () => {
		const secret = randomId(24);
		const contract = randomId(16);
		const title = 'Brand identity for Harbour Bakery';
		const message = 'Here are the three logo concepts we discussed';
		const sent = [envelope(`${title} / contract ${contract}`), envelope(message)];
		const c = client();
		await (await c.room(secret)).push(sent);
		c.close();
		await target().restart();
		const got: ReceivedEnvelope[] = [];
		await (await client().room(secret, { live: false, onEnvelopes: (e) => got.push(...e) })).pull();
		expect(got.map((g) => g.envelope)).toEqual(sent.map((s) => s.envelope));
		const stored = target().storedBytes();
		expect(stored.length).toBeGreaterThan(0);
		const keys = deriveRelayKeys(secret);
		expect(stored.includes(Buffer.from(keys.room))).toBe(true); // the search does find what is there
		for (const needle of [title, message, secret, contract, sent[0]!.id, 'Harbour', 'logo concepts', keys.roomKey.seed])
			expect(stored.includes(Buffer.from(needle)), needle).toBe(false);
	}, 30_000);

	it('the room id is the hash of the room public key, and reveals neither the secret nor the keys', () => {
		const keys = deriveRelayKeys('some-link-secret-of-enough-length');
		expect(keys.room).toBe(roomIdOf(keys.roomKey.publicKey));
		expect(deriveRelayKeys('some-link-secret-of-enough-length')).toEqual(keys);
		expect(deriveRelayKeys('another-link-secret-of-enough-len').room).not.toBe(keys.room);
	});
});
