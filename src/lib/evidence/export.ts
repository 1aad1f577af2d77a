/**
 * The evidence file: one self-contained HTML page with everything signed in a contract — a readable
 * account (terms, messages, submissions, change requests, refunds, disputes, Work Diary weeks,
 * receipts, clocks, refused events), the raw signed envelopes as JSON, and the verifier (the app's
 * own verification code, inlined) that checks every signature and hash chain when the file is opened,
 * with no network. What a mediator reads, and what a party shows anyone about what happened.
 *
 * Everything from the contract is attacker-controlled text: it is only ever written HTML-escaped, the
 * JSON is escaped so no `</script>` can end its element, and a Content-Security-Policy lets exactly
 * the verifier script run (by its hash) and nothing reach the network.
 */
import { clocks, CLOCK_NAME } from '../contract/clocks';
import { subjectText } from '../contract/dispute';
import { toBase64url } from '../contract/encoding';
import { sha256Utf8 } from '../contract/sha256';
import { nameOf } from '../contract/proposal';
import { partyRole, type ContractState, type Ev, type EvOf } from '../contract/state';
import { utcTime } from '../contract/weeks';
import { fingerprint } from '../identity/fingerprint';
import { formatAmount, type CurrencyCode } from '../money';
import type { EvidenceData } from './verify';

export interface EvidenceInput {
	contract: string;
	/** Every authentic envelope the device holds, [id, envelope] (`ContractLog.authenticEnvelopes()`). */
	envelopes: [string, string][];
	state: ContractState;
	exportedAt: number;
	/** The exporting person's identity key, to say who made the file. */
	exportedBy?: string;
	/** The verifier script (`virtual:evidence-verifier`). */
	verifier: string;
}

// A carriage return is written as a reference: the HTML parser would turn a literal CR LF into LF,
// and the verifier compares shown text with signed text character for character.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '\r': '&#13;' };

