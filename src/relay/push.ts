/**
 * Web Push from the Node relay: when new items land in a room, every push subscription of that room
 * (except the uploader's own) gets a push that carries nothing but the room id, encrypted for the
 * browser (aes128gcm, RFC 8291) and signed with the relay's VAPID key (RFC 8292). The push service
 * learns that a device is being woken, never by what; the device's service worker pulls the items
 * itself and decides what to show from its own data.
 *
 *  - VAPID key pair: generated once, kept in the relay's data folder (`vapid.json`, mode 0600), and
 *    announced in every hello (`push.key`).
 *  - Subscriptions: SQLite, one row per (room, endpoint), at most `maxSubscriptionsPerRoom` per room.
 *    Deleted with their room by retention, when the push service answers 404/410 (expired), or
 *    when a subscriber asks.
 *  - Endpoints: only the browsers' push services by default, so a link holder cannot make the relay
 *    send requests to any other host (`allowEndpoint` widens it, for tests).
 *  - Bursts: pushes to one room within `coalesceMs` make one push.
 *  - Sending: `web-push` builds each request (encryption, VAPID header); `fetch` sends it, with a
 *    timeout, a few at a time, from a bounded queue (best effort: a full queue drops pushes).
 *
 * The Durable Object build does not import this file: `web-push` needs Node (its `https` and
 * `crypto`), so on Workers a subscribe is answered `push-unavailable` (session.ts).
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import { RelayError, type RelayLimits, type WirePushSubscription } from './protocol';
import type { Sql } from './store';

export const VAPID_FILE = 'vapid.json';

export interface PushOptions {
	/** VAPID `sub` claim: how the push service reaches the relay's operator (mailto: or https:). */
	subject?: string;
	/** Which endpoints may be stored. Default: the browsers' push services (`isPushService`). */
	allowEndpoint?: (url: URL) => boolean;
	/** Items landing in a room within this long make one push (default 1,000 ms). */
	coalesceMs?: number;
	/** How long the push service keeps a push for an offline device (default 3 days). */
	ttlSeconds?: number;
	/** Per request (default 10 s). */
	timeoutMs?: number;
	/** Requests in flight at once (default 8) and waiting at most (default 10,000). */
	concurrency?: number;
	maxQueued?: number;
	/** Transport (default the global fetch). */
	fetch?: typeof fetch;
}

export const DEFAULT_SUBJECT = 'mailto:relay-operator@example.invalid';

/** Hosts of the push services browsers use (Chrome/Edge/Opera: FCM; Firefox: Mozilla; Safari: Apple; Windows: WNS). */
const PUSH_SERVICE_HOSTS = ['fcm.googleapis.com', 'android.googleapis.com', 'updates.push.services.mozilla.com', 'web.push.apple.com'];
const PUSH_SERVICE_SUFFIXES = ['.push.services.mozilla.com', '.push.apple.com', '.notify.windows.com'];

export function isPushService(url: URL): boolean {
	if (url.protocol !== 'https:' || url.port !== '') return false;
	const host = url.hostname.toLowerCase();
	return PUSH_SERVICE_HOSTS.includes(host) || PUSH_SERVICE_SUFFIXES.some((s) => host.endsWith(s));
}

export interface VapidKeys {
	publicKey: string;
	privateKey: string;
}

/** The relay's VAPID key pair: read from the data folder, or generated and written there once. */
export function loadVapidKeys(dir: string): VapidKeys {
	const file = join(dir, VAPID_FILE);
	if (existsSync(file)) {
		const k = JSON.parse(readFileSync(file, 'utf8')) as VapidKeys;
		if (typeof k.publicKey === 'string' && typeof k.privateKey === 'string') return { publicKey: k.publicKey, privateKey: k.privateKey };
		throw new Error(`${file} is not a VAPID key pair; move it away to let the relay make a new one (subscribers then subscribe again).`);
	}
	const k = webpush.generateVAPIDKeys();
	writeFileSync(file, JSON.stringify({ publicKey: k.publicKey, privateKey: k.privateKey }, null, 2), { mode: 0o600, flag: 'wx' });
	chmodSync(file, 0o600);
	return k;
}

