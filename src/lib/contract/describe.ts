/**
 * What a notification says about events that just arrived (the service worker's push handler, and
 * anything else that tells a closed app's user what happened): one line naming who did what, from
 * the folded state alone, e.g. "Ada released $500.00 on Design", under the contract's title.
 *
 * Only applied events written by someone else count; money is described by the provider's receipt
 * (it happened), never by the intent alone (it may still be refused). Message text is not repeated:
 * a notification can show on a locked screen.
 */
import { formatAmount, type CurrencyCode } from '../money';
import { subjectText } from './dispute';
import { nameOf } from './proposal';
import type { SettleBasis } from './schema';
import type { ContractState, Ev } from './state';

/** Why a deadline paid a dispute out, in a notification's few words. */
const AUTOMATIC_BECAUSE: Record<SettleBasis, string> = {
	silence: 'silence accepted the last offer',
	'small-amount': 'a small amount splits at the midpoint',
	'no-mediator': 'no mediator was agreed',
	'mediator-unsigned': 'one party did not accept the mediator',
	'mediator-late': 'the mediator did not rule in time'
};

export interface Announcement {
	contract: string;
	/** The contract's title. */
	title: string;
	/** The most important news, and how many more came with it. */
	body: string;
	/** The event the body describes. */
	event: string;
	/** How many events were news. */
	count: number;
}

/** Money first, then what asks for an answer, then the rest. */
type Line = { text: string; weight: 1 | 2 | 3 };

function who(s: ContractState, key: string | undefined): string {
	if (!key) return 'The other party';
	const name = nameOf(s, key);
	if (name) return name;
	if (s.parties.client === key) return 'The client';
	if (s.parties.freelancer === key) return 'The freelancer';
	return 'The other party';
}

