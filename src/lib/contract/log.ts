/**
 * The contract's event log as this device knows it: every entry ever seen (valid or not), the
 * per-author hash chains, which signatures still need checking, and the derived state.
 *
 * Authentication: an author's events form a chain through `prev`. A verified signature on an event
 * authenticates every earlier event of that author it links to, because each link is a sha256 of
 * the whole earlier body. So only chain heads are checked: one signature per author head, not per
 * event. Checking is async (WebCrypto) and lives outside this pure module: `signatureChecks()` says
 * what to check, `recordSignatures()` takes the answers, repeat until nothing is left.
 *
 * Order: events fold in a deterministic topological order, key = (level, id), level = 1 + the
 * highest level among `prev` and `deps`. An event that sorts after everything folded so far is
 * applied incrementally; one that sorts earlier (a late, concurrent event) triggers a refold of
 * the cheap reducer from cached, already-verified events.
 */
import { decodeEnvelope, signingBytes, type Decoded } from './envelope';
import { applyEvent } from './fold';
import { reject, type Rejection } from './rejections';
import { emptyState, type ContractState, type Ev, type RejectedEvent } from './state';

type SigState = 'unchecked' | 'valid' | 'chained' | 'invalid';

interface Entry {
	id: string;
	decoded: Decoded;
	sig: SigState;
	/** Set once the entry's prev and deps are all present. */
	level?: number;
	/** Intake problem that keeps it out of the fold for good (broken chain). */
	broken?: Rejection;
	folded: boolean;
	/** The event as the fold sees it, built once. */
	ev?: Ev;
}

export interface SignatureCheck {
	id: string;
	publicKey: string;
	message: Uint8Array;
	signature: string;
}

export interface DerivedContract {
	state: ContractState;
	/** Everything that was refused, with the reason: intake failures and fold rejections. */
	rejected: RejectedEvent[];
	/** Authentic events waiting for an earlier event (prev or a dep) that has not arrived yet. */
	waiting: string[];
	/** Events whose signature has not been checked yet. */
	unverified: number;
}

export class ContractLog {
	readonly contract: string;
	private readonly entries = new Map<string, Entry>();
	/** prev id → ids of decodable events that name it as prev. */
	private readonly children = new Map<string, string[]>();
	/** id → ids of events that list it in prev or deps and wait for it. */
	private readonly dependants = new Map<string, string[]>();
	private ready: Entry[] = [];
	private state: ContractState;
	private foldOrder: Entry[] = [];
	/** How many full refolds happened: a figure for tests and benchmarks. */
	refolds = 0;

	constructor(contract: string) {
		this.contract = contract;
		this.state = emptyState(contract);
	}

	get size(): number {
		return this.entries.size;
	}

	has(id: string): boolean {
		return this.entries.has(id);
	}

	/** The envelope of a well-formed entry (what a replica restores if a peer deletes or overwrites it). */
	envelope(id: string): string | undefined {
		const e = this.entries.get(id);
		return e?.decoded.ok ? e.decoded.raw : undefined;
	}

	/** Every stored envelope string, keyed by id: what a peer or the provider is sent. */
	envelopes(): [string, string][] {
		const out: [string, string][] = [];
		for (const e of this.entries.values()) if (e.decoded.raw) out.push([e.id, e.decoded.raw]);
		return out;
	}

	/**
	 * Take one stored envelope. Grow-only: an entry that decoded once is never replaced, so a peer
	 * that overwrites or deletes a map entry cannot take a verified event away from this device.
	 */
	add(key: string, raw: unknown): void {
		const prior = this.entries.get(key);
		if (prior && prior.decoded.ok) return;
		const decoded = decodeEnvelope(key, raw, this.contract);
		if (prior && !decoded.ok) return;
		const entry: Entry = { id: key, decoded, sig: 'unchecked', folded: false };
		if (decoded.ok) {
			// The decoded body is ours alone: make it the fold's event by adding its id, without a copy.
			entry.ev = decoded.body as Ev;
			entry.ev.id = key;
		}
		this.entries.set(key, entry);
		if (decoded.ok && decoded.body.prev) push(this.children, decoded.body.prev, key);
		if (decoded.ok) {
			// A later event of the same author that is already authentic vouches for this one.
			if (this.children.get(key)?.some((k) => this.vouches(k, entry))) {
				entry.sig = 'chained';
				this.chainUp(entry);
			}
			this.resolve(entry);
		}
		// Whatever waited for this id can now compute its level (any present entry satisfies a dep).
		const waiting = this.dependants.get(key);
		if (waiting) {
			this.dependants.delete(key);
			for (const w of waiting) {
				const e = this.entries.get(w);
				if (e && e.level === undefined) this.resolve(e);
			}
		}
	}

	/** Compute the level if every prev/dep is present; otherwise register as waiting on the first missing one. */
	private resolve(e: Entry): void {
		if (!e.decoded.ok || e.level !== undefined) return;
		const body = e.decoded.body;
		let level = 0;
		const refs = body.prev ? [body.prev, ...body.deps] : body.deps;
		for (const ref of refs) {
			const d = this.entries.get(ref);
			if (!d) {
				push(this.dependants, ref, e.id);
				return;
			}
			if (d.decoded.ok) {
				if (d.level === undefined) {
					push(this.dependants, ref, e.id);
					return;
				}
				if (d.level > level) level = d.level;
			}
		}
		if (body.prev) {
			const p = this.entries.get(body.prev)!;
			if (!p.decoded.ok || p.decoded.body.author !== body.author) e.broken = reject('broken-chain');
		}
		e.level = level + 1;
		this.ready.push(e);
		// A level became known: dependants of this id may resolve now.
		const waiting = this.dependants.get(e.id);
		if (waiting) {
			this.dependants.delete(e.id);
			for (const w of waiting) {
				const d = this.entries.get(w);
				if (d) this.resolve(d);
			}
		}
	}

