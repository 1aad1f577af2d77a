/**
 * Cloudflare Workers entry (also what miniflare runs under workerd in the tests). The dependencies
 * are built once per isolate from the bindings; the function itself keeps no state.
 */
import { depsFromEnv, type EdgeEnv } from './config';
import { createHandler } from './handler';

let handler: ((req: Request) => Promise<Response>) | undefined;

export default {
	async fetch(req: Request, env: EdgeEnv): Promise<Response> {
		handler ??= createHandler(depsFromEnv(env, { log: (line) => console.log(line) }));
		return handler(req);
	}
};
