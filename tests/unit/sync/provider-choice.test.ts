import { beforeEach, describe, expect, it } from 'vitest';
import { EscrowError } from '../../../src/lib/escrow/adapter';
import { generateKey } from '../../../src/lib/identity/ed25519';
import {
	checkStripeFunction,
	chosenEscrow,
	escrow,
	escrowFor,
	FunctionUrl,
	loadProviderSettings,
	ProviderSettings,
	providerForNewContract,
	PublishableKey,
	saveProviderSettings,
	StripeFields
} from '../../../src/lib/sync/session.svelte';

// A Map-backed localStorage: the settings live there in the browser.
class MemoryStorage {
	private m = new Map<string, string>();
	getItem(k: string) {
		return this.m.get(k) ?? null;
	}
	setItem(k: string, v: string) {
		this.m.set(k, String(v));
	}
	removeItem(k: string) {
		this.m.delete(k);
	}
	clear() {
		this.m.clear();
	}
}

beforeEach(() => {
	(globalThis as { localStorage?: unknown }).localStorage = new MemoryStorage();
});

const fnKey = await generateKey();
const wellKnown = (answer: unknown, status = 200): typeof fetch =>
	(async (input: RequestInfo | URL) => {
		expect(String(input)).toBe('https://escrow.example.dev/.well-known/escrow-key');
		return new Response(JSON.stringify(answer), { status, headers: { 'content-type': 'application/json' } });
	}) as typeof fetch;
const stripeInfo = (testMode = true) => ({ id: 'stripe', name: 'Stripe Connect escrow (TEST MODE)', publicKey: fnKey.publicKey, testMode });

describe('provider settings schema', () => {
	it('accepts https function URLs and http only on localhost', () => {
		expect(FunctionUrl.parse('https://escrow.example.dev/')).toBe('https://escrow.example.dev');
		expect(FunctionUrl.parse(' https://x.supabase.co/functions/v1/escrow ')).toBe('https://x.supabase.co/functions/v1/escrow');
		expect(FunctionUrl.parse('http://localhost:8787')).toBe('http://localhost:8787');
		expect(FunctionUrl.parse('http://127.0.0.1:8787')).toBe('http://127.0.0.1:8787');
		for (const bad of ['http://escrow.example.dev', 'ftp://localhost', 'escrow.example.dev', '', 'https://u:p@escrow.example.dev', 'https://e.dev/?a=1', 'https://e.dev/#x'])
			expect(FunctionUrl.safeParse(bad).success, bad).toBe(false);
	});

	it('accepts only publishable keys', () => {
		expect(PublishableKey.safeParse('pk_test_51Habcdefgh').success).toBe(true);
		expect(PublishableKey.safeParse('pk_live_51Habcdefgh').success).toBe(true);
		for (const bad of ['sk_test_51Habcdefgh', 'pk_foo_51Habcdefgh', 'pk_test_', 'rk_live_51Habcdefgh', 'pk_test_abc def gh'])
			expect(PublishableKey.safeParse(bad).success, bad).toBe(false);
	});

	it('reports field errors by path', () => {
		const r = StripeFields.safeParse({ url: 'http://example.org', publishableKey: 'sk_test_123456789' });
		expect(r.success).toBe(false);
		expect(r.error!.issues.map((i) => i.path[0]).sort()).toEqual(['publishableKey', 'url']);
	});

	it('defaults to the mock and ignores damaged storage', () => {
		expect(loadProviderSettings()).toEqual({ kind: 'mock' });
		localStorage.setItem('milestone.escrowProvider', '{"kind":"stripe","url":"http://evil.example"}');
		expect(loadProviderSettings()).toEqual({ kind: 'mock' });
		localStorage.setItem('milestone.escrowProvider', 'not json');
		expect(loadProviderSettings()).toEqual({ kind: 'mock' });
	});

	it('round-trips a Stripe choice and refuses to save an invalid one', () => {
		const s: ProviderSettings = { kind: 'stripe', url: 'https://escrow.example.dev', publishableKey: 'pk_test_abcdefgh', publicKey: fnKey.publicKey, testMode: true, name: 'Stripe' };
		saveProviderSettings(s);
		expect(loadProviderSettings()).toEqual(s);
		expect(() => saveProviderSettings({ ...s, publishableKey: 'sk_test_abcdefgh' })).toThrow();
		expect(loadProviderSettings()).toEqual(s);
	});
});

