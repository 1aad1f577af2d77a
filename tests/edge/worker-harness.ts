/**
 * The escrow function's Workers build under workerd (miniflare): its secrets as bindings, its record
 * in SQLite-backed Durable Objects persisted under `persist`, and every outbound request answered by
 * the Stripe fake in this process. What each workerd suite starts (workerd, hourly, devices).
 */
import { Miniflare, Response as MfResponse, type Request as MfRequest } from 'miniflare';
import { utf8 } from '../../src/lib/contract/encoding';
import { onboardingMessage, PATHS } from '../../src/lib/escrow/protocol';
import { signSync, type DeviceKey } from '../../src/lib/identity/ed25519';
import type { FakeStripe } from './fake-stripe/fake';
import { freshNonce, ORIGIN, SIGNING_SEED, WEBHOOK_SECRET } from './harness';

export const WORKER_BASE = 'http://escrow.local';

export function escrowWorker(script: string, persist: string, fake: FakeStripe, onOutbound: (url: string) => void = () => {}): Miniflare {
	return new Miniflare({
		modules: true,
		script,
		compatibilityDate: '2026-04-01',
		bindings: { STRIPE_SECRET_KEY: 'sk_test_workerdRunsAgainstTheFake', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ESCROW_SIGNING_SEED: SIGNING_SEED, ALLOWED_ORIGINS: ORIGIN },
		durableObjects: {
			RECORDS: { className: 'ContractRecordObject', useSQLite: true },
			ACCOUNTS: { className: 'AccountsObject', useSQLite: true }
		},
		durableObjectsPersist: persist,
		outboundService: async (req: MfRequest) => {
			onOutbound(req.url);
			const res = await fake.fetch(req.url, { method: req.method, headers: Object.fromEntries(req.headers), body: req.method === 'GET' ? undefined : await req.text() });
			return new MfResponse(await res.text(), { status: res.status, headers: Object.fromEntries(res.headers) });
		}
	});
}

/** Onboard `key` as a payee through `call` (one-time proof), complete it at the fake, and return the connected account. */
export async function onboardThrough(call: (input: string, init?: RequestInit) => Promise<Response>, fake: FakeStripe, key: DeviceKey): Promise<string> {
	const at = Date.now();
	const back = `${ORIGIN}/`;
	const nonce = freshNonce();
	const proof = { publicKey: key.publicKey, at, nonce, signature: signSync(key, utf8.encode(onboardingMessage(key.publicKey, at, back, back, nonce))), returnUrl: back, refreshUrl: back };
	const res = await call(WORKER_BASE + PATHS.onboarding, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(proof) });
	if (res.status !== 200) throw new Error(`onboarding failed (${res.status}): ${await res.text()}`);
	const { account } = (await res.json()) as { account: string };
	fake.completeOnboarding(account);
	return account;
}