export interface PushStats {
	pushSent: number;
	pushFailed: number;
	pushExpired: number;
	pushDropped: number;
}

interface SubRow {
	endpoint: string;
	p256dh: string;
	auth: string;
}

export class RelayPusher {
	readonly publicKey: string;
	private readonly keys: VapidKeys;
	private readonly subject: string;
	private readonly allow: (url: URL) => boolean;
	private readonly pending = new Map<string, { except: string[]; timer: ReturnType<typeof setTimeout> }>();
	private readonly queue: { room: string; sub: SubRow }[] = [];
	private inFlight = 0;
	private closed = false;
	readonly stats: PushStats = { pushSent: 0, pushFailed: 0, pushExpired: 0, pushDropped: 0 };

	constructor(
		private readonly sql: Sql,
		dir: string,
		private readonly limits: RelayLimits,
		private readonly opts: PushOptions = {},
		private readonly log: (line: string) => void = () => {}
	) {
		this.keys = loadVapidKeys(dir);
		this.publicKey = this.keys.publicKey;
		this.subject = opts.subject ?? DEFAULT_SUBJECT;
		this.allow = opts.allowEndpoint ?? isPushService;
		// Fails now, not at the first push, when the subject is not a mailto: or https: URL.
		webpush.generateRequestDetails({ endpoint: 'https://fcm.googleapis.com/fcm/send/check', keys: { p256dh: '', auth: '' } }, undefined, {
			vapidDetails: { subject: this.subject, publicKey: this.keys.publicKey, privateKey: this.keys.privateKey }
		});
		sql.run(
			'CREATE TABLE IF NOT EXISTS push_subscriptions (room TEXT NOT NULL, endpoint TEXT NOT NULL, p256dh TEXT NOT NULL, auth TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (room, endpoint))'
		);
		sql.run('CREATE INDEX IF NOT EXISTS push_subscriptions_endpoint ON push_subscriptions (endpoint)');
	}

	/** Store (or refresh) a subscription for a room; returns how many the room has. */
	subscribe(room: string, sub: WirePushSubscription, now = Date.now()): number {
		let url: URL;
		try {
			url = new URL(sub.endpoint);
		} catch {
			throw new RelayError('bad-subscription', 'This push subscription’s endpoint is not a URL.');
		}
		if (!this.allow(url))
			throw new RelayError(
				'bad-subscription',
				`This relay sends pushes only to the browsers’ push services (Google, Mozilla, Apple, Microsoft); ${url.host} is not one of them.`
			);
		const max = this.limits.maxSubscriptionsPerRoom;
		return this.sql.transaction(() => {
			const known = this.sql.all<{ n: number }>('SELECT COUNT(*) AS n FROM push_subscriptions WHERE room = ? AND endpoint = ?', room, sub.endpoint)[0]!.n > 0;
			const count = this.count(room);
			if (!known && count >= max)
				throw new RelayError(
					'too-many-subscriptions',
					`This room already has ${count} push subscriptions, the most a room keeps (${max}). A device that no longer needs pushes can unsubscribe; expired ones are removed when a push finds them gone.`
				);
			this.sql.run(
				'INSERT INTO push_subscriptions (room, endpoint, p256dh, auth, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (room, endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth, created = excluded.created',
				room,
				sub.endpoint,
				sub.keys.p256dh,
				sub.keys.auth,
				now
			);
			return known ? count : count + 1;
		});
	}

	unsubscribe(room: string, endpoint: string): void {
		this.sql.run('DELETE FROM push_subscriptions WHERE room = ? AND endpoint = ?', room, endpoint);
	}

	count(room: string): number {
		return this.sql.all<{ n: number }>('SELECT COUNT(*) AS n FROM push_subscriptions WHERE room = ?', room)[0]!.n;
	}

