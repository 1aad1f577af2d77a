/**
 * POST /record → the provider's record of one contract (every envelope it recorded, in full), for
 * either party of the recorded binding or a device one of them certified. The request is signed by
 * the requesting key over the contract, the time and a nonce: fresh (within a few minutes of the
 * function's clock) and used once, so a captured request can be neither replayed nor pointed at
 * another contract. A device sends its certificate with the request; it reads only while the record
 * shows no revocation of it and its certificate has not expired on the function's clock.
 */
import { utf8 } from '../lib/contract/encoding';
import { ContractLog } from '../lib/contract/log';
import { EscrowError } from '../lib/escrow/adapter';
import { recordRequestMessage, type RecordAnswer, type RecordBody } from '../lib/escrow/protocol';
import { idOf } from '../lib/escrow/provider-core';
import { recordReaderRefusal, type Binding } from '../lib/escrow/record';
import { authenticate } from '../lib/identity/authenticate';
import { CertificateError, readCertificate } from '../lib/identity/certificate';
import { verify } from '../lib/identity/ed25519';
import { PROOF_WINDOW_MS } from './accounts';
import type { ContractRecord, RecordStore } from './store';

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
		if (!binding) throw new EscrowError('not-authorised', 'Only a party of a contract this provider has recorded can read its record.');
		await assertReader(rec, binding, body, now);
		// The nonce is remembered for as long as the request's time would still be accepted.
		if (!(await rec.useNonce(body.nonce, body.at + PROOF_WINDOW_MS, now))) throw new EscrowError('not-authorised', 'This record request was used already; sign a new one.');
		return { envelopes: await rec.envelopes() };
	});
}

/** A party's identity key reads at once; any other key only as a certified, unrevoked, unexpired device of one (folded from the record). */
async function assertReader(rec: ContractRecord, binding: Binding, body: RecordBody, now: number): Promise<void> {
	if (body.publicKey === binding.client || body.publicKey === binding.freelancer) return;
	const log = new ContractLog(body.contract);
	for (const envelope of await rec.envelopes()) {
		const id = idOf(envelope);
		if (id) log.add(id, envelope);
	}
	if (body.certificate !== undefined) {
		try {
			const c = readCertificate(body.certificate, body.publicKey);
			log.add(c.id, c.envelope);
		} catch (e) {
			if (e instanceof CertificateError) throw new EscrowError('not-authorised', `The record request's certificate is refused: ${e.message}`);
			throw e;
		}
	}
	await authenticate(log);
	const refusal = recordReaderRefusal(log.derive().state, binding, body.publicKey, now);
	if (refusal) throw new EscrowError('not-authorised', refusal);
}
