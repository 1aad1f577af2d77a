/**
 * Which scam warnings this person dismissed: kept in this browser only (localStorage, one key per
 * contract and event), never synced or sent. Shared by every warning on the page, so dismissing a
 * message's warning in Messages also hides it in Activity.
 */
const key = (contract: string, event: string) => `milestone.scamDismissed.${contract}.${event}`;

// Bumped on each dismissal: what re-runs the readers (localStorage itself is not reactive).
let version = $state(0);
/** Dismissals storage refused (private mode, quota): they hold until the page reloads. */
const unsaved = new Set<string>();

export function isDismissed(contract: string, event: string): boolean {
	void version;
	const k = key(contract, event);
	if (unsaved.has(k)) return true;
	try {
		return localStorage.getItem(k) === '1';
	} catch {
		return false;
	}
}

export function dismiss(contract: string, event: string): void {
	const k = key(contract, event);
	try {
		localStorage.setItem(k, '1');
	} catch {
		unsaved.add(k);
	}
	version++;
}
