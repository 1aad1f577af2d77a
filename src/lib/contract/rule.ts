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
	/** `ctx`: what the log knows beyond the state (causal order), when a log folds; absent when a page asks "may I now?". */
	check(s: ContractState, ev: EvOf<T>, ctx?: RuleContext): Rejection | null;
	apply(s: ContractState, ev: EvOf<T>): void;
}

/** What a log tells a rule beyond the state: is `to` in the causal past of `from`? */
export interface RuleContext {
	reaches?: (from: string, to: string) => boolean;
}

export type RuleSet = { [T in EventType]?: Rule<T> };
