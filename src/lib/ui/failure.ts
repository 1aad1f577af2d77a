/**
 * What a form shows when an action fails: field errors from the schema, the rule's refusal, or the
 * provider's reason — and, for the provider, that nothing changed (the intent was never written).
 */
import { EscrowError } from '../escrow/adapter';
import { ActionRefused } from '../sync/party';

export function failureMessages(e: unknown): Record<string, string> {
	if (e instanceof ActionRefused) return Object.keys(e.fields).length ? e.fields : { form: e.message };
	if (e instanceof EscrowError) return { form: `${e.message} Nothing was changed.` };
	return { form: e instanceof Error ? e.message : String(e) };
}
