/**
 * What every receipt must satisfy before it may move money: it settles an intent of the right kind
 * that is in this contract, in the contract's currency, and that intent has not been settled before.
 * (The provider signature and key are checked by the fold before any rule runs.)
 */
import { reject, type Rejection } from './rejections';
import type { ContractState, Intent } from './state';

export function settleable(
	s: ContractState,
	receipt: { payload: { intent: string; currency: string } },
	type: Intent['type'] | readonly Intent['type'][]
): Rejection | { intent: Intent } {
	const intent = s.intents.get(receipt.payload.intent);
	const types: readonly string[] = Array.isArray(type) ? type : [type];
	if (!intent || !types.includes(intent.type)) return reject('unknown-intent');
	if (receipt.payload.currency !== s.terms!.currency) return reject('currency-mismatch');
	if (intent.settledBy) return reject('already-settled', `It was settled by receipt ${intent.settledBy.slice(0, 8)}.`);
	return { intent };
}

export function isRejection(x: Rejection | { intent: Intent }): x is Rejection {
	return 'code' in x;
}
