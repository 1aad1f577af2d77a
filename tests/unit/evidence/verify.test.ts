/**
 * The evidence file's verifier (the code inlined into the HTML) on a real contract: all of it
 * verifies; one changed byte, a forged signature or a gap in a hash chain fails exactly the event it
 * touches, with the reason; keys the exporter lists are checked against the signed events.
 */
import { describe, expect, it } from 'vitest';
import { verifyEvidence, type EvidenceData } from '../../../src/lib/evidence/verify';
import { fingerprint } from '../../../src/lib/identity/fingerprint';
import { CLIENT, FREELANCER, STRANGER } from '../../support/world';
import { evidenceContract } from './contract';

async function exported(): Promise<EvidenceData & { providerKey: string }> {
	const { client, providerKey } = await evidenceContract();
	const s = client.derived().state;
	return {
		contract: client.log.contract,
		exportedAt: 0,
		keys: { client: s.parties.client, freelancer: s.parties.freelancer, provider: providerKey },
		envelopes: client.log.authenticEnvelopes(),
		providerKey
	};
}

const bodyOf = (raw: string) => JSON.parse(raw).body as string;
const find = (data: EvidenceData, needle: string) => data.envelopes.findIndex(([, raw]) => bodyOf(raw).includes(needle));

describe('evidence verifier', () => {
	it('verifies every signature and hash chain of a real contract, and says who signed what', async () => {
		const data = await exported();
		const report = await verifyEvidence(data);
		expect(report.events.length).toBe(data.envelopes.length);
		expect(report.events.filter((e) => !e.ok)).toEqual([]);
		expect(report.ok).toBe(true);
		expect(report.summary).toBe(
			`${data.envelopes.length} events, all signatures and hash chains verified: client key ${fingerprint(CLIENT.publicKey)}, freelancer key ${fingerprint(FREELANCER.publicKey)}, escrow provider key ${fingerprint(data.providerKey)}.`
		);
		const role = (needle: string) => report.events[find(data, needle)]!.role;
		expect(role('Hello Grace')).toBe('client');
		expect(role('First draft')).toBe('freelancer');
		expect(role('"receipt.released"')).toBe('provider');
	});

	it('one changed byte in a message fails exactly that event, saying it was changed after signing', async () => {
		const data = await exported();
		const i = find(data, 'One more thing');
		const [id, raw] = data.envelopes[i]!;
		data.envelopes[i] = [id, raw.replace('One more thing', 'One more thinG')];
		const report = await verifyEvidence(data);
		const failed = report.events.filter((e) => !e.ok);
		expect(failed.map((e) => e.id)).toEqual([id]);
		expect(failed[0]!.reason).toMatch(/changed after it was signed.*SHA-256/);
		expect(report.ok).toBe(false);
		expect(report.summary).toMatch(/1 FAILED verification/);
	});

	it('a forged signature fails that event: the author did not sign it', async () => {
		const data = await exported();
		const i = find(data, 'Hello Grace');
		const j = find(data, 'One more thing');
		const [id, raw] = data.envelopes[i]!;
		// Another genuine signature of the same author: well formed, but over another event.
		const other = JSON.parse(data.envelopes[j]![1]).sig as string;
		data.envelopes[i] = [id, JSON.stringify({ ...JSON.parse(raw), sig: other })];
		const report = await verifyEvidence(data);
		const failed = report.events.filter((e) => !e.ok);
		expect(failed.map((e) => e.id)).toEqual([id]);
		expect(failed[0]!.reason).toMatch(/signature does not verify against the author's public key/);
	});

	it('an event left out of a hash chain fails the event that links to it', async () => {
		const data = await exported();
		const i = find(data, 'The logo is too small');
		const [gone] = data.envelopes.splice(i, 1)[0]!;
		const next = data.envelopes.find(([, raw]) => JSON.parse(bodyOf(raw)).prev === gone)!;
		const report = await verifyEvidence(data);
		const failed = report.events.filter((e) => !e.ok);
		expect(failed.map((e) => e.id)).toContain(next[0]);
		expect(failed.find((e) => e.id === next[0])!.reason).toMatch(/hash chain is broken.*not in this file/);
		// Nothing else that does not name the missing event fails.
		for (const f of failed) expect(bodyOf(data.envelopes.find(([x]) => x === f.id)![1])).toContain(gone);
	});

	it('a key the exporting device lists that the signed events do not establish is reported', async () => {
		const data = await exported();
		data.keys.client = STRANGER.publicKey;
		const report = await verifyEvidence(data);
		expect(report.ok).toBe(false);
		expect(report.keys.find((k) => k.role === 'client')!.mismatch).toContain(fingerprint(STRANGER.publicKey));
	});
});
