/**
 * What every money operation of the escrow function starts from: its dependencies, the contract
 * loaded and checked with the shared provider core, and how an amount is drawn from the
 * milestone's charges (releases and refunds may span several charges).
 */
import type Stripe from 'stripe';
import { ContractLog } from '../../lib/contract/log';
import type { ContractState, Intent } from '../../lib/contract/state';
import { EscrowError } from '../../lib/escrow/adapter';
import type { EscrowRequestBody } from '../../lib/escrow/protocol';
import { loadContract } from '../../lib/escrow/provider-core';
import type { DeviceKey } from '../../lib/identity/ed25519';
import type { CurrencyCode } from '../../lib/money/currency';
import { remainingOn, type EscrowCharge, type MilestoneBooks } from '../books';

export interface EscrowDeps {
	stripe: Stripe;
	key: DeviceKey;
	/** The function's clock: the provider time receipts carry and deadlines are judged on. */
	now: () => number;
}

export interface Opened {
	s: ContractState;
	/** The provider's latest receipt the requester holds: the new receipt's prev. */
	prev: string | null;
}

export async function open(d: EscrowDeps, body: EscrowRequestBody): Promise<Opened> {
	const log = new ContractLog(body.contract);
	const { s, held } = await loadContract(log, { contract: body.contract, log: body.log, event: body.event }, d.key.publicKey);
	return { s, prev: log.lastOf(d.key.publicKey, held) };
}

export const lower = (c: CurrencyCode): string => c.toLowerCase();

/** The intent as the fold knows it, settled or not: a retry of a settled intent still gets its receipt. */
export function knownIntent(s: ContractState, id: string, types: readonly Intent['type'][]): Intent | undefined {
	const i = s.intents.get(id);
	return i && types.includes(i.type) ? i : undefined;
}

export interface Part {
	charge: EscrowCharge;
	amount: number;
}

/** Split `amount` across the charges that still hold money, richest first. */
export function draw(books: MilestoneBooks, amount: number): Part[] {
	const parts: Part[] = [];
	let left = amount;
	const byRemaining = [...books.charges].sort((a, b) => remainingOn(books, b) - remainingOn(books, a));
	for (const c of byRemaining) {
		const take = Math.min(remainingOn(books, c), left);
		if (take <= 0) break;
		parts.push({ charge: c, amount: take });
		left -= take;
	}
	if (left > 0) throw new EscrowError('over-release', 'Stripe holds less for this milestone than the intent asks for.');
	return parts;
}

export const partKey = (intent: string, i: number): string => (i === 0 ? intent : `${intent}:${i}`);
