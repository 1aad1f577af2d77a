/**
 * POST /completion → a completion attestation (lib/escrow/attestation.ts), signed from the
 * function's OWN RECORD of the contract: the fold of what it recorded and executed, never of a log
 * the requester sends (the body has none). Only a party may ask, with a fresh signed request whose
 * nonce is used once; refused until the record holds the end of the contract.
 */
import { ContractLog } from '../../lib/contract/log';
import { EscrowError } from '../../lib/escrow/adapter';
import { attestCompletion, COMPLETION_PROOF_WINDOW_MS, type CompletionBody } from '../../lib/escrow/attestation';
import { loadContract } from '../../lib/escrow/provider-core';
import type { SignedStatement } from '../../lib/identity/statement';
import type { EscrowDeps } from './context';

export async function completion(d: EscrowDeps, body: CompletionBody): Promise<SignedStatement> {
	if (!d.records) throw new EscrowError('invalid-request', 'This escrow function keeps no record of contracts (the Deno / Supabase deployment), so it cannot attest how one ended.');
	const rec = await d.records.open(body.contract);
	return rec.exclusive('*', async () => {
		const now = d.now();
		await rec.expire(now);
		const envelopes = await rec.envelopes();
		if (!envelopes.length) throw new EscrowError('not-authorised', 'This provider holds no record of that contract.');
		const { s } = await loadContract(new ContractLog(body.contract), { contract: body.contract, log: [], event: '' }, d.key.publicKey, envelopes);
		const statement = attestCompletion(d.key, s, body, now);
		// Checked (and the request signed) above; a replayed request is refused only once it was valid.
		if (!(await rec.useNonce(body.nonce, body.at + COMPLETION_PROOF_WINDOW_MS, now))) throw new EscrowError('not-authorised', 'This attestation request was used already; sign a new one.');
		return statement;
	});
}
