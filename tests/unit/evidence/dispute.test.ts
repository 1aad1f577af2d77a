/**
 * A dispute's evidence file: the opening with its details, the rejection, both acceptances of the
 * mediator, the mediator's ruling and the provider's split are in it, each verified, the ruling shown
 * as signed by the mediator both parties accepted.
 */
import { describe, expect, it } from 'vitest';
import { MockEscrowProvider } from '../../../src/lib/escrow/mock';
import { buildEvidenceHtml } from '../../../src/lib/evidence/export';
import { verifyEvidence } from '../../../src/lib/evidence/verify';
import { CLIENT, FREELANCER, MEDIATOR, PROVIDER, World } from '../../support/world';

const base = (d: string) => ({ dispute: d, milestone: 'design', currency: 'USD' as const });

describe('evidence file of a disputed milestone', () => {
	it('shows every step of the dispute and verifies the ruling as the mediator’s', async () => {
		const w = new World();
		const mock = new MockEscrowProvider({ key: PROVIDER, now: () => w.now });
		await w.active();
		await w.fund('design', 100_000);
		await w.submit('design');
		const d = await w.emit(CLIENT, 'dispute.opened', { milestone: 'design', amount: 60_000, currency: 'USD', reason: 'not-delivered', details: 'Nothing usable <was> delivered', offer: 10_000 });
		await w.attestWith(mock, d);
		const rej = await w.emit(FREELANCER, 'dispute.rejected', { dispute: d, offer: d, final: 50_000 });
		await w.attestWith(mock, rej);
		for (const key of [CLIENT, FREELANCER]) await w.attestWith(mock, await w.emit(key, 'dispute.mediatorAccepted', { dispute: d, mediator: MEDIATOR.publicKey, name: 'Mo', feeBps: 500, fee: 3_000 }));
		w.advance(2);
		const [intent, envelope] = w.envelope(MEDIATOR, w.draft(MEDIATOR, 'dispute.rule', { ...base(d), offer: rej }));
		const receipt = await mock.release({ contract: w.contract, log: [...w.written.map(([, e]) => e), envelope], event: intent });
		await w.put(intent, envelope);
		await w.put(receipt.id, receipt.envelope);

		const page = buildEvidenceHtml({ contract: w.contract, envelopes: w.written, state: w.state, exportedAt: w.now, verifier: '' });
		expect(page).toContain('<h2 id="disputes-h">Disputes (Resolution Center)</h2>');
		expect(page).toContain('data-field="details">Nothing usable &lt;was&gt; delivered</p>');
		expect(page).toContain('over $600.00 (not delivered); opening offer $100.00 to the freelancer. Settled (ruling)');
		expect(page).toContain('final offer $500.00 to the freelancer');
		expect(page).toContain('Accepted Mo');
		expect(page).toContain('<strong>receipt.split</strong>');

		const report = await verifyEvidence({ contract: w.contract, exportedAt: 0, keys: {}, envelopes: w.written });
		expect(report.events.filter((e) => !e.ok)).toEqual([]);
		expect(report.events.find((e) => e.id === intent)!.role).toBe('mediator');
		expect(report.events.find((e) => e.id === receipt.id)!.role).toBe('provider');
	});
});
