/**
 * What a form shows when an action fails: field errors from the schema, the rule's refusal, or the
 * provider's reason — and, for a refusal, that nothing changed (the intent was never written). When
 * the provider did not answer (a timeout, an outage, a bank debit still processing), the money may
 * already have moved: the page says the payment is kept and asked about again, never "nothing changed".
 */
import { reasonOf } from '../contract/rejections';
import { EscrowError, isTransient } from '../escrow/adapter';
import type { OutboxEntry } from '../sync/outbox';
import { ActionRefused, PendingIntent } from '../sync/party';

/** Field → sentence; "form" holds what belongs to no one field. */
export type FieldErrors = Record<string, string>;

/** The line a page shows for a money intent still waiting for the provider's receipt. */
export function pendingMessage(p: Pick<OutboxEntry, 'expectedAt' | 'lastError'>): string {
	if (p.lastError?.code === 'processing' && p.expectedAt !== undefined)
		return `Processing — expected by ${new Date(p.expectedAt).toLocaleDateString()}. This device checks with the escrow provider until it has cleared.`;
	return 'Waiting for the escrow provider… retrying. This device keeps the signed request and asks again with the same reference, so it is never paid twice.';
}

/**
 * `fields` renames schema paths to the form's own field names (say "change.milestone.amount" →
 * "amount"); a list named there ("links") gathers its items' errors ("links.2"), so each field
 * shows every one of its errors at once. Unnamed paths keep their key.
 */
export function failureMessages(e: unknown, fields: Record<string, string> = {}): FieldErrors {
	if (e instanceof ActionRefused) {
		if (!Object.keys(e.fields).length) return { form: `${reasonOf(e.rejection)} Nothing was changed.` };
		const out: FieldErrors = {};
		for (const [path, text] of Object.entries(e.fields)) {
			const list = path.replace(/\.\d+$/, '');
			const key = fields[path] ?? (list !== path ? fields[list] : undefined) ?? path;
			out[key] = out[key] ? `${out[key]} ${text}` : text;
		}
		return out;
	}
	if (e instanceof PendingIntent) return { form: `${e.message} ${pendingMessage({ expectedAt: e.expectedAt, lastError: { code: e.code, message: e.message, at: 0 } })}` };
	if (e instanceof EscrowError)
		return { form: isTransient(e.code) ? `${e.message} It may or may not have gone through; check before trying again.` : `${e.message} Nothing was changed.` };
	return { form: e instanceof Error ? e.message : String(e) };
}
