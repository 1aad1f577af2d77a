/**
 * Every action a person takes on a contract page, one named function each: it checks the form's
 * fields (all of them at once, in words), asks the session's Party to write the event (money
 * intents go through the provider, events that start or stop a clock are recorded by it inside
 * `act`), and maps what went wrong to field errors. Components call these and render the outcome;
 * what is allowed comes from contract/affordances.ts.
 */
import { amountWithin, type ContractAffordances, type MilestoneAffordances, type RefundAffordances } from '../contract/affordances';
import { reject } from '../contract/rejections';
import { checkWithdrawal, type FreelancerStatement } from '../contract/statement';
import type { ContractState } from '../contract/state';
import type { PayoutMethod } from '../money/fees';
import type { Receipt } from '../escrow/adapter';
import { PAYLOADS, type EventType, type Payload } from '../contract/schema';
import { toDecimalString } from '../money/amount';
import type { CurrencyCode } from '../money/currency';
import type { FundingMethod } from '../money/fees';
import { failureMessages, type FieldErrors } from '../ui/failure';
import { fieldErrors } from '../ui/field-errors';
import { ActionRefused, PendingIntent, type Party } from './party';

/** What the use cases need of a contract session: its Party. */
export interface ActingSession {
	readonly party: Pick<Party, 'act' | 'settle'>;
}

/**
 * ok, or the errors by field ("form" for the rest). `pending`: the provider has not answered yet; the
 * signed intent waits in this device's outbox and the page's pending line takes over from the form.
 */
export type Outcome = { ok: true } | { ok: false; errors: FieldErrors; pending: boolean };

const OK: Outcome = { ok: true };
const refused = (errors: FieldErrors): Outcome => ({ ok: false, errors, pending: false });
const notAllowed = (a: { allowed: boolean; reason?: string }): Outcome | undefined => (a.allowed ? undefined : refused({ form: a.reason ?? 'This is not possible now.' }));

async function run(fn: () => Promise<unknown>, fields: Record<string, string> = {}): Promise<Outcome> {
	try {
		await fn();
		return OK;
	} catch (e) {
		return { ok: false, errors: failureMessages(e, fields), pending: e instanceof PendingIntent };
	}
}

/** The payload's schema errors in words, every field at once, under the form's field names. */
function schemaErrors<T extends EventType>(type: T, payload: Payload<T>, currency: string | undefined, fields: Record<string, string>): FieldErrors {
	const parsed = PAYLOADS[type].safeParse(payload);
	if (parsed.success) return {};
	return failureMessages(new ActionRefused(reject('bad-schema'), fieldErrors(parsed.error.issues, { type, currency })), fields);
}

const has = (errors: FieldErrors) => Object.keys(errors).length > 0;

// —— milestone ——

export function fundMilestone(session: ActingSession, m: MilestoneAffordances, currency: CurrencyCode, method: FundingMethod): Promise<Outcome> {
	const no = notAllowed(m.fund);
	if (no) return Promise.resolve(no);
	return run(() => session.party.settle('milestone.fund', { milestone: m.milestone, amount: m.fund.amount, currency, method }));
}

/** Request Payment: a message to the client and deliverable links, one per line. */
export function requestPayment(session: ActingSession, m: MilestoneAffordances, form: { message: string; links: string }): Promise<Outcome> {
	const no = notAllowed(m.requestPayment);
	if (no) return Promise.resolve(no);
	const payload = { milestone: m.milestone, message: form.message, links: form.links.split(/\s+/).filter(Boolean) };
	const fields = { message: 'message', links: 'links' };
	const errors = schemaErrors('milestone.submitted', payload, undefined, fields);
	if (has(errors)) return Promise.resolve(refused(errors));
	return run(() => session.party.act('milestone.submitted', payload), fields);
}

export function requestChanges(session: ActingSession, m: MilestoneAffordances, reason: string): Promise<Outcome> {
	const no = notAllowed(m.requestChanges);
	if (no) return Promise.resolve(no);
	if (!reason.trim()) return Promise.resolve(refused({ reason: 'Say what needs to change: the freelancer sees it with your request.' }));
	const payload = { milestone: m.milestone, reason };
	const errors = schemaErrors('milestone.changesRequested', payload, undefined, {});
	if (has(errors)) return Promise.resolve(refused(errors));
	return run(() => session.party.act('milestone.changesRequested', payload));
}

/**
 * The amount typed for a partial release, checked before the confirmation: empty or zero is an
 * error, never "everything" (that is `releaseEverything`, its own choice).
 */
export function reviewRelease(m: MilestoneAffordances, text: string, currency: CurrencyCode): { ok: true; amount: number } | { ok: false; errors: FieldErrors } {
	if (!m.release.allowed) return { ok: false, errors: { form: m.release.reason } };
	const a = amountWithin(text, m.release.max, currency, 'release');
	return a.ok ? { ok: true, amount: a.minor } : { ok: false, errors: { amount: a.message } };
}

