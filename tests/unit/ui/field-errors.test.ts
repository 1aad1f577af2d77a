import { describe, expect, it } from 'vitest';
import { PAYLOADS, Terms } from '../../../src/lib/contract/schema';
import { MAX_AMOUNT_MINOR } from '../../../src/lib/money/amount';
import { fieldErrors, fieldLabel, issueSentence, type SchemaIssue } from '../../../src/lib/ui/field-errors';
import { ActionRefused, Party } from '../../../src/lib/sync/party';
import { CLIENT, terms } from '../../support/world';

/** The issues zod itself reports for a value: the sentences are tested against real zod 4 output. */
function issuesOf(schema: { safeParse(v: unknown): { success: boolean; error?: { issues: SchemaIssue[] } } }, value: unknown): SchemaIssue[] {
	const r = schema.safeParse(value);
	expect(r.success).toBe(false);
	return r.error!.issues;
}

describe('schema issues in words, per field', () => {
	it('labels fields as the form names them, milestones counted from 1', () => {
		expect(fieldLabel(['terms', 'title'])).toBe('Title');
		expect(fieldLabel(['terms', 'milestones', 1, 'amount'])).toBe('Milestone 2 amount');
		expect(fieldLabel(['terms', 'milestones', 0, 'revisionCap'])).toBe('Milestone 1 revisions included');
		expect(fieldLabel(['terms', 'refundAnswerDays'])).toBe('Refund answer window');
		expect(fieldLabel(['links', 2])).toBe('Link 3');
		expect(fieldLabel(['text'], 'message.posted')).toBe('Message');
		expect(fieldLabel(['text'], 'feedback.left')).toBe('Feedback');
		expect(fieldLabel(['reason'], 'milestone.changesRequested')).toBe('What needs to change');
		expect(fieldLabel(['somethingNew'])).toBe('Something new');
		expect(fieldLabel([])).toBe('The form');
	});

	it('an empty New contract form: every field at once, each in a sentence', () => {
		const empty = terms({ title: '', milestones: [{ id: 'm1', title: '', amount: 0 }, { id: 'm2', title: ' ', amount: 0 }], reviewWindowDays: 0 });
		const fields = fieldErrors(issuesOf(Terms, empty), { currency: 'USD' });
		expect(fields).toEqual({
			title: 'Title is required.',
			'milestones.0.title': 'Milestone 1 title is required.',
			'milestones.0.amount': 'Milestone 1 amount must be more than zero.',
			'milestones.1.title': 'Milestone 2 title is required.',
			'milestones.1.amount': 'Milestone 2 amount must be more than zero.',
			reviewWindowDays: 'Review window must be at least 1 day.'
		});
		// The same sentences when the terms arrive inside a proposal:
		const proposal = fieldErrors(issuesOf(PAYLOADS['contract.proposed'], { role: 'client', name: 'Ada', nonce: 'a'.repeat(22), terms: empty }), { currency: 'USD' });
		expect(proposal['terms.title']).toBe('Title is required.');
		expect(proposal['terms.milestones.1.amount']).toBe('Milestone 2 amount must be more than zero.');
		expect(proposal['terms.reviewWindowDays']).toBe('Review window must be at least 1 day.');
	});

	it('each kind of zod issue becomes a sentence; money limits are formatted in the currency', () => {
		const t = terms({
			title: 'x'.repeat(201),
			currency: 'JPY',
			milestones: [{ id: 'm1', title: 'Design', amount: MAX_AMOUNT_MINOR + 1, due: 'next week', revisionCap: 1.5 }],
			reviewWindowDays: Number.NaN,
			securityPeriodDays: 31
		});
		const proposal = { role: 'boss', name: 'Ada', nonce: 'a'.repeat(22), terms: t };
		const fields = fieldErrors(issuesOf(PAYLOADS['contract.proposed'], proposal), { type: 'contract.proposed', currency: 'JPY' });
		expect(fields).toEqual({
			role: 'Your role must be one of: client, freelancer.',
			'terms.title': 'Title is too long: at most 200 characters.',
			'terms.milestones.0.amount': 'Milestone 1 amount must be at most ¥10,000,000,000.',
			'terms.milestones.0.due': 'Milestone 1 due date must be a date, like 2025-03-31.',
			'terms.milestones.0.revisionCap': 'Milestone 1 revisions included must be a whole number.',
			'terms.reviewWindowDays': 'Review window must be a number.',
			'terms.securityPeriodDays': 'Security period must be at most 30 days.'
		});
		// The same limit in dollars, with cents.
		const usd = issuesOf(PAYLOADS['milestone.fund'], { milestone: 'm1', amount: MAX_AMOUNT_MINOR + 1, currency: 'USD', method: 'card' });
		expect(fieldErrors(usd, { type: 'milestone.fund', currency: 'USD' })).toEqual({ amount: 'Amount must be at most $100,000,000.00.' });
		// No currency known: the limit in words, never a raw count of minor units.
		expect(fieldErrors(usd, {})).toEqual({ amount: 'Amount is more than the largest amount allowed.' });
	});

	it('missing fields, lists, links, ratings, unknown fields and refinements', () => {
		expect(fieldErrors(issuesOf(PAYLOADS['milestone.submitted'], { milestone: 'm1', links: ['ftp://files.example'] }), { type: 'milestone.submitted' })).toEqual({
			message: 'Message to the client is required.',
			'links.0': 'Link 1 must be a web address starting with https:// or http://.'
		});
		expect(fieldErrors(issuesOf(PAYLOADS['feedback.left'], { rating: 9, text: '' }), { type: 'feedback.left' })).toEqual({ rating: 'Rating must be at most 5.' });
		expect(fieldErrors(issuesOf(PAYLOADS['feedback.left'], { rating: 0, text: '' }), { type: 'feedback.left' })).toEqual({ rating: 'Rating must be at least 1.' });
		expect(fieldErrors(issuesOf(Terms, terms({ milestones: [] })))).toEqual({ milestones: 'Add at least one milestone.' });
		const many = Array.from({ length: 21 }, (_, i) => `https://example.com/${i}`);
		expect(fieldErrors(issuesOf(PAYLOADS['milestone.submitted'], { milestone: 'm1', message: 'Done', links: many }))).toEqual({ links: 'Deliverable links: at most 20 links.' });
		expect(fieldErrors(issuesOf(PAYLOADS['message.posted'], { text: 'hi', extra: 1 }), { type: 'message.posted' })).toEqual({
			form: 'The form has a field the contract does not allow: extra.'
		});
		const twice = terms({ milestones: [{ id: 'm1', title: 'A', amount: 1 }, { id: 'm1', title: 'B', amount: 1 }] });
		expect(fieldErrors(issuesOf(Terms, twice))).toEqual({ milestones: 'Milestones: milestone ids must be unique.' });
		expect(fieldErrors(issuesOf(PAYLOADS['milestone.fund'], { milestone: 'm1', amount: 100, currency: 'USD', method: 'cheque' }), { type: 'milestone.fund' })).toEqual({
			method: expect.stringMatching(/^Payment method must be one of: card, /)
		});
	});

	it('never shows zod’s own wording', () => {
		const kinds: SchemaIssue[] = [
			{ code: 'too_small', origin: 'string', minimum: 1, inclusive: true, path: ['reason'], message: 'Too small: expected string to have >=1 characters' },
			{ code: 'too_small', origin: 'string', minimum: 8, inclusive: true, path: ['name'], message: 'Too small' },
			{ code: 'too_small', origin: 'number', minimum: 0, inclusive: false, path: ['amount'], message: 'Too small: expected number to be >0' },
			{ code: 'too_big', origin: 'number', maximum: 5, inclusive: false, path: ['rating'], message: 'Too big' },
			{ code: 'not_multiple_of', divisor: 500, path: ['amount'], message: 'Invalid number' },
			{ code: 'invalid_union', path: ['change'], message: 'Invalid input' },
			{ code: 'invalid_type', expected: 'boolean', path: ['terms', 'provider', 'testMode'], message: 'Invalid input: expected boolean, received string' }
		];
		expect(kinds.map((i) => issueSentence(i, { currency: 'EUR' }))).toEqual([
			'Reason is required.',
			'Your name must be at least 8 characters.',
			'Amount must be more than zero.',
			'Rating must be less than 5.',
			'Amount must be a multiple of €5.00.',
			'Change is not valid.',
			'Escrow provider test mode must be yes or no.'
		]);
		for (const s of kinds.map((i) => issueSentence(i))) expect(s).not.toMatch(/expected|>=|Too (small|big)/);
	});

	it('hourly terms and events are labelled too; the hourly rate is money', () => {
		const rate: SchemaIssue = { code: 'too_big', origin: 'number', maximum: MAX_AMOUNT_MINOR, inclusive: true, path: ['terms', 'hourly', 'rate'], message: 'Too big' };
		expect(issueSentence(rate, { currency: 'GBP' })).toBe('Hourly rate must be at most £100,000,000.00.');
		const limit: SchemaIssue = { code: 'too_big', origin: 'number', maximum: 80, inclusive: true, path: ['hours'], message: 'Too big' };
		expect(issueSentence(limit, { type: 'hourly.limitChanged' })).toBe('Weekly limit must be at most 80 hours.');
		const lock: SchemaIssue = { code: 'custom', path: ['terms', 'hourly', 'lockHours'], message: 'The edit lock must come before the review ends.' };
		expect(issueSentence(lock)).toBe('The edit lock must come before the review ends.');
	});

	it('a refused proposal carries the sentences for every field (what every form shows)', async () => {
		const bad = terms({ title: '', milestones: [{ id: 'm1', title: '', amount: 0 }] });
		const err = await Party.signProposal(CLIENT, { role: 'client', name: 'Ada', terms: bad }, Date.now()).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(ActionRefused);
		expect((err as ActionRefused).fields).toEqual({
			'terms.title': 'Title is required.',
			'terms.milestones.0.title': 'Milestone 1 title is required.',
			'terms.milestones.0.amount': 'Milestone 1 amount must be more than zero.'
		});
		expect((err as ActionRefused).message).toMatch(/Title is required\.$/);
	});
});
