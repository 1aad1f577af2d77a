/**
 * The Resolution Center's actions, one named function each (the style of actions.ts): open a
 * dispute, make an offer, accept the other's last offer or the midpoint, reject and go to
 * mediation, accept the mediator, and have the outcome the rules say is due executed. Each checks
 * its form (every field at once, in words, money formatted), asks the session's Party to write the
 * event (offers and the like are recorded by the provider inside `act`; settlements are money
 * intents through `settle`) and maps what went wrong to field errors. What is allowed comes from
 * contract/dispute-affordances.ts.
 */
import { REASONS_OF, REASON_TEXT, SEGMENTS_REASON, mediatorFee, subjectOf } from '../contract/dispute';
import { dueSettlements, type DisputeView, type MilestoneDisputes, type RulingChoice } from '../contract/dispute-affordances';
import { moneyText, reject } from '../contract/rejections';
import { PAYLOADS, PublicKey, type DisputeReason, type EventType, type Payload, type SettleBasis } from '../contract/schema';
import { roleOf, type ContractState, type Role } from '../contract/state';
import { EscrowError } from '../escrow/adapter';
import { parseAmount } from '../money/amount';
import type { CurrencyCode } from '../money/currency';
import { MAX_MEDIATION_FEE_BPS } from '../money/mediation';
import { failureMessages, type FieldErrors } from '../ui/failure';
import { fieldErrors } from '../ui/field-errors';
import type { ActingSession, Outcome } from './actions';
import { ActionRefused, PendingIntent, type Party } from './party';

const OK: Outcome = { ok: true };
const refused = (errors: FieldErrors): Outcome => ({ ok: false, errors, pending: false });
const notAllowed = (a: { allowed: boolean; reason?: string }): Outcome | undefined => (a.allowed ? undefined : refused({ form: a.reason ?? 'This is not possible now.' }));
const has = (errors: FieldErrors) => Object.keys(errors).length > 0;

async function run(fn: () => Promise<unknown>, fields: Record<string, string> = {}): Promise<Outcome> {
	try {
		await fn();
		return OK;
	} catch (e) {
		return { ok: false, errors: failureMessages(e, fields), pending: e instanceof PendingIntent };
	}
}

function schemaErrors<T extends EventType>(type: T, payload: Payload<T>, currency: string, fields: Record<string, string>): FieldErrors {
	const parsed = PAYLOADS[type].safeParse(payload);
	if (parsed.success) return {};
	return failureMessages(new ActionRefused(reject('bad-schema'), fieldErrors(parsed.error.issues, { type, currency })), fields);
}

/**
 * A share of the disputed amount typed in a form: what goes to the freelancer. Zero is a real
 * offer (everything back to the client); empty is not.
 */
export function shareWithin(text: string, max: number, currency: CurrencyCode, what = 'the offer'): { ok: true; minor: number } | { ok: false; message: string } {
	if (text.trim() === '') return { ok: false, message: `Enter ${what}: how much of the ${moneyText(max, currency)} in dispute goes to the freelancer (${moneyText(0, currency)} sends it all back to the client).` };
	const parsed = parseAmount(text, currency);
	if (!parsed.ok) return { ok: false, message: parsed.message };
	if (parsed.minor > max) return { ok: false, message: `${moneyText(max, currency)} is in dispute: ${what} can be at most that.` };
	return { ok: true, minor: parsed.minor };
}

/** The reasons `role` can give, with their words: what the opening form offers. */
export const reasonChoices = (role: Role) => REASONS_OF[role].map((r) => ({ value: r, text: REASON_TEXT[r] }));

export interface OpenDisputeForm {
	amount: string;
	reason: string;
	details: string;
	offer: string;
}