	/**
	 * Signatures still to check: each unchecked event that no authentic-or-unchecked later event of
	 * its author can vouch for. For an honest log that is one per author head.
	 */
	signatureChecks(): SignatureCheck[] {
		const out: SignatureCheck[] = [];
		for (const e of this.entries.values()) {
			if (!e.decoded.ok || e.sig !== 'unchecked') continue;
			const kids = this.children.get(e.id);
			if (kids && kids.some((k) => this.couldVouch(k, e))) continue;
			out.push({ id: e.id, publicKey: e.decoded.body.author, message: signingBytes(e.id), signature: e.decoded.sig });
		}
		return out;
	}

	private vouches(childId: string, parent: Entry): boolean {
		const c = this.entries.get(childId);
		return !!c && isAuthentic(c) && c.decoded.ok && parent.decoded.ok && c.decoded.body.author === parent.decoded.body.author;
	}

	/** Every earlier event of the same author that `from` links to is authenticated by the hashes. */
	private chainUp(from: Entry): void {
		let cur = from;
		while (cur.decoded.ok && cur.decoded.body.prev) {
			const p = this.entries.get(cur.decoded.body.prev);
			if (!p || !p.decoded.ok || p.decoded.body.author !== cur.decoded.body.author) break;
			if (isAuthentic(p)) break;
			p.sig = 'chained';
			cur = p;
		}
	}

	private couldVouch(childId: string, parent: Entry): boolean {
		const c = this.entries.get(childId);
		if (!c || !c.decoded.ok || !parent.decoded.ok) return false;
		if (c.decoded.body.author !== parent.decoded.body.author) return false;
		return c.sig !== 'invalid';
	}

	recordSignatures(checks: SignatureCheck[], results: boolean[]): void {
		checks.forEach((c, i) => {
			const e = this.entries.get(c.id);
			if (!e || e.sig !== 'unchecked') return;
			if (!results[i]) {
				e.sig = 'invalid';
				return;
			}
			e.sig = 'valid';
			this.chainUp(e);
		});
	}

	/** Fold every ready, authentic event that is not folded yet, and return the derived contract. */
	derive(): DerivedContract {
		const fresh: Entry[] = [];
		for (const e of this.ready) if (!e.folded && isAuthentic(e) && !e.broken) fresh.push(e);
		if (fresh.length) {
			fresh.sort(compare);
			const last = this.foldOrder[this.foldOrder.length - 1];
			if (last && compare(fresh[0]!, last) < 0) {
				this.refolds++;
				this.foldOrder = [...this.foldOrder, ...fresh].sort(compare);
				this.state = emptyState(this.contract);
				for (const e of this.foldOrder) applyEvent(this.state, e.ev!);
			} else {
				for (const e of fresh) {
					applyEvent(this.state, e.ev!);
					this.foldOrder.push(e);
				}
			}
			for (const e of fresh) e.folded = true;
			this.ready = this.ready.filter((e) => !e.folded);
		}
		return this.view();
	}

	private view(): DerivedContract {
		const intake: RejectedEvent[] = [];
		const waiting: string[] = [];
		let unverified = 0;
		for (const e of this.entries.values()) {
			const d = e.decoded;
			if (!d.ok) {
				intake.push({ id: e.id, code: d.rejection.code, message: d.rejection.message, type: d.body?.type, author: d.body?.author, at: d.body?.at });
				continue;
			}
			const base = { id: e.id, type: d.body.type, author: d.body.author, at: d.body.at };
			if (e.sig === 'invalid') intake.push({ ...base, ...reject('bad-signature') });
			else if (e.broken) intake.push({ ...base, ...e.broken });
			else if (e.sig === 'unchecked') unverified++;
			else if (e.level === undefined) waiting.push(e.id);
		}
		intake.sort((a, b) => (a.id < b.id ? -1 : 1));
		return { state: this.state, rejected: [...intake, ...this.state.rejected], waiting: waiting.sort(), unverified };
	}

	/** The current heads: folded events no other folded event names in prev or deps. New events depend on these. */
	heads(): string[] {
		const referenced = new Set<string>();
		for (const e of this.foldOrder) {
			if (e.ev!.prev) referenced.add(e.ev!.prev);
			for (const d of e.ev!.deps) referenced.add(d);
		}
		return this.foldOrder.filter((e) => !referenced.has(e.id)).map((e) => e.id);
	}

	/**
	 * The latest event of `author` in fold order: the `prev` for that author's next event.
	 * `among` limits the choice to ids a given peer is known to hold (so its next event never waits).
	 */
	lastOf(author: string, among?: ReadonlySet<string>): string | null {
		for (let i = this.foldOrder.length - 1; i >= 0; i--) {
			const e = this.foldOrder[i]!;
			if (e.ev!.author === author && (!among || among.has(e.id))) return e.id;
		}
		return null;
	}
}

function isAuthentic(e: Entry): boolean {
	return e.sig === 'valid' || e.sig === 'chained';
}

function compare(a: Entry, b: Entry): number {
	return a.level! - b.level! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function push(map: Map<string, string[]>, key: string, value: string): void {
	const list = map.get(key);
	if (list) list.push(value);
	else map.set(key, [value]);
}
