/**
 * The shape every rule has. A rule names who may author an event type, checks the event against
 * the state at its position, and applies it. `check` is also what pages call to ask "may I?".
 */
import type { EventType } from './schema';
import type { Rejection } from './rejections';
import type { ContractState, EvOf, Role } from './state';

export interface Rule<T extends EventType> {
	/**
	 * Roles allowed to author this event; 'provider' for receipts; 'mediator' for the mediator both
	 * parties accepted for the dispute the event names (dispute.ts); 'anyone' only for the proposal and its answers.
	 */
	who: readonly (Role | 'provider' | 'mediator')[] | 'anyone';
	check(s: ContractState, ev: EvOf<T>): Rejection | null;
	apply(s: ContractState, ev: EvOf<T>): void;
}

export type RuleSet = { [T in EventType]?: Rule<T> };
