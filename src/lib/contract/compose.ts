/** Composing a new event on top of what this device has: its author's chain and the current heads. */
import type { Draft } from './envelope';
import type { ContractLog } from './log';
import type { EventType, Payload } from './schema';

export function compose<T extends EventType>(
	log: ContractLog,
	author: string,
	type: T,
	payload: Payload<T>,
	at: number
): Draft<T> {
	return { contract: log.contract, author, prev: log.lastOf(author), deps: log.heads(), at, type, payload };
}
