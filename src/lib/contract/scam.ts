/**
 * Scam warnings: the patterns the seed and marketplaces warn about (paying or talking outside the
 * app, gift cards, crypto, "pay a fee to get the job", "send back the difference", starting before
 * the milestone is funded, changed payment details, pay far above the scope), checked on this device
 * only. A warning informs and never blocks: nothing is held back, and nothing is sent anywhere.
 *
 * Every pattern needs intent ("send the money to my bank account"), not a keyword ("banking app"):
 * warnings that fire on ordinary work ("PayPal integration", "wireframe", "gift card feature") teach
 * people to ignore them. Patterns are data: regular expressions over one normalised sentence
 * (lower case, straight quotes, single spaces), with what each means in plain words and why it is risky.
 */
import { formatAmount } from '../money/amount';
import { exponentOf, type CurrencyCode } from '../money/currency';
import type { ContractState } from './state';

export interface ScamPattern {
	id: string;
	/** What the text looks like, completing "This looks like …". */
	looksLike: string;
	/** What the text asks, in plain words, shown to both people. */
	explanation: string;
	/** Why it is risky. */
	reason: string;
	/** Any of these matching one sentence flags it… */
	match: RegExp[];
	/** …if this also matches somewhere in the text (context the sentence alone does not carry)… */
	with?: RegExp;
	/** …unless one of these matches the same sentence (code and product words: "PayPal integration"). A refusal ("never pay outside the app") never counts. */
	unless?: RegExp[];
	/** Flagged only while nothing has been funded into escrow (sharing contact details is ordinary after). */
	beforeFundingOnly?: boolean;
}

export interface ScamWarning {
	id: string;
	looksLike: string;
	explanation: string;
	reason: string;
	/** The words that matched, quoted from the original text. */
	excerpt?: string;
	/** What the numbers were, for pay far above the scope: "$5,000.00 for 5 words of scope". */
	detail?: string;
}

export interface ScamContext {
	/** Some money has been funded into escrow on this contract. */
	funded: boolean;
}

// Building blocks, as regular-expression source.
const CRYPTO = String.raw`(?:crypto(?:currency|currencies)?|bitcoins?|btc|ethereum|eth|ether|usdt|tether|usdc|litecoin|ltc|monero|xmr|solana|bnb|dogecoin|tron|trx)`;
const PAY_APP = String.raw`(?:paypal|zelle|venmo|cash ?app|revolut|wise|payoneer|skrill|apple pay|google pay|gpay|alipay|wechat pay)`;
const CHANNEL = String.raw`(?:whats ?app|telegram|skype|signal|wechat|viber|discord|kik|imessage|hangouts|google chat|snapchat|messenger)`;
const EMAIL = String.raw`[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}`;
const PHONE = String.raw`\+?\d[\d ().-]{7,}\d`;
const NEGATION = String.raw`\b(?:never|don'?t|do not|won'?t|will not|shouldn'?t|should not|can'?t|cannot|not|refuse to|no one should|nobody should)\b`;
/** Up to three words, not across a comma: "don't worry, send it" is no refusal. */
const GAP3 = String.raw`(?: [^\s,;:]+){0,3}`;
/** Code and product words: a sentence about building a payments feature is not a request to be paid. */
const TECH = /\b(?:integrat\w*|gateway|api|sdk|checkout|users?|customers?|exchange|dashboard|plugin|module|feature|support for|library|smart contracts?|dapp|testnet|webhooks?)\b/;
const GIFT_CARD = String.raw`\b(?:gift ?cards?|itunes|google play|steam|razer gold|apple card|amazon card|ebay card|vanilla)\b`;
/** What a job-fee scam charges for. */
const FEE_FOR = String.raw`(?:registration|application|onboarding|training|activation|membership|verification|admin|administrative|equipment|starter|clearance|placement|enrollment|enrolment|joining)`;
const re = (source: string) => new RegExp(source);
/** The words just before a match refuse it rather than ask it: "never share your bank details", "I won't start before…". */
const REFUSED = re(NEGATION + GAP3 + ' $');

