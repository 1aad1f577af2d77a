/**
 * Every contract on this device, opened, with the time of the provider each one names: what the
 * pages that list across contracts (Payments, the Resolution Center) read. Deadlines and security
 * periods end on those clocks, so they are read again every minute while the page is open.
 */
import { onMount } from 'svelte';
import { app, openSession, type ContractSession } from './session.svelte';

export interface EveryContract {
	readonly sessions: ContractSession[];
	readonly loading: boolean;
	/** Provider time by contract id; absent until read (an unreachable provider leaves it so). */
	readonly clocks: Record<string, number>;
	/** Read the providers' clocks now (after an action that moved money). */
	readClocks(): void;
}

/** Call while a component initialises: opens every contract and keeps the clocks current until it goes. */
export function everyContract(): EveryContract {
	let sessions = $state<ContractSession[]>([]);
	let loading = $state(true);
	const clocks = $state<Record<string, number>>({});

	function readClocks() {
		for (const x of sessions)
			x.escrow.now().then(
				(t) => (clocks[x.entry.contract] = t),
				() => {}
			);
	}
	$effect(() => {
		Promise.allSettled(app.contracts.map((c) => openSession(c.contract))).then((results) => {
			sessions = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
			loading = false;
			readClocks();
		});
	});
	onMount(() => {
		const t = setInterval(readClocks, 60_000);
		return () => clearInterval(t);
	});
	return {
		get sessions() {
			return sessions;
		},
		get loading() {
			return loading;
		},
		clocks,
		readClocks
	};
}
