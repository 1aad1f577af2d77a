import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAY_SCOPE_THRESHOLDS, SCAM_PATTERNS, payAboveScope, proposalWarnings, scamContext, warningsFor, type ProposalText } from '../../../src/lib/contract/scam';
import { emptyState, type ContractState } from '../../../src/lib/contract/state';
import { minor } from '../../../src/lib/money/minor';

const UNFUNDED = { funded: false };
const FUNDED = { funded: true };
const ids = (text: string, context = UNFUNDED) => warningsFor(text, context).map((w) => w.id);

/** Text → the pattern it must raise (read as sent before any milestone is funded). */
const POSITIVES: [text: string, id: string][] = [
	['Please send the money to my bank account instead, it is faster.', 'bank-details'],
	['Can you share your bank details so I can pay you directly?', 'bank-details'],
	['What is your account number and sort code?', 'bank-details'],
	['Our bank details are below: IBAN DE89 3704 0044 0532 0130 00', 'bank-details'],
	['IBAN: GB29 NWBK 6016 1331 9268 19, thanks!', 'bank-details'],
	['Don’t worry, just pay the deposit into my account and we are good.', 'bank-details'],
	['I will pay you by wire transfer as soon as you start.', 'wire-transfer'],
	['Please wire the money today so I can buy the licenses.', 'wire-transfer'],
	['Send the payment via Western Union to my cousin.', 'wire-transfer'],
	['Can you pay me with Google Play gift cards? I will send the details.', 'gift-cards'],
	['Buy me five Steam gift cards and send me the codes.', 'gift-cards'],
	['Scratch off the back of the gift card and text me the pin.', 'gift-cards'],
	['I only accept payment in USDT, it is easier for me.', 'crypto'],
	['Send 0.05 BTC to my wallet and I will begin.', 'crypto'],
	['My bitcoin address is bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh', 'crypto'],
	['Pay me via PayPal friends and family so there are no fees.', 'friends-and-family'],
	['Send it as Friends & Family please.', 'friends-and-family'],
	['Pay me directly on Zelle, my number is the same.', 'payment-app'],
	['Just Venmo me the rest.', 'payment-app'],
	['My Cash App is $designpro99, send it there.', 'payment-app'],
	['Let’s take this off the platform and pay outside the app to save the fees.', 'outside-the-app'],
	['We can skip the escrow, I trust you.', 'outside-the-app'],
	['You need to pay a $50 registration fee before we can assign the project.', 'pay-a-fee'],
	['Send the training fee to get the job and we will onboard you tomorrow.', 'pay-a-fee'],
	['Please buy the equipment from our approved vendor; we reimburse you later.', 'pay-a-fee'],
	['Congratulations, you are hired! Please send $100 for the onboarding kit to get started.', 'pay-a-fee'],
	['I prefer Payoneer, pay me there directly.', 'outside-the-app'],
	['Our company will send you a check: deposit it and send the difference to our vendor.', 'overpayment'],
	['I accidentally overpaid you, please send back the difference.', 'overpayment'],
	['Refund the excess amount to me by PayPal.', 'overpayment'],
	['Email me at grace.hopper@example.com so we can talk there.', 'contact-details'],
	['My WhatsApp number is +44 7700 900123, message me there.', 'contact-details'],
	['Add me on Telegram: @quickcash_jobs', 'contact-details'],
	['Let’s continue this on Skype, it is easier.', 'contact-details'],
	['What’s your phone number? I will call you.', 'contact-details'],
	['Can you start before the milestone is funded? I will fund it next week.', 'unfunded-start'],
	['Please begin now, I’ll pay once I see the first draft.', 'unfunded-start'],
	['No need to fund the milestone, just get going.', 'unfunded-start'],
	['Our bank details have changed, please use the new account from now on.', 'payment-change'],
	['Send the next payment to my new bank account: the old one is closed.', 'payment-change'],
	['I need 50% upfront before I start, via bank transfer.', 'upfront-outside-escrow']
];

