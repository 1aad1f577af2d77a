/**
 * The reducer: applies one verified event to the state, or records why it cannot be applied.
 * Role checks are generic (every rule declares who may author it); everything else is the rule's.
 */
import { amendmentRules } from './amendments';
import type { Minor } from '../money/minor';
import { attribute, deviceRules, noteEscrowConflicts, noteSigner, proposalDepsRefusal, receiptDeviceRefusal, revokedDeviceRefusal } from './devices';
import { conversationRules } from './conversation';
import { disputeHoldRefusal, disputeIntentOf, disputeInvariantProblems, disputeRules, isMediatorOf } from './dispute';
import { endingRules } from './ending';
import { fundingRules } from './funding';
import { hourlyInvariantProblems, hourlyRuleSet, keepRefusedSegment, startHourly } from './hourly';
import { LedgerInvariantError, escrowAccount } from './ledger';
import { advanceProviderClock, payoutRules } from './payouts';
import { proposalRules } from './proposal';
import { recordRules } from './record';
import { refundRules } from './refund';
import { reject, type Rejection } from './rejections';
import { releaseRules } from './release';
import type { Rule, RuleContext, RuleSet } from './rule';
import { INTENT_TYPES, type EventType } from './schema';
import { partyRole, type ContractState, type Ev, type Intent } from './state';
import { noteProviderSignature, testClockRules } from './testclock';
import { workRules } from './work';

export const RULES: RuleSet = {
	...proposalRules,
	...amendmentRules,
	...fundingRules,
	...workRules,
	...recordRules,
	...releaseRules,
	...refundRules,
	...payoutRules,
	...conversationRules,
	...endingRules,
	...testClockRules,
	...hourlyRuleSet,
	...disputeRules,
	...deviceRules
};

/**
 * What the log knows beyond the state (log.ts): its causal order (`RuleContext.reaches`: devices of
 * one identity taking the same escrow, devices.ts; an end the event's author had not seen, ending.ts)
 * and a refusal it decided from the events it holds: an event of a revoked device outside the
 * recorded revocation's past (devices.ts). A page's `check` has neither.
 */
export interface FoldContext extends RuleContext {
	refusal?: Rejection;
}

const INTENTS = new Set<string>(INTENT_TYPES);

/** Who may author it, and is it possible now? Does not change the state. Pages ask through this. */
export function check(s: ContractState, signed: Ev): Rejection | null {
	const rule = RULES[signed.type] as Rule<EventType> | undefined;
	if (!rule) return reject('bad-schema', `No rule for ${signed.type}.`);
	// A certified device's event is judged as its identity's (devices.ts).
	const ev = attribute(s, signed);
	if ('code' in ev) return ev;
	const denied = checkAuthor(s, ev, rule) ?? deviceCheck(s, ev, rule);
	if (denied) return denied;
	return rule.check(s, ev as never) ?? disputeHoldRefusal(s, ev);
}

/** A revoked device, a receipt for what an expired or revoked device signed, a proposal naming more than its certificate. */
function deviceCheck(s: ContractState, ev: Ev, rule: Rule<EventType>): Rejection | null {
	if (rule.who !== 'anyone' && rule.who.includes('provider')) return receiptDeviceRefusal(s, ev);
	if (ev.type === 'contract.proposed') return proposalDepsRefusal(ev);
	return revokedDeviceRefusal(s, ev);
}

function checkAuthor(s: ContractState, ev: Ev, rule: Rule<EventType>): Rejection | null {
	if (s.status === 'empty' && ev.type !== 'contract.proposed' && ev.type !== 'device.certified')
		return reject('invalid-state', 'The contract has not been proposed yet.');
	if (rule.who === 'anyone') return null;
	// The mediator is a role only for the events of the dispute both parties accepted it for.
	if (rule.who.includes('mediator') && isMediatorOf(s, ev)) return null;
	// The key itself (an identity key, or the identity a certified device's event names): never a device mapping.
	const role = partyRole(s, ev.author);
	if (rule.who.includes('provider')) return role === 'provider' ? null : reject('not-provider');
	if (role === 'none' || role === 'provider') return reject('not-party');
	return rule.who.includes(role) ? null : reject('wrong-role', `It needs the ${rule.who.join(' or ')}.`);
}

