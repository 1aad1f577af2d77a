/**
 * Web Push from the Node relay, against a local HTTP endpoint standing in for the push service: it
 * receives the real requests, checks the VAPID signature (RFC 8292) and decrypts the body with the
 * subscriber's keys (RFC 8291), so the test sees exactly what a push service and a browser would.
 * Also: the key pair is kept across restarts, the uploader's own subscription is skipped, expired
 * subscriptions are removed, the per-room bound and the endpoint policy refuse with clear errors,
 * and the Durable Object build says it offers no push.
 */
import { createECDH, createDecipheriv, createPublicKey, hkdfSync, randomBytes, verify as verifySig } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSync } from '../../src/lib/identity/ed25519';
import { deriveRelayKeys, encryptItem } from '../../src/lib/sync/relay-client';
import { randomId } from '../../src/lib/sync/links';
import { startRelay, type RunningRelay } from '../../src/relay/node';
import { openProof, pushProof, subscribeProof, unsubscribeProof, type RelayMessage, type WirePushSubscription } from '../../src/relay/protocol';
import { VAPID_FILE } from '../../src/relay/push';
import { durableTarget, envelope, newAddress, RawConnection, type RelayTarget, TEST_LIMITS, until } from './harness';

// —— the stand-in push service ——

interface Received {
	path: string;
	headers: http.IncomingHttpHeaders;
	body: Buffer;
}

/** A browser's side of one subscription: its ECDH key pair and auth secret. */
function browserSubscription(endpointBase: string, name: string) {
	const ecdh = createECDH('prime256v1');
	ecdh.generateKeys();
	const auth = randomBytes(16);
	const subscription: WirePushSubscription = {
		endpoint: `${endpointBase}/push/${name}`,
		keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') }
	};
	/** RFC 8291 (aes128gcm): what the browser does with a push body. */
	const decrypt = (body: Buffer): string => {
		const salt = body.subarray(0, 16);
		const idlen = body[20]!;
		const serverKey = body.subarray(21, 21 + idlen);
		const ciphertext = body.subarray(21 + idlen);
		const secret = ecdh.computeSecret(serverKey);
		const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), serverKey]);
		const ikm = Buffer.from(hkdfSync('sha256', secret, auth, keyInfo, 32));
		const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
		const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
		const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
		decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
		const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
		let end = padded.length - 1;
		while (end >= 0 && padded[end] === 0) end--;
		expect(padded[end]).toBe(2); // the last record's delimiter
		return padded.subarray(0, end).toString('utf8');
	};
	return { subscription, decrypt };
}

/** RFC 8292: `vapid t=<JWT>, k=<public key>`; the JWT is ES256-signed by that key, for this origin. */
function checkVapid(authorization: string | undefined, expectedKey: string, endpoint: string) {
	const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(authorization ?? '');
	expect(m, `Authorization header: ${authorization}`).not.toBeNull();
	const [jwt, k] = [m![1]!, m![2]!];
	expect(k).toBe(expectedKey);
	const [h, p, sig] = jwt.split('.') as [string, string, string];
	const raw = Buffer.from(k, 'base64url');
	const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' });
	expect(verifySig('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'))).toBe(true);
	expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toMatchObject({ alg: 'ES256', typ: 'JWT' });
	const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud: string; exp: number; sub: string };
	expect(claims.aud).toBe(new URL(endpoint).origin);
	expect(claims.exp * 1000).toBeGreaterThan(Date.now());
	expect(claims.sub).toMatch(/^(mailto:|https:)/);
}


