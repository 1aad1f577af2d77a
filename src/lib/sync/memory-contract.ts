/**
 * A contract store in memory (contract-store.ts), for tests and simulations: no document, no
 * storage. Its writes can be handed on as they are stored — to a peer's store (`link`), a test
 * network, or a stand-in for the device's storage — in the order written, before they are verified.
 */
import { ContractLog, type DerivedContract } from '../contract/log';
import { authenticate } from '../identity/authenticate';
import type { SignedEvent } from '../identity/sign-event';
import type { ContractStore } from './contract-store';

/** Where each written event goes besides this store: a peer, a test network, a device's storage. */
export type Outlet = (id: string, envelope: string) => void;

export class MemoryContract implements ContractStore {
	readonly log: ContractLog;
	private readonly outlets: Outlet[] = [];
	/** One verification at a time: a signature asked for while another pass is under way is asked once. */
	private running: Promise<DerivedContract> | null = null;
	private again = false;

	constructor(contract: string | ContractLog, outlet?: Outlet) {
		this.log = typeof contract === 'string' ? new ContractLog(contract) : contract;
		if (outlet) this.outlets.push(outlet);
	}

	get contract(): string {
		return this.log.contract;
	}

	/** Hand every event written here to `outlet` too, from now on. */
	onWrite(outlet: Outlet): this {
		this.outlets.push(outlet);
		return this;
	}

	write(events: readonly SignedEvent[]): Promise<DerivedContract> {
		for (const e of events) {
			this.log.add(e.id, e.envelope);
			for (const out of this.outlets) out(e.id, e.envelope);
		}
		return this.settle();
	}

	receive(entries: Iterable<[string, string]>): Promise<DerivedContract> {
		for (const [id, envelope] of entries) this.log.add(id, envelope);
		return this.settle();
	}

	/** Verify and fold what is new; a call during a pass makes that pass go round once more. */
	private settle(): Promise<DerivedContract> {
		if (this.running) {
			this.again = true;
			return this.running;
		}
		const run = (async () => {
			try {
				do {
					this.again = false;
					await authenticate(this.log);
				} while (this.again);
				return this.log.derive();
			} finally {
				this.running = null;
			}
		})();
		this.running = run;
		return run;
	}
}

/** Two stores whose writes reach each other at once (each as the other's `receive`). */
export function link(a: MemoryContract, b: MemoryContract): void {
	a.onWrite((id, envelope) => void b.receive([[id, envelope]]));
	b.onWrite((id, envelope) => void a.receive([[id, envelope]]));
}
