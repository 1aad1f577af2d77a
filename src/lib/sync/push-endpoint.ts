/**
 * This device's push endpoint, once known (push.ts sets it after subscribing on this page): the
 * relay client sends it with each upload so the relay does not wake this device for its own events.
 * Its own tiny module so the relay sync can read it without loading the push code.
 */
let endpoint: string | undefined;

export const ownPushEndpoint = (): string | undefined => endpoint;

export function setOwnPushEndpoint(value: string | undefined): void {
	endpoint = value;
}
