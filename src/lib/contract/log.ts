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
 * Anyone holding the link can write anything under any key of the shared map, so what the log
 * derives must depend only on what it finally holds, never on what came and went on the way:
 *  - Per key, a decoded event beats junk, and an authentic signature beats a forged one. The body is
 *    fixed by the key (its hash), so only the signature can differ between two decoded values: every
 *    distinct one is kept until one verifies. Junk replaces junk (the latest is what the map holds).
 *  - Only a decoded, authentic event satisfies a `prev` or a dep. An event waits for its references
 *    until each is; junk, an unverified or a forged entry never counts as present. So a level, once
 *    computed, is final, and whatever waited is resolved when a reference becomes authentic.
 * Resolution is iterative (a worklist, no recursion), so a chain of any length delivered
 * newest-first resolves when its oldest event arrives.
 *
 * Order: events fold in a deterministic topological order, key = (level, id), level = 1 + the
 * highest level among `prev` and `deps`. An event that sorts after everything folded so far is
 * applied incrementally; one that sorts earlier (a late, concurrent event) refolds the cheap reducer
 * from the nearest snapshot of the derived state before its position (see `SnapshotOptions`).
 *
 * Revoked devices (devices.ts): once the provider's record of a device's revocation is here (a
 * `receipt.attested` of kind 'revocation', signed by the contract's provider key, naming the
 * revocation in deps, which names the certificate), only the device's events in the causal past of
 * that record count; the rest are refused wherever they sort, so a stolen device cannot stay
 * "concurrent" by choosing old deps. A record that arrives late refolds from the first event it
 * refuses: what counts depends on the entries held, never on when they came.
 */
import { cloneState } from './clone';
import { decodeEnvelope, signingBytes, type Decoded } from './envelope';
import { applyEvent, type FoldContext } from './fold';
import type { RuleContext } from './rule';
import { reject, type Rejection } from './rejections';
import { emptyState, type ContractState, type Ev, type EvOf, type RejectedEvent } from './state';

/** Authenticity of the body: its own signature verified, vouched for by a later event of its author, or forged. */
type SigState = 'unchecked' | 'valid' | 'chained' | 'invalid';

interface Entry {
	id: string;
	/** For a decoded entry: the body and the envelope kept for it (raw, sig); otherwise the latest junk. */
	decoded: Decoded;
	sig: SigState;
	/** The kept envelope's own signature verified (so it is what to hand on to peers and the provider). */
	rawVerified?: boolean;
	/** Other envelopes seen for the same body (another signature), not checked yet. */
	alternatives?: { sig: string; raw: string }[];
	/** Set once the entry is authentic and its prev and deps are all authentic with levels. */
	level?: number;
	/** Intake problem that keeps it out of the fold for good (broken chain). */
	broken?: Rejection;
	folded: boolean;
	/** The event as the fold sees it, built once. */
	ev?: Ev;
}

type OkEntry = Entry & { decoded: Extract<Decoded, { ok: true }>; ev: Ev };

export interface SignatureCheck {
	id: string;
	publicKey: string;
	message: Uint8Array;
	signature: string;
}

/** One folded event as a checkpoint keeps it (see `ContractLog.checkpoint`). */
export interface CheckpointEvent {
	id: string;
	/** The envelope kept for it: what is handed on to peers and the provider. */
	raw: string;
	sig: string;
	level: number;
	/** Its own signature verified, or vouched for by a later event of its author. */
	authentic: 'valid' | 'chained';
	/** The kept envelope's signature itself verified. */
	rawVerified: boolean;
	/** The decoded body with its id: the very object the state's lists reference. */
	ev: Ev;
}

export interface LogCheckpoint {
	contract: string;
	/** Folded events, in fold order. */
	events: CheckpointEvent[];
	state: ContractState;
}

export interface DerivedContract {
	state: ContractState;
	/** Everything that was refused, with the reason: intake failures and fold rejections. */
	rejected: RejectedEvent[];
	/** Authentic events waiting for an earlier event (prev or a dep) that has not arrived, or not authentically. */
	waiting: string[];
	/** Events whose signature has not been checked yet. */
	unverified: number;
}