/** Ordinary work that must raise nothing, including what marketplace users complain is flagged. */
const NEGATIVES: string[] = [
	'We need a payments integration: PayPal checkout and Stripe cards.',
	'Add PayPal as a payment option in the checkout flow.',
	'I funded the milestone with PayPal; it shows in escrow now.',
	'Build a banking app with account overview and transfers.',
	'The bank statement import should parse CSV exports.',
	'Implement a gift card feature: users buy gift cards and redeem codes at checkout.',
	'Design a crypto exchange UI with order book and wallet balances.',
	'The smart contract sends tokens to the user wallet after the sale.',
	'I attached the wireframe for the homepage.',
	'Wire up the form to the API and add wireless printer support.',
	'The signup form must validate phone numbers like +1 (555) 010-9999 and emails like a@b.co.',
	'Add a WhatsApp share button and a Telegram bot for order updates.',
	'Support email notifications to customers when an order ships.',
	'Never share your bank details with anyone you meet online.',
	'I won’t start before the milestone is funded.',
	'Please fund the first milestone so I can start the work.',
	'Thanks! Starting the build.',
	'Welcome aboard! Looking forward to working with you.',
	'The contact form does not send.',
	'Make the logo blue and send me the source files.',
	'Send me the rest of the assets when they are ready.',
	'The difference between the two mockups is the header.',
	'Users can update their payment details on the settings page.',
	'Once the design is approved I will release the payment in the app.',
	'No need to fund the second milestone until the first is approved.',
	'Our team uses Zelle and Venmo style split payments in the product.',
	'Integrate the Bitcoin price API into the dashboard.',
	'The invoicing tool should support wire transfers and ACH for customers.',
	'Send me the code for the landing page when it is ready.',
	'I will pay the invoice through the app as usual.',
	'I can start before Friday if you fund today.',
	'Send me the difference report.',
	'What is your email template design?',
	'My phone is broken, sorry for the delay.',
	'Transfer the domain to my account when done.',
	'Send photos to friends and family from the app.',
	'Add me to the GitHub repo please.',
	'We will pay you once the work is approved, through escrow.',
	'Please update my payment details in the profile mockup.',
	'Users pay for the membership fee at checkout.',
	'Can we hop on a Zoom call in the app to discuss the scope?',
	'I never take payments outside the app.'
];

