/**
 * Schema issues (zod 4) → one sentence per field, in words a person understands: "Milestone 2
 * amount must be more than zero." rather than "Too small: expected number to be >0". Keys are the
 * issue's path joined with "." (what forms look up next to each field); an issue on the whole
 * payload goes under "form". Money limits are formatted in the contract's currency.
 */
import { formatAmount } from '../money/amount';
import { isCurrencyCode, type CurrencyCode } from '../money/currency';

/** The parts of a zod 4 issue these sentences read (structural, so tests can build one by hand). */
export interface SchemaIssue {
	code: string;
	path: readonly PropertyKey[];
	message: string;
	origin?: string;
	minimum?: number | bigint;
	maximum?: number | bigint;
	inclusive?: boolean;
	expected?: string;
	received?: string;
	format?: string;
	values?: readonly unknown[];
	keys?: readonly string[];
	divisor?: number | bigint;
}

export interface FieldContext {
	/** The event type the payload was for: some fields are named after the form they come from. */
	type?: string;
	/** The contract's currency, to format money limits; without it a limit is described in words. */
	currency?: string;
}

/** Labels by path pattern: "#" stands for a list index and is shown counting from 1. */
const LABELS: Record<string, string> = {
	role: 'Your role',
	name: 'Your name',
	'terms.title': 'Title',
	'terms.scope': 'Scope of work',
	'terms.currency': 'Currency',
	'terms.milestones': 'Milestones',
	'terms.milestones.#': 'Milestone #',
	'terms.milestones.#.id': 'Milestone # reference',
	'terms.milestones.#.title': 'Milestone # title',
	'terms.milestones.#.amount': 'Milestone # amount',
	'terms.milestones.#.due': 'Milestone # due date',
	'terms.milestones.#.description': 'Milestone # description',
	'terms.milestones.#.revisionCap': 'Milestone # revisions included',
	'terms.provider': 'Escrow provider',
	'terms.provider.id': 'Escrow provider',
	'terms.provider.publicKey': 'Escrow provider key',
	'terms.provider.testMode': 'Escrow provider test mode',
	'terms.reviewWindowDays': 'Review window',
	'terms.securityPeriodDays': 'Security period',
	'terms.refundAnswerDays': 'Refund answer window',
	'terms.hourly.rate': 'Hourly rate',
	'terms.hourly.weeklyLimitHours': 'Weekly limit',
	'terms.hourly.manualTime': 'Manual time',
	'terms.hourly.lockHours': 'Edit lock',
	'terms.hourly.reviewDays': 'Weekly review',
	'terms.hourly.disputeAnswerDays': 'Dispute answer window',
	hours: 'Weekly limit',
	note: 'Note',
	memo: 'Memo',
	week: 'Week',
	segments: 'Time segments',
	milestone: 'Milestone',
	amount: 'Amount',
	fee: 'Fee',
	currency: 'Currency',
	method: 'Method',
	reason: 'Reason',
	message: 'Message',
	links: 'Deliverable links',
	'links.#': 'Link #',
	text: 'Text',
	rating: 'Rating',
	proposal: 'Proposal',
	request: 'Refund request',
	'change.milestone': 'Milestone',
	'change.milestone.title': 'New milestone title',
	'change.milestone.amount': 'New milestone amount',
	'change.milestone.due': 'New milestone due date',
	'change.milestone.description': 'New milestone description',
	'change.milestone.revisionCap': 'New milestone revisions included',
	'change.title': 'New title',
	'change.amount': 'New amount',
	'change.due': 'New due date',
	'change.description': 'New description',
	'change.revisionCap': 'Revisions included'
};

/** Where a form names a field after what it asks, the sentence uses that name. */
const LABELS_BY_TYPE: Record<string, Record<string, string>> = {
	'message.posted': { text: 'Message' },
	'feedback.left': { text: 'Feedback' },
	'milestone.submitted': { message: 'Message to the client' },
	'milestone.changesRequested': { reason: 'What needs to change' },
	'milestone.fund': { method: 'Payment method' },
	'milestone.release': { method: 'Payment method' },
	'withdrawal.requested': { method: 'Payout method' }
};

/** What a count of the field is counted in. */
const UNITS: Record<string, [one: string, many: string]> = {
	reviewWindowDays: ['day', 'days'],
	securityPeriodDays: ['day', 'days'],
	refundAnswerDays: ['day', 'days'],
	revisionCap: ['revision', 'revisions'],
	reviewDays: ['day', 'days'],
	disputeAnswerDays: ['day', 'days'],
	lockHours: ['hour', 'hours'],
	weeklyLimitHours: ['hour', 'hours'],
	hours: ['hour', 'hours'],
	segments: ['segment', 'segments'],
	milestones: ['milestone', 'milestones'],
	links: ['link', 'links']
};

const MONEY_FIELDS = new Set(['amount', 'fee', 'rate']);
const DATE_FIELDS = new Set(['due']);

const lastKey = (path: readonly PropertyKey[]) => [...path].reverse().find((p) => typeof p === 'string') as string | undefined;