/**
 * Snapshots of the derived state, so a late event refolds from the nearest one before its position.
 * The fold takes one when it passes a multiple of `snapshotEvery` near its end, and the log keeps
 * the newest `snapshotsKept`. A late event that sorts after a snapshot costs restoring it plus the
 * reducer steps after it; one that sorts before every snapshot refolds from the empty state, as it
 * must (nothing can skip replaying what comes after it). Copying the state is not free — on the
 * 10,000-event bench contract, mostly messages, taking a snapshot costs about 3.5 ms and restoring
 * one about 1.5 ms, against about 4.5 ms to replay everything — so each derive makes at most one
 * copy: a refold from a snapshot restores it and takes none, a forward fold takes at most one, and
 * a refold from the empty state takes none (it is a full replay already, and a hostile stream of
 * events sorting at the very start would otherwise pay for snapshots the next one throws away; the
 * forward fold takes them again as it grows). So no late event costs more than a full refold.
 * A fold from the empty state (opening a contract) takes none either: on the open path the copy cost
 * more than the fold itself. `prepareSnapshots()` builds the one it skipped by replaying the events
 * before its position into a fresh state (no copy), and the document calls it once it is idle.
 * Memory: `snapshotsKept` copies of the state, which share the events themselves (about 2 MB each
 * at 10,000 events). `snapshotEvery: 0` turns snapshots off.
 */
export interface SnapshotOptions {
	snapshotEvery?: number;
	snapshotsKept?: number;
}

/**
 * Chosen by measurement (tests/bench/late-event.ts, 10,000 events): a late event just before the end
 * costs about the same for any interval from 64 to 1024 (the restore dominates); 512 also serves one
 * sorting 300 positions back, where 256 replays everything, and takes a snapshot only every 512
 * appended events.
 */
export const DEFAULT_SNAPSHOT_EVERY = 512;
export const DEFAULT_SNAPSHOTS_KEPT = 2;

export class ContractLog {
	readonly contract: string;
	private readonly entries = new Map<string, Entry>();
	/** prev id → the decoded events that name it as prev: one entry, or a list once there are two (rare: only a fork). */
	private readonly children = new Map<string, Entry | Entry[]>();
	/** id → authentic events that wait for it (to arrive, to be authenticated, or to get a level). */
	private readonly dependants = new Map<string, Entry[]>();
	/** Authentic, unbroken entries with a level, not folded yet. */
	private ready: Entry[] = [];
	private state: ContractState;
	private foldOrder: OkEntry[] = [];
	private readonly every: number;
	private readonly kept: number;
	/** The state after the first `at` events of `foldOrder`, oldest first. Never handed out. */
	private snaps: Snapshot[] = [];
	/** The contract's provider key, from its proposal: whose records of revocations count. */
	private provider?: string;
	/** Leveled records of revocations not judged yet (the provider key may not be known yet). */
	private revocationRecords: Entry[] = [];
	/** Recorded revocations, by `device\0identity`: the ids of that device's events that still count. */
	private readonly revoked = new Map<string, { records: Set<string>; allowed: Set<string> }>();
	/** Devices with a recorded revocation. */
	private readonly revokedDevices = new Set<string>();
	private readonly foldContext: FoldContext = { reaches: (from, to) => this.reaches(from, to) };

	/** The log's causal order for a rule asked outside the fold (a provider judging a record on its log). */
	get ruleContext(): RuleContext {
		return this.foldContext;
	}
	/** The heads as of the first `folded` events of `order`, after `refolds` refolds (see `heads`). */
	private headsSeen: { order: OkEntry[]; refolds: number; folded: number; referenced: Set<string>; heads: Set<string> } = {
		order: [],
		refolds: -1,
		folded: 0,
		referenced: new Set(),
		heads: new Set()
	};
	/** How many refolds happened (late events): a figure for tests and benchmarks. */
	refolds = 0;
	/** How many already-folded events refolds applied again: what late events cost. */
	reapplied = 0;

	constructor(contract: string, options: SnapshotOptions = {}) {
		this.contract = contract;
		this.state = emptyState(contract);
		this.every = Math.max(0, Math.floor(options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY));
		this.kept = Math.max(1, Math.floor(options.snapshotsKept ?? DEFAULT_SNAPSHOTS_KEPT));
	}

	get size(): number {
		return this.entries.size;
	}

	has(id: string): boolean {
		return this.entries.has(id);
	}

	/** How many events are folded (applied or refused by the rules). */
	get folded(): number {
		return this.foldOrder.length;
	}

	/** Fold positions of the snapshots held now (for tests and benchmarks). */
	get snapshots(): number[] {
		return this.snaps.map((s) => s.at);
	}

	/** The envelope of a well-formed entry (what a replica restores if a peer deletes or overwrites it). */
	envelope(id: string): string | undefined {
		const e = this.entries.get(id);
		return e?.decoded.ok ? e.decoded.raw : undefined;
	}

	/** Every stored envelope string, keyed by id: what a peer is sent. Includes junk; see `authenticEnvelopes`. */
	envelopes(): [string, string][] {
		const out: [string, string][] = [];
		for (const e of this.entries.values()) if (e.decoded.raw) out.push([e.id, e.decoded.raw]);
		return out;
	}