/** The line for one event, as seen by `me`; undefined when it is not news to `me`. */
export function describeEvent(s: ContractState, ev: Ev, me: string): Line | undefined {
	const money = (minor: number, currency?: string) => formatAmount(minor, (currency ?? s.terms?.currency ?? 'USD') as CurrencyCode);
	const milestone = (id: string) => s.milestones.find((m) => m.id === id)?.title ?? id;
	const name = who(s, ev.author);
	/** A receipt answers an intent: news when someone else asked for it. */
	const requester = (intent: string) => s.intents.get(intent)?.author;
	/** The milestone a dispute is about, by the dispute's id. */
	const disputed = (id: string) => {
		const d = s.disputes.get(id);
		return d ? subjectText(s, d) : milestone(id);
	};
	switch (ev.type) {
		case 'receipt.released': {
			const by = requester(ev.payload.intent);
			if (ev.payload.auto) return { weight: 3, text: `${money(ev.payload.amount, ev.payload.currency)} on ${milestone(ev.payload.milestone)} was released after the review window ended` };
			if (by === me) return undefined;
			return { weight: 3, text: `${who(s, by)} released ${money(ev.payload.amount, ev.payload.currency)} on ${milestone(ev.payload.milestone)}` };
		}
		case 'receipt.funded': {
			const by = requester(ev.payload.intent);
			if (by === me) return undefined;
			return { weight: 3, text: `${who(s, by)} funded ${money(ev.payload.amount, ev.payload.currency)} on ${milestone(ev.payload.milestone)}` };
		}
		case 'receipt.refunded': {
			const by = requester(ev.payload.intent);
			if (by === me) return undefined;
			return { weight: 3, text: `${who(s, by)} refunded ${money(ev.payload.amount, ev.payload.currency)} on ${milestone(ev.payload.milestone)}` };
		}
		case 'receipt.weekFunded': {
			const by = requester(ev.payload.intent);
			if (by === me) return undefined;
			return { weight: 3, text: `${who(s, by)} funded ${money(ev.payload.amount, ev.payload.currency)} for the week of ${ev.payload.week}` };
		}
		case 'receipt.weekReleased':
			if (requester(ev.payload.intent) === me) return undefined;
			return { weight: 3, text: `${money(ev.payload.amount, ev.payload.currency)} for the week of ${ev.payload.week} was released` };
		case 'receipt.split': {
			const { freelancer, client, fee } = ev.payload;
			const c = ev.payload.currency;
			const d = s.disputes.get(ev.payload.dispute);
			const basis = d?.settlement?.receipt === ev.id ? d.settlement.basis : undefined;
			const on = disputed(ev.payload.dispute);
			const moved = `${money(freelancer, c)} released to the freelancer, ${money(client, c)} refunded to the client${fee ? `, ${money(fee, c)} mediator's fee` : ''}`;
			const by = requester(ev.payload.intent);
			// A deadline decided it and an app paid it out unasked: news to both parties.
			if (basis && basis in AUTOMATIC_BECAUSE) return { weight: 3, text: `The dispute on ${on} was paid out automatically (${AUTOMATIC_BECAUSE[basis as SettleBasis]}): ${moved}` };
			if (by === me) return undefined;
			if (basis === 'ruling') return { weight: 3, text: `${d?.mediator?.name ?? 'The mediator'} ruled on the dispute on ${on}: ${moved}` };
			if (basis === 'midpoint') return { weight: 3, text: `${who(s, by)} accepted the midpoint in the dispute on ${on}: ${moved}` };
			return { weight: 3, text: `${who(s, by)} accepted the offer in the dispute on ${on}: ${moved}` };
		}
		case 'receipt.bonusPaid': {
			const by = requester(ev.payload.intent);
			if (by === me) return undefined;
			return { weight: 3, text: `${who(s, by)} paid a bonus of ${money(ev.payload.amount, ev.payload.currency)}` };
		}
	}
	if (ev.author === me) return undefined;
	switch (ev.type) {
		case 'contract.accepted':
			return { weight: 2, text: `${name} accepted the contract` };
		case 'contract.countersigned':
			return { weight: 2, text: `${name} countersigned the contract` };
		case 'contract.declined':
			return { weight: 2, text: `${name} declined the contract` };
		case 'contract.withdrawn':
			return { weight: 2, text: `${name} withdrew the proposal` };
		case 'milestone.changeProposed':
			return { weight: 2, text: `${name} proposed a change to the milestones` };
		case 'milestone.changeAccepted':
			return { weight: 2, text: `${name} accepted the change to the milestones` };
		case 'milestone.changeDeclined':
			return { weight: 2, text: `${name} declined the change to the milestones` };
		case 'milestone.submitted':
			return { weight: 2, text: `${name} requested payment for ${milestone(ev.payload.milestone)}` };
		case 'milestone.changesRequested':
			return { weight: 2, text: `${name} requested changes to ${milestone(ev.payload.milestone)}` };
		case 'refund.requested':
			return { weight: 2, text: `${name} requested a refund of ${money(ev.payload.amount, ev.payload.currency)} on ${milestone(ev.payload.milestone)}` };
		case 'refund.approved':
			return { weight: 2, text: `${name} approved the refund request` };
		case 'refund.declined':
			return { weight: 2, text: `${name} declined the refund request` };
		case 'contract.endProposed':
			return { weight: 2, text: `${name} proposes to end the contract` };
		case 'contract.endAccepted':
		case 'contract.ended':
			return { weight: 2, text: `${name} ended the contract` };
		case 'hourly.timesheet':
			return { weight: 2, text: `${name} sent the timesheet for the week of ${ev.payload.week}` };
		case 'hourly.disputed':
			return { weight: 2, text: `${name} disputed hours in the week of ${ev.payload.week}` };
		case 'hourly.disputeAnswered':
			return { weight: 2, text: `${name} answered the dispute` };
		case 'hourly.limitChanged':
			return { weight: 2, text: `${name} changed the weekly limit to ${ev.payload.hours} hours` };
		case 'hourly.paused':
			return { weight: 2, text: `${name} paused the contract` };
		case 'hourly.resumed':
			return { weight: 2, text: `${name} resumed the contract` };
		case 'dispute.opened':
			return { weight: 2, text: `${name} opened a dispute on ${ev.payload.milestone ? milestone(ev.payload.milestone) : disputed(ev.id)}: ${money(ev.payload.amount, ev.payload.currency)} in the Resolution Center` };
		case 'dispute.offered':
			return { weight: 2, text: `${name} offered ${money(ev.payload.amount)} to the freelancer in the dispute on ${disputed(ev.payload.dispute)}` };
		case 'dispute.rejected':
			return { weight: 2, text: `${name} rejected the offer in the dispute on ${disputed(ev.payload.dispute)}` };
		case 'dispute.mediatorAccepted':
			return { weight: 2, text: `${name} accepted ${ev.payload.name} as mediator for the dispute on ${disputed(ev.payload.dispute)}` };
		// A ruling (`dispute.rule`) is an intent: its receipt.split says what it did, once it happened.
		case 'message.posted':
			return { weight: 1, text: `${name} sent a message` };
		case 'feedback.left':
			return { weight: 1, text: `${name} left feedback` };
		default:
			return undefined;
	}
}

/**
 * The announcement for `fresh` (ids of events that just arrived) once folded into `s`, for the
 * device key `me`; undefined when none of them is news (all mine, refused, or bookkeeping).
 */
export function describeNews(s: ContractState, fresh: Iterable<string>, me: string): Announcement | undefined {
	const ids = new Set(fresh);
	let best: { line: Line; ev: Ev } | undefined;
	let count = 0;
	for (const ev of s.applied) {
		if (!ids.has(ev.id)) continue;
		const line = describeEvent(s, ev, me);
		if (!line) continue;
		count++;
		// The weightiest; among equals, the latest in fold order.
		if (!best || line.weight >= best.line.weight) best = { line, ev };
	}
	if (!best) return undefined;
	const more = count - 1;
	const body = more > 0 ? `${best.line.text} (and ${more} more update${more === 1 ? '' : 's'})` : best.line.text;
	return { contract: s.contract, title: s.terms?.title ?? 'A contract', body, event: best.ev.id, count };
}