export const SCAM_PATTERNS: readonly ScamPattern[] = [
	{
		id: 'bank-details',
		looksLike: 'a request to pay outside the app',
		explanation: 'It asks for bank details, or for money to be paid straight into a bank account.',
		reason: 'Money paid into a bank account is not held in escrow: it cannot be released per milestone or taken back, and the Resolution Center cannot help. Bank details can also be misused.',
		match: [
			re(String.raw`\b(?:pay|deposit|wire|remit)\b.{0,40}?\b(?:to|into|in) (?:my|our|this|the following|his|her) (?:\w+ )?(?:bank|account|iban)\b`),
			re(String.raw`\b(?:send|transfer|move|put)\b.{0,40}?\b(?:to|into|in) (?:my|our|this|the following) (?:\w+ )?(?:bank account|bank|iban|checking account|savings account)\b`),
			re(String.raw`\b(?:send|transfer|move)(?: me| us)?(?: the| your| all the| that)? (?:money|funds|payment|cash|amount|balance)\b.{0,30}?\b(?:to|into) (?:my|our|this|the following) (?:\w+ )?account\b`),
			re(String.raw`\b(?:send|give|share|provide|need|want|tell|what'?s|what is|what are|let me (?:have|know))\b.{0,20}?\b(?:your|ur) (?:full )?(?:bank(?:ing)? (?:details|info|information|account|account number|login|credentials)|account (?:number|details)|routing (?:number|no)|sort code|iban|swift(?: code)?|card (?:number|details)|credit card (?:number|details)|debit card (?:number|details))\b`),
			re(String.raw`\b(?:my|our) (?:bank(?:ing)? (?:details|info|information|account(?: number)?)|account (?:number|no|#)|routing (?:number|no)|sort code|iban|swift(?: code)?)(?: is| are|:| below| here| as follows| attached)`),
			re(String.raw`\b(?:iban(?: ?[:#]| is) ?[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}|(?:sort code|routing (?:number|no))(?: ?[:#]| is) ?\d{2}[\d -]{4,})`)
		]
	},
	{
		id: 'wire-transfer',
		looksLike: 'a request to pay outside the app',
		explanation: 'It asks for payment by wire transfer or a money transfer service, outside escrow.',
		reason: 'A wire goes straight to the other person and cannot be called back: nothing is held in escrow and the Resolution Center cannot help.',
		match: [
			re(String.raw`\bwire (?:me|us|the (?:money|funds|payment|amount|balance|rest|deposit|fee)|(?:the |a )?payment|money|funds|[$€£\d])`),
			re(String.raw`\b(?:send|make|do|initiate|arrange|use|prefer|accept|pay (?:by|with|via|through)|paid (?:by|via))(?: me| us)? (?:a |the |an )?(?:bank |international |swift |domestic |direct )?wire(?: transfer)?\b`),
			re(String.raw`\b(?:via|by|through|using|over|per) (?:a |bank |international |swift )?wire(?: transfer)?\b`),
			re(String.raw`\b(?:western union|moneygram|money gram|worldremit|remitly)\b`)
		],
		with: /\b(?:pay|paid|payment|money|funds|send|sent|transfer|\$|€|£|usd|eur|gbp|amount|deposit|fee)/,
		unless: [TECH, /\b(?:connected|cable|solder\w*|circuit|sensor)\b/]
	},
	{
		id: 'gift-cards',
		looksLike: 'a request to pay outside the app',
		explanation: 'It asks for payment in gift cards or their codes.',
		reason: 'Gift cards are a favourite of scammers: once a code is shared the money is gone, it cannot be traced or refunded, and no real client pays that way.',
		match: [
			re(String.raw`\b(?:pay|paying|payment)\b(?: \S+){0,4} (?:in|with|via|using|by|through) (?:\S+ ){0,2}gift ?cards?\b`),
			re(String.raw`\b(?:buy|get|purchase|pick up|grab)(?: me| us)(?: \S+){0,4} gift ?cards?\b`),
			// The codes and the scratch strip count in a sentence that names the cards ("send me the code" alone is code).
			re(String.raw`\b(?:send|give|share|text|email|read)(?: me| us)(?: the| a| your)? (?:\S+ ){0,2}(?:codes|code|pins?|card numbers?)\b(?=.*` + GIFT_CARD + String.raw`)|` + GIFT_CARD + String.raw`.*\b(?:send|give|share|text|email|read)(?: me| us)(?: the| a| your)? (?:\S+ ){0,2}(?:codes|code|pins?|card numbers?)\b`),
			re(String.raw`\bscratch (?:off )?the (?:back|strip|silver)\b(?=.*` + GIFT_CARD + ')|' + GIFT_CARD + String.raw`.*\bscratch (?:off )?the (?:back|strip|silver)`)
		],
	},
	{
		id: 'crypto',
		looksLike: 'a request to pay outside the app',
		explanation: 'It asks for payment in cryptocurrency or to a crypto wallet.',
		reason: 'Crypto sent to a wallet cannot be reversed or traced to a person, and it is never held in escrow: if the work never comes, the money is gone.',
		match: [
			re(String.raw`\b(?:pay|paid|payment|send|transfer|settle)\b(?: \S+){0,4} (?:in|with|via|using|by|through) ` + CRYPTO + String.raw`\b`),
			re(String.raw`\b(?:send|pay|transfer|deposit)\b.{0,40}?\b(?:to|into) (?:my|our|this|the following) (?:\S+ )?(?:wallet|(?:` + CRYPTO + String.raw`) (?:wallet|address)|binance(?: id| account| pay)?)\b`),
			re(String.raw`\b(?:my|our) (?:` + CRYPTO + String.raw` )?(?:wallet(?: address)?|(?:` + CRYPTO + String.raw`) address|binance (?:id|pay id))(?: is| are|:| below| here)`),
			re(String.raw`\b(?:send|pay|transfer|deposit)\b.{0,60}?\b(?:bc1[a-z0-9]{20,}|0x[a-f0-9]{40}|t[a-z0-9]{33})\b`)
		],
		unless: [TECH]
	},
	{
		id: 'friends-and-family',
		looksLike: 'a request to pay outside the app',
		explanation: 'It asks to be paid through PayPal “friends and family” (or as a gift).',
		reason: 'Friends-and-family payments have no buyer protection: PayPal will not refund them, and they skip escrow entirely.',
		match: [
			/\bpaypal\b.{0,40}\bfriends? ?(?:and|&|n|\+) ?family\b/,
			/\bfriends? ?(?:and|&|n|\+) ?family\b.{0,40}\bpaypal\b/,
			/\b(?:send|pay|paid|payment|choose|select|mark|tick|use)\b(?: \S+){0,4} (?:as|via|through|under|using|with) "?(?:paypal )?friends? ?(?:and|&|n|\+) ?family\b/,
			/(?:^|[\s(])(?:f ?& ?f|fnf)(?:$|[\s.,!?)])/,
			/\bas a gift\b.{0,30}\bpaypal\b|\bpaypal\b.{0,30}\bas a gift\b/
		],
		with: /\b(?:pay|paid|payment|paypal|send|money)\b/,
		unless: [TECH]
	},
	{
		id: 'payment-app',
		looksLike: 'a request to pay outside the app',
		explanation: 'It asks to be paid directly through a payment app (PayPal, Zelle, Venmo, Cash App…), outside escrow.',
		reason: 'A direct app payment goes straight to the other person: nothing is held in escrow, it usually cannot be reversed, and the Resolution Center has no record of it.',
		match: [
			re(String.raw`\b(?:pay|send|transfer|tip)\b(?: \S+){0,3} (?:me|us)\b(?: \S+){0,3} (?:on|via|through|with|using|over|by) (?:my |our )?` + PAY_APP + String.raw`\b`),
			re(String.raw`\b(?:pay|send|transfer)\b(?: \S+){0,3} (?:directly|straight|outside)(?: \S+){0,2} (?:on|via|through|with|using|over|by|to) ` + PAY_APP + String.raw`\b`),
			re(String.raw`\b(?:to|into|on) (?:my|our) ` + PAY_APP + String.raw`(?: account)?\b`),
			re(String.raw`\b(?:my|our) ` + PAY_APP + String.raw`(?: account| handle| username| user name| id| email| tag| link| address| number)? (?:is|are|:) ?(?:` + EMAIL + '|' + PHONE + String.raw`|@\w|\$\w|paypal\.me)`),
			re(String.raw`\b(?:send|give|share|what'?s|what is|drop)(?: me)? your ` + PAY_APP + String.raw`\b`),
			/\b(?:zelle|venmo|paypal|cash ?app) (?:me|us)\b/,
			/\bpaypal\.me\/\w/,
			/(?:^| )\$[a-z][a-z0-9_]{2,19}\b.{0,30}\bcash ?app\b|\bcash ?app\b.{0,30}\$[a-z][a-z0-9_]{2,19}\b/
		],
		unless: [TECH]
	},
	{
		id: 'outside-the-app',
		looksLike: 'a request to pay or talk outside the app',
		explanation: 'It suggests paying or dealing outside the app, around escrow.',
		reason: 'Outside the app nothing is held in escrow, there is no signed record of what was agreed, and the Resolution Center cannot help if something goes wrong.',
		match: [
			/\b(?:pay|paying|payment|deal|work|transact|settle|continue|send|talk|communicate|chat|move|take this|take it)\b(?: \S+){0,5} (?:outside|off|away from) (?:of )?(?:the |this )?(?:app|platform|site|escrow|system)\b/,
			/\b(?:pay|send|transfer)(?: the (?:money|payment|rest|balance))? (?:me|us)(?: there| instead| via \S+| on \S+| through \S+)? directly\b/,
			/\bpay(?:ing)? directly to (?:me|us)\b/,
			/\b(?:skip|avoid|bypass|cut out|get around|go around|save on|dodge)(?: the| all the| any| those)? (?:escrow|middleman|(?:app|platform|escrow|service)(?:'s)? fees?)\b/,
			/\bcancel (?:the|this|our) (?:contract|milestone|escrow)\b.{0,40}\b(?:pay|send|directly)\b/
		]
	},
	{
		id: 'pay-a-fee',
		looksLike: 'a request to pay a fee to get the job',
		explanation: 'It asks you to pay a fee or deposit (registration, training, equipment…) to get or start the job.',
		reason: 'Real clients pay you; they do not charge you to be hired. Job-fee scams take the fee and disappear.',
		match: [
			/\b(?:you|u)(?: will| would|'ll)?(?: need to| must| have to| should| are required to| first need to| just need to| only need to| need)? (?:pay|send|deposit|cover|transfer)(?: us| me| the company| our team)?(?: a| an| the| your| our| this)?(?: small| one-?time| refundable| little| nominal| \S*\d\S*)? (?:registration|application|onboarding|training|activation|membership|verification|security|admin|administrative|equipment|starter|clearance|background check|placement|enrollment|enrolment|joining)(?: fee| fees| deposit| kit| charge| cost| payment)\b/,
			/(?:^|\b(?:please|kindly|first,?|just|simply) )(?:pay|send|deposit|transfer)(?: us| me)?(?: a| an| the| your)?(?: small| one-?time| refundable| \S*\d\S*)? (?:registration|application|onboarding|training|activation|membership|verification|admin|administrative|equipment|starter|clearance|placement|enrollment|enrolment|joining)(?: fee| fees| deposit| kit| charge| cost)\b/,
			re(String.raw`\b(?:pay|send|deposit|transfer)\b(?: \S+){0,3} (?:for|toward|towards|to cover) (?:the |your |a |an |our )?` + FEE_FOR + String.raw` (?:fee|fees|deposit|kit|charge|cost|payment)\b`),
			/\b(?:pay|send|deposit|transfer|buy|purchase)\b(?: \S+){0,6} (?:to|in order to|so (?:that )?you can|before you can|and you'?ll|and you will|then you'?ll|then you will) (?:get|secure|unlock|receive|land|win|be)(?: \S+){0,2} (?:job|position|role|gig|hired|selected|assigned|approved|onboarded)\b/,
			/\b(?:buy|purchase|order)(?: the| your| some)? (?:equipment|software|laptop|kit|starter kit|supplies|license|licence|training|course)(?: \S+){0,4} from (?:our|my) (?:vendor|supplier|partner|approved|designated|preferred|recommended|store)/
		],
		unless: [/\b(?:milestone|escrow|fund|funded|funding)\b/, TECH]
	},
	{
		id: 'overpayment',
		looksLike: 'an overpayment scam (“send back the difference”)',
		explanation: 'It says too much was paid and asks for the difference to be sent back.',
		reason: 'The “overpayment” is usually fake or reversed later, and the money sent back is lost. Any refund goes through escrow here, never by sending money back yourself.',
		match: [
			/\b(?:send|pay|transfer|wire|give|refund|return|mail)(?: (?:me|us|it))? back(?: (?:to )?(?:me|us))? (?:the|that|this|any|my) (?:difference|excess|extra (?:amount|money|funds)|overpayment|overpaid|surplus|balance|remaining (?:amount|money|balance|funds)|(?:rest|remainder)(?! of (?!(?:the |it|my )?(?:money|amount|funds|payment|cash)\b)))\b/,
			/\b(?:send|transfer|wire|give|return|refund|reimburse)(?: me| us)? (?:the|that|this|any|my) (?:difference|excess(?: amount)?|overpayment|overpaid amount|surplus|extra (?:amount|money|funds))(?= ?(?:$|[.,!?;:]| back\b| to | via | by | through | using | on | please| asap| now| today))/,
			/\bi(?: have|'ve)?(?: accidentally| mistakenly| by mistake| wrongly| just)? (?:over ?paid|over-paid|sent (?:you )?(?:too much|double|twice the amount|more than (?:agreed|we agreed|i should|the (?:amount|agreed|invoice|total|milestone|price))))\b/
		]
	},
	{
		id: 'contact-details',
		looksLike: 'a request to talk outside the app',
		explanation: 'It shares or asks for contact details (email, phone, WhatsApp, Telegram, Skype…) before any milestone is funded.',
		reason: 'Scams usually move the conversation to email or a chat app before any money is in escrow, where there is no record and these warnings cannot follow. Once a milestone is funded this is ordinary.',
		beforeFundingOnly: true,
		match: [
			re(String.raw`\b(?:email|e-mail|mail|write to|write|contact|reach|call|text|ring|sms|message|ping|dm|add|find|hit)(?: me| us)(?: up)?(?: directly| privately| personally| instead| now| back)? (?:at|on|via|through|by|over|using|to)\b(?: \S+){0,2}? (?:(?:my |our )?(?:` + CHANNEL + String.raw`|email|e-mail|gmail|phone|mobile|cell|number)\b|` + EMAIL + '|' + PHONE + String.raw`|@[a-z0-9_]{3,})`),
			re(String.raw`\b(?:` + CHANNEL + String.raw`) (?:me|us)\b`),
			re(String.raw`\b(?:my|our) (?:personal |private |direct |work )?(?:email|e-mail|mail|gmail|contact (?:details|info|information))(?: address)? (?:is|are|:) ?` + EMAIL),
			re(String.raw`\b(?:my|our) (?:personal |private |direct |work )?(?:phone|number|cell|mobile|whats ?app|contact (?:details|info|information))(?: number)? (?:is|are|:) ?` + PHONE),
			re(String.raw`\b(?:my|our) (?:` + CHANNEL + String.raw`)(?: (?:id|handle|username|user name|name) (?:is|:) ?\S{3,}| (?:is|:) ?(?:@|live:|\+?\d)\S{2,})`),
			re(String.raw`\b(?:let'?s|lets|we can|we could|can we|could we|shall we|i'?d (?:like|prefer) to|please)(?: \S+){0,2} (?:talk|chat|continue|move|discuss|connect|communicate|speak|switch|take (?:this|it))(?: \S+){0,3} (?:on|via|over|through|in|to|using) (?:` + CHANNEL + String.raw`|email|e-mail|my email|my number)\b`),
			re(String.raw`\b(?:send|give|share|drop|leave|what'?s|what is|tell)(?: me| us)? (?:your|ur) (?:personal |private |direct )?(?:email|e-mail|email address|(?:phone|cell|mobile)(?: number)?|number|whats ?app(?: number)?|telegram|skype(?: id)?|signal|wechat|discord|contact (?:details|info|information))\b(?! (?:of|model|type|os|version|screen|size|plan|template|design|list|campaign|provider|service|format|signature|newsletter|marketing)\b)`),
			re(String.raw`\b(?:reach out|get in touch|contact me|contact us)(?: \S+){0,3} (?:at|on|via|:) ?(?:` + EMAIL + '|' + PHONE + ')'),
			re(String.raw`\b(?:telegram|skype|signal|discord|insta(?:gram)?)(?: (?:id|handle|username|user name|is|at|:))* ?@[a-z0-9_.]{3,}`),
			/\bwa\.me\/\d{6,}|\bt\.me\/[a-z0-9_]{3,}/
		],
		// Contact details that go on the thing being built ("the handles for the contact page").
		unless: [/\bfor the (?:\w+ )?(?:page|site|footer|header|form|app|profile)\b/]
	},
	{
		id: 'unfunded-start',
		looksLike: 'a request to start before the milestone is funded',
		explanation: 'It asks to start the work before the milestone is funded, or says funding can come later.',
		reason: 'Until a milestone is funded nothing is held in escrow: work done before then may never be paid, and a client who will not fund is a warning sign.',
		match: [
			/\b(?:start|begin|commence|get started|kick off|work on (?:it|this)|go ahead|proceed)\b(?: \S+){0,6} (?:before|without) (?:(?:any |the |a |an )?(?:funding|escrow|deposit|payment|paying)|(?:you|i|we|the client) (?:fund|funds|pay|deposit)|(?:the |this |my |your |any )?(?:milestone|escrow|contract|project|work|it)(?: is| being| gets| has been)? (?:funded|in escrow))\b/,
			/\b(?:i'?ll|i will|we'?ll|we will|i can|gonna|going to)(?: \S+){0,2} (?:fund|pay|deposit)\b(?: \S+){0,4} (?:later(?! today| tonight| this)|afterwards|after (?:you|the work|delivery|it'?s done|completion|i see)|once (?:you|the work|it'?s|i see|i'?m happy|i have seen|i'?ve seen)|when (?:you|the work|it'?s|i see))/,
			/\b(?:no need|don'?t need|do not need|not necessary|unnecessary|skip)(?: \S+){0,2} (?:to )?(?:fund|funding|the escrow|escrow|the milestone|a milestone|milestones)\b/
		],
		with: /\b(?:start|begin|commence|work|proceed|go ahead|get going|escrow|milestone)/,
		unless: [/\b(?:second|next|later|other|remaining|following|2nd|3rd) milestone|\bmilestone (?:2|3|two|three)\b/, /\b(?:through|via|from) (?:the )?escrow\b|\breleas/]
	},
	{
		id: 'payment-change',
		looksLike: 'a change of payment details',
		explanation: 'It says payment details have changed, or asks to pay to a new account or wallet.',
		reason: 'A sudden change of payment details is how payments get diverted, often from a hijacked account. Payments here go only through the escrow provider named in the contract, which no message can change.',
		match: [
			/\b(?:my|our) (?:(?:bank|banking|payment|payout|paypal|wallet|iban|crypto|btc|usdt|wire|remittance)(?: account)?|account)(?: details| info| information| address| number| data)? (?:has |have )?(?:\S+ )?(?:changed|been changed|been updated|is changing|are changing)\b/,
			/\b(?:my|our|this|the following) (?:new|different|updated|other|alternate|alternative|second) (?:bank(?: account)?|banking details|bank details|account number|iban|payment details|payment info|payout account|paypal(?: account| email)?|wallet(?: address)?|crypto address)\b/,
			/\b(?:send|pay|transfer|deposit|wire)\b(?: \S+){0,4} (?:to|into) (?:my|our|this) (?:new|other|second|alternate|alternative|backup|different) (?:account|bank|wallet)\b/,
			/\b(?:please|kindly|pls|can you|could you|you (?:should|need to|must))(?: \S+){0,2} (?:update|change)(?: your records of)? (?:my|our) (?:payment|bank|banking|payout|paypal|wallet) (?:details|info|information|account|address)\b/
		],
		// Payment details as a screen being designed, not as this contract's.
		unless: [/\b(?:mockups?|screens?|pages?|forms?|settings|ui|ux|figma|prototypes?|wireframes?|user stor(?:y|ies)|as a user)\b/]
	},
	{
		id: 'upfront-outside-escrow',
		looksLike: 'a request to pay up front outside escrow',
		explanation: 'It asks for payment up front, before the work and outside a funded milestone.',
		reason: 'An upfront payment outside escrow cannot be taken back if the work never arrives. Here the way to pay up front is to fund a milestone: the money waits in escrow until it is released.',
		match: [
			/\b(?:pay|send|transfer|need|want|require|ask for|deposit)\b(?: me| us)?(?: \S+){0,3} (?:\d+ ?%|half|everything|the full (?:amount|price|payment)|the whole (?:amount|thing)|full payment|all of it|a deposit|an advance|the deposit)(?: \S+){0,3} (?:upfront|up front|up-front|in advance|before i (?:start|begin)|before we (?:start|begin)|beforehand)\b/
		],
		unless: [/\b(?:escrow|milestone|fund|funded|funding)\b/]
	}
];

/** One thresholds row: a proposal this short that pays at least this much is unusual. */
export interface PayScopeThreshold {
	id: string;
	/** Words of scope (the scope, milestone titles and descriptions) at most. */
	maxWords: number;
	/** Fixed price: the contract total, in US dollars (compared through ROUGH_UNITS_PER_USD). */
	minTotalUsd?: number;
	/** Hourly: the rate, in US dollars an hour. */
	minRateUsd?: number;
	reason: string;
}

/**
 * Pay far above the scope, as data. The seed warns of "unusually high payments for minimal work":
 * someone paying thousands for a few words of scope is usually after something else (a fake cheque,
 * a fee, an account).
 */
export const PAY_SCOPE_THRESHOLDS: readonly PayScopeThreshold[] = [
	{
		id: 'tiny-scope',
		maxWords: 12,
		minTotalUsd: 3_000,
		reason: 'Thousands for a dozen words of scope: real projects at that price describe the work, and scams offer big pay for little work to win trust before asking for something back.'
	},
	{
		id: 'short-scope',
		maxWords: 40,
		minTotalUsd: 15_000,
		reason: 'A large contract described in a few lines: pay this far above what the scope says is a classic lure.'
	},
	{
		id: 'hourly-rate',
		maxWords: 12,
		minRateUsd: 200,
		reason: 'A very high hourly rate for work the scope barely describes: pay far above the going rate is a classic lure.'
	}
];

/** Rough units of each currency per US dollar: the thresholds are orders of magnitude, not prices. */
export const ROUGH_UNITS_PER_USD: Record<CurrencyCode, number> = { USD: 1, EUR: 0.9, GBP: 0.8, CAD: 1.4, AUD: 1.5, CHF: 0.9, JPY: 150, KWD: 0.3, BHD: 0.38 };

export const PAY_ABOVE_SCOPE = {
	id: 'pay-above-scope',
	looksLike: 'unusually high pay for the work described',
	explanation: 'The pay is very high for how little work the scope describes.'
} as const;

/**
 * Lower case, straight quotes, one space between words (a newline where the gap had one: it ends a
 * sentence); `at[i]` is where output character i came from, so an excerpt quotes the original.
 */
function normalise(text: string): { norm: string; at: number[] } {
	let norm = '';
	const at: number[] = [];
	let gap: { char: string; at: number } | undefined;
	for (let i = 0; i < text.length; i++) {
		let c = text[i]!;
		if (/[\u200b-\u200d\u2060\ufeff\u00ad]/.test(c)) continue; // zero-width characters and soft hyphens hide words from patterns
		if (/\s/.test(c)) {
			gap = { char: c === '\n' || gap?.char === '\n' ? '\n' : ' ', at: gap?.at ?? i };
			continue;
		}
		if (gap && norm) (norm += gap.char), at.push(gap.at);
		gap = undefined;
		if (/[\u2018\u2019\u02bc`]/.test(c)) c = "'";
		else if (/[\u201c\u201d]/.test(c)) c = '"';
		else if (/[\u2013\u2014]/.test(c)) c = '-';
		const lower = c.toLowerCase();
		norm += lower.length === 1 ? lower : c;
		at.push(i);
	}
	return { norm, at };
}

/** Sentences of the normalised text, and where each starts in it. */
function sentences(norm: string): { text: string; start: number }[] {
	const out: { text: string; start: number }[] = [];
	let start = 0;
	const push = (end: number) => {
		const text = norm.slice(start, end);
		const lead = text.length - text.trimStart().length;
		if (text.trim()) out.push({ text: text.trim(), start: start + lead });
	};
	for (const m of norm.matchAll(/[.!?;]+(?= |\n|$)|\n/g)) {
		push(m.index + m[0].length);
		start = m.index + m[0].length;
	}
	push(norm.length);
	return out;
}

const EXCERPT_MAX = 80;

function excerptOf(text: string, at: number[], start: number, length: number): string {
	const from = at[start] ?? 0;
	const to = (at[Math.min(start + length, at.length) - 1] ?? from) + 1;
	const words = text.slice(from, to).replace(/\s+/g, ' ').trim();
	return words.length > EXCERPT_MAX ? `${words.slice(0, EXCERPT_MAX - 1)}…` : words;
}

/** The warnings a text raises, one per pattern, in the order of SCAM_PATTERNS. */
export function warningsFor(text: string, context: ScamContext): ScamWarning[] {
	if (!text.trim()) return [];
	const { norm, at } = normalise(text);
	const parts = sentences(norm);
	const out: ScamWarning[] = [];
	for (const p of SCAM_PATTERNS) {
		if (p.beforeFundingOnly && context.funded) continue;
		if (p.with && !p.with.test(norm)) continue;
		for (const part of parts) {
			if (p.unless?.some((u) => u.test(part.text))) continue;
			const hit = p.match.map((r) => r.exec(part.text)).find((m) => m !== null && !REFUSED.test(part.text.slice(0, m.index).trimEnd() + ' '));
			if (!hit) continue;
			out.push({ id: p.id, looksLike: p.looksLike, explanation: p.explanation, reason: p.reason, excerpt: excerptOf(text, at, part.start + hit.index, hit[0].length) });
			break;
		}
	}
	return out;
}

/** Has any money been funded into escrow on this contract (a milestone, or an hourly week)? */
export function isFunded(s: Pick<ContractState, 'milestones' | 'hourly'>): boolean {
	if (s.milestones.some((m) => m.funded > 0)) return true;
	for (const w of s.hourly?.weeks.values() ?? []) if (w.funded > 0) return true;
	return false;
}

export function scamContext(s: Pick<ContractState, 'milestones' | 'hourly'> | undefined): ScamContext {
	return { funded: s ? isFunded(s) : false };
}

/** What a proposal carries that the checks read: signed terms fit, and so does a draft on the new-contract form. */
export interface ProposalText {
	kind?: 'fixed' | 'hourly';
	title: string;
	scope: string;
	currency: CurrencyCode;
	milestones: readonly { title: string; amount: number; description?: string }[];
	hourly?: { rate: number };
}

const wordCount = (text: string) => text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;

/** Minor units of `currency` worth about `usd` US dollars. */
const usdInMinor = (usd: number, currency: CurrencyCode) => Math.round(usd * ROUGH_UNITS_PER_USD[currency] * 10 ** exponentOf(currency));

/** Pay far above the scope: the first threshold the proposal crosses, with its reason. */
export function payAboveScope(terms: ProposalText): ScamWarning | undefined {
	const words = wordCount([terms.scope, ...terms.milestones.flatMap((m) => [m.title, m.description ?? ''])].join(' '));
	const hourly = terms.kind === 'hourly';
	const total = terms.milestones.reduce((a, m) => a + (Number.isSafeInteger(m.amount) && m.amount > 0 ? m.amount : 0), 0);
	for (const t of PAY_SCOPE_THRESHOLDS) {
		if (words > t.maxWords) continue;
		const scope = `${words} ${words === 1 ? 'word' : 'words'} of scope`;
		if (!hourly && t.minTotalUsd !== undefined && total >= usdInMinor(t.minTotalUsd, terms.currency))
			return { ...PAY_ABOVE_SCOPE, reason: t.reason, detail: `${formatAmount(total, terms.currency)} for ${scope}` };
		if (hourly && t.minRateUsd !== undefined && terms.hourly && terms.hourly.rate >= usdInMinor(t.minRateUsd, terms.currency))
			return { ...PAY_ABOVE_SCOPE, reason: t.reason, detail: `${formatAmount(terms.hourly.rate, terms.currency)} an hour for ${scope}` };
	}
	return undefined;
}

/**
 * The warnings a proposal raises: its words (title, scope, each milestone's title and description)
 * and its pay against its scope. A proposal is read as unfunded unless `state` says otherwise.
 */
export function proposalWarnings(terms: ProposalText, state?: Pick<ContractState, 'milestones' | 'hourly'>): ScamWarning[] {
	const context = scamContext(state);
	const texts = [terms.title, terms.scope, ...terms.milestones.flatMap((m) => [m.title, m.description ?? ''])];
	const seen = new Set<string>();
	const out: ScamWarning[] = [];
	for (const text of texts)
		for (const w of warningsFor(text, context))
			if (!seen.has(w.id)) {
				seen.add(w.id);
				out.push(w);
			}
	const order = (id: string) => SCAM_PATTERNS.findIndex((p) => p.id === id);
	out.sort((a, b) => order(a.id) - order(b.id));
	const pay = payAboveScope(terms);
	if (pay) out.push(pay);
	return out;
}