describe('checking a Stripe function', () => {
	const fields = { url: 'https://escrow.example.dev', publishableKey: 'pk_test_abcdefgh' };

	it('pins the key the function serves', async () => {
		const s = await checkStripeFunction(fields, wellKnown(stripeInfo()));
		expect(s).toEqual({ kind: 'stripe', ...fields, publicKey: fnKey.publicKey, testMode: true, name: 'Stripe Connect escrow (TEST MODE)' });
	});

	it('refuses an unreachable function, another provider, a malformed key and a mode mismatch', async () => {
		const down = (async () => {
			throw new TypeError('Failed to fetch');
		}) as typeof fetch;
		await expect(checkStripeFunction(fields, down)).rejects.toThrow(/could not be reached/);
		await expect(checkStripeFunction(fields, wellKnown({ ...stripeInfo(), id: 'mock' }))).rejects.toThrow(/not the Stripe Connect/);
		await expect(checkStripeFunction(fields, wellKnown({ ...stripeInfo(), publicKey: 'short' }))).rejects.toBeInstanceOf(EscrowError);
		await expect(checkStripeFunction(fields, wellKnown(stripeInfo(false)))).rejects.toThrow(/runs live/);
		await expect(checkStripeFunction({ ...fields, publishableKey: 'pk_live_abcdefgh' }, wellKnown(stripeInfo(true)))).rejects.toThrow(/TEST MODE/);
		await expect(checkStripeFunction(fields, wellKnown({ code: 'unavailable', message: 'down' }, 503))).rejects.toThrow('down');
	});
});

describe('the adapter for a contract', () => {
	const saved: ProviderSettings = { kind: 'stripe', url: 'https://escrow.example.dev', publishableKey: 'pk_test_abcdefgh', publicKey: fnKey.publicKey, testMode: true, name: 'Stripe' };

	it('is the mock for mock terms, whatever is chosen', async () => {
		expect(escrowFor({ id: 'mock', publicKey: (await escrow.info()).publicKey }, saved)).toBe(escrow);
		expect(chosenEscrow({ kind: 'mock' })).toBe(escrow);
		expect(chosenEscrow(saved)).not.toBe(escrow);
	});

	it('is the saved Stripe function only when the terms name its key', async () => {
		const other = await generateKey();
		const a = escrowFor({ id: 'stripe', publicKey: fnKey.publicKey }, saved);
		expect(a).not.toBe(escrow);
		expect(a).toBe(chosenEscrow(saved));
		for (const adapter of [escrowFor({ id: 'stripe', publicKey: other.publicKey }, saved), escrowFor({ id: 'stripe', publicKey: fnKey.publicKey }, { kind: 'mock' })]) {
			const err = await adapter.fund({ contract: 'c'.repeat(16), log: [], event: 'e'.repeat(43) }).catch((e) => e);
			expect(err).toBeInstanceOf(EscrowError);
			expect(err.message).toMatch(/not set up for it.*Settings/);
			await expect(adapter.now()).rejects.toBeInstanceOf(EscrowError);
		}
		await expect(escrowFor({ id: 'paypal', publicKey: fnKey.publicKey }, saved).release({ contract: 'c'.repeat(16), log: [], event: 'e'.repeat(43) })).rejects.toThrow(/does not know/);
	});

	it('new contracts name the chosen provider', async () => {
		expect((await providerForNewContract({ kind: 'mock' })).id).toBe('mock');
	});
});