/** "Milestone 2 amount" for ["terms", "milestones", 1, "amount"]. */
export function fieldLabel(path: readonly PropertyKey[], type?: string): string {
	if (path.length === 0) return 'The form';
	const pattern = path.map((p) => (typeof p === 'number' ? '#' : String(p))).join('.');
	// The terms are labelled the same whether they arrive inside a proposal or alone.
	const label = (type && LABELS_BY_TYPE[type]?.[pattern]) ?? LABELS[pattern] ?? LABELS[`terms.${pattern}`];
	if (label) {
		const numbers = path.filter((p): p is number => typeof p === 'number');
		let k = 0;
		return label.replace(/#/g, () => String((numbers[k++] ?? 0) + 1));
	}
	// An unlisted field: its name in words ("securityPeriodDays" → "Security period days").
	const key = lastKey(path) ?? 'This field';
	const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
	return words.charAt(0).toUpperCase() + words.slice(1);
}

const count = (n: number, unit?: [string, string]) => `${n.toLocaleString('en-US')}${unit ? ` ${n === 1 ? unit[0] : unit[1]}` : ''}`;

/** One issue → one sentence that starts with the field's label. */
export function issueSentence(issue: SchemaIssue, ctx: FieldContext = {}): string {
	const label = fieldLabel(issue.path, ctx.type);
	const key = lastKey(issue.path) ?? '';
	const unit = UNITS[key];
	const currency: CurrencyCode | undefined = isCurrencyCode(ctx.currency) ? ctx.currency : undefined;
	const money = MONEY_FIELDS.has(key) && issue.origin !== 'string' && issue.origin !== 'array';
	const limit = (n: number) => (money && currency ? formatAmount(n, currency) : count(n, unit));
	const min = Number(issue.minimum ?? 0);
	const max = Number(issue.maximum ?? 0);

	switch (issue.code) {
		case 'too_small':
			if (issue.origin === 'string') return min <= 1 ? `${label} is required.` : `${label} must be at least ${count(min, ['character', 'characters'])}.`;
			if (issue.origin === 'array') return unit ? `Add at least ${min === 1 ? `one ${unit[0]}` : count(min, unit)}.` : `${label} needs at least ${count(min, ['entry', 'entries'])}.`;
			if (money && min === 0) return `${label} must be more than zero.`;
			if (money && !currency) return `${label} is too small.`;
			return issue.inclusive === false ? `${label} must be more than ${limit(min)}.` : `${label} must be at least ${limit(min)}.`;
		case 'too_big':
			if (issue.origin === 'string') return `${label} is too long: at most ${count(max, ['character', 'characters'])}.`;
			if (issue.origin === 'array') return `${label}: at most ${count(max, unit ?? ['entry', 'entries'])}.`;
			if (money && !currency) return `${label} is more than the largest amount allowed.`;
			return issue.inclusive === false ? `${label} must be less than ${limit(max)}.` : `${label} must be at most ${limit(max)}.`;
		case 'invalid_type':
			if (/received undefined$/.test(issue.message)) return `${label} is required.`;
			if (money) return `${label} is not a valid amount.`;
			if (issue.expected === 'int') return `${label} must be a whole number.`;
			if (issue.expected === 'number') return `${label} must be a number.`;
			if (issue.expected === 'string') return `${label} must be text.`;
			if (issue.expected === 'boolean') return `${label} must be yes or no.`;
			if (issue.expected === 'array') return `${label} must be a list.`;
			return `${label} is missing or not in the expected form.`;
		case 'invalid_format':
			if (issue.format === 'url') return `${label} must be a web address starting with https:// or http://.`;
			if (DATE_FIELDS.has(key)) return `${label} must be a date, like 2025-03-31.`;
			return `${label} is not in the expected form.`;
		case 'invalid_value': {
			const values = (issue.values ?? []).map(String);
			return values.length && values.length <= 12 ? `${label} must be one of: ${values.join(', ')}.` : `${label} is not one of the allowed choices.`;
		}
		case 'not_multiple_of':
			return `${label} must be a multiple of ${money && currency ? formatAmount(Number(issue.divisor), currency) : String(issue.divisor)}.`;
		case 'unrecognized_keys': {
			const keys = issue.keys ?? [];
			return `${label} has ${keys.length === 1 ? 'a field' : 'fields'} the contract does not allow: ${keys.join(', ')}.`;
		}
		case 'custom': {
			// A refinement written as a sentence is shown as it is; a bare phrase gets the field's label:
			// "milestone ids must be unique" → "Milestones: milestone ids must be unique."
			const text = issue.message.trim();
			if (/^[A-Z].*\.$/.test(text)) return text;
			return text ? `${label}: ${text.replace(/\.$/, '')}.` : `${label} is not valid.`;
		}
		default:
			return `${label} is not valid.`;
	}
}

/** Every issue's sentence by field path; the first issue of a field is the one shown. */
export function fieldErrors(issues: readonly SchemaIssue[], ctx: FieldContext = {}): Record<string, string> {
	const fields: Record<string, string> = {};
	for (const issue of issues) fields[issue.path.length ? issue.path.map(String).join('.') : 'form'] ??= issueSentence(issue, ctx);
	return fields;
}
