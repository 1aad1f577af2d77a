/**
 * "Export evidence": the evidence file for a contract this device holds, downloaded as
 * `milestone-evidence-<title>-<date>.html`. Only authentic envelopes go in (no junk, no forgeries).
 */
import verifier from 'virtual:evidence-verifier';
import type { ContractLog } from '../contract/log';
import { saveFile } from '../ui/save-file';
import { buildEvidenceHtml, evidenceFileName } from './export';

export function evidenceFile(log: ContractLog, exportedBy: string | undefined, now = Date.now()): { name: string; html: string } {
	const state = log.derive().state;
	const html = buildEvidenceHtml({ contract: log.contract, envelopes: log.authenticEnvelopes(), state, exportedAt: now, exportedBy, verifier });
	return { name: evidenceFileName(state.terms?.title ?? 'contract', now), html };
}

export function downloadEvidence(log: ContractLog, exportedBy: string | undefined): void {
	const { name, html } = evidenceFile(log, exportedBy);
	saveFile(name, html, 'text/html;charset=utf-8');
}