/** Apply one event in fold order. Returns the rejection, if any; the state records it either way. */
export function applyEvent(s: ContractState, signed: Ev, ctx: FoldContext = {}): Rejection | null {
	const rule = RULES[signed.type] as Rule<EventType>;
	// A certified device's event is judged as its identity's (devices.ts).
	const ev = attribute(s, signed);
	if ('code' in ev) return record(s, signed, ev);
	noteSigner(s, ev);
	const denied = checkAuthor(s, ev, rule);
	if (denied) return record(s, ev, denied);
	// A provider-signed time is a true time even if the receipt itself is refused.
	if (rule.who !== 'anyone' && rule.who.includes('provider')) {
		advanceProviderClock(s, ev.at, ev.id);
		noteProviderSignature(s);
	}
	// Money under an open dispute moves only by the dispute's split (dispute.ts).
	const rejection = ctx.refusal ?? deviceCheck(s, ev, rule) ?? rule.check(s, ev as never, ctx) ?? disputeHoldRefusal(s, ev);
	if (INTENTS.has(ev.type)) {
		const intent = intentOf(ev, rejection);
		s.intents.set(ev.id, intent);
		if (intent.device && ctx.reaches && !ctx.refusal) noteEscrowConflicts(s, intent, ctx.reaches);
	}
	if (rejection) {
		record(s, ev, rejection);
		// A segment refused only for a concurrent one in its slot stays known (content decides what bills: hourly.ts).
		keepRefusedSegment(s, ev);
	} else {
		rule.apply(s, ev as never);
		if (ev.type === 'contract.proposed') startHourly(s);
		// A certificate is a fact about a person, not an activity of this contract.
		if (ev.type !== 'device.certified') s.applied.push(ev);
	}
	// After every provider event, applied or refused: its time alone matures releases (pending →
	// available), and the books must still agree.
	if (ev.type.startsWith('receipt.')) assertContractInvariants(s);
	return rejection;
}

function record(s: ContractState, ev: Ev, r: Rejection): Rejection {
	s.rejected.push({ id: ev.id, code: r.code, message: r.message, type: ev.type, author: ev.author, at: ev.at });
	return r;
}

function intentOf(ev: Ev, rejection: Rejection | null): Intent {
	const p = ev.payload as { milestone?: string; amount?: Minor; method?: string; basis?: never; request?: string };
	const intent: Intent = { id: ev.id, type: ev.type as Intent['type'], author: ev.author, at: ev.at, milestone: p.milestone, amount: p.amount, method: p.method };
	if (ev.type === 'milestone.refund') intent.refund = { basis: ev.payload.basis, request: ev.payload.request };
	if (ev.type === 'milestone.autoRelease') intent.submission = ev.payload.submission;
	if ('week' in ev.payload) intent.week = ev.payload.week;
	const dispute = disputeIntentOf(ev);
	if (dispute) intent.dispute = dispute;
	if (ev.device) intent.device = ev.device;
	if (rejection) intent.rejection = rejection;
	return intent;
}

/**
 * The invariants that must hold after every fold step on every peer, whatever the merge order.
 * Two derivations of the same money (milestone counters and ledger balances) must agree.
 */
export function assertContractInvariants(s: ContractState): void {
	s.ledger.assertInvariants();
	for (const m of s.milestones) {
		// Mediators' fees leave escrow too (dispute.ts).
		const fees = m.mediationFees ?? 0;
		if (m.released + m.refunded + fees > m.funded)
			throw new LedgerInvariantError(`milestone ${m.id}: released ${m.released} + refunded ${m.refunded} + mediation fees ${fees} > funded ${m.funded}`);
		if (s.ledger.balance(escrowAccount(m.id)) !== m.funded - m.released - m.refunded - fees)
			throw new LedgerInvariantError(`milestone ${m.id}: escrow account disagrees with its counters`);
	}
	let pending = 0;
	for (const lot of s.releases) if (!lot.matured) pending += lot.amount;
	if (s.ledger.balance('freelancer:pending') !== pending) throw new LedgerInvariantError('pending balance disagrees with unmatured releases');
	// Hourly weeks: each week's escrow account equals its counters; no week pays beyond its timesheet or bills beyond its limit.
	for (const problem of hourlyInvariantProblems(s)) throw new LedgerInvariantError(problem);
	// Disputes: every split pays out exactly the disputed amount; an open dispute's amount is still in escrow; mediators hold what milestones paid them.
	for (const problem of disputeInvariantProblems(s)) throw new LedgerInvariantError(problem);
	const settledBy = new Set<string>();
	for (const i of s.intents.values()) {
		if (!i.settledBy) continue;
		if (settledBy.has(i.settledBy)) throw new LedgerInvariantError(`receipt ${i.settledBy} settles two intents`);
		settledBy.add(i.settledBy);
	}
}
