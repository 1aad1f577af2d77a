/**
 * Deno / Supabase Edge Functions entry. The same handler, served with Deno.serve; `stripe`, `zod`
 * and `@noble/*` resolve through src/edge/deno.json's import map (npm: specifiers, no URL imports).
 *
 * This entry has no store: it keeps no record of contracts, so it refuses the clock-judged
 * operations (auto-release, refunds of unanswered requests) rather than judge them from the log a
 * party sends, cannot serve POST /record, and its onboarding index and rate limits live only as
 * long as one isolate (with a metadata scan of connected accounts on a miss). Deploy the Workers
 * entry (worker.ts) for all of it.
 */
import { depsFromEnv, type EdgeEnv } from './config';
import { createHandler } from './handler';

declare const Deno: { env: { toObject(): Record<string, string> }; serve(h: (req: Request) => Promise<Response>): unknown };

Deno.serve(createHandler(depsFromEnv(Deno.env.toObject() as EdgeEnv, { log: (line) => console.log(line) })));