describe('scam patterns', () => {
	it.each(POSITIVES)('flags %j as %s', (text, id) => {
		expect(ids(text)).toContain(id);
	});

	it.each(NEGATIVES)('raises nothing for %j', (text) => {
		expect(warningsFor(text, UNFUNDED)).toEqual([]);
		expect(warningsFor(text, FUNDED)).toEqual([]);
	});

	it('has at least 25 positives and 25 negatives, and every pattern is proven by a positive', () => {
		expect(POSITIVES.length).toBeGreaterThanOrEqual(25);
		expect(NEGATIVES.length).toBeGreaterThanOrEqual(25);
		for (const p of SCAM_PATTERNS) expect(POSITIVES.some(([, id]) => id === p.id), p.id).toBe(true);
	});

	it('every pattern says in plain words what it is and why it is risky', () => {
		const seen = new Set<string>();
		for (const p of SCAM_PATTERNS) {
			expect(seen.has(p.id), `duplicate id ${p.id}`).toBe(false);
			seen.add(p.id);
			for (const field of [p.looksLike, p.explanation, p.reason]) {
				expect(field.trim().length, p.id).toBeGreaterThan(10);
				expect(field, p.id).not.toMatch(/regex|\\b|undefined/);
			}
			expect(p.explanation, p.id).toMatch(/\.$/);
			expect(p.reason, p.id).toMatch(/\.$/);
		}
		for (const t of PAY_SCOPE_THRESHOLDS) expect(t.reason.length, t.id).toBeGreaterThan(20);
	});

	it('a warning carries its pattern’s words and quotes the original text', () => {
		const [w] = warningsFor('Hello!\n\nPlease  send the money to my Bank Account today.', UNFUNDED);
		const p = SCAM_PATTERNS.find((x) => x.id === 'bank-details')!;
		expect(w).toMatchObject({ id: p.id, looksLike: p.looksLike, explanation: p.explanation, reason: p.reason });
		expect(w!.excerpt).toBe('send the money to my Bank Account');
	});

	it('sees through hidden characters and curly quotes', () => {
		expect(ids('Pay me via Pay\u200bPal friends and family')).toContain('friends-and-family');
		expect(ids('Let’s move to WhatsApp')).toContain('contact-details');
	});

	it('one warning per pattern, however often the text repeats it', () => {
		const text = 'Wire me the money. Wire me the money now. Pay by wire.';
		expect(ids(text).filter((id) => id === 'wire-transfer')).toHaveLength(1);
	});

	it('a refusal is not a request, but a request after a reassurance is', () => {
		expect(ids('I will never ask you to pay into my bank account.')).toEqual([]);
		expect(ids('Please do not send money to my bank account, use the escrow.')).toEqual([]);
		expect(ids('Don’t use the escrow, just pay me via PayPal.')).toContain('payment-app');
	});

	it('property: ordinary sentences stay quiet together, and a request among them is still found', () => {
		const negative = fc.constantFrom(...NEGATIVES);
		const joiner = fc.constantFrom(' ', '\n', '\n\n', '  ');
		fc.assert(
			fc.property(fc.array(negative, { minLength: 1, maxLength: 5 }), joiner, (parts, j) => {
				expect(warningsFor(parts.join(j), UNFUNDED)).toEqual([]);
			}),
			{ numRuns: 500 }
		);
		// On separate lines: some positives end without a full stop, and run on into the next sentence otherwise.
		const line = fc.constantFrom('\n', '\n\n', ' \n ');
		fc.assert(
			fc.property(fc.array(negative, { maxLength: 3 }), fc.constantFrom(...POSITIVES), fc.array(negative, { maxLength: 3 }), line, (before, [text, id], after, j) => {
				expect(ids([...before, text, ...after].join(j))).toContain(id);
			}),
			{ numRuns: 500 }
		);
	});

	it('empty and whitespace-only text raises nothing', () => {
		expect(warningsFor('', UNFUNDED)).toEqual([]);
		expect(warningsFor('  \n ', UNFUNDED)).toEqual([]);
	});
});

describe('contact details: flagged only before any milestone is funded', () => {
	const CONTACT = ['Email me at grace.hopper@example.com', 'WhatsApp me on +44 7700 900123', 'My Skype id is live:grace.h', 'Let’s talk on Telegram instead'];

	it.each(CONTACT)('%j is flagged before funding and not after', (text) => {
		expect(ids(text, UNFUNDED)).toContain('contact-details');
		expect(ids(text, FUNDED)).not.toContain('contact-details');
	});

	it('payment requests are flagged whether funded or not', () => {
		expect(ids('Pay me via PayPal friends and family', FUNDED)).toContain('friends-and-family');
		expect(ids('Please send back the difference, I overpaid', FUNDED)).toContain('overpayment');
	});

	it('the context follows the contract: a funded milestone or hourly week counts', () => {
		const s: ContractState = emptyState('c1');
		expect(scamContext(s)).toEqual({ funded: false });
		expect(scamContext(undefined)).toEqual({ funded: false });
		s.milestones.push({ id: 'm1', title: 'Design', amount: minor(100_00), removed: false, funded: minor(0), released: minor(0), refunded: minor(0), phase: 'in_progress', reviewOpen: false, changeRequests: 0 });
		expect(scamContext(s).funded).toBe(false);
		s.milestones[0]!.funded = minor(100_00);
		expect(scamContext(s).funded).toBe(true);
		const h: ContractState = emptyState('c2');
		h.hourly = { segments: new Map(), slots: new Map(), timesheets: new Map(), disputes: new Map(), answers: new Map(), limitChanges: new Map(), limits: [], pauses: new Map(), weeks: new Map() };
		expect(scamContext(h).funded).toBe(false);
		h.hourly.weeks.set('2025-01-06', { week: '2025-01-06', funded: minor(600_00), carriedIn: minor(0), released: minor(0), carriedOut: minor(0), refunded: minor(0) });
		expect(scamContext(h).funded).toBe(true);
	});
});

