/**
 * Cloudflare Workers entry (also what miniflare runs under workerd in the tests). The front is the
 * stateless handler; each contract's escrow operations and record reads go to that contract's own
 * Durable Object (`RECORDS.idFromName(<contract id>)`, durable.ts), which runs the same handler
 * over its record; onboarding uses the one accounts object through `ObjectAccountStore`.
 */
import { depsFromEnv } from './config';
import { AccountsObject, CONTRACT_HEADER, ContractRecordObject, ObjectAccountStore, type WorkerEnv } from './durable';
import { createHandler } from './handler';

export { AccountsObject, ContractRecordObject };

let handler: ((req: Request) => Promise<Response>) | undefined;

export default {
	async fetch(req: Request, env: WorkerEnv): Promise<Response> {
		handler ??= createHandler({
			...depsFromEnv(env, { log: (line) => console.log(line), accounts: new ObjectAccountStore(env.ACCOUNTS) }),
			forward: (contract, forwarded) => {
				const headers = new Headers(forwarded.headers);
				headers.set(CONTRACT_HEADER, contract);
				return env.RECORDS.get(env.RECORDS.idFromName(contract)).fetch(new Request(forwarded, { headers }));
			}
		});
		return handler(req);
	}
};
