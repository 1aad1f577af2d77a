/**
 * The escrow function's store on Cloudflare: Durable Objects with SQLite-backed storage
 * (`new_sqlite_classes` in wrangler.toml).
 *
 *  - ContractRecordObject: one object per contract, `RECORDS.idFromName(<contract id>)`. The Worker
 *    front (worker.ts) sends it that contract's escrow operations and record reads; it runs the same
 *    handler over its own record. An object is single-threaded but interleaves requests at every
 *    outbound fetch (to Stripe), and blockConcurrencyWhile resets it after 30 s, so operations are
 *    serialised by the record's per-milestone queue (an in-memory promise chain, store.ts) plus a
 *    stored "in flight" row around each Stripe call. Nothing is written to an object until the fold
 *    has shown a contract that names this provider's key and whose countersign is being or has been
 *    recorded, so no other request creates a stored object.
 *    Size: at most 20,000 envelopes / 5 MB per contract (RECORD_LIMITS): an operation that would
 *    pass that is refused with a clear error, nothing executed. Retention: kept while any escrow is
 *    held, then 400 days after the last money operation (or last write): checked on every access and
 *    by an alarm, which then deletes the object's storage.
 *  - AccountsObject: one object, `ACCOUNTS.idFromName('accounts')`: the party key → connected
 *    account index and the onboarding rate-limit counters.
 *
 * Workers-only: nothing here is imported by the Node tests except through the bundle workerd runs.
 */
import { EscrowError } from '../lib/escrow/adapter';
import { depsFromEnv, type EdgeEnv } from './config';
import { createHandler } from './handler';
import { StoredContractRecord, type AccountStore, type RecordData } from './store';

// —— the few Workers types used here (no @cloudflare/workers-types in this project) ——
interface SqlCursor<T> {
	toArray(): T[];
}
interface SqlStorage {
	exec<T = Record<string, string | number | null>>(query: string, ...bindings: unknown[]): SqlCursor<T>;
}
export interface DurableObjectStorage {
	sql: SqlStorage;
	transactionSync<T>(fn: () => T): T;
	deleteAll(): Promise<void>;
	setAlarm(at: number): Promise<void>;
	deleteAlarm(): Promise<void>;
}
export interface DurableObjectState {
	storage: DurableObjectStorage;
}
export interface DurableObjectStub {
	fetch(input: string | Request, init?: RequestInit): Promise<Response>;
}
export interface DurableObjectNamespace {
	idFromName(name: string): unknown;
	get(id: unknown): DurableObjectStub;
}

export interface WorkerEnv extends EdgeEnv {
	RECORDS: DurableObjectNamespace;
	ACCOUNTS: DurableObjectNamespace;
}

/** The header the Worker front names the contract in (the object cannot read its own name). */
export const CONTRACT_HEADER = 'x-escrow-contract';

/** A record's tables, created on the first write: reading an object that was never written writes nothing. */
class SqlData implements RecordData {
	private ready = false;
	constructor(private readonly storage: DurableObjectStorage) {}

	private ensure(): void {
		if (this.ready) return;
		this.storage.sql.exec('CREATE TABLE IF NOT EXISTS envelopes (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, env TEXT NOT NULL, bytes INTEGER NOT NULL)');
		this.storage.sql.exec('CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, k TEXT NOT NULL, v TEXT NOT NULL, PRIMARY KEY (ns, k))');
		this.ready = true;
	}

	/** A read of tables that may not exist yet: nothing written means nothing there. */
	private read<T>(query: string, ...bindings: unknown[]): T[] {
		if (this.ready) return this.storage.sql.exec<T>(query, ...bindings).toArray();
		try {
			const rows = this.storage.sql.exec<T>(query, ...bindings).toArray();
			this.ready = true; // the tables exist (an earlier instance made them)
			return rows;
		} catch (e) {
			if (/no such table/i.test(String((e as Error).message))) return [];
			throw e;
		}
	}

	envelopes(): string[] {
		return this.read<{ env: string }>('SELECT env FROM envelopes ORDER BY seq').map((r) => r.env);
	}
	ids(): string[] {
		return this.read<{ id: string }>('SELECT id FROM envelopes ORDER BY seq').map((r) => r.id);
	}
	envelope(id: string): string | undefined {
		return this.read<{ env: string }>('SELECT env FROM envelopes WHERE id = ?', id)[0]?.env;
	}
	hasEnvelope(id: string): boolean {
		return this.read<{ one: number }>('SELECT 1 AS one FROM envelopes WHERE id = ?', id).length > 0;
	}
	putEnvelopes(rows: readonly { id: string; envelope: string; bytes: number }[]): void {
		this.ensure();
		for (const r of rows) this.storage.sql.exec('INSERT OR IGNORE INTO envelopes (id, env, bytes) VALUES (?, ?, ?)', r.id, r.envelope, r.bytes);
	}
	counts(): { envelopes: number; bytes: number } {
		const row = this.read<{ n: number; b: number }>('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM envelopes')[0];
		return { envelopes: Number(row?.n ?? 0), bytes: Number(row?.b ?? 0) };
	}
	get(ns: string, k: string): string | undefined {
		return this.read<{ v: string }>('SELECT v FROM kv WHERE ns = ? AND k = ?', ns, k)[0]?.v;
	}
	set(ns: string, k: string, v: string | undefined): void {
		if (v === undefined) {
			if (this.get(ns, k) !== undefined) this.storage.sql.exec('DELETE FROM kv WHERE ns = ? AND k = ?', ns, k);
			return;
		}
		this.ensure();
		this.storage.sql.exec('INSERT OR REPLACE INTO kv (ns, k, v) VALUES (?, ?, ?)', ns, k, v);
	}
	entries(ns: string): [string, string][] {
		return this.read<{ k: string; v: string }>('SELECT k, v FROM kv WHERE ns = ?', ns).map((r) => [r.k, r.v]);
	}
	clear(): void {
		this.ensure();
		this.storage.sql.exec('DELETE FROM envelopes');
		this.storage.sql.exec('DELETE FROM kv');
	}
	atomic<T>(fn: () => T): T {
		// Only writes run atomically: the tables exist before the transaction starts.
		this.ensure();
		return this.storage.transactionSync(fn);
	}
}

