/**
 * The one forwarding escrow adapter: every call goes to the adapter `target()` names at that moment
 * (a contract's provider is looked up per call, since Settings may change meanwhile), and the calls
 * that move money pass through `around` first (TEST MODE arms a simulated failure there).
 */
import type { EscrowAdapter } from '../escrow/adapter';

export type Around = <T>(call: () => Promise<T>) => Promise<T>;

const direct: Around = (call) => call();

export function forwardEscrow(target: () => EscrowAdapter, around: Around = direct): EscrowAdapter {
	return {
		info: () => target().info(),
		now: () => target().now(),
		quoteFunding: (a, c, m) => target().quoteFunding(a, c, m),
		quoteWithdrawal: (a, c, m) => target().quoteWithdrawal(a, c, m),
		fund: (r) => around(() => target().fund(r)),
		attest: (r) => target().attest(r),
		// A provider without a record (the Deno entry) has nothing to add.
		record: (r) => target().record?.(r) ?? Promise.resolve([]),
		release: (r) => around(() => target().release(r)),
		refund: (r) => around(() => target().refund(r)),
		withdraw: (r) => around(() => target().withdraw(r))
	};
}