/** Release Payment of an amount the person confirmed (from `reviewRelease`). */
export function releasePayment(session: ActingSession, m: MilestoneAffordances, amount: number, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(m.release);
	if (no) return Promise.resolve(no);
	const valid = Number.isSafeInteger(amount) ? amountWithin(toDecimalString(amount, currency), m.release.max, currency, 'release') : undefined;
	if (!valid?.ok) return Promise.resolve(refused({ amount: valid?.message ?? 'Enter the amount to release.' }));
	return run(() => session.party.settle('milestone.release', { milestone: m.milestone, amount, currency, method: m.release.method }), { amount: 'amount' });
}

/** Release everything escrow holds for the milestone: chosen as such, confirmed as such. */
export function releaseEverything(session: ActingSession, m: MilestoneAffordances, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(m.releaseEverything);
	if (no) return Promise.resolve(no);
	return run(() => session.party.settle('milestone.release', { milestone: m.milestone, amount: m.releaseEverything.amount, currency, method: m.releaseEverything.method }));
}

/** The freelancer's claim once the review window passed with nobody acting (the page also makes it on opening). */
export function claimAutoRelease(session: ActingSession, m: MilestoneAffordances): Promise<Outcome> {
	const no = notAllowed(m.claimAutoRelease);
	if (no) return Promise.resolve(no);
	return run(() => session.party.settle('milestone.autoRelease', { milestone: m.milestone, submission: m.claimAutoRelease.submission! }));
}

// —— refunds ——

/** Request a refund: the milestone, an amount up to what its escrow holds, and the reason; every field checked at once. */
export function requestRefund(
	session: ActingSession,
	milestones: MilestoneAffordances[],
	form: { milestone: string; amount: string; reason: string },
	currency: CurrencyCode
): Promise<Outcome> {
	const errors: FieldErrors = {};
	const m = milestones.find((x) => x.milestone === form.milestone);
	if (!m) errors.milestone = 'Choose the milestone whose escrow the refund comes from.';
	else if (!m.requestRefund.allowed) errors.milestone = m.requestRefund.reason;
	if (m?.requestRefund.allowed) {
		const a = amountWithin(form.amount, m.requestRefund.max, currency, 'refund');
		if (!a.ok) errors.amount = a.message;
	} else if (!form.amount.trim()) errors.amount = 'Enter the amount to refund.';
	if (!form.reason.trim()) errors.reason = 'Say why you ask for the refund: the freelancer answers it.';
	if (has(errors) || !m) return Promise.resolve(refused(errors));
	const amount = (amountWithin(form.amount, m.requestRefund.max, currency, 'refund') as { minor: number }).minor;
	const payload = { milestone: m.milestone, amount, currency, reason: form.reason };
	const schema = schemaErrors('refund.requested', payload, currency, {});
	if (has(schema)) return Promise.resolve(refused(schema));
	return run(() => session.party.act('refund.requested', payload));
}

export function approveRefund(session: ActingSession, r: RefundAffordances): Promise<Outcome> {
	const no = notAllowed(r.approve);
	if (no) return Promise.resolve(no);
	return run(() => session.party.act('refund.approved', { request: r.request.id }));
}

export function declineRefund(session: ActingSession, r: RefundAffordances, reason: string): Promise<Outcome> {
	const no = notAllowed(r.decline);
	if (no) return Promise.resolve(no);
	if (!reason.trim()) return Promise.resolve(refused({ reason: 'Say why you decline the refund: the client sees it.' }));
	return run(() => session.party.act('refund.declined', { request: r.request.id, reason }));
}

/** The client has an approved (or unanswered, past its window) refund paid back from escrow. */
export function receiveRefund(session: ActingSession, r: RefundAffordances, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(r.receive);
	if (no) return Promise.resolve(no);
	return run(() => session.party.settle('milestone.refund', { milestone: r.request.milestone, amount: r.receive.amount, currency, basis: r.receive.basis, request: r.request.id }));
}

/** After the contract ended by agreement: the client takes back what a milestone's escrow still holds. */
export function refundOnEnd(session: ActingSession, m: MilestoneAffordances, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(m.refundOnEnd);
	if (no) return Promise.resolve(no);
	return run(() => session.party.settle('milestone.refund', { milestone: m.milestone, amount: m.refundOnEnd.amount, currency, basis: 'ended-by-agreement' }));
}

// —— ending ——

/** End the contract (nothing in escrow) or propose to end it (escrow held): only after the page's confirmation. */
export function endContract(session: ActingSession, c: ContractAffordances): Promise<Outcome> {
	const no = notAllowed(c.end);
	if (no) return Promise.resolve(no);
	return run(() => (c.end.mode === 'end' ? session.party.act('contract.ended', {}) : session.party.act('contract.endProposed', { reason: 'Ending by agreement' })));
}