/** The record of one contract, in its own object. */
export class ContractRecordObject {
	private record?: StoredContractRecord;
	private handler?: (req: Request) => Promise<Response>;
	private readonly data: SqlData;

	constructor(
		private readonly state: DurableObjectState,
		private readonly env: WorkerEnv
	) {
		this.data = new SqlData(state.storage);
	}

	async fetch(req: Request): Promise<Response> {
		const contract = req.headers.get(CONTRACT_HEADER) ?? this.data.get('meta', 'contract');
		if (!contract) return Response.json({ code: 'invalid-request', message: 'No contract named.' }, { status: 400 });
		this.record ??= new StoredContractRecord(this.data.get('meta', 'contract') ?? contract, this.data);
		const record = this.record;
		this.handler ??= createHandler(
			depsFromEnv(this.env, {
				log: (line) => console.log(line),
				accounts: new ObjectAccountStore(this.env.ACCOUNTS),
				records: {
					open: async (c) => {
						if (c !== record.contract) throw new EscrowError('invalid-request', 'This request was routed to another contract’s record.');
						return record;
					}
				}
			})
		);
		const res = await this.handler(req);
		await this.schedule();
		return res;
	}

	/** Retention: delete the storage once the record has expired, else look again when it may. */
	async alarm(): Promise<void> {
		const contract = this.data.get('meta', 'contract');
		if (!contract) return;
		this.record ??= new StoredContractRecord(contract, this.data);
		if (await this.record.expire(Date.now())) await this.state.storage.deleteAll();
		else await this.schedule();
	}

	private async schedule(): Promise<void> {
		const at = this.record && (await this.record.expiresAt());
		if (at !== undefined) await this.state.storage.setAlarm(at);
	}
}

/** The onboarding index and rate limits, in one object. */
export class AccountsObject {
	private ready = false;
	constructor(private readonly state: DurableObjectState) {}

	private ensure(): void {
		if (this.ready) return;
		this.state.storage.sql.exec('CREATE TABLE IF NOT EXISTS accounts (party_key TEXT PRIMARY KEY, account TEXT NOT NULL)');
		this.state.storage.sql.exec('CREATE TABLE IF NOT EXISTS hits (bucket TEXT NOT NULL, at INTEGER NOT NULL)');
		this.state.storage.sql.exec('CREATE INDEX IF NOT EXISTS hits_bucket ON hits (bucket, at)');
		this.ready = true;
	}

	async fetch(req: Request): Promise<Response> {
		this.ensure();
		const sql = this.state.storage.sql;
		const q = (await req.json()) as { op: string; key?: string; account?: string; bucket?: string; limit?: number; windowMs?: number; now?: number };
		switch (q.op) {
			case 'lookup':
				return Response.json({ account: sql.exec<{ account: string }>('SELECT account FROM accounts WHERE party_key = ?', q.key).toArray()[0]?.account ?? null });
			case 'remember':
				sql.exec('INSERT OR IGNORE INTO accounts (party_key, account) VALUES (?, ?)', q.key, q.account);
				return Response.json({ ok: true });
			case 'take': {
				const since = q.now! - q.windowMs!;
				const ok = this.state.storage.transactionSync(() => {
					sql.exec('DELETE FROM hits WHERE bucket = ? AND at <= ?', q.bucket, since);
					const n = Number(sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM hits WHERE bucket = ?', q.bucket).toArray()[0]?.n ?? 0);
					if (n >= q.limit!) return false;
					sql.exec('INSERT INTO hits (bucket, at) VALUES (?, ?)', q.bucket, q.now);
					return true;
				});
				return Response.json({ ok });
			}
		}
		return Response.json({ code: 'invalid-request', message: 'Unknown accounts operation.' }, { status: 400 });
	}
}

/** The AccountStore the handler uses on Workers: calls to the one AccountsObject. */
export class ObjectAccountStore implements AccountStore {
	constructor(private readonly ns: DurableObjectNamespace) {}

	private async call<T>(body: Record<string, unknown>): Promise<T> {
		// A stub belongs to the request that made it: one per call.
		const stub = this.ns.get(this.ns.idFromName('accounts'));
		const res = await stub.fetch('https://accounts.internal/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
		if (!res.ok) throw new EscrowError('unavailable', 'The account index could not be reached.');
		return (await res.json()) as T;
	}

	async lookup(partyKey: string): Promise<string | undefined> {
		return (await this.call<{ account: string | null }>({ op: 'lookup', key: partyKey })).account ?? undefined;
	}
	async remember(partyKey: string, account: string): Promise<void> {
		await this.call({ op: 'remember', key: partyKey, account });
	}
	async take(bucket: string, limit: number, windowMs: number, now: number): Promise<boolean> {
		return (await this.call<{ ok: boolean }>({ op: 'take', bucket, limit, windowMs, now })).ok;
	}
}
