/**
 * The evidence file's HTML: hostile text from the contract is only ever text, the embedded JSON
 * survives any message intact, only the inlined verifier may run (its CSP hash), and the readable
 * sections show what was signed, each tied to its event.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import verifier from 'virtual:evidence-verifier';
import { buildEvidenceHtml, evidenceFileName, escapeHtml } from '../../../src/lib/evidence/export';
import { evidenceFile } from '../../../src/lib/evidence/download';
import { evidenceContract, HOSTILE } from './contract';

async function html() {
	const { client } = await evidenceContract();
	const state = client.derived().state;
	const envelopes = client.log.authenticEnvelopes();
	return { client, envelopes, html: buildEvidenceHtml({ contract: client.log.contract, envelopes, state, exportedAt: Date.UTC(2026, 11, 7), exportedBy: state.parties.client, verifier }) };
}

const count = (text: string, needle: RegExp) => text.match(needle)?.length ?? 0;

describe('evidence file HTML', () => {
	it('writes a hostile message as text: no element, no script end, no handler comes from the contract', async () => {
		const { html: page } = await html();
		// Exactly the two script elements the exporter writes: the data and the verifier.
		expect(count(page, /<script/gi)).toBe(2);
		expect(count(page, /<\/script/gi)).toBe(2);
		expect(page).not.toContain('<img');
		expect(page).not.toContain('alert("owned")</');
		expect(page).toContain(`data-field="text">${escapeHtml(HOSTILE)}</p>`);
		expect(escapeHtml(HOSTILE)).toBe('Look: &lt;/script&gt;&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &amp; &quot;quotes&quot;');
	});

	it('embeds every envelope as JSON that parses back byte for byte, hostile text included', async () => {
		const { html: page, envelopes } = await html();
		const json = page.match(/<script type="application\/json" id="evidence-data">([^<]*)<\/script>/)![1]!;
		const data = JSON.parse(json);
		expect(data.envelopes).toEqual(envelopes);
		expect(data.envelopes.some(([, raw]: [string, string]) => raw.includes('</script>'))).toBe(true);
	});

	it('lets only the inlined verifier run, by its hash, and nothing reach the network', async () => {
		const { html: page } = await html();
		const script = page.match(/<script>([\s\S]*)<\/script>\s*<\/body>/)![1]!;
		expect(script).toBe(verifier);
		expect(verifier).not.toMatch(/<\/script/i);
		const hash = createHash('sha256').update(script, 'utf8').digest('base64');
		const csp = page.match(/http-equiv="Content-Security-Policy" content="([^"]*)"/)![1]!;
		expect(csp).toContain(`script-src 'sha256-${hash}'`);
		expect(csp).toContain("default-src 'none'");
		expect(csp).toContain("connect-src 'none'");
	});

	it('shows messages, submissions, change requests and receipts, each tied to its signed event', async () => {
		const { html: page, client } = await html();
		const s = client.derived().state;
		for (const ev of s.applied.filter((x) => ['message.posted', 'milestone.submitted', 'milestone.changesRequested', 'receipt.released', 'receipt.funded'].includes(x.type)))
			expect(page).toContain(`data-event="${ev.id}"`);
		expect(page).toContain('data-field="reason">The logo is too small</p>');
		expect(page).toContain('data-field="message">Second draft</p>');
		expect(page).toContain('$1,000.00');
		expect(page).toContain('<h1>Evidence file: Website</h1>');
	});

	it('names the file after the contract and the day', async () => {
		const { client } = await evidenceContract();
		const at = Date.UTC(2026, 11, 7, 10);
		expect(evidenceFile(client.log, undefined, at).name).toBe('milestone-evidence-website-2026-12-07.html');
		expect(evidenceFileName('Logo & brand: "v2" </script>', at)).toBe('milestone-evidence-logo-brand-v2-script-2026-12-07.html');
	});
});
