/**
 * attest → the provider RECORDS an event that binds the parties or starts or stops a money clock
 * (the countersign, a submission, a change request, a refund request or its answer, the end of the
 * contract): a signed timestamp on the function's clock, kept in the contract's record with the
 * event and its causal past. A retry gets the very receipt it recorded. Recording the countersign
 * writes the record's binding. With no record (the Deno entry) the receipt is signed but nothing is
 * kept, and the clock-judged operations are refused there anyway.
 */
import type { Receipt } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { attestationKind, signReceipt } from '../../lib/escrow/provider-core';
import { noteRevokedDevice } from '../accounts';
import { assertRoom, bindIfNeeded, record, recordedReceipt, withContract, type EscrowDeps } from './context';

export async function attest(d: EscrowDeps, body: EscrowRequestBody): Promise<Receipt> {
	return withContract(d, body, async (o) => {
		// Noted again on a retry: the first attempt may have died between recording and noting.
		const revocation = o.s.devices.revocations.get(body.event);
		const prior = await recordedReceipt(o, body.event);
		if (prior) {
			if (revocation) await noteRevokedDevice(d, revocation.identity, revocation.device);
			return prior;
		}
		// On the function's clock: dispute steps (and hourly ones) count at the times of its record.
		const kind = attestationKind(o.s, body.event, d.now(), o.log.ruleContext);
		await assertRoom(o, body.event);
		if (kind === 'countersign') await bindIfNeeded(o, body.event);
		const receipt = signReceipt(d.key, { contract: o.s.contract, prev: o.prev, dep: body.event, at: d.now(), type: 'receipt.attested', payload: { event: body.event, kind } });
		const recorded = await record(d, o, body.event, receipt);
		// Recorded here, the revocation counts in this contract; noted per identity, it also stops the device's payout requests.
		if (kind === 'revocation' && revocation) await noteRevokedDevice(d, revocation.identity, revocation.device);
		return recorded;
	});
}