export function agreeToEnd(session: ActingSession, c: ContractAffordances): Promise<Outcome> {
	const no = notAllowed(c.acceptEnd);
	if (no) return Promise.resolve(no);
	return run(() => session.party.act('contract.endAccepted', { proposal: c.acceptEnd.proposal! }));
}

// —— milestones by agreement ——

/**
 * The next milestone id with a random tail: two proposals made at once (neither side seeing the
 * other's) would otherwise both pick "m3", and only one can be that milestone once both are accepted.
 */
function uniqueMilestoneId(next: string): string {
	const [n] = crypto.getRandomValues(new Uint32Array(1));
	return `${next}-${n!.toString(36).padStart(7, '0')}`;
}

export function proposeMilestone(session: ActingSession, c: ContractAffordances, form: { title: string; amount: string }, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(c.proposeMilestone);
	if (no) return Promise.resolve(no);
	const errors: FieldErrors = {};
	if (!form.title.trim()) errors.title = 'Give the new milestone a title.';
	const a = amountWithin(form.amount, Number.MAX_SAFE_INTEGER, currency, 'milestone');
	if (!a.ok) errors.amount = a.message;
	if (has(errors) || !a.ok) return Promise.resolve(refused(errors));
	const payload = { change: { kind: 'add' as const, milestone: { id: uniqueMilestoneId(c.proposeMilestone.id), title: form.title.trim(), amount: a.minor } } };
	const fields = { 'change.milestone.title': 'title', 'change.milestone.amount': 'amount' };
	const schema = schemaErrors('milestone.changeProposed', payload, currency, fields);
	if (has(schema)) return Promise.resolve(refused(schema));
	return run(() => session.party.act('milestone.changeProposed', payload), fields);
}

export function acceptChange(session: ActingSession, change: ContractAffordances['changes'][number]): Promise<Outcome> {
	const no = notAllowed(change.accept);
	if (no) return Promise.resolve(no);
	return run(() => session.party.act('milestone.changeAccepted', { proposal: change.id }));
}

/** Decline the other party's change, or withdraw one's own. */
export function declineChange(session: ActingSession, change: ContractAffordances['changes'][number]): Promise<Outcome> {
	const no = notAllowed(change.decline);
	if (no) return Promise.resolve(no);
	return run(() => session.party.act('milestone.changeDeclined', { proposal: change.id }));
}

// —— conversation ——

export function sendMessage(session: ActingSession, c: ContractAffordances, text: string): Promise<Outcome> {
	const no = notAllowed(c.message);
	if (no) return Promise.resolve(no);
	if (!text.trim()) return Promise.resolve(refused({ text: 'Write a message first.' }));
	const errors = schemaErrors('message.posted', { text }, undefined, {});
	if (has(errors)) return Promise.resolve(refused(errors));
	return run(() => session.party.act('message.posted', { text }));
}

/** Feedback once the contract ended: a whole-number rating from 1 to 5 and optional words. */
export function leaveFeedback(session: ActingSession, c: ContractAffordances, form: { rating: string | number; text: string }): Promise<Outcome> {
	const no = notAllowed(c.feedback);
	if (no) return Promise.resolve(no);
	const errors: FieldErrors = {};
	const raw = String(form.rating).trim();
	const rating = Number(raw);
	if (raw === '' || !Number.isInteger(rating) || rating < 1 || rating > 5) errors.rating = `Choose a rating from 1 to 5${raw === '' ? '' : ` (${raw} is not one)`}.`;
	const payload = { rating, text: form.text };
	Object.assign(errors, Object.fromEntries(Object.entries(schemaErrors('feedback.left', payload, undefined, {})).filter(([k]) => k !== 'rating')));
	if (has(errors)) return Promise.resolve(refused(errors));
	return run(() => session.party.act('feedback.left', payload));
}

// —— payments ——

/**
 * Withdraw from one contract's available balance: the form checked against what has matured at
 * the provider time the statement was made for (statement.ts), then the provider pays out. The
 * receipt says what it charged and when the money should arrive.
 */
export async function withdraw(
	session: ActingSession,
	s: ContractState,
	statement: FreelancerStatement,
	form: { amount: string; method: string }
): Promise<{ ok: true; receipt: Receipt } | Extract<Outcome, { ok: false }>> {
	const checked = checkWithdrawal(s, statement, form.amount, form.method);
	if (!checked.ok) return { ok: false, errors: checked.errors, pending: false };
	let receipt: Receipt | undefined;
	const out = await run(async () => {
		({ receipt } = await session.party.settle('withdrawal.requested', { amount: checked.amount, currency: s.terms!.currency, method: form.method as PayoutMethod }));
	});
	return out.ok ? { ok: true, receipt: receipt! } : { ok: false, errors: out.errors, pending: out.pending };
}