describe('proposals', () => {
	const fixed = (scope: string, amounts: number[], currency: ProposalText['currency'] = 'USD'): ProposalText => ({
		title: 'Website',
		scope,
		currency,
		milestones: amounts.map((amount, i) => ({ title: `Part ${i + 1}`, amount }))
	});

	it('pay far above a short scope is flagged, with the amount and the threshold’s reason', () => {
		const w = payAboveScope(fixed('Quick data entry.', [5_000_00]));
		expect(w).toMatchObject({ id: 'pay-above-scope', reason: PAY_SCOPE_THRESHOLDS.find((t) => t.id === 'tiny-scope')!.reason });
		expect(w!.detail).toBe('$5,000.00 for 5 words of scope');
		expect(proposalWarnings(fixed('Quick data entry.', [5_000_00])).map((x) => x.id)).toEqual(['pay-above-scope']);
	});

	it('the same pay with the work described, or ordinary pay for a short scope, is not', () => {
		expect(payAboveScope(fixed('Design and build the site.', [1_200_00]))).toBeUndefined();
		const described = Array.from({ length: 60 }, (_, i) => `requirement${i}`).join(' ');
		expect(payAboveScope(fixed(described, [20_000_00]))).toBeUndefined();
		expect(payAboveScope(fixed('Logo.', [2_999_00]))).toBeUndefined();
	});

	it('a longer but still thin scope crosses the higher threshold only', () => {
		const scope = Array.from({ length: 30 }, () => 'word').join(' ');
		expect(payAboveScope(fixed(scope, [14_000_00]))).toBeUndefined();
		expect(payAboveScope(fixed(scope, [8_000_00, 8_000_00]))?.reason).toBe(PAY_SCOPE_THRESHOLDS.find((t) => t.id === 'short-scope')!.reason);
	});

	it('thresholds are read in the proposal’s currency', () => {
		expect(payAboveScope(fixed('Data entry.', [400_000], 'JPY')))?.toBeUndefined();
		expect(payAboveScope(fixed('Data entry.', [600_000], 'JPY'))?.detail).toMatch(/600,000/);
		expect(payAboveScope(fixed('Data entry.', [1_000_000], 'KWD'))?.id).toBe('pay-above-scope');
	});

	it('an hourly proposal is judged on its rate', () => {
		const hourly = (rate: number, scope = 'Chat support.'): ProposalText => ({ kind: 'hourly', title: 'Support', scope, currency: 'USD', milestones: [], hourly: { rate } });
		expect(payAboveScope(hourly(350_00))?.detail).toBe('$350.00 an hour for 2 words of scope');
		expect(payAboveScope(hourly(60_00))).toBeUndefined();
	});

	it('the proposal’s words are checked too, once per pattern, and contact details only while unfunded', () => {
		const terms: ProposalText = {
			title: 'Logo',
			scope: 'A logo in three colours. Email me at boss@example.com to discuss.',
			currency: 'USD',
			milestones: [{ title: 'Logo', amount: 300_00, description: 'Pay me via PayPal friends and family. Contact me at boss@example.com.' }]
		};
		expect(proposalWarnings(terms).map((w) => w.id)).toEqual(['friends-and-family', 'payment-app', 'contact-details']);
		const s = emptyState('c');
		s.milestones.push({ id: 'm1', title: 'Logo', amount: minor(300_00), removed: false, funded: minor(300_00), released: minor(0), refunded: minor(0), phase: 'in_progress', reviewOpen: false, changeRequests: 0 });
		expect(proposalWarnings(terms, s).map((w) => w.id)).toEqual(['friends-and-family', 'payment-app']);
	});
});
