/**
 * The escrow edge function as one web-standard `(Request) => Promise<Response>`: routing, CORS,
 * input validation and the JSON error shape. Runtime entries (worker.ts, deno.ts) only build the
 * dependencies from their environment (and, on Workers, send each contract's requests to its own
 * Durable Object, which runs this same handler over its record); tests build them around the
 * in-process Stripe fake and the in-memory store.
 */
import type Stripe from 'stripe';
import type { z } from 'zod';
import { EscrowError, type FundingQuote, type ProviderInfo, type WithdrawalQuote } from '../lib/escrow/adapter';
import {
	EscrowRequestBody,
	FundingQuoteBody,
	MAX_BODY_BYTES,
	OnboardingBody,
	OnboardingStatusBody,
	PATHS,
	RecordBody,
	WithdrawalQuoteBody
} from '../lib/escrow/protocol';
import { quoted } from '../lib/escrow/provider-core';
import type { DeviceKey } from '../lib/identity/ed25519';
import { quoteFunding, quoteWithdrawal } from '../lib/money/fees';
import { onboard, onboardingStatus, type OnboardingLimits } from './accounts';
import { attest, fund, refund, release, withdraw, type EscrowDeps } from './escrow';
import { toWire } from './failures';
import { serveRecord } from './record';
import { completion } from './ops/completion';
import { COMPLETION_PATH, CompletionBody } from '../lib/escrow/attestation';
import { handleWebhook } from './webhooks';

export interface HandlerDeps extends EscrowDeps {
	stripe: Stripe;
	key: DeviceKey;
	now: () => number;
	webhookSecret: string;
	/** Origins allowed to call from a browser (exact match, e.g. https://app.example). */
	origins: readonly string[];
	testMode: boolean;
	crypto: Parameters<Stripe['webhooks']['constructEventAsync']>[4];
	onboardingLimits?: OnboardingLimits;
	/**
	 * Where a contract's requests go instead of being run here: the Workers front sends each
	 * contract's escrow operations and record reads to that contract's Durable Object (which runs
	 * this same handler without `forward`). Validated first, so a malformed body never reaches one.
	 */
	forward?: (contract: string, req: Request) => Promise<Response>;
}

type Route = (req: Request, d: HandlerDeps) => Promise<unknown>;

const ESCROW_OPS = {
	[PATHS.fund]: fund,
	[PATHS.attest]: attest,
	[PATHS.release]: release,
	[PATHS.refund]: refund,
	[PATHS.withdraw]: withdraw
} as const;

const GET_ROUTES: Record<string, Route> = {
	[PATHS.key]: async (_req, d): Promise<ProviderInfo> => ({
		id: 'stripe',
		name: d.testMode ? 'Stripe Connect escrow (TEST MODE)' : 'Stripe Connect escrow',
		publicKey: d.key.publicKey,
		testMode: d.testMode
	}),
	[PATHS.now]: async (_req, d) => ({ now: d.now() })
};

const POST_ROUTES: Record<string, Route> = {
	[PATHS.quoteFunding]: async (req, d): Promise<FundingQuote> => {
		const b = await input(req, FundingQuoteBody);
		const q = quoted(() => quoteFunding(b.amount, b.method, b.currency, d.now()));
		return { amount: q.amount, fee: q.fee, total: q.total, currency: b.currency, method: b.method, processingMs: q.processingMs, availableAt: q.availableAt };
	},
	[PATHS.quoteWithdrawal]: async (req, d): Promise<WithdrawalQuote> => {
		const b = await input(req, WithdrawalQuoteBody);
		const q = quoted(() => quoteWithdrawal(b.amount, b.method, b.currency, d.now()));
		return { amount: q.amount, fee: q.fee, net: q.net, currency: b.currency, method: b.method, processingMs: q.processingMs, availableAt: q.availableAt };
	},
	[PATHS.onboarding]: async (req, d) => onboard(d, await input(req, OnboardingBody)),
	[PATHS.onboardingStatus]: async (req, d) => onboardingStatus(d, await input(req, OnboardingStatusBody)),
	[PATHS.record]: contractRoute(RecordBody, serveRecord),
	[COMPLETION_PATH]: contractRoute(CompletionBody, completion),
	[PATHS.webhook]: async (req, d) => handleWebhook(d.stripe, d.webhookSecret, await text(req), req.headers.get('stripe-signature'), d.now(), d.crypto),
	...Object.fromEntries(Object.entries(ESCROW_OPS).map(([path, op]) => [path, contractRoute(EscrowRequestBody, op)]))
};