	/**
	 * Every decoded, authentic entry that is not a broken chain, keyed by id: folded ones in fold order
	 * (so each comes after everything it names), then those still waiting. Never junk or forgeries.
	 */
	authenticEnvelopes(): [string, string][] {
		const out: [string, string][] = [];
		for (const e of this.foldOrder) out.push([e.id, e.decoded.raw]);
		for (const e of this.entries.values())
			if (e.decoded.ok && isAuthentic(e) && !e.broken && !e.folded) out.push([e.id, e.decoded.raw]);
		return out;
	}

	/**
	 * The envelopes of the events `ids` and of every event they reach through `prev` and `deps`: only
	 * decoded, authentic ones, each after everything it names, without duplicates. What the provider
	 * needs to judge an event — no junk, and nothing concurrent with it. An id this log does not hold
	 * authentically contributes what it references, not itself; an unknown id, nothing. For an intent
	 * not added yet: `causalPast(...deps, prev)`.
	 */
	causalPast(...ids: string[]): string[] {
		const out: string[] = [];
		/** Entries expanded (their references being listed) and entries done (listed). */
		const open = new Set<Entry>();
		const done = new Set<Entry>();
		// Iterative depth-first post-order: an entry is listed once everything it references is.
		const stack: { e: Entry; expanded: boolean }[] = [];
		const visit = (ref: string | null) => {
			const e = ref ? this.entries.get(ref) : undefined;
			if (e && e.ev && !open.has(e) && !done.has(e)) stack.push({ e, expanded: false });
		};
		for (const start of ids) {
			visit(start);
			while (stack.length) {
				const top = stack[stack.length - 1]!;
				const e = top.e;
				if (top.expanded) {
					stack.pop();
					done.add(e);
					if (isAuthentic(e)) out.push((e.decoded as Extract<Decoded, { ok: true }>).raw);
				} else if (open.has(e) || done.has(e)) stack.pop();
				else {
					top.expanded = true;
					open.add(e);
					// Past a start, only authentic entries are followed: a forgery names nothing that counts.
					if (e.id === start || isAuthentic(e)) {
						for (let i = e.ev!.deps.length - 1; i >= 0; i--) visit(e.ev!.deps[i]!);
						visit(e.ev!.prev);
					}
				}
			}
		}
		return out;
	}

	/**
	 * Take one stored value. Grow-only: a decoded event is never replaced by junk, so a peer that
	 * overwrites or deletes a map entry cannot take a verified event away from this device. Junk is
	 * replaced by junk (the latest wins, as in the map) and by a decoded event.
	 */
	add(key: string, raw: unknown): void {
		const prior = this.entries.get(key);
		if (prior?.decoded.ok) return this.another(prior, raw);
		const decoded = decodeEnvelope(key, raw, this.contract);
		if (!decoded.ok) {
			if (prior) prior.decoded = decoded;
			else this.entries.set(key, { id: key, decoded, sig: 'unchecked', folded: false });
			return;
		}
		// The decoded body is ours alone: make it the fold's event by adding its id, without a copy.
		const ev = decoded.body as Ev;
		ev.id = key as Ev['id'];
		// Every event's contract is this one: share the log's string rather than keep 10,000 equal copies alive.
		if (ev.contract === this.contract) (ev as { contract: string }).contract = this.contract;
		// Every field the entry will ever get, set now: a field added later costs each entry a second object.
		const entry: Entry = { id: key, decoded, sig: 'unchecked', rawVerified: undefined, alternatives: undefined, level: undefined, broken: undefined, folded: false, ev };
		this.entries.set(key, entry);
		if (ev.prev) addChild(this.children, ev.prev, entry);
		// A later event of the same author that is already authentic vouches for this one.
		if (this.children.has(key) && someChild(this.children, key, (c) => isAuthentic(c) && sameAuthor(c, entry))) {
			entry.sig = 'chained';
			this.resolve(this.chainUp(entry, [entry]));
		}
	}

	/** Another value for a key that holds a decoded event: junk changes nothing; another signature is kept to try. */
	private another(e: Entry, raw: unknown): void {
		const d = e.decoded as Extract<Decoded, { ok: true }>;
		if (e.sig === 'valid' || e.rawVerified || typeof raw !== 'string' || raw === d.raw) return;
		const other = decodeEnvelope(e.id, raw, this.contract);
		if (!other.ok || other.sig === d.sig || e.alternatives?.some((a) => a.sig === other.sig)) return;
		if (e.sig === 'invalid') {
			e.decoded = { ...d, sig: other.sig, raw: other.raw };
			e.sig = 'unchecked';
		} else (e.alternatives ??= []).push({ sig: other.sig, raw: other.raw });
	}