describe('Web Push from the Node relay', () => {
	const dir = mkdtempSync(join(tmpdir(), 'relay-push-'));
	const received: Received[] = [];
	/** Paths the stand-in service answers 410 Gone (an expired subscription). */
	const gone = new Set<string>();
	let service: http.Server;
	let base = '';
	let relay: RunningRelay;
	const conns: RawConnection[] = [];
	const limits = { ...TEST_LIMITS, maxSubscriptionsPerRoom: 3 };

	const start = async () => {
		relay = await startRelay({ port: 0, dataDir: dir, limits, trustProxy: true, push: { allowEndpoint: () => true, coalesceMs: 30 } });
	};
	beforeAll(async () => {
		service = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (c: Buffer) => chunks.push(c));
			req.on('end', () => {
				received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
				res.writeHead(gone.has(req.url ?? '') ? 410 : 201).end();
			});
		});
		await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
		base = `http://127.0.0.1:${(service.address() as { port: number }).port}`;
		await start();
	});
	afterAll(async () => {
		for (const c of conns) c.close();
		await relay.close();
		service.close();
		rmSync(dir, { recursive: true, force: true });
	});

	/** A connection that opened `secret`'s room with proof of its key. */
	const device = async (secret: string) => {
		const keys = deriveRelayKeys(secret);
		const target = { url: relay.url, addressHeader: 'x-forwarded-for' } as RelayTarget;
		const conn = new RawConnection(target, keys.room, newAddress());
		conns.push(conn);
		const hello = await conn.hello;
		const opened = await conn.request({ t: 'open', room: keys.room, key: keys.roomKey.publicKey, sig: signSync(keys.roomKey, openProof(hello.challenge, keys.room)) });
		expect(opened.t).toBe('opened');
		return {
			conn,
			hello,
			keys,
			subscribe: (sub: WirePushSubscription) => conn.request({ t: 'subscribe', room: keys.room, subscription: sub, sig: signSync(keys.roomKey, subscribeProof(hello.challenge, keys.room, sub)) }),
			unsubscribe: (endpoint: string) => conn.request({ t: 'unsubscribe', room: keys.room, endpoint, sig: signSync(keys.roomKey, unsubscribeProof(hello.challenge, keys.room, endpoint)) }),
			upload: (text: string, own?: string) => {
				const e = envelope(text);
				const items = [encryptItem(keys, e.id, e.envelope)];
				return conn.request({ t: 'push', room: keys.room, items, sig: signSync(keys.roomKey, pushProof(hello.challenge, keys.room, items)), own });
			}
		};
	};
	const settle = async () => {
		await new Promise((r) => setTimeout(r, 60));
		await until(() => relay.pushBusy() === 0);
	};
	const to = (sub: WirePushSubscription) => received.filter((r) => `${base}${r.path}` === sub.endpoint);

	it('announces one VAPID key in every hello, kept in the data folder across restarts', async () => {
		const { hello } = await device(randomId(24));
		expect(hello.push?.key).toMatch(/^[A-Za-z0-9_-]{87}$/);
		expect(Buffer.from(hello.push!.key, 'base64url')[0]).toBe(4); // an uncompressed P-256 point
		expect(hello.push!.key).toBe(relay.pushKey);
		const file = join(dir, VAPID_FILE);
		expect(existsSync(file)).toBe(true);
		expect(statSync(file).mode & 0o077).toBe(0); // the private key is readable by the relay's user only
		await relay.close();
		await start();
		expect((await device(randomId(24))).hello.push?.key).toBe(hello.push!.key);
	});

	it('a new item sends every other subscription of the room one push: VAPID-signed, carrying the room id and nothing else', async () => {
		const secret = randomId(24);
		const ada = browserSubscription(base, 'ada-1');
		const grace = browserSubscription(base, 'grace-1');
		const adaDevice = await device(secret);
		const graceDevice = await device(secret);
		expect(await adaDevice.subscribe(ada.subscription)).toMatchObject({ t: 'subscribed', subscriptions: 1 });
		expect(await graceDevice.subscribe(grace.subscription)).toMatchObject({ t: 'subscribed', subscriptions: 2 });

		// Grace uploads two events in one burst: Ada's device is woken once, Grace's own is not.
		expect((await graceDevice.upload('Grace’s secret design notes')).t).toBe('acked');
		expect((await graceDevice.upload('second')).t).toBe('acked');
		await settle();
		expect(to(grace.subscription)).toHaveLength(0);
		const pushes = to(ada.subscription);
		expect(pushes).toHaveLength(1);
		const push = pushes[0]!;
		expect(push.headers['content-encoding']).toBe('aes128gcm');
		expect(Number(push.headers.ttl)).toBeGreaterThan(0);
		checkVapid(push.headers.authorization, adaDevice.hello.push!.key, ada.subscription.endpoint);
		expect(JSON.parse(ada.decrypt(push.body))).toEqual({ room: adaDevice.keys.room });
		expect(push.body.includes(Buffer.from('design notes'))).toBe(false);
		// A push that does not decrypt for another subscriber: it was sealed for Ada's keys alone.
		expect(() => grace.decrypt(push.body)).toThrow();
	});

	it('the uploader’s own subscription is skipped when its push names it, from any connection', async () => {
		const secret = randomId(24);
		const ada = browserSubscription(base, 'ada-2');
		const grace = browserSubscription(base, 'grace-2');
		await (await device(secret)).subscribe(ada.subscription);
		await (await device(secret)).subscribe(grace.subscription);
		// Another connection of Grace's device (the one that syncs), flagging her subscription.
		const uploader = await device(secret);
		expect((await uploader.upload('from a second connection', grace.subscription.endpoint)).t).toBe('acked');
		await settle();
		expect(to(ada.subscription)).toHaveLength(1);
		expect(to(grace.subscription)).toHaveLength(0);
		// Without the flag, both are woken.
		expect((await uploader.upload('unflagged')).t).toBe('acked');
		await settle();
		expect(to(ada.subscription)).toHaveLength(2);
		expect(to(grace.subscription)).toHaveLength(1);
	});

	it('an expired subscription (410 from the push service) is removed; unsubscribe removes one', async () => {
		const secret = randomId(24);
		const old = browserSubscription(base, 'expired');
		const live = browserSubscription(base, 'live');
		const d = await device(secret);
		await d.subscribe(old.subscription);
		expect(await d.subscribe(live.subscription)).toMatchObject({ subscriptions: 2 });
		gone.add('/push/expired');
		await (await device(secret)).upload('wake everyone');
		await settle();
		expect(to(old.subscription)).toHaveLength(1);
		expect(relay.stats().pushExpired).toBeGreaterThanOrEqual(1);
		// Subscribing the live one again counts what is left: the expired one is gone.
		expect(await d.subscribe(live.subscription)).toMatchObject({ subscriptions: 1 });
		await (await device(secret)).upload('again');
		await settle();
		expect(to(old.subscription)).toHaveLength(1);
		expect(to(live.subscription)).toHaveLength(2);
		expect(await d.unsubscribe(live.subscription.endpoint)).toMatchObject({ t: 'unsubscribed' });
		await (await device(secret)).upload('after unsubscribe');
		await settle();
		expect(to(live.subscription)).toHaveLength(2);
	});

	it('a room keeps at most maxSubscriptionsPerRoom subscriptions and says so; the same one again is no new one', async () => {
		const d = await device(randomId(24));
		const subs = [1, 2, 3, 4].map((i) => browserSubscription(base, `bound-${i}`).subscription);
		for (const s of subs.slice(0, 3)) expect((await d.subscribe(s)).t).toBe('subscribed');
		expect(await d.subscribe(subs[0]!)).toMatchObject({ t: 'subscribed', subscriptions: 3 });
		const refused = (await d.subscribe(subs[3]!)) as Extract<RelayMessage, { t: 'error' }>;
		expect(refused).toMatchObject({ t: 'error', code: 'too-many-subscriptions' });
		expect(refused.message).toContain('the most a room keeps (3)');
	});

	it('subscribing needs the room opened and the room key’s signature', async () => {
		const secret = randomId(24);
		const s = browserSubscription(base, 'outsider').subscription;
		const d = await device(secret);
		// Signed by another key: refused, nothing stored.
		const other = deriveRelayKeys(randomId(24));
		const forged = await d.conn.request({ t: 'subscribe', room: d.keys.room, subscription: s, sig: signSync(other.roomKey, subscribeProof(d.hello.challenge, d.keys.room, s)) });
		expect(forged).toMatchObject({ t: 'error', code: 'bad-signature' });
		// A room this connection did not open.
		const elsewhere = deriveRelayKeys(randomId(24));
		const notOpen = await d.conn.request({ t: 'subscribe', room: elsewhere.room, subscription: s, sig: signSync(elsewhere.roomKey, subscribeProof(d.hello.challenge, elsewhere.room, s)) });
		expect(notOpen).toMatchObject({ t: 'error', code: 'not-open' });
		// Malformed keys.
		const bad = await d.conn.request({ t: 'subscribe', room: d.keys.room, subscription: { endpoint: s.endpoint, keys: { p256dh: 'short', auth: s.keys.auth } }, sig: 'x' });
		expect(bad).toMatchObject({ t: 'error', code: 'bad-message' });
		expect(await d.subscribe(s)).toMatchObject({ subscriptions: 1 });
	});
});

