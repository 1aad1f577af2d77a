/**
 * Where a Party keeps one contract: the only place it writes. In the app that is the contract's Yjs
 * document (contract-doc.ts), in tests and simulations an in-memory store (memory-contract.ts). A
 * write stores the events and resolves once the store has verified and folded them, by the same path
 * every event from a peer takes, so a local write is verified and folded once. The intent outbox is
 * not here: it is device-local and never part of the shared document (outbox.ts).
 */
import type { ContractLog, DerivedContract } from '../contract/log';
import type { SignedEvent } from '../identity/sign-event';

export interface ContractStore {
	readonly contract: string;
	/** The verified log and its fold, to read: what is stored, verified and derived. Written only through `write` and `receive`. */
	readonly log: ContractLog;
	/** Store events this device signed (or took from its escrow provider); resolves once they are verified and folded. */
	write(events: readonly SignedEvent[]): Promise<DerivedContract>;
	/** Take events from elsewhere (a peer, storage); resolves once they are verified and folded. */
	receive(entries: Iterable<[string, string]>): Promise<DerivedContract>;
}