	/**
	 * Give a level to every entry in `start` that can have one now, then to whatever waited for those,
	 * and so on: a worklist, so resolution never recurses however long the chain. `start` lists each
	 * chain newest first (as `chainUp` walks it) and the worklist takes from the end: oldest first.
	 */
	private resolve(start: Entry[]): void {
		const work = start;
		while (work.length) {
			const e = work.pop()!;
			if (e.level !== undefined || !e.ev || !isAuthentic(e)) continue;
			const ev = e.ev;
			let level = 0;
			let missing: string | undefined;
			if (ev.prev) {
				const p = this.usable(ev.prev);
				if (p) level = p.level!;
				else missing = ev.prev;
			}
			if (!missing)
				for (const ref of ev.deps) {
					const d = this.usable(ref);
					if (!d) {
						missing = ref;
						break;
					}
					if (d.level! > level) level = d.level!;
				}
			if (missing) {
				push(this.dependants, missing, e);
				continue;
			}
			if (ev.prev && !sameAuthor(this.entries.get(ev.prev)!, e)) e.broken = reject('broken-chain');
			e.level = level + 1;
			if (!e.broken) {
				this.ready.push(e);
				this.noteLeveled(e);
			}
			const waiting = this.dependants.get(e.id);
			if (waiting) {
				this.dependants.delete(e.id);
				for (let i = waiting.length - 1; i >= 0; i--) work.push(waiting[i]!);
			}
		}
	}

	/** A reference counts only as a decoded, authentic event with a level. */
	private usable(ref: string): Entry | undefined {
		const d = this.entries.get(ref);
		return d && d.decoded.ok && isAuthentic(d) && d.level !== undefined ? d : undefined;
	}

	/**
	 * Signatures still to check: each unchecked event that no authentic-or-unchecked later event of
	 * its author can vouch for. For an honest log that is one per author head. Also, only where a peer
	 * wrote a second signature for an event, the kept envelope of a vouched-for event, so what this
	 * device hands on carries a signature that verifies. Every signature seen for such an event is
	 * checked in the same round, however many a peer wrote.
	 */
	signatureChecks(): SignatureCheck[] {
		const out: SignatureCheck[] = [];
		for (const e of this.entries.values()) {
			const d = e.decoded;
			if (!d.ok) continue;
			if (e.sig === 'unchecked') {
				if (someChild(this.children, e.id, (c) => c.sig !== 'invalid' && sameAuthor(c, e))) continue;
			} else if (!(e.sig === 'chained' && e.alternatives && !e.rawVerified)) continue;
			const message = signingBytes(e.id);
			out.push({ id: e.id, publicKey: d.body.author, message, signature: d.sig });
			for (const a of e.alternatives ?? []) out.push({ id: e.id, publicKey: d.body.author, message, signature: a.sig });
		}
		return out;
	}

	/**
	 * Every earlier event of the same author that `from` links to is authenticated by the hashes.
	 * Appends what became authentic to `into`, newest first, and returns it.
	 */
	private chainUp(from: Entry, into: Entry[]): Entry[] {
		let cur = from;
		while (cur.ev?.prev) {
			const p = this.entries.get(cur.ev.prev);
			if (!p || !p.decoded.ok || !sameAuthor(p, cur) || isAuthentic(p)) break;
			p.sig = 'chained';
			into.push(p);
			cur = p;
		}
		return into;
	}

	recordSignatures(checks: SignatureCheck[], results: boolean[]): void {
		const authentic: Entry[] = [];
		const forged = new Map<Entry, Set<string>>();
		checks.forEach((c, i) => {
			const e = this.entries.get(c.id);
			// Settled meanwhile (the answers are async: a later event may have vouched for it since).
			if (!e || !e.decoded.ok || e.rawVerified || (e.sig !== 'unchecked' && e.sig !== 'chained')) return;
			if (!results[i]) {
				const f = forged.get(e);
				if (f) f.add(c.signature);
				else forged.set(e, new Set([c.signature]));
				return;
			}
			if (e.decoded.sig !== c.signature) {
				// One of the other envelopes seen for this body is the authentic one: keep that.
				const other = e.alternatives?.find((a) => a.sig === c.signature);
				if (!other) return;
				e.decoded = { ...e.decoded, sig: other.sig, raw: other.raw };
			}
			e.rawVerified = true;
			e.alternatives = undefined;
			if (e.sig === 'unchecked') {
				e.sig = 'valid';
				authentic.push(e);
				this.chainUp(e, authentic);
			}
		});
		for (const [e, bad] of forged) {
			if (e.rawVerified || !e.decoded.ok) continue;
			const alternatives = e.alternatives?.filter((a) => !bad.has(a.sig));
			e.alternatives = alternatives?.length ? alternatives : undefined;
			if (!bad.has(e.decoded.sig)) continue;
			// The kept envelope is forged: take one seen since the checks were planned, if any.
			const next = e.alternatives?.shift();
			if (e.alternatives && !e.alternatives.length) e.alternatives = undefined;
			if (next) e.decoded = { ...e.decoded, sig: next.sig, raw: next.raw };
			else if (e.sig === 'unchecked') e.sig = 'invalid';
		}
		// Each chain was appended newest first: the worklist pops from the end, so the oldest go first.
		// Across chains too, by time (stable, so a chain keeps its order on ties): what an event names
		// is usually older, so few events have to wait and be taken up again. Order is only speed here.
		if (authentic.length > 1) authentic.sort(newestFirst);
		this.resolve(authentic);
	}