/** A request about one contract: run here, or (Workers front) forwarded to the contract's own object. */
function contractRoute<S extends z.ZodType<{ contract: string }>>(schema: S, run: (d: HandlerDeps, body: z.infer<S>) => Promise<unknown>): Route {
	return async (req, d) => {
		const raw = await text(req);
		const body = parse(raw, schema);
		if (d.forward) return d.forward(body.contract, new Request(req.url, { method: 'POST', headers: req.headers, body: raw }));
		return run(d, body);
	};
}

export function createHandler(d: HandlerDeps): (req: Request) => Promise<Response> {
	return async (req) => {
		const url = new URL(req.url);
		const cors = corsHeaders(req, d.origins);
		if (req.method === 'OPTIONS') return new Response(null, { status: cors ? 204 : 403, headers: cors ?? {} });
		// Webhooks come from Stripe's servers, not a browser: no Origin, no CORS.
		if (req.headers.get('origin') && !cors && url.pathname !== PATHS.webhook)
			return json({ code: 'not-authorised', message: 'This origin may not call the escrow function.' }, 403, {});
		const route = (req.method === 'GET' ? GET_ROUTES : req.method === 'POST' ? POST_ROUTES : {})[url.pathname];
		if (!route) return json({ code: 'invalid-request', message: `No such endpoint: ${req.method} ${url.pathname}` }, 404, cors ?? {});
		try {
			const out = await route(req, d);
			return out instanceof Response ? out : json(out, 200, cors ?? {});
		} catch (e) {
			const { status, body } = toWire(e);
			d.log?.(`${req.method} ${url.pathname} → ${status} ${body.code}`);
			return json(body, status, cors ?? {});
		}
	};
}

function corsHeaders(req: Request, origins: readonly string[]): Record<string, string> | undefined {
	const origin = req.headers.get('origin');
	if (!origin || !origins.includes(origin)) return undefined;
	return {
		'access-control-allow-origin': origin,
		'access-control-allow-methods': 'GET, POST, OPTIONS',
		'access-control-allow-headers': 'content-type',
		'access-control-max-age': '600',
		vary: 'origin'
	};
}

function json(body: unknown, status: number, headers: Record<string, string>): Response {
	return new Response(JSON.stringify(body), { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
}

/** The request body as text, refused past MAX_BODY_BYTES (declared or actual). */
export async function text(req: Request): Promise<string> {
	const declared = Number(req.headers.get('content-length') ?? '0');
	if (declared > MAX_BODY_BYTES) throw new EscrowError('invalid-request', 'The request body is too large.');
	const body = await req.text();
	if (body.length > MAX_BODY_BYTES) throw new EscrowError('invalid-request', 'The request body is too large.');
	return body;
}

/** Parse and validate a JSON body; the first schema problem becomes the error message. */
async function input<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
	return parse(await text(req), schema);
}

function parse<S extends z.ZodType>(text: string, schema: S): z.infer<S> {
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch {
		throw new EscrowError('invalid-request', 'The request body is not JSON.');
	}
	const parsed = schema.safeParse(raw);
	if (!parsed.success) {
		const issue = parsed.error.issues[0]!;
		throw new EscrowError('invalid-request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
	}
	return parsed.data;
}
