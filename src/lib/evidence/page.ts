/**
 * The verifier that runs inside an exported evidence file (bundled into one inline script by
 * `bundle-plugin.ts`). It reads the embedded envelopes, verifies them with the app's own code
 * (verify.ts), lists every signed event as Verified or Failed with the reason, and marks each item of
 * the readable sections with the verdict of the event it shows. Text shown in those sections is
 * compared with what was signed, so editing the visible text is caught as well as editing the data.
 * Everything is written with textContent: nothing from the contract is ever parsed as HTML.
 */
import { verifyEvidence, type EventResult, type EvidenceData, type EvidenceReport } from './verify';

const ROLE: Record<string, string> = { client: 'the client', freelancer: 'the freelancer', provider: 'the escrow provider', mediator: 'a mediator', unknown: 'a key that is not a party' };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
	const e = document.createElement(tag);
	if (text !== undefined) e.textContent = text;
	if (cls) e.className = cls;
	return e;
}

const utc = (ms: number | undefined) => (typeof ms === 'number' && Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'unknown time');

function signedBy(r: EventResult): string {
	if (!r.author) return 'unknown signer';
	const who = ROLE[r.role] ?? ROLE.unknown!;
	return `${r.device ? `a device of ${who}` : who} (key ${r.author.slice(0, 10)}…)`;
}

function eventItem(r: EventResult, n: number, raw: string | undefined): HTMLLIElement {
	const li = el('li');
	li.id = `ev-${r.id}`;
	li.dataset.status = r.ok ? 'verified' : 'failed';
	const head = el('p');
	const what = r.ok
		? `${r.type} · signed by ${signedBy(r)} · written ${utc(r.at)}`
		: `${r.type ?? 'unreadable event'} (as stored, unverified) · claims to be by ${r.author ? `key ${r.author.slice(0, 10)}…` : 'nobody'} · written ${utc(r.at)}`;
	head.append(el('strong', r.ok ? 'Verified' : 'FAILED', r.ok ? 'ok' : 'bad'), ` #${n} ${what} · id ${r.id}`);
	li.append(head);
	if (r.reason) li.append(el('p', r.ok ? r.reason : `Why: ${r.reason}`, r.ok ? 'note' : 'reason'));
	const details = el('details');
	details.append(el('summary', r.body ? 'Signed content' : 'Stored content (it does not match what was signed)'), el('pre', r.body ?? raw ?? ''));
	li.append(details);
	return li;
}

/** The value at a dotted path of a verified payload, when it is text. */
function field(payload: unknown, path: string): string | undefined {
	let v: unknown = payload;
	for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
	// The HTML parser reads a NUL as U+FFFD, however it is written.
	return typeof v === 'string' ? v.replace(/\0/g, '\uFFFD') : undefined;
}

/** Mark every readable item with its event's verdict; returns how many show text that was not signed. */
function markSections(byId: Map<string, EventResult>): number {
	let altered = 0;
	for (const node of document.querySelectorAll<HTMLElement>('[data-event]')) {
		const r = byId.get(node.dataset.event ?? '');
		let problem = !r ? 'the event it shows is not in this file' : r.ok ? undefined : r.reason;
		if (r?.ok)
			for (const f of node.querySelectorAll<HTMLElement>('[data-field]')) {
				if (field(r.payload, f.dataset.field!) !== f.textContent) {
					problem = 'the text shown here is not the text that was signed';
					altered++;
				}
			}
		const badge = el('span', problem ? `✗ Failed: ${problem}` : '✓ Verified', problem ? 'badge bad' : 'badge ok');
		node.dataset.status = problem ? 'failed' : 'verified';
		// A table row takes the mark in its first cell.
		(node.tagName === 'TR' ? (node.firstElementChild ?? node) : node).prepend(badge);
	}
	return altered;
}

function render(report: EvidenceReport, data: EvidenceData): void {
	const raw = new Map(data.envelopes.map(([id, env]) => [id, env]));
	const byId = new Map(report.events.map((r) => [r.id, r]));
	const altered = markSections(byId);
	const status = document.getElementById('verify-status')!;
	const ok = report.ok && altered === 0;
	status.dataset.state = ok ? 'verified' : 'failed';
	status.textContent = altered
		? `${report.summary} But ${altered} text${altered === 1 ? '' : 's'} shown in this file differ${altered === 1 ? 's' : ''} from what was signed (marked Failed).`
		: report.summary;
	const keys = document.getElementById('verify-keys')!;
	for (const k of report.keys) {
		const name = k.role === 'provider' ? 'Escrow provider' : k.role === 'client' ? 'Client' : 'Freelancer';
		keys.append(el('li', k.mismatch ? `${name}: ${k.mismatch}` : k.key ? `${name} key fingerprint: ${k.fingerprint}` : `${name}: no key established by the signed events`, k.mismatch ? 'bad' : undefined));
	}
	const failed = document.getElementById('verify-failed')!;
	for (const r of report.events.filter((x) => !x.ok)) {
		const li = el('li');
		const a = el('a', `${r.type ?? 'unreadable event'} ${r.id.slice(0, 10)}…`);
		a.href = `#ev-${r.id}`;
		li.append(a, `: ${r.reason}`);
		failed.append(li);
	}
	const list = document.getElementById('events')!;
	report.events.forEach((r, i) => list.append(eventItem(r, i + 1, raw.get(r.id))));
}

async function run(): Promise<void> {
	const status = document.getElementById('verify-status');
	try {
		const data = JSON.parse(document.getElementById('evidence-data')!.textContent ?? '') as EvidenceData;
		render(await verifyEvidence(data), data);
	} catch (e) {
		if (status) {
			status.dataset.state = 'failed';
			status.textContent = `Verification could not run: ${e instanceof Error ? e.message : String(e)}. Nothing in this file is verified.`;
		}
	}
}

void run();
