/**
 * Settings → Your devices: the identity's devices, from every certificate this device knows of — the
 * ones kept in its own store (those it issued, and its own), and those in the contracts it holds —
 * so a device certified here is listed before it has acted in any contract. Revoked: a revocation by
 * the identity in any of those contracts.
 */
import { readCertificate } from '../identity/certificate';

export interface DeviceRow {
	device: string;
	name: string;
	/** Ids of the certificates of this device key by the identity. */
	certificates: string[];
	revoked: boolean;
}

interface Known {
	certificates: ReadonlyMap<string, { id: string; identity: string; device: string; name: string }>;
	revocations: ReadonlyMap<string, { identity: string; device: string }>;
}

export function identityDevices(me: string | undefined, contracts: readonly Known[], stored: readonly string[]): DeviceRow[] {
	const out = new Map<string, DeviceRow>();
	if (!me) return [];
	const add = (c: { id: string; identity: string; device: string; name: string }) => {
		if (c.identity !== me) return;
		const row = out.get(c.device) ?? { device: c.device, name: c.name, certificates: [], revoked: false };
		if (!row.certificates.includes(c.id)) row.certificates.push(c.id);
		out.set(c.device, row);
	};
	for (const envelope of stored) {
		try {
			add(readCertificate(envelope));
		} catch {
			// Not a valid certificate (a damaged store): nothing to list.
		}
	}
	for (const d of contracts) for (const c of d.certificates.values()) add(c);
	for (const d of contracts)
		for (const r of d.revocations.values()) {
			const row = r.identity === me ? out.get(r.device) : undefined;
			if (row) row.revoked = true;
		}
	return [...out.values()];
}
