/**
 * A deep copy of a derived state, for the log's fold snapshots: restoring one and folding on must
 * never change the snapshot. It copies generically — plain objects, arrays, Maps, Sets, Dates, typed
 * arrays, and class instances such as the Ledger (same prototype, own enumerable fields copied) — so
 * fields added to ContractState later are copied without anyone remembering to list them here.
 *
 * Aliasing is preserved: an object reachable twice is copied once, and both places get that copy.
 * That needs an identity table, which is most of the cost; a caller that knows its value reaches no
 * object twice (the log knows it for its own snapshots: `aliased` says so after the first copy) can
 * pass `aliasing: false`.
 *
 * Not supported (the derived state has none): class instances with `#private` fields or state in
 * closures, symbol-keyed properties holding objects, accessors (copied as their current value).
 */
export interface CloneOptions {
	/** Objects shared, not copied: the log passes its verified events, which the reducer never mutates. */
	keep?: (o: object) => boolean;
	/** Arrays copied shallowly, elements shared: the log passes the list of applied events. */
	keepElements?: (a: unknown[]) => boolean;
	/** False only if `root` is known to reach no copied object twice: no identity table then. */
	aliasing?: boolean;
}

export interface Cloned<T> {
	copy: T;
	/** Some copied object was reachable twice (its one copy is in both places). */
	aliased: boolean;
	/** The objects `keep` shared (the copy references them). */
	kept: object[];
}

export function cloneState<T>(root: T, options: CloneOptions = {}): Cloned<T> {
	const { keep, keepElements } = options;
	const seen = options.aliasing === false ? undefined : new Map<object, unknown>();
	const kept: object[] = [];
	let aliased = false;
	const copy = (v: object): unknown => {
		if (keep !== undefined && keep(v)) {
			kept.push(v);
			return v;
		}
		if (seen !== undefined) {
			const hit = seen.get(v);
			if (hit !== undefined) {
				aliased = true;
				return hit;
			}
		}
		const proto: unknown = Object.getPrototypeOf(v);
		if (proto === Object.prototype || proto === null) {
			// Spread is the engine's fast copy of a plain object; then deepen the fields that hold objects.
			const out: Record<string, unknown> = proto === null ? Object.assign(Object.create(null), v) : { ...v };
			seen?.set(v, out);
			for (const k in out) {
				const x = out[k];
				if (typeof x === 'object' && x !== null) out[k] = copy(x);
			}
			return out;
		}
		if (Array.isArray(v)) {
			const out = v.slice();
			seen?.set(v, out);
			if (keepElements !== undefined && keepElements(v)) return out;
			for (let i = 0; i < out.length; i++) {
				const x: unknown = out[i];
				if (typeof x === 'object' && x !== null) out[i] = copy(x);
			}
			return out;
		}
		if (v instanceof Map) {
			const out = new Map();
			seen?.set(v, out);
			for (const [k, x] of v) out.set(deep(k), deep(x));
			return out;
		}
		if (v instanceof Set) {
			const out = new Set();
			seen?.set(v, out);
			for (const x of v) out.add(deep(x));
			return out;
		}
		if (v instanceof Date) {
			const out = new Date(v.getTime());
			seen?.set(v, out);
			return out;
		}
		if (ArrayBuffer.isView(v)) {
			const out = v instanceof DataView ? new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) : (v as unknown as { slice(): object }).slice();
			seen?.set(v, out);
			return out;
		}
		// A class instance (the Ledger): same prototype, own fields copied.
		const out = Object.create(proto as object) as Record<string, unknown>;
		seen?.set(v, out);
		for (const k of Object.keys(v)) out[k] = deep((v as Record<string, unknown>)[k]);
		return out;
	};
	const deep = (x: unknown): unknown => (typeof x === 'object' && x !== null ? copy(x) : x);
	return { copy: deep(root) as T, aliased, kept };
}
