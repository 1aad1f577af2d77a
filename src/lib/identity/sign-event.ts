/** Turning a composed draft into a stored envelope: fix the body bytes, hash, sign the hash. */
import { encodeBody, encodeEnvelope, signingBytes, type Draft } from '../contract/envelope';
import { sign, signSync, type DeviceKey } from './ed25519';

export interface SignedEvent {
	id: string;
	envelope: string;
}

export async function signEvent(key: DeviceKey, draft: Draft): Promise<SignedEvent> {
	if (draft.author !== key.publicKey) throw new Error('The draft names another author than the signing key.');
	const { id, body } = encodeBody(draft);
	return { id, envelope: encodeEnvelope(id, body, await sign(key, signingBytes(id))) };
}

/** Synchronous variant (noble) for the mock provider and simulations. */
export function signEventSync(key: DeviceKey, draft: Draft): SignedEvent {
	if (draft.author !== key.publicKey) throw new Error('The draft names another author than the signing key.');
	const { id, body } = encodeBody(draft);
	return { id, envelope: encodeEnvelope(id, body, signSync(key, signingBytes(id))) };
}
