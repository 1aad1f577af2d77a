/** Messages (the record both parties keep) and feedback once the contract has ended. */
import { reject } from './rejections';
import type { RuleSet } from './rule';
import { roleOf, type Role } from './state';

export const conversationRules: RuleSet = {
	'message.posted': {
		who: ['client', 'freelancer'],
		check: (s) => (s.status === 'empty' ? reject('invalid-state') : null),
		apply(s, ev) {
			s.messages.push({ id: ev.id, author: ev.author, role: roleOf(s, ev.author) as Role, at: ev.at, text: ev.payload.text });
		}
	},
	'feedback.left': {
		who: ['client', 'freelancer'],
		check(s, ev) {
			if (s.status !== 'ended') return reject('invalid-state', 'Feedback is left once the contract has ended.');
			if (s.feedback[roleOf(s, ev.author) as Role]) return reject('invalid-state', 'Feedback has already been left.');
			return null;
		},
		apply(s, ev) {
			s.feedback[roleOf(s, ev.author) as Role] = { rating: ev.payload.rating, text: ev.payload.text, at: ev.at };
		}
	}
};