/** Open a dispute: the amount in dispute (up to what escrow holds), a reason, what happened, and an opening offer. */
export function openDispute(session: ActingSession, m: MilestoneDisputes, form: OpenDisputeForm, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(m.open);
	if (no) return Promise.resolve(no);
	const errors: FieldErrors = {};
	let amount = 0;
	const parsed = form.amount.trim() === '' ? undefined : parseAmount(form.amount, currency);
	if (!parsed) errors.amount = `Enter the amount in dispute: up to the ${moneyText(m.open.max, currency)} escrow holds for this milestone.`;
	else if (!parsed.ok) errors.amount = parsed.message;
	else if (parsed.minor === 0) errors.amount = `Enter an amount above ${moneyText(0, currency)}.`;
	else if (parsed.minor > m.open.max) errors.amount = `Escrow holds ${moneyText(m.open.max, currency)} for this milestone: enter at most that.`;
	else amount = parsed.minor;
	if (!m.open.reasons.includes(form.reason as DisputeReason))
		errors.reason = form.reason ? 'That reason does not apply to this milestone now: choose one of the reasons listed.' : 'Choose the reason for the dispute.';
	if (!form.details.trim()) errors.details = 'Say what happened: the other party and any mediator read it.';
	const offer = shareWithin(form.offer, amount || m.open.max, currency, 'your opening offer');
	if (!offer.ok) errors.offer = offer.message;
	if (has(errors) || !offer.ok) return Promise.resolve(refused(errors));
	const payload = { milestone: m.milestone, amount, currency, reason: form.reason as DisputeReason, details: form.details.trim(), offer: offer.minor };
	const fields = { amount: 'amount', reason: 'reason', details: 'details', offer: 'offer' };
	const schema = schemaErrors('dispute.opened', payload, currency, fields);
	if (has(schema)) return Promise.resolve(refused(schema));
	return run(() => session.party.act('dispute.opened', payload), fields);
}

/**
 * Open a dispute on the segments of a declined segment dispute (hourly): the amount is what those
 * segments bill (the rules fix it); what happened, and an opening offer.
 */
export function openSegmentsDispute(session: ActingSession, h: MilestoneDisputes, form: Pick<OpenDisputeForm, 'details' | 'offer'>, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(h.open);
	if (no) return Promise.resolve(no);
	const errors: FieldErrors = {};
	if (!form.details.trim()) errors.details = 'Say what happened: the other party and any mediator read it.';
	const offer = shareWithin(form.offer, h.open.max, currency, 'your opening offer');
	if (!offer.ok) errors.offer = offer.message;
	if (has(errors) || !offer.ok) return Promise.resolve(refused(errors));
	const payload = { segmentDispute: h.segments!.dispute, amount: h.open.max, currency, reason: SEGMENTS_REASON, details: form.details.trim(), offer: offer.minor };
	const fields = { details: 'details', offer: 'offer' };
	const schema = schemaErrors('dispute.opened', payload, currency, fields);
	if (has(schema)) return Promise.resolve(refused(schema));
	return run(() => session.party.act('dispute.opened', payload), fields);
}

/** A new offer: how much of the disputed amount goes to the freelancer. */
export function makeOffer(session: ActingSession, v: DisputeView, amountText: string, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(v.offer);
	if (no) return Promise.resolve(no);
	const a = shareWithin(amountText, v.offer.max, currency, 'your offer');
	if (!a.ok) return Promise.resolve(refused({ amount: a.message }));
	return run(() => session.party.act('dispute.offered', { dispute: v.dispute.id, amount: a.minor }), { amount: 'amount' });
}

/** Accept the other party's last offer: the provider splits the escrow at it. */
export function acceptOffer(session: ActingSession, v: DisputeView, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(v.accept);
	if (no) return Promise.resolve(no);
	return run(() => session.party.settle('dispute.accept', { dispute: v.dispute.id, ...subjectOf(v.dispute), offer: v.accept.offer!, currency }));
}

/** Accept the midpoint of the two last offers in one action. */
export function acceptMidpoint(session: ActingSession, v: DisputeView, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(v.acceptMidpoint);
	if (no) return Promise.resolve(no);
	const { client, freelancer } = v.acceptMidpoint;
	return run(() => session.party.settle('dispute.acceptMidpoint', { dispute: v.dispute.id, ...subjectOf(v.dispute), client: client!, freelancer: freelancer!, currency }));
}