describe('push endpoint policy (default)', () => {
	it('stores only subscriptions of the browsers’ push services', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'relay-push-policy-'));
		const relay = await startRelay({ port: 0, dataDir: dir, trustProxy: true });
		try {
			const keys = deriveRelayKeys(randomId(24));
			const conn = new RawConnection({ url: relay.url, addressHeader: 'x-forwarded-for' } as RelayTarget, keys.room, newAddress());
			const hello = await conn.hello;
			await conn.request({ t: 'open', room: keys.room, key: keys.roomKey.publicKey, sig: signSync(keys.roomKey, openProof(hello.challenge, keys.room)) });
			const sub = (endpoint: string) => {
				const s = { ...browserSubscription('https://x', 'y').subscription, endpoint };
				return conn.request({ t: 'subscribe', room: keys.room, subscription: s, sig: signSync(keys.roomKey, subscribeProof(hello.challenge, keys.room, s)) });
			};
			const internal = (await sub('http://169.254.169.254/latest/meta-data')) as Extract<RelayMessage, { t: 'error' }>;
			expect(internal).toMatchObject({ t: 'error', code: 'bad-subscription' });
			expect(internal.message).toContain('169.254.169.254 is not one of them');
			expect(await sub('https://fcm.googleapis.com/fcm/send/abc:def')).toMatchObject({ t: 'subscribed', subscriptions: 1 });
			expect(await sub('https://updates.push.services.mozilla.com/wpush/v2/abc')).toMatchObject({ t: 'subscribed', subscriptions: 2 });
			conn.close();
		} finally {
			await relay.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('with push off, hello announces no key and a subscribe is refused', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'relay-push-off-'));
		const relay = await startRelay({ port: 0, dataDir: dir, trustProxy: true, push: false });
		try {
			const keys = deriveRelayKeys(randomId(24));
			const conn = new RawConnection({ url: relay.url, addressHeader: 'x-forwarded-for' } as RelayTarget, keys.room, newAddress());
			const hello = await conn.hello;
			expect(hello.push).toBeUndefined();
			expect(existsSync(join(dir, VAPID_FILE))).toBe(false);
			await conn.request({ t: 'open', room: keys.room, key: keys.roomKey.publicKey, sig: signSync(keys.roomKey, openProof(hello.challenge, keys.room)) });
			const s = browserSubscription('https://fcm.googleapis.com', 'z').subscription;
			const answer = await conn.request({ t: 'subscribe', room: keys.room, subscription: s, sig: signSync(keys.roomKey, subscribeProof(hello.challenge, keys.room, s)) });
			expect(answer).toMatchObject({ t: 'error', code: 'push-unavailable' });
			conn.close();
		} finally {
			await relay.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe('push on the Durable Object build', () => {
	let target: RelayTarget;
	beforeAll(async () => {
		target = durableTarget();
		await target.start();
	}, 30_000);
	afterAll(() => target.stop());

	it('announces no push key and answers a subscribe: push is not offered by this relay', async () => {
		const keys = deriveRelayKeys(randomId(24));
		const conn = new RawConnection(target, keys.room, newAddress());
		const hello = await conn.hello;
		expect(hello.push).toBeUndefined();
		await conn.request({ t: 'open', room: keys.room, key: keys.roomKey.publicKey, sig: signSync(keys.roomKey, openProof(hello.challenge, keys.room)) });
		const s = browserSubscription('https://fcm.googleapis.com', 'w').subscription;
		const answer = (await conn.request({ t: 'subscribe', room: keys.room, subscription: s, sig: signSync(keys.roomKey, subscribeProof(hello.challenge, keys.room, s)) })) as Extract<
			RelayMessage,
			{ t: 'error' }
		>;
		expect(answer).toMatchObject({ t: 'error', code: 'push-unavailable' });
		expect(answer.message).toContain('not offered by this relay');
		conn.close();
	});
});