	/** Fold every ready event that is not folded yet, and return the derived contract. */
	derive(): DerivedContract {
		// A new record of a revocation refuses events already folded: refold from the first of them.
		const revokedFrom = this.revocationRecords.length ? this.judgeRevocations() : Infinity;
		if (this.ready.length || revokedFrom < this.foldOrder.length) {
			const fresh = this.ready as OkEntry[];
			this.ready = [];
			fresh.sort(compare);
			const order = this.foldOrder;
			const last = order[order.length - 1];
			if ((last && fresh.length && compare(fresh[0]!, last) < 0) || revokedFrom < order.length) {
				// A late event: refold from the nearest snapshot at or before the first position it takes.
				this.refolds++;
				const position = Math.min(revokedFrom, fresh.length ? lowerBound(order, fresh[0]!) : order.length);
				let snap: Snapshot | undefined;
				for (const s of this.snaps) if (s.at <= position) snap = s;
				const from = snap?.at ?? 0;
				this.snaps = this.snaps.filter((s) => s.at <= from);
				this.state = snap ? restore(snap) : emptyState(this.contract);
				const tail = merge(order.slice(from), fresh);
				order.length = from;
				this.reapplied += tail.length - fresh.length;
				this.apply(tail, false);
			} else this.apply(fresh, true);
		}
		return this.view();
	}

	/** Apply `list` in order on top of the fold; take at most one snapshot on the way if `capture` (a forward fold). */
	private apply(list: OkEntry[], capture: boolean): void {
		const order = this.foldOrder;
		const every = this.every;
		// From the empty state (an open), or with a batch that outweighs what was folded before (a
		// catch-up), no copy on the way: `prepareSnapshots` replays it later, in idle time. A copy
		// costs about as much as folding the events it covers.
		let take = capture && every > 0 && order.length > 0 && list.length < order.length;
		// Positions worth a snapshot once at `end`: the newest `kept` multiples of `every` (not 0: that is the empty state).
		const end = order.length + list.length;
		const lowest = Math.max(every, (Math.floor(end / (every || 1)) - this.kept + 1) * every);
		for (const e of list) {
			applyEvent(this.state, e.ev, this.contextOf(e));
			e.folded = true;
			order.push(e);
			if (take && order.length >= lowest && order.length % every === 0) {
				this.snaps.push(this.capture(order.length));
				take = false;
			}
		}
		if (this.snaps.length > this.kept) this.snaps = this.snaps.slice(-this.kept);
	}

	/**
	 * A snapshot of the live state. Events are shared, not copied: the reducer never changes them (a
	 * full refold re-applies the very same objects). The copy notes whether it reached any object twice
	 * and which events it shares, so that restoring it can skip the identity checks.
	 */
	private capture(at: number): Snapshot {
		const applied = this.state.applied;
		const c = cloneState(this.state, { keep: this.isEvent, keepElements: (a) => a === applied });
		return { at, state: c.copy, aliased: c.aliased, kept: new Set(c.kept) };
	}

