/**
 * Assertions where a rule's `apply` relies on what its `check` established, and where the fold owns
 * an invariant. A failed one is a bug in the rules, never bad input (bad input is a Rejection), so
 * it fails loudly instead of folding a state nobody can trust.
 */
export class InvariantError extends Error {
	constructor(message: string) {
		super(`Invariant broken: ${message}`);
		this.name = 'InvariantError';
	}
}

export function assert(condition: unknown, message: string): asserts condition {
	if (!condition) throw new InvariantError(message);
}

/** The value `check` promised is there. */
export function present<T>(value: T | null | undefined, what: string): T {
	if (value === null || value === undefined) throw new InvariantError(`${what} is missing although the rule's check passed`);
	return value;
}
