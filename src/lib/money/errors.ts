/**
 * One error type for the money module, so callers can branch on a stable `code` instead of
 * matching message text. Messages are written for people; codes are for programs.
 */
export type MoneyErrorCode =
	| 'invalid-amount'
	| 'not-positive'
	| 'too-large'
	| 'fee-exceeds-amount'
	| 'unknown-currency'
	| 'unknown-method'
	| 'invalid-weights'
	| 'invalid-time';

export class MoneyError extends Error {
	readonly code: MoneyErrorCode;

	constructor(code: MoneyErrorCode, message: string) {
		super(message);
		this.name = 'MoneyError';
		this.code = code;
	}
}
