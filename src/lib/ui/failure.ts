/**
 * What a form shows when an action fails: field errors from the schema, the rule's refusal, or the
 * provider's reason — and, for a refusal, that nothing changed (the intent was never written). When
 * the provider did not answer (a timeout, an outage, a bank debit still processing), the money may
 * already have moved: the page says the payment is kept and asked about again, never "nothing changed".
 */
import { EscrowError, isTransient } from '../escrow/adapter';
import type { OutboxEntry } from '../sync/outbox';
import { ActionRefused, PendingIntent } from '../sync/party';

/** The line a page shows for a money intent still waiting for the provider's receipt. */
export function pendingMessage(p: Pick<OutboxEntry, 'expectedAt' | 'lastError'>): string {
	if (p.lastError?.code === 'processing' && p.expectedAt !== undefined)
		return `Processing — expected by ${new Date(p.expectedAt).toLocaleDateString()}. This device checks with the escrow provider until it has cleared.`;
	return 'Waiting for the escrow provider… retrying. This device keeps the signed request and asks again with the same reference, so it is never paid twice.';
}

export function failureMessages(e: unknown): Record<string, string> {
	if (e instanceof ActionRefused) return Object.keys(e.fields).length ? e.fields : { form: e.message };
	if (e instanceof PendingIntent) return { form: `${e.message} ${pendingMessage({ expectedAt: e.expectedAt, lastError: { code: e.code, message: e.message, at: 0 } })}` };
	if (e instanceof EscrowError)
		return { form: isTransient(e.code) ? `${e.message} It may or may not have gone through; check before trying again.` : `${e.message} Nothing was changed.` };
	return { form: e instanceof Error ? e.message : String(e) };
}
