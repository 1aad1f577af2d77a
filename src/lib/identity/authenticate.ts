/**
 * Drives the pure log's signature planning with real (async, parallel) verification:
 * check what the log asks for, hand the answers back, repeat until it asks for nothing.
 * For an honest log that is one round with one check per author head.
 */
import type { ContractLog, SignatureCheck } from '../contract/log';
import { verifyMany } from './ed25519';

export type BatchVerifier = (items: SignatureCheck[]) => Promise<boolean[]>;

/** `maxRounds`: stop after that many rounds even if the log still asks (it may have been written to meanwhile). */
export async function authenticate(log: ContractLog, verify: BatchVerifier = verifyMany, maxRounds = Infinity): Promise<number> {
	let checked = 0;
	for (let round = 0; round < maxRounds; round++) {
		const todo = log.signatureChecks();
		if (todo.length === 0) return checked;
		log.recordSignatures(todo, await verify(todo));
		checked += todo.length;
	}
	return checked;
}