	private readonly isEvent = (o: object): boolean => {
		const id = (o as { id?: unknown }).id;
		return typeof id === 'string' && this.entries.get(id)?.ev === o;
	};

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
			if (e.folded) continue;
			const base = { id: e.id, type: d.body.type, author: d.body.author, at: d.body.at };
			if (e.sig === 'invalid') intake.push({ ...base, ...reject('bad-signature') });
			else if (e.broken) intake.push({ ...base, ...e.broken });
			else if (e.sig === 'unchecked') unverified++;
			else if (e.level === undefined) waiting.push(e.id);
		}
		intake.sort((a, b) => (a.id < b.id ? -1 : 1));
		return { state: this.state, rejected: [...intake, ...this.state.rejected], waiting: waiting.sort(), unverified };
	}

	/**
	 * Build the snapshot a fold from the empty state skipped (see `SnapshotOptions`): replay the events
	 * before its position into a fresh state, which shares the events and nothing else with the live
	 * one. Costs about a fold of those events, so it is for idle time. Returns whether it built one.
	 */
	prepareSnapshots(): boolean {
		const every = this.every;
		const order = this.foldOrder;
		if (every === 0 || order.length < every) return false;
		const at = Math.max(every, (Math.floor(order.length / every) - this.kept + 1) * every);
		const newer = this.snaps.filter((s) => s.at >= at);
		if (newer.length >= this.kept || newer.some((s) => s.at === at)) return false;
		const state = emptyState(this.contract);
		const kept = new Set<object>();
		for (let i = 0; i < at; i++) {
			const ev = order[i]!.ev;
			applyEvent(state, ev, this.contextOf(order[i]!));
			kept.add(ev);
		}
		this.snaps = [...this.snaps.filter((s) => s.at < at), { at, state, aliased: true, kept }, ...newer].slice(-this.kept);
		return true;
	}

	/**
	 * What a checkpoint keeps: every folded event in fold order, with the envelope kept for it and how
	 * it was authenticated, and the derived state (live: serialise it before the log changes again).
	 * Nothing unverified is in it: events still waiting, unchecked, forged or junk are left out, and
	 * come back from the document on the next open to be checked as anything new is.
	 */
	checkpoint(): LogCheckpoint {
		const events: CheckpointEvent[] = this.foldOrder.map((e) => ({
			id: e.id,
			raw: e.decoded.raw,
			sig: e.decoded.sig,
			level: e.level!,
			authentic: e.sig as 'valid' | 'chained',
			rawVerified: e.rawVerified === true,
			ev: e.ev
		}));
		return { contract: this.contract, events, state: this.state };
	}

	/**
	 * Take a checkpoint this device wrote (its integrity checked by the caller) into an empty log: the
	 * events become folded entries and the state is the derived one, without decoding, verifying or
	 * folding again. Checks that it is well formed — fold order, levels, every reference folded before
	 * the event naming it — and throws if not, leaving the log empty. Anything added afterwards is
	 * taken as usual (a stored value equal to a restored envelope costs a string comparison).
	 */
	restoreCheckpoint(cp: LogCheckpoint): void {
		if (this.entries.size || this.foldOrder.length) throw new Error('A checkpoint goes into an empty log.');
		if (cp.contract !== this.contract || cp.state?.contract !== this.contract) throw new Error('The checkpoint is for another contract.');
		const entries = this.entries;
		const events = cp.events;
		const order: OkEntry[] = new Array(events.length);
		let last: OkEntry | undefined;
		try {
			for (let i = 0; i < events.length; i++) {
				const c = events[i]!;
				const ev = c.ev;
				let level = 0;
				const prev = ev.prev;
				if (prev) {
					const p = entries.get(prev);
					if (!p || p.ev!.author !== ev.author) throw new Error('The checkpoint names an event before it is folded.');
					level = p.level!;
				}
				const deps = ev.deps;
				for (let j = 0; j < deps.length; j++) {
					const dep = entries.get(deps[j]!);
					if (!dep) throw new Error('The checkpoint names an event before it is folded.');
					if (dep.level! > level) level = dep.level!;
				}
				if (ev.id !== c.id || (ev.contract !== this.contract && !isCertificate(ev)) || c.level !== level + 1 || (c.authentic !== 'valid' && c.authentic !== 'chained'))
					throw new Error('The checkpoint is not well formed.');
				// The shape `add` gives an entry (same fields, same order), so both kinds share one hidden class.
				const e: OkEntry = {
					id: c.id,
					decoded: { ok: true, id: c.id, body: ev, sig: c.sig, raw: c.raw },
					sig: c.authentic,
					rawVerified: c.rawVerified || undefined,
					alternatives: undefined,
					level: c.level,
					broken: undefined,
					folded: true,
					ev
				};
				// Strictly increasing (level, id): fold order, and no id twice.
				if (last && compare(last, e) >= 0) throw new Error('The checkpoint is not in fold order.');
				entries.set(c.id, e);
				if (prev) addChild(this.children, prev, e);
				order[i] = last = e;
				// What revocations the checkpointed fold applied (its state already reflects them).
				this.noteLeveled(e);
			}
		} catch (err) {
			entries.clear();
			this.children.clear();
			this.revocationRecords = [];
			this.provider = undefined;
			throw err;
		}
		this.foldOrder = order;
		this.state = cp.state;
		if (this.revocationRecords.length) this.judgeRevocations();
	}

	/** Bookkeeping for an entry that got its level: the provider key, records of revocations. */
	private noteLeveled(e: Entry): void {
		const ev = e.ev!;
		if (ev.type === 'contract.proposed') this.provider = ev.payload.terms.provider.publicKey;
		else if (ev.type === 'receipt.attested' && ev.payload.kind === 'revocation') this.revocationRecords.push(e);
	}

	/**
	 * Judge the records of revocations that came (devices.ts): a record counts if the contract's
	 * provider signed it, it names the revocation in deps, and the revocation names, in its deps, the
	 * revoking identity's certificate of that device. Then the device's events attributed to that
	 * identity count only inside the record's causal past (inside every such record's, if several).
	 * Returns the first fold position whose event no longer counts (Infinity if none).
	 */
	private judgeRevocations(): number {
		if (!this.provider) return Infinity;
		const records = this.revocationRecords;
		this.revocationRecords = [];
		const changed = new Set<string>();
		for (const a of records) {
			const r = this.usable((a.ev as EvOf<'receipt.attested'>).payload.event);
			if (a.ev!.author !== this.provider || !r || !a.ev!.deps.includes(r.id) || r.ev!.type !== 'device.revoked') continue;
			const revocation = r.ev as EvOf<'device.revoked'>;
			const c = this.usable(revocation.payload.certificate);
			if (!c || !revocation.deps.includes(c.id) || c.ev!.type !== 'device.certified') continue;
			const cert = c.ev as EvOf<'device.certified'>;
			const device = revocation.payload.device;
			if (cert.author !== revocation.author || cert.payload.device !== device) continue;
			const key = `${device}\u0000${revocation.author}`;
			const prior = this.revoked.get(key);
			if (prior?.records.has(a.id)) continue;
			const past = new Set<string>();
			for (const id of this.pastOf(a)) {
				const x = this.entries.get(id)!;
				if (x.ev!.author === device) past.add(id);
			}
			const allowed = prior ? new Set([...prior.allowed].filter((id) => past.has(id))) : past;
			this.revoked.set(key, { records: new Set([...(prior?.records ?? []), a.id]), allowed });
			this.revokedDevices.add(device);
			changed.add(device);
		}
		if (!changed.size) return Infinity;
		const order = this.foldOrder;
		for (let i = 0; i < order.length; i++) {
			const e = order[i]!;
			if (changed.has(e.ev.author) && this.revokedOut(e)) return i;
		}
		return Infinity;
	}

	/** Ids of every authentic entry `from` reaches through prev and deps, itself included. */
	private pastOf(from: Entry): string[] {
		const seen = new Set<string>([from.id]);
		const stack = [from];
		while (stack.length) {
			const ev = stack.pop()!.ev!;
			for (const ref of ev.prev ? [ev.prev, ...ev.deps] : ev.deps) {
				const d = this.entries.get(ref);
				if (d?.ev && !seen.has(ref) && isAuthentic(d)) {
					seen.add(ref);
					stack.push(d);
				}
			}
		}
		return [...seen];
	}

	/** Is `to` in the causal past of `from`? Only entries with a higher level than `to` can lead to it. */
	private reaches(from: string, to: string): boolean {
		const target = this.entries.get(to);
		const start = this.entries.get(from);
		if (!target?.ev || target.level === undefined || !start?.ev) return false;
		const floor = target.level;
		const seen = new Set<string>([from]);
		const stack = [start];
		while (stack.length) {
			const ev = stack.pop()!.ev!;
			for (const ref of ev.prev ? [ev.prev, ...ev.deps] : ev.deps) {
				if (ref === to) return true;
				const d = this.entries.get(ref);
				if (d?.ev && d.level !== undefined && d.level > floor && !seen.has(ref)) {
					seen.add(ref);
					stack.push(d);
				}
			}
		}
		return false;
	}

	/** The identity an entry's certificate (named in deps, for its signing key) gives it; undefined for none or two. */
	private certifiedBy(e: Entry): string | undefined {
		let identity: string | undefined;
		for (const dep of e.ev!.deps) {
			const c = this.entries.get(dep);
			if (c?.ev?.type !== 'device.certified' || !isAuthentic(c) || c.ev.payload.device !== e.ev!.author) continue;
			if (identity !== undefined && identity !== c.ev.author) return undefined;
			identity = c.ev.author;
		}
		return identity;
	}

	/** The log's refusal of an event: a revoked device's event outside every recorded revocation's past. */
	private revokedOut(e: Entry): boolean {
		if (!this.revokedDevices.has(e.ev!.author)) return false;
		const identity = this.certifiedBy(e);
		const r = identity !== undefined ? this.revoked.get(`${e.ev!.author}\u0000${identity}`) : undefined;
		return r !== undefined && !r.allowed.has(e.id);
	}

	private contextOf(e: Entry): FoldContext {
		return this.revokedOut(e) ? { ...this.foldContext, refusal: REVOKED } : this.foldContext;
	}

	/** The current heads: folded events no other folded event names in prev or deps. New events depend on these. */
	heads(): string[] {
		// Kept between calls and brought up to date with what was folded since: every event a device
		// composes asks for the heads, and walking 10,000 events each time cost milliseconds. Events
		// only ever join the fold, each after everything it names, so appending is exact; a refold (a
		// late event, a revocation) reorders the fold, and the heads are then counted again.
		const c = this.headsSeen;
		const order = this.foldOrder;
		if (c.refolds !== this.refolds || c.order !== order || c.folded > order.length) {
			this.headsSeen = { order, refolds: this.refolds, folded: 0, referenced: new Set(), heads: new Set() };
			return this.heads();
		}
		for (let i = c.folded; i < order.length; i++) {
			const ev = order[i]!.ev;
			if (ev.prev) {
				c.referenced.add(ev.prev);
				c.heads.delete(ev.prev);
			}
			for (const d of ev.deps) {
				c.referenced.add(d);
				c.heads.delete(d);
			}
			if (!c.referenced.has(order[i]!.id)) c.heads.add(order[i]!.id);
		}
		c.folded = order.length;
		return [...c.heads];
	}

	/**
	 * The latest event of `author` in fold order: the `prev` for that author's next event.
	 * `among` limits the choice to ids a given peer is known to hold (so its next event never waits).
	 */
	lastOf(author: string, among?: ReadonlySet<string>): string | null {
		for (let i = this.foldOrder.length - 1; i >= 0; i--) {
			const e = this.foldOrder[i]!;
			// A certificate is its identity's for every contract: never a link of a chain here.
			if (e.ev.author === author && !isCertificate(e.ev) && (!among || among.has(e.id))) return e.id;
		}
		return null;
	}
}

