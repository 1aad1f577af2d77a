/** What deserves a person's attention among events the other party (or the provider) wrote. */
import { nameOf } from './proposal';
import { moneyText } from './rejections';
import type { ContractState, Ev } from './state';

export interface Notice {
	id: string;
	contract: string;
	at: number;
	text: string;
}

const quote = (text: string, max = 120) => `“${text.length > max ? `${text.slice(0, max - 1)}…` : text}”`;

function text(s: ContractState, ev: Ev): string | undefined {
	const who = nameOf(s, ev.author) ?? 'The other party';
	const title = (id: string) => s.milestones.find((m) => m.id === id)?.title ?? id;
	const money = (minor: number) => moneyText(minor, s.terms?.currency ?? 'USD');
	switch (ev.type) {
		case 'contract.accepted':
			return `${who} accepted “${s.terms?.title}”`;
		case 'milestone.submitted':
			return `${who} requested payment for ${title(ev.payload.milestone)}`;
		case 'milestone.changesRequested':
			return `${who} requested changes to ${title(ev.payload.milestone)}: ${quote(ev.payload.reason)}`;
		case 'receipt.released':
			return ev.payload.auto
				? `${money(ev.payload.amount)} for ${title(ev.payload.milestone)} was released after the review window ended`
				: `Payment of ${money(ev.payload.amount)} released for ${title(ev.payload.milestone)}`;
		case 'receipt.refunded':
			return `${money(ev.payload.amount)} of ${title(ev.payload.milestone)} was refunded to the client`;
		case 'receipt.funded':
			return `${title(ev.payload.milestone)} is funded`;
		case 'refund.requested':
			return `${who} requested a refund of ${money(ev.payload.amount)} on ${title(ev.payload.milestone)}: ${quote(ev.payload.reason)}`;
		case 'refund.approved':
			return `${who} approved the refund request`;
		case 'refund.declined':
			return `${who} declined the refund request: ${quote(ev.payload.reason)}`;
		case 'contract.endProposed':
			return `${who} proposes to end the contract`;
		case 'contract.endAccepted':
		case 'contract.ended':
			return `${who} ended the contract`;
		case 'message.posted':
			return `New message from ${who}: ${ev.payload.text.slice(0, 80)}`;
		default:
			return undefined;
	}
}

/** Notices for `me` among applied events from index `from` on (events I wrote myself are not news). */
export function noticesFor(s: ContractState, me: string, from: number): Notice[] {
	const out: Notice[] = [];
	for (const ev of s.applied.slice(from)) {
		if (ev.author === me) continue;
		const t = text(s, ev);
		if (t) out.push({ id: ev.id, contract: s.contract, at: ev.at, text: t });
	}
	return out;
}
