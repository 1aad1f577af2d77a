/**
 * The pure half of a provider's record (the escrow function's store holds the other half): what
 * binds a contract to its parties, and which envelopes a recorded event drags along with it.
 *
 * A provider keeps every envelope it attested or executed (intents, recorded events, its own
 * receipts) together with their causal past, and folds that record with whatever log a party sends.
 * Keeping the causal past is what makes the record self-sufficient: an event whose `prev` or `deps`
 * are missing waits in the log and is never folded, so a record without them could be undone by
 * a requester who leaves those earlier events out.
 */
import type { ContractLog } from '../contract/log';
import type { ContractState } from '../contract/state';

/** What a contract was bound to when the provider first recorded its countersign or moved its money. */
export interface Binding {
	proposal: string;
	client: string;
	freelancer: string;
	provider: string;
	currency: string;
}

/**
 * The binding the fold shows: after the countersign was recorded, from the bound parties; for the
 * countersign being recorded now, from the acceptance it names.
 */
export function bindingOf(s: ContractState, countersign?: string): Binding | undefined {
	if (!s.proposal || !s.terms) return undefined;
	let { client, freelancer } = s.parties;
	if (countersign !== undefined) {
		const c = s.countersigns?.get(countersign);
		const acceptance = c && s.acceptances?.get(c.acceptance);
		if (!acceptance) return undefined;
		if (s.proposal.role === 'client') [client, freelancer] = [s.proposal.author, acceptance.author];
		else [client, freelancer] = [acceptance.author, s.proposal.author];
	}
	if (!client || !freelancer) return undefined;
	return { proposal: s.proposal.id, client, freelancer, provider: s.terms.provider.publicKey, currency: s.terms.currency };
}

/** The first field in which two bindings differ, or undefined when they are the same. */
export function bindingMismatch(recorded: Binding, folded: Binding): keyof Binding | undefined {
	for (const k of ['proposal', 'client', 'freelancer', 'provider', 'currency'] as const) if (recorded[k] !== folded[k]) return k;
	return undefined;
}

/** `prev` and `deps` of a stored envelope, read from its signed body (the log already validated it). */
export function linksOf(envelope: string): string[] {
	try {
		const body = JSON.parse((JSON.parse(envelope) as { body: string }).body) as { prev?: string | null; deps?: string[] };
		return [...(body.prev ? [body.prev] : []), ...(Array.isArray(body.deps) ? body.deps : [])];
	} catch {
		return [];
	}
}

/**
 * `roots` and everything they reach through `prev` and `deps`, as [id, envelope] pairs from `log`
 * (in no particular order: a log takes envelopes in any order). Ids in `known` (already recorded) are not walked: their causal past is recorded
 * with them. An id the log does not hold is skipped (the event that names it never folded either).
 */
export function causalPast(log: ContractLog, roots: Iterable<string>, known: ReadonlySet<string> = new Set()): [string, string][] {
	const out: [string, string][] = [];
	const seen = new Set<string>();
	const stack = [...roots];
	while (stack.length) {
		const id = stack.pop()!;
		if (seen.has(id) || known.has(id)) continue;
		seen.add(id);
		const env = log.envelope(id);
		if (env === undefined) continue;
		out.push([id, env]);
		for (const link of linksOf(env)) if (!seen.has(link) && !known.has(link)) stack.push(link);
	}
	return out;
}

/** Bytes an envelope takes in a record (UTF-8, what the store's size cap counts). */
export function envelopeBytes(envelope: string): number {
	return new TextEncoder().encode(envelope).length;
}

/**
 * May `key` read the provider's record of a contract bound as `binding`? A bound party's identity
 * key may, and so may a device one of them certified, unless the record shows that device revoked or
 * its certificate expired on the provider's clock `now` (devices.ts: the same rules that stop its
 * money intents). `s` is the fold of the record together with the certificate the request carried
 * (a device that never acted has none in the record yet). Returns why not, or null.
 */
export function recordReaderRefusal(s: ContractState, binding: Binding, key: string, now: number): string | null {
	if (key === binding.client || key === binding.freelancer) return null;
	const certs = [...s.devices.certificates.values()].filter((c) => c.device === key && (c.identity === binding.client || c.identity === binding.freelancer));
	if (certs.length === 0) return 'Only a party of a contract this provider has recorded, or a device it certified, can read its record.';
	if (new Set(certs.map((c) => c.identity)).size > 1) return 'This device is certified by both parties of the contract; it cannot read the record for either.';
	const revoked = certs.find((c) => c.revokedAt !== undefined);
	if (revoked) return `The device “${revoked.name}” was revoked, as this provider recorded: it can no longer read the contract's record.`;
	if (certs.every((c) => c.expires !== undefined && now > c.expires)) return `The certificate of the device “${certs[0]!.name}” has expired: certify the device again to read the contract's record.`;
	return null;
}