	endpoints(room: string): string[] {
		return this.sql.all<{ endpoint: string }>('SELECT endpoint FROM push_subscriptions WHERE room = ? ORDER BY created', room).map((r) => r.endpoint);
	}

	/**
	 * Retention: the subscriptions of rooms deleted whole, and of rooms never written to that nobody
	 * subscribed again for `retentionMs`.
	 */
	expire(deletedRooms: readonly string[], now = Date.now()): void {
		for (const room of deletedRooms) this.sql.run('DELETE FROM push_subscriptions WHERE room = ?', room);
		this.sql.run('DELETE FROM push_subscriptions WHERE created < ? AND room NOT IN (SELECT room FROM rooms)', now - this.limits.retentionMs);
	}

	/** New items landed in `room`; `except` are the uploader's own endpoints. One push per burst. */
	notify(room: string, except: readonly string[]): void {
		if (this.closed) return;
		const p = this.pending.get(room);
		if (p) {
			// Several uploaders in one burst: skip only a subscription that uploaded all of it.
			p.except = p.except.filter((e) => except.includes(e));
			return;
		}
		const timer = setTimeout(() => this.fire(room), this.opts.coalesceMs ?? 1000);
		timer.unref?.();
		this.pending.set(room, { except: [...except], timer });
	}

	private fire(room: string): void {
		const p = this.pending.get(room);
		this.pending.delete(room);
		if (!p || this.closed) return;
		const subs = this.sql.all<SubRow>('SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE room = ?', room);
		const max = this.opts.maxQueued ?? 10_000;
		for (const sub of subs) {
			if (p.except.includes(sub.endpoint)) continue;
			if (this.queue.length >= max) {
				this.stats.pushDropped++;
				continue;
			}
			this.queue.push({ room, sub });
		}
		this.pump();
	}

	private pump(): void {
		const limit = this.opts.concurrency ?? 8;
		while (!this.closed && this.inFlight < limit && this.queue.length) {
			const next = this.queue.shift()!;
			this.inFlight++;
			void this.send(next.room, next.sub).finally(() => {
				this.inFlight--;
				this.pump();
			});
		}
	}

	private async send(room: string, sub: SubRow): Promise<void> {
		try {
			// The payload is the room id alone, so the service worker pulls that room and no other.
			const req = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, JSON.stringify({ room }), {
				vapidDetails: { subject: this.subject, publicKey: this.keys.publicKey, privateKey: this.keys.privateKey },
				TTL: this.opts.ttlSeconds ?? 3 * 86_400,
				urgency: 'normal'
			});
			const headers: Record<string, string> = {};
			// fetch sets Content-Length from the body itself.
			for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() !== 'content-length') headers[k] = String(v);
			const res = await (this.opts.fetch ?? fetch)(req.endpoint, {
				method: 'POST',
				headers,
				body: req.body ? new Uint8Array(req.body) : undefined,
				signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000)
			});
			await res.arrayBuffer().catch(() => undefined);
			if (res.status === 404 || res.status === 410) {
				// The browser dropped this subscription: it will never be reached again.
				this.stats.pushExpired++;
				if (!this.closed) this.sql.run('DELETE FROM push_subscriptions WHERE endpoint = ?', sub.endpoint);
			} else if (res.ok) this.stats.pushSent++;
			else {
				this.stats.pushFailed++;
				this.log(`relay: push service ${new URL(sub.endpoint).host} answered ${res.status}`);
			}
		} catch (e) {
			this.stats.pushFailed++;
			this.log(`relay: push to ${safeHost(sub.endpoint)} failed: ${(e as Error).message}`);
		}
	}

	/** Pushes not sent yet, and requests in flight (tests wait for 0). */
	busy(): number {
		return this.pending.size + this.queue.length + this.inFlight;
	}

	close(): void {
		this.closed = true;
		for (const p of this.pending.values()) clearTimeout(p.timer);
		this.pending.clear();
		this.queue.length = 0;
	}
}

function safeHost(endpoint: string): string {
	try {
		return new URL(endpoint).host;
	} catch {
		return 'an invalid endpoint';
	}
}