/**
 * Reject the other party's last offer and go to mediation (or, below the small-dispute limit, the
 * midpoint at once). A party with no offer on record names its final offer with the rejection.
 */
export function rejectOffer(session: ActingSession, v: DisputeView, finalText: string, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(v.reject);
	if (no) return Promise.resolve(no);
	let final: number | undefined;
	if (v.reject.needsFinal) {
		const a = shareWithin(finalText, v.dispute.amount, currency, 'your final offer');
		if (!a.ok) return Promise.resolve(refused({ final: a.message }));
		final = a.minor;
	}
	return run(() => session.party.act('dispute.rejected', { dispute: v.dispute.id, offer: v.reject.offer!, ...(final !== undefined ? { final } : {}) }), { final: 'final' });
}

/** Accept the mediator and its fee (shown before): the one the terms name or the one the other party proposed. */
export function acceptMediator(session: ActingSession, v: DisputeView): Promise<Outcome> {
	const no = notAllowed(v.acceptMediator);
	if (no) return Promise.resolve(no);
	const m = v.acceptMediator.mediator!;
	return run(() => session.party.act('dispute.mediatorAccepted', { dispute: v.dispute.id, mediator: m.publicKey, name: m.name, feeBps: m.feeBps, fee: m.fee }));
}

/** Have the outcome the rules say is due now executed (a deadline passed: silence, no mediator, a late ruling…). */
export function settleDispute(session: ActingSession, v: DisputeView, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(v.settle);
	if (no) return Promise.resolve(no);
	const split = v.settle.split!;
	return run(() =>
		session.party.settle('dispute.settle', { dispute: v.dispute.id, ...subjectOf(v.dispute), basis: split.basis as SettleBasis, freelancer: split.share, currency })
	);
}

export interface MediatorForm {
	name: string;
	key: string;
	/** The fee rule as a percentage of the disputed amount, as typed ("5", "2.5"). */
	percent: string;
}

/** The fee rule typed as a percentage, in basis points; undefined when it is not one. */
export function feeBpsOf(percent: string): number | undefined {
	const t = percent.trim().replace(/\s*%$/, '');
	if (!/^\d{1,2}(\.\d{1,2})?$/.test(t)) return undefined;
	const bps = Math.round(Number(t) * 100);
	return bps <= MAX_MEDIATION_FEE_BPS ? bps : undefined;
}

/**
 * Propose a mediator by accepting it: its name, its key (the 43 characters the mediator's Resolution
 * Center shows) and its fee rule; the fee it comes to on this dispute is computed by the rules and
 * shown before. The other party accepts the same one, or nobody is mediator.
 */
export function proposeMediator(session: ActingSession, s: ContractState, v: DisputeView, form: MediatorForm, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(v.proposeMediator);
	if (no) return Promise.resolve(no);
	const errors: FieldErrors = {};
	const name = form.name.trim();
	if (!name) errors.name = "Enter the mediator's name, as both parties will see it.";
	else if (name.length > 80) errors.name = "The mediator's name is too long: at most 80 characters.";
	const key = form.key.trim();
	if (!key) errors.key = "Paste the mediator's key: the mediator finds it in its Resolution Center.";
	else if (!PublicKey.safeParse(key).success) errors.key = "That is not a mediator's key: it is 43 letters, digits, - and _ (copy it whole from the mediator's Resolution Center).";
	else if (key === s.parties.client || key === s.parties.freelancer || key === s.terms!.provider.publicKey) errors.key = 'The mediator cannot be a party of this contract or its escrow provider.';
	const bps = feeBpsOf(form.percent);
	if (bps === undefined) errors.percent = `Enter the fee as a percentage of the disputed amount, from 0 to ${MAX_MEDIATION_FEE_BPS / 100} (like 5 or 2.5).`;
	if (has(errors) || bps === undefined) return Promise.resolve(refused(errors));
	const fee = mediatorFee(s, v.dispute, bps);
	const payload = { dispute: v.dispute.id, mediator: key, name, feeBps: bps, fee };
	const fields = { name: 'name', mediator: 'key', feeBps: 'percent' };
	const schema = schemaErrors('dispute.mediatorAccepted', payload, currency, fields);
	if (has(schema)) return Promise.resolve(refused(schema));
	return run(() => session.party.act('dispute.mediatorAccepted', payload), fields);
}

