/**
 * POST /record → the provider's record of one contract (every envelope it recorded, in full), for
 * either party of the recorded binding. The request is signed by that party's key over the
 * contract, the time and a nonce: fresh (within a few minutes of the function's clock) and used
 * once, so a captured request can be neither replayed nor pointed at another contract.
 */
import { utf8 } from '../lib/contract/encoding';
import { EscrowError } from '../lib/escrow/adapter';
import { recordRequestMessage, type RecordAnswer, type RecordBody } from '../lib/escrow/protocol';
import { verify } from '../lib/identity/ed25519';
import { PROOF_WINDOW_MS } from './accounts';
import type { RecordStore } from './store';

export async function serveRecord(d: { records?: RecordStore; now: () => number }, body: RecordBody): Promise<RecordAnswer> {
	if (!d.records) throw new EscrowError('invalid-request', 'This escrow function keeps no record of contracts (the Deno / Supabase deployment).');
	const now = d.now();
	if (Math.abs(now - body.at) > PROOF_WINDOW_MS) throw new EscrowError('not-authorised', 'The record request is too old; sign a fresh one.');
	if (!(await verify(body.publicKey, utf8.encode(recordRequestMessage(body.contract, body.publicKey, body.at, body.nonce)), body.signature)))
		throw new EscrowError('not-authorised', 'The record request is not signed by this key.');
	const rec = await d.records.open(body.contract);
	return rec.exclusive('*', async () => {
		await rec.expire(now);
		const binding = await rec.binding();
		if (!binding || (binding.client !== body.publicKey && binding.freelancer !== body.publicKey))
			throw new EscrowError('not-authorised', 'Only a party of a contract this provider has recorded can read its record.');
		// The nonce is remembered for as long as the request's time would still be accepted.
		if (!(await rec.useNonce(body.nonce, body.at + PROOF_WINDOW_MS, now))) throw new EscrowError('not-authorised', 'This record request was used already; sign a new one.');
		return { envelopes: await rec.envelopes() };
	});
}