interface Snapshot {
	at: number;
	state: ContractState;
	/** Whether the state reaches some copied object twice (then restoring must keep an identity table). */
	aliased: boolean;
	/** The events it shares (beyond the applied list). */
	kept: Set<object>;
}

/** A live state from a snapshot, which stays as it is. Known structure, so no identity checks unless needed. */
function restore(s: Snapshot): ContractState {
	const applied = s.state.applied;
	const kept = s.kept;
	const c = cloneState(s.state, { keep: kept.size ? (o) => kept.has(o) : undefined, keepElements: (a) => a === applied, aliasing: s.aliased });
	// A replayed snapshot starts out assuming aliasing; a copy with the identity table tells for sure.
	if (s.aliased && !c.aliased) s.aliased = false;
	return c.copy;
}

const REVOKED = reject(
	'not-party',
	'The device that signed it was revoked, as the escrow provider recorded, and the revocation did not reach it: only what the device did before counts.'
);

function isCertificate(ev: Ev): boolean {
	return ev.type === 'device.certified';
}

function isAuthentic(e: Entry): boolean {
	return e.sig === 'valid' || e.sig === 'chained';
}

function sameAuthor(a: Entry, b: Entry): boolean {
	return !!a.ev && !!b.ev && a.ev.author === b.ev.author;
}