/** The mediator's final-offer ruling: it picks one of the two last offers; the provider splits and pays its fee. */
export function ruleDispute(session: ActingSession, v: { dispute: DisputeView['dispute'] }, ruling: { allowed: boolean; reason?: string; choices: RulingChoice[] }, offer: string, currency: CurrencyCode): Promise<Outcome> {
	const no = notAllowed(ruling);
	if (no) return Promise.resolve(no);
	if (!ruling.choices.some((c) => c.offer === offer)) return Promise.resolve(refused({ form: "A ruling picks one of the two parties' last offers." }));
	return run(() => session.party.settle('dispute.rule', { dispute: v.dispute.id, ...subjectOf(v.dispute), offer, currency }));
}

/** What the app needs to pay out a due outcome on its own: the Party, its log and the provider's record. */
export interface AutoSettling {
	readonly party: Pick<Party, 'settle' | 'derived' | 'fetchRecord'>;
}

/** How long before the app submits the same dispute's outcome again after the provider refused it (its clock is behind this device's). */
export const AUTO_SETTLE_RETRY_MS = 60_000;

/** One outcome the app submitted on its own: paid out, left pending with the provider, or refused. */
export interface AutoSettled {
	dispute: string;
	/** Its subject: a milestone, or (hourly) the week of its segments. */
	milestone?: string;
	week?: string;
	result: 'paid' | 'pending' | 'settled-elsewhere' | 'refused';
	message?: string;
}

/**
 * Issue 12: once a deadline passes (silence accepts the last offer, no mediator was agreed, the
 * ruling is late) the app submits the outcome the rules say is due, on its person's behalf, when the
 * contract opens or its provider clock moves. `now` is this device's reckoning of provider time; the
 * provider judges the intent on its own record and clock, so a device clock that runs ahead only
 * gets a refusal, and nothing is written. A second device (or the other party) submitting the same
 * outcome meanwhile is refused as already settled: the provider's record then brings the one split.
 * `tried` (kept by the caller, per contract) holds when each dispute was last submitted, so an
 * outcome is submitted once, and again only AUTO_SETTLE_RETRY_MS after a refusal.
 */
export async function settleDueDisputes(session: AutoSettling, me: string | undefined, now: number, tried: Map<string, number>, wall = Date.now()): Promise<AutoSettled[]> {
	const s = session.party.derived().state;
	const role = me ? roleOf(s, me) : 'none';
	if (role !== 'client' && role !== 'freelancer') return [];
	const out: AutoSettled[] = [];
	for (const v of dueSettlements(s, role, now)) {
		const d = v.dispute;
		const last = tried.get(d.id);
		if (last !== undefined && wall - last < AUTO_SETTLE_RETRY_MS) continue;
		tried.set(d.id, wall);
		const split = v.settle.split!;
		const done = (result: AutoSettled['result'], message?: string) => out.push({ dispute: d.id, ...subjectOf(d), result, ...(message ? { message } : {}) });
		try {
			await session.party.settle('dispute.settle', { dispute: d.id, ...subjectOf(d), basis: split.basis as SettleBasis, freelancer: split.share, currency: s.terms!.currency });
			done('paid');
		} catch (e) {
			if (e instanceof PendingIntent) done('pending', e.message);
			else if (e instanceof EscrowError && e.code === 'already-settled') {
				// Another device was first: its split is in the provider's record.
				await session.party.fetchRecord().catch(() => 0);
				done('settled-elsewhere', e.message);
			} else done('refused', e instanceof Error ? e.message : String(e));
		}
	}
	return out;
}