/** Text as HTML text or attribute value: nothing in it is markup. */
export function escapeHtml(text: unknown): string {
	return String(text ?? '').replace(/[&<>"'\r]/g, (c) => ESCAPES[c]!);
}

/** JSON safe inside `<script type="application/json">`: no `<`, `>` or `&` survives unescaped. */
export function scriptJson(value: unknown): string {
	return JSON.stringify(value)
		.replace(/</g, '\\u003c')
		.replace(/>/g, '\\u003e')
		.replace(/&/g, '\\u0026')
		.replace(/\u2028/g, '\\u2028')
		.replace(/\u2029/g, '\\u2029');
}

/** `milestone-evidence-<title>-<date>.html`, the title reduced to letters, digits and dashes. */
export function evidenceFileName(title: string, at: number): string {
	const slug =
		title
			.normalize('NFKD')
			.replace(/[^\w\s-]/g, '')
			.trim()
			.replace(/[\s_]+/g, '-')
			.replace(/-+/g, '-')
			.toLowerCase()
			.slice(0, 60) || 'contract';
	return `milestone-evidence-${slug}-${new Date(at).toISOString().slice(0, 10)}.html`;
}

/** The CSP source for an inline script: sha256 of its text, standard base64. */
function scriptHash(code: string): string {
	const b64 = toBase64url(sha256Utf8(code)).replace(/-/g, '+').replace(/_/g, '/');
	return `'sha256-${b64}${'='.repeat((4 - (b64.length % 4)) % 4)}'`;
}

export function buildEvidenceHtml(input: EvidenceInput): string {
	const s = input.state;
	const terms = s.terms;
	const currency = (terms?.currency ?? 'USD') as CurrencyCode;
	const money = (minor: number | undefined) => (minor === undefined ? '—' : formatAmount(minor, currency));
	const e = escapeHtml;
	const title = terms?.title ?? 'Contract';
	const who = (key: string | undefined) => {
		if (!key) return 'unknown';
		const role = partyRole(s, key);
		const name = nameOf(s, key);
		const label = role === 'provider' ? 'escrow provider' : role === 'none' ? 'not a party' : role;
		return name ? `${name} (${label})` : label;
	};
	const events = s.applied;
	const ofType = <T extends Ev['type']>(t: T) => events.filter((x): x is EvOf<T> => x.type === t);
	const msTitle = (id: string) => s.milestones.find((m) => m.id === id)?.title ?? id;
	const item = (ev: Ev, inner: string) => `<li data-event="${e(ev.id)}"><p class="meta">${e(who(ev.author))} · ${e(utcTime(ev.at))}</p>${inner}</li>`;
	const text = (path: string, value: string) => `<p class="text" data-field="${e(path)}">${e(value)}</p>`;
	const list = (items: string[], none: string) => (items.length ? `<ul class="items">${items.join('')}</ul>` : `<p class="muted">${e(none)}</p>`);
	const section = (id: string, heading: string, body: string) => `<section aria-labelledby="${id}"><h2 id="${id}">${e(heading)}</h2>${body}</section>`;

	const data: EvidenceData = {
		contract: input.contract,
		exportedAt: input.exportedAt,
		keys: { client: s.parties.client, freelancer: s.parties.freelancer, provider: terms?.provider.publicKey },
		envelopes: input.envelopes
	};

	const keyRow = (label: string, key: string | undefined, name?: string) =>
		`<tr><th scope="row">${e(label)}</th><td>${e(name ?? '')}</td><td class="digits">${key ? e(printOf(key)) : 'not established'}</td></tr>`;

	const header = `<header>
<h1>Evidence file: ${e(title)}</h1>
<p>Contract <code>${e(input.contract)}</code> · ${e(terms?.kind === 'hourly' ? 'hourly' : 'fixed price')} · ${e(currency)} · status ${e(s.status)}${terms?.provider.testMode ? ' · <strong>TEST MODE</strong> escrow (no real money)' : ''}</p>
<p>Exported ${e(utcTime(input.exportedAt))}${input.exportedBy ? ` by ${e(who(input.exportedBy))}` : ''} from the Milestone app. The escrow provider's latest signed time: ${s.providerNow ? e(utcTime(s.providerNow)) : 'none'}.</p>
<table class="keys"><caption>Keys (compare the fingerprints with the people themselves)</caption><thead><tr><th scope="col">Role</th><th scope="col">Name</th><th scope="col">Key fingerprint</th></tr></thead><tbody>
${keyRow('Client', s.parties.client, s.parties.client ? nameOf(s, s.parties.client) : undefined)}
${keyRow('Freelancer', s.parties.freelancer, s.parties.freelancer ? nameOf(s, s.parties.freelancer) : undefined)}
${keyRow('Escrow provider', terms?.provider.publicKey, terms ? terms.provider.id : undefined)}
</tbody></table>
</header>`;

	const verification = section(
		'verification-h',
		'Verification',
		`<p id="verify-status" data-state="pending" role="status">Verifying in this browser…</p>
<noscript><p class="bad">JavaScript is off, so nothing in this file has been verified. Open it in a browser with JavaScript on (no network is needed).</p></noscript>
<ul id="verify-keys"></ul>
<ol id="verify-failed"></ol>
<p class="muted">What is checked, by the code inside this file and nothing else (it makes no network requests): for every event, that the SHA-256 of its content equals its id and that the Ed25519 signature over that id verifies against the key of its author; that each author's events form an unbroken hash chain (each names its author's previous event by hash); and that every text shown above the list of signed events is exactly the text that was signed. Who signed is shown by key; a key is a person only as far as its fingerprint matches the one that person gives you. The escrow provider's receipts are signed with its key and say what money moved; the file cannot show that a bank transfer happened beyond that.</p>`
	);

	const milestones = terms?.kind === 'hourly' ? '' : section(
		'milestones-h',
		'Milestones',
		`<table><thead><tr><th scope="col">Milestone</th><th scope="col">Amount</th><th scope="col">Funded</th><th scope="col">Released</th><th scope="col">Refunded</th><th scope="col">Work</th></tr></thead><tbody>${s.milestones
			.filter((m) => !m.removed)
			.map((m) => `<tr><td>${e(m.title)}${m.due ? ` (due ${e(m.due)})` : ''}</td><td>${e(money(m.amount))}</td><td>${e(money(m.funded))}</td><td>${e(money(m.released))}</td><td>${e(money(m.refunded))}</td><td>${e(m.phase.replace('_', ' '))}</td></tr>`)
			.join('')}</tbody></table>${terms ? `<p class="muted">Review window ${terms.reviewWindowDays} days · refund answer ${terms.refundAnswerDays} days · security period ${terms.securityPeriodDays} days.</p><h3>Scope</h3><p class="text">${e(terms.scope)}</p>` : ''}`
	);

	const messages = section('messages-h', 'Messages', list(ofType('message.posted').map((m) => item(m, text('text', m.payload.text))), 'No messages.'));

	const submissions = section(
		'submissions-h',
		'Submissions',
		list(
			ofType('milestone.submitted').map((x) =>
				item(x, `<p>Submitted <strong>${e(msTitle(x.payload.milestone))}</strong>${s.recorded.get(x.id) ? `, recorded by the escrow provider ${e(utcTime(s.recorded.get(x.id)!.at))}` : ''}</p>${text('message', x.payload.message)}${x.payload.links.length ? `<ul>${x.payload.links.map((l) => `<li><code>${e(l)}</code></li>`).join('')}</ul>` : ''}`)
			),
			'No submissions.'
		)
	);

	const changes = section(
		'changes-h',
		'Change requests and amendments',
		list(
			[
				...ofType('milestone.changesRequested').map((x) => item(x, `<p>Asked for changes on <strong>${e(msTitle(x.payload.milestone))}</strong>:</p>${text('reason', x.payload.reason)}`)),
				...ofType('milestone.changeProposed').map((x) => item(x, `<p>Proposed an amendment (${e(s.changes.get(x.id)?.status ?? 'open')}):</p><pre>${e(JSON.stringify(x.payload.change, null, 2))}</pre>`)),
				...ofType('milestone.changeDeclined').map((x) => item(x, `<p>Declined an amendment.</p>${x.payload.reason ? text('reason', x.payload.reason) : ''}`)),
				...ofType('milestone.changeAccepted').map((x) => item(x, '<p>Accepted an amendment.</p>'))
			],
			'No change requests or amendments.'
		)
	);

	const refunds = section(
		'refunds-h',
		'Refund requests',
		list(
			[
				...ofType('refund.requested').map((x) => item(x, `<p>Asked for a refund of ${e(money(x.payload.amount))} on <strong>${e(msTitle(x.payload.milestone))}</strong> (now ${e(s.refundRequests.get(x.id)?.status ?? 'open')}):</p>${text('reason', x.payload.reason)}`)),
				...ofType('refund.approved').map((x) => item(x, '<p>Approved a refund request.</p>')),
				...ofType('refund.declined').map((x) => item(x, `<p>Declined a refund request:</p>${text('reason', x.payload.reason)}`))
			],
			'No refund requests.'
		)
	);

	const disputes = section(
		'disputes-h',
		'Disputes (Resolution Center)',
		list(
			[
				...ofType('dispute.opened').map((x) => {
					const d = s.disputes.get(x.id);
					const settled = d?.settlement ? ` Settled (${e(d.settlement.basis)}): ${e(money(d.settlement.freelancer))} to the freelancer, ${e(money(d.settlement.client))} to the client${d.settlement.fee ? `, ${e(money(d.settlement.fee))} mediator's fee` : ''}.` : '';
					return item(x, `<p>Opened a dispute on <strong>${e(x.payload.milestone ? msTitle(x.payload.milestone) : d ? subjectText(s, d) : 'Work Diary segments')}</strong> over ${e(money(x.payload.amount))} (${e(x.payload.reason.replace(/-/g, ' '))}); opening offer ${e(money(x.payload.offer))} to the freelancer.${settled}</p>${text('details', x.payload.details)}`);
				}),
				...ofType('dispute.offered').map((x) => item(x, `<p>Offered ${e(money(x.payload.amount))} to the freelancer.</p>`)),
				...ofType('dispute.rejected').map((x) => item(x, `<p>Rejected the other party's offer${x.payload.final !== undefined ? `; final offer ${e(money(x.payload.final))} to the freelancer` : ''}.</p>`)),
				...ofType('dispute.mediatorAccepted').map((x) => item(x, `<p>Accepted ${e(x.payload.name)} (key ${e(printOf(x.payload.mediator))}) as mediator, fee ${e(money(x.payload.fee))}.</p>`)),
				...ofType('dispute.accept').map((x) => item(x, '<p>Accepted the other party\'s last offer.</p>')),
				...ofType('dispute.acceptMidpoint').map((x) => item(x, '<p>Accepted the midpoint of the two last offers.</p>')),
				...ofType('dispute.settle').map((x) => item(x, `<p>Asked for the deadline outcome (${e(x.payload.basis)}): ${e(money(x.payload.freelancer))} to the freelancer.</p>`)),
				...ofType('dispute.rule').map((x) => item(x, '<p>Ruled for one party\'s last offer (mediator).</p>'))
			],
			'No disputes.'
		)
	);

	const diary = s.hourly ? section('diary-h', 'Work Diary', workDiary(s, input, money)) : '';

	const receipts = section(
		'receipts-h',
		'Receipts from the escrow provider',
		list(
			events.filter((x) => x.type.startsWith('receipt.') && x.type !== 'receipt.attested').map((x) => item(x, `<p><strong>${e(x.type)}</strong> ${e(receiptLine(x, money, msTitle))}</p>`)),
			'No receipts.'
		) + `<p class="muted">The provider also recorded ${s.recorded.size} event${s.recorded.size === 1 ? '' : 's'} with its own time (receipt.attested): clocks run from those times.</p>`
	);

	const running = clocks(s);
	const clockSection = section(
		'clocks-h',
		'Clocks',
		running.length
			? `<ul>${running.map((c) => `<li>${e(CLOCK_NAME[c.kind])} on ${e(msTitle(c.milestone))}: started ${c.startedAt ? e(utcTime(c.startedAt)) : 'not yet recorded'}, deadline ${c.deadline ? e(utcTime(c.deadline)) : 'not yet set'}. ${e(c.outcome)}</li>`).join('')}</ul>`
			: '<p class="muted">No clock is running.</p>'
	);

	const refused = section(
		'refused-h',
		'Events the contract’s rules refused',
		s.rejected.length ? `<ul>${s.rejected.map((r) => `<li><code>${e(r.id.slice(0, 10))}…</code> ${e(r.type ?? '')} by ${e(who(r.author))}: ${e(r.message)}</li>`).join('')}</ul>` : '<p class="muted">None.</p>'
	);

	const all = section(
		'events-h',
		'Every signed event',
		`<p class="muted">In the order they were applied. Each is marked Verified or FAILED by the verifier in this file; open one to read exactly what was signed.</p><ol id="events" class="events"></ol>`
	);

	const script = input.verifier;
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src ${scriptHash(script)}; style-src 'unsafe-inline'; img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'">
<meta name="referrer" content="no-referrer">
<title>Evidence: ${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${header}
<main>
${verification}
${milestones}
${messages}
${submissions}
${changes}
${refunds}
${disputes}
${diary}
${receipts}
${clockSection}
${refused}
${all}
</main>
<script type="application/json" id="evidence-data">${scriptJson(data)}</script>
<script>${script}</script>
</body>
</html>
`;
}

function workDiary(s: ContractState, input: EvidenceInput, money: (m: number | undefined) => string): string {
	const h = s.hourly!;
	const e = escapeHtml;
	const weeks = new Set<string>([...h.weeks.keys(), ...[...h.segments.values()].map((x) => x.week), ...[...h.timesheets.values()].map((t) => t.week)]);
	if (!weeks.size) return '<p class="muted">No time logged.</p>';
	const eventIds = new Set<string>(s.applied.map((x) => x.id));
	return [...weeks]
		.sort()
		.map((week) => {
			const book = h.weeks.get(week);
			const sheets = [...h.timesheets.values()].filter((t) => t.week === week);
			const segments = [...h.segments.values()].filter((x) => x.week === week).sort((a, b) => a.start - b.start);
			const disputes = [...h.disputes.values()].filter((d) => d.week === week);
			const bookLine = book ? `Funded ${e(money(book.funded))} · released ${e(money(book.released))} · refunded ${e(money(book.refunded))}${book.timesheet ? ` · timesheet recorded by the escrow provider ${book.recordedAt ? e(utcTime(book.recordedAt)) : ''}` : ''}` : 'No money moved this week.';
			const sheetItems = sheets.map((t) => `<li${eventIds.has(t.id) ? ` data-event="${e(t.id)}"` : ''}>Timesheet: ${e(Math.floor(t.minutes / 60))} h ${e(t.minutes % 60)} min, ${e(money(t.amount))}${book?.timesheet === t.id ? ' (the one that counts)' : ''}</li>`);
			const disputeItems = disputes.map((d) => `<li${eventIds.has(d.id) ? ` data-event="${e(d.id)}"` : ''}>The client disputed ${d.segments.length} segment${d.segments.length === 1 ? '' : 's'}:<p class="text" data-field="reason">${e(d.reason)}</p>${d.answers.map((a) => `<p>The freelancer ${a.accept ? 'accepted' : 'declined'} the dispute ${e(utcTime(a.at))}.</p>`).join('')}</li>`);
			const rows = segments
				.map((x) => `<tr${eventIds.has(x.id) ? ` data-event="${e(x.id)}"` : ''}><td>${e(utcTime(x.start))}</td><td>${e(x.source)}</td><td>${e(x.activity)}/10</td><td>${e(x.status)}</td><td data-field="memo">${e(x.memo)}</td></tr>`)
				.join('');
			return `<article class="week"><h3>Week of ${e(week)}</h3><p>${bookLine}</p>${sheetItems.length || disputeItems.length ? `<ul class="items">${sheetItems.join('')}${disputeItems.join('')}</ul>` : ''}${rows ? `<table><thead><tr><th scope="col">Segment (10 min)</th><th scope="col">Source</th><th scope="col">Activity</th><th scope="col">Status</th><th scope="col">Memo</th></tr></thead><tbody>${rows}</tbody></table>` : ''}</article>`;
		})
		.join('');
}

function receiptLine(x: Ev, money: (m: number | undefined) => string, msTitle: (id: string) => string): string {
	const p = x.payload as Record<string, unknown>;
	const parts: string[] = [];
	if (typeof p.milestone === 'string') parts.push(`on ${msTitle(p.milestone)}`);
	if (typeof p.week === 'string') parts.push(`week of ${p.week}`);
	for (const k of ['amount', 'fee', 'freelancer', 'client', 'carried'] as const) if (typeof p[k] === 'number') parts.push(`${k} ${money(p[k] as number)}`);
	if (typeof p.method === 'string') parts.push(`by ${p.method}`);
	if (p.auto === true) parts.push('(auto-release)');
	return parts.join(', ') + ` · ${utcTime(x.at)}`;
}

function printOf(key: string): string {
	try {
		return fingerprint(key);
	} catch {
		return key;
	}
}

const STYLE = `
:root{color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.45}
body{max-width:60rem;margin:0 auto;padding:1rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #8886;padding:.25rem .5rem;text-align:left;vertical-align:top}
.muted{opacity:.75}.digits{font-variant-numeric:tabular-nums;white-space:nowrap}
.text{white-space:pre-wrap;overflow-wrap:anywhere;border-left:3px solid #8886;padding-left:.5rem}
.items>li,.events>li{margin:.5rem 0;padding:.25rem .5rem;border:1px solid #8884;border-radius:4px}
.meta{margin:.2rem 0;font-size:.9em;opacity:.8}
.badge{display:inline-block;font-size:.85em;font-weight:600;margin-right:.5rem}
.ok{color:#0a7a2f}.bad{color:#c01818}
@media (prefers-color-scheme:dark){.ok{color:#6fdc8c}.bad{color:#ff8a8a}}
[data-status=failed]{border-color:#c01818;background:#c0181814}
#verify-status{font-weight:600;font-size:1.1em}#verify-status[data-state=verified]{color:#0a7a2f}#verify-status[data-state=failed]{color:#c01818}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85em}
code{overflow-wrap:anywhere}
`;
