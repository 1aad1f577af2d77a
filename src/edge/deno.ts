/**
 * Deno / Supabase Edge Functions entry. The same handler, served with Deno.serve; `stripe`, `zod`
 * and `@noble/*` resolve through src/edge/deno.json's import map (npm: specifiers, no URL imports).
 */
import { depsFromEnv, type EdgeEnv } from './config';
import { createHandler } from './handler';

declare const Deno: { env: { toObject(): Record<string, string> }; serve(h: (req: Request) => Promise<Response>): unknown };

Deno.serve(createHandler(depsFromEnv(Deno.env.toObject() as EdgeEnv, { log: (line) => console.log(line) })));
