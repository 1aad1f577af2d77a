/** Adding, amending and removing milestones after acceptance: each change needs the other party's yes. */
import { reject, type Rejection } from './rejections';
import { ZERO_MINOR, type Minor } from '../money/minor';
import { activeFor } from './ending';
import type { RuleContext, RuleSet } from './rule';
import type { MilestoneChange, SignedMilestoneChange } from './schema';
import { moneyKnownBy } from './known';
import type { ContractState, MilestoneState } from './state';

/**
 * The id a new milestone gets: "m" and the lowest number above the current count that no milestone
 * (removed ones included) and no open proposal to add one uses. Deterministic, so both parties derive
 * the same; two concurrent proposals that pick the same id are told apart by the rules on acceptance.
 */
export function newMilestoneId(s: ContractState): string {
	const taken = new Set(s.milestones.map((m) => m.id));
	for (const c of s.changes.values()) if (c.status === 'open' && c.change.kind === 'add') taken.add(c.change.milestone.id);
	let n = s.milestones.length + 1;
	while (taken.has(`m${n}`)) n++;
	return `m${n}`;
}

/**
 * The amount of `m` as `event`'s author knew it, folding with `ctx`: the latest agreed amount in its
 * causal past. Undefined if it knew none (the milestone was added by an acceptance it had not seen).
 * A change accepted concurrently with a funding must not refuse the provider's receipt by sorting first.
 */
export function agreedAmount(m: MilestoneState, event: string, ctx?: RuleContext): Minor | undefined {
	if (!ctx?.reaches || !m.amounts) return m.amount;
	for (let i = m.amounts.length - 1; i >= 0; i--) {
		const { by, amount } = m.amounts[i]!;
		if (by === undefined || ctx.reaches(event, by)) return amount;
	}
	return undefined;
}

/** Is the change possible on this state? Checked when proposed and again when accepted (`event`, folding with `ctx`: ending.ts). */
export function checkChange(s: ContractState, change: MilestoneChange, event: string, ctx?: RuleContext): Rejection | null {
	if (!activeFor(s, event, ctx)) return reject('invalid-state', 'Milestones change only on an active contract.');
	if (s.terms?.kind === 'hourly') return reject('invalid-state', 'An hourly contract bills weeks of logged time, not milestones.');
	if (change.kind === 'add') {
		if (s.milestones.some((m) => m.id === change.milestone.id))
			return reject('invalid-state', `A milestone with id "${change.milestone.id}" already exists.`);
		if (s.milestones.length >= 100) return reject('invalid-state', 'A contract has at most 100 milestones.');
		return null;
	}
	const m = s.milestones.find((x) => x.id === change.milestone && !x.removed);
	if (!m) return reject('unknown-milestone');
	if (change.kind === 'remove') {
		if (m.funded > 0) return reject('invalid-state', 'A milestone that has been funded cannot be removed.');
		return null;
	}
	const known = moneyKnownBy(s, m, event, ctx);
	if (known.funded > 0 && known.held === 0) return reject('invalid-state', 'The milestone is closed.');
	if (change.amount !== undefined && change.amount < known.committed)
		return reject('amount-mismatch', 'The new amount is less than what the client has already paid in.');
	return null;
}

function applyChange(s: ContractState, change: SignedMilestoneChange, by: string): void {
	if (change.kind === 'add') {
		s.milestones.push({
			...change.milestone,
			amounts: [{ by, amount: change.milestone.amount }],
			removed: false,
			funded: ZERO_MINOR,
			released: ZERO_MINOR,
			refunded: ZERO_MINOR,
			phase: 'in_progress',
			reviewOpen: false,
			changeRequests: 0
		});
		return;
	}
	const m = s.milestones.find((x) => x.id === change.milestone && !x.removed)!;
	if (change.kind === 'remove') {
		m.removed = true;
		return;
	}
	const { kind: _k, milestone: _m, ...fields } = change;
	if (fields.amount !== undefined) m.amounts = [...(m.amounts ?? [{ amount: m.amount }]), { by, amount: fields.amount }];
	// Raising the revision cap is how "more changes need an amendment" is satisfied.
	Object.assign(m, fields);
}

export const amendmentRules: RuleSet = {
	'milestone.changeProposed': {
		who: ['client', 'freelancer'],
		check: (s, ev, ctx) => checkChange(s, ev.payload.change, ev.id, ctx),
		apply(s, ev) {
			s.changes.set(ev.id, { id: ev.id, author: ev.author, at: ev.at, change: ev.payload.change, status: 'open' });
		}
	},
	'milestone.changeAccepted': {
		who: ['client', 'freelancer'],
		check(s, ev, ctx) {
			const p = s.changes.get(ev.payload.proposal);
			if (!p || p.status !== 'open') return reject('invalid-state', 'There is no open change with that id.');
			if (p.author === ev.author) return reject('wrong-role', 'A change is accepted by the other party.');
			return checkChange(s, p.change, ev.id, ctx);
		},
		apply(s, ev) {
			const p = s.changes.get(ev.payload.proposal)!;
			p.status = 'accepted';
			applyChange(s, p.change, ev.id);
		}
	},
	'milestone.changeDeclined': {
		// The proposer "declining" their own change is withdrawing it.
		who: ['client', 'freelancer'],
		check(s, ev) {
			const p = s.changes.get(ev.payload.proposal);
			if (!p || p.status !== 'open') return reject('invalid-state', 'There is no open change with that id.');
			return null;
		},
		apply(s, ev) {
			s.changes.get(ev.payload.proposal)!.status = 'declined';
		}
	}
};
