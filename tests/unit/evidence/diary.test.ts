/**
 * An hourly contract's evidence file: the Work Diary weeks (segments with memos, the timesheet, the
 * client's dispute with its reason) are in it, tied to their signed events, and all of it verifies.
 */
import { describe, expect, it } from 'vitest';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { buildEvidenceHtml } from '../../../src/lib/evidence/export';
import { verifyEvidence } from '../../../src/lib/evidence/verify';
import * as hourly from '../../../src/lib/sync/hourly-actions';
import { activePair } from '../../support/parties';
import { hourlyTerms } from '../../support/world';

const W1 = '2026-11-02';
const utc = (s: string) => Date.parse(`${s}Z`);

describe('evidence file of an hourly contract', () => {
	it('holds the Work Diary week, its timesheet and dispute, and verifies', async () => {
		const clock = { now: utc('2026-11-02T00:00') };
		const provider = new MockEscrowProvider({ now: () => clock.now });
		const info = await provider.info();
		const terms = { ...hourlyTerms({ rate: 6_000, weeklyLimitHours: 10, manualTime: true }), provider: { id: 'mock', publicKey: info.publicKey, testMode: true } };
		const pair = await activePair({ escrow: provider, clock: () => clock.now, terms });
		const freelancer = { party: pair.freelancer, pending: [] };
		const client = { party: pair.client, pending: [] };
		clock.now = utc('2026-11-03T18:00');
		const day = new Date(utc('2026-11-03T12:00'));
		const local = (h: number) => `${String(new Date(day.getTime() + h * 3_600_000).getHours()).padStart(2, '0')}:00`;
		const localDay = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`;
		expect((await hourly.addManualTime(freelancer, { day: localDay, from: local(0), to: local(1), memo: 'Wireframes <b>bold</b>' }, clock.now)).ok).toBe(true);
		clock.now = utc('2026-11-09T12:00');
		expect(await hourly.submitTimesheet(freelancer, W1)).toEqual({ ok: true });
		await pair.client.receive(pair.freelancer.log.envelopes());
		const s0 = pair.client.derived().state;
		const segments = [...s0.hourly!.segments.values()].map((x) => x.id);
		expect(await hourly.disputeSegments(client, W1, segments.slice(0, 1), 'I did not ask for wireframes')).toEqual({ ok: true });

		const state = pair.client.derived().state;
		const envelopes = pair.client.log.authenticEnvelopes();
		const page = buildEvidenceHtml({ contract: pair.client.log.contract, envelopes, state, exportedAt: clock.now, verifier: '' });
		expect(page).toContain('<h2 id="diary-h">Work Diary</h2>');
		expect(page).toContain(`Week of ${W1}`);
		expect(page).toContain('data-field="memo">Wireframes &lt;b&gt;bold&lt;/b&gt;</td>');
		expect(page).toContain('data-field="reason">I did not ask for wireframes</p>');
		expect(page).toContain('Timesheet: 1 h 0 min, $60.00');
		for (const id of segments) expect(page).toContain(`data-event="${id}"`);

		const report = await verifyEvidence({ contract: pair.client.log.contract, exportedAt: 0, keys: {}, envelopes });
		expect(report.events.filter((e) => !e.ok)).toEqual([]);
		expect(report.events.filter((e) => e.type === 'hourly.segment').every((e) => e.role === 'freelancer')).toBe(true);
	});
});
