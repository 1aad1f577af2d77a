/**
 * The one forwarding escrow adapter: every call goes to the adapter `target()` names at that moment
 * (a contract's provider is looked up per call, since Settings may change meanwhile), and the calls
 * that move money pass through `around` first (TEST MODE arms a simulated failure there). The target
 * may still be loading (the TEST MODE mock is loaded when first asked, off the first page).
 */
import type { EscrowAdapter } from '../escrow/adapter';

export type Around = <T>(call: () => Promise<T>) => Promise<T>;

const direct: Around = (call) => call();

export function forwardEscrow(target: () => EscrowAdapter | Promise<EscrowAdapter>, around: Around = direct): EscrowAdapter {
	// The adapter itself is never awaited (only a target still loading is): an adapter is not a promise.
	const on = async <T>(f: (a: EscrowAdapter) => Promise<T>): Promise<T> => {
		const t = target();
		return f(t instanceof Promise ? await t : t);
	};
	return {
		info: () => on((a) => a.info()),
		now: () => on((a) => a.now()),
		quoteFunding: (amount, c, m) => on((a) => a.quoteFunding(amount, c, m)),
		quoteWithdrawal: (amount, c, m) => on((a) => a.quoteWithdrawal(amount, c, m)),
		fund: (r) => around(() => on((a) => a.fund(r))),
		attest: (r) => on((a) => a.attest(r)),
		// A provider without a record (the Deno entry) has nothing to add.
		record: (r) => on(async (a) => (await a.record?.(r)) ?? []),
		release: (r) => around(() => on((a) => a.release(r))),
		refund: (r) => around(() => on((a) => a.refund(r))),
		withdraw: (r) => around(() => on((a) => a.withdraw(r)))
	};
}