function newestFirst(a: Entry, b: Entry): number {
	return b.ev!.at - a.ev!.at;
}

function compare(a: Entry, b: Entry): number {
	return a.level! - b.level! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** How many entries of the sorted `list` sort before `x`. */
function lowerBound(list: Entry[], x: Entry): number {
	let lo = 0;
	let hi = list.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (compare(list[mid]!, x) < 0) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

/** Two sorted lists as one. */
function merge<T extends Entry>(a: T[], b: T[]): T[] {
	const out: T[] = [];
	let i = 0;
	let j = 0;
	while (i < a.length && j < b.length) out.push(compare(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
	while (i < a.length) out.push(a[i++]!);
	while (j < b.length) out.push(b[j++]!);
	return out;
}

function addChild(map: Map<string, Entry | Entry[]>, key: string, e: Entry): void {
	const kids = map.get(key);
	if (kids === undefined) map.set(key, e);
	else if (Array.isArray(kids)) kids.push(e);
	else map.set(key, [kids, e]);
}

function someChild(map: Map<string, Entry | Entry[]>, key: string, test: (e: Entry) => boolean): boolean {
	const kids = map.get(key);
	return kids === undefined ? false : Array.isArray(kids) ? kids.some(test) : test(kids);
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
	const list = map.get(key);
	if (list) list.push(value);
	else map.set(key, [value]);
}
