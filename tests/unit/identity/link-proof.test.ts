/**
 * Proofs of control of a link, checked against a local HTTP server standing in for GitHub's gist
 * host: the real fetch, the real text. Attacks first: someone else's key, another link, a gist under
 * another account, an edited proof.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLinkProof, githubAccount, linkProofText } from '../../../src/lib/identity/link-proof';
import { FREELANCER, STRANGER, T0 } from '../../support/world';

const LINK = 'https://github.com/grace';
const gists = new Map<string, string>();
let server: Server;
let host = '';

beforeAll(async () => {
	server = createServer((req, res) => {
		const body = gists.get(req.url ?? '');
		res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain' });
		res.end(body ?? 'not found');
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function publish(path: string, text: string): string {
	gists.set(path, text);
	return `http://${host}${path}`;
}
const check = (link: string, url: string) => checkLinkProof(FREELANCER.publicKey, link, url, { rawHost: host });

describe('link proofs', () => {
	it('attack: a proof signed by someone else’s key in Grace’s name fails', async () => {
		const forged = linkProofText(STRANGER, LINK, T0, undefined, FREELANCER.publicKey);
		expect(await check(LINK, publish('/grace/a1/raw/proof.txt', forged))).toEqual({ ok: false, reason: 'The proof in the gist is not signed by the identity it names.' });
	});

	it('attack: Grace’s proof for another link does not prove this one', async () => {
		const url = publish('/grace/a2/raw/proof.txt', linkProofText(FREELANCER, 'https://github.com/grace-old', T0));
		expect(await check(LINK, url)).toEqual({ ok: false, reason: 'The proof in the gist names another link.' });
	});

	it('attack: a gist under another account proves nothing about github.com/grace', async () => {
		const url = publish('/mallory/a3/raw/proof.txt', linkProofText(FREELANCER, LINK, T0));
		expect(await check(LINK, url)).toEqual({ ok: false, reason: 'The gist belongs to mallory, not to grace.' });
	});

	it('attack: an edited proof fails its signature', async () => {
		const text = linkProofText(FREELANCER, LINK, T0).replace(`"at\\":${T0}`, `"at\\":${T0 + 1}`);
		const r = await check(LINK, publish('/grace/a4/raw/proof.txt', text));
		expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/signature does not match/) });
	});

	it('valid: the identity key’s statement in a gist of the linked account', async () => {
		const url = publish('/grace/a5/raw/proof.txt', `Some words first.\n${linkProofText(FREELANCER, LINK, T0)}`);
		expect(await check(LINK, url)).toEqual({ ok: true });
		// The same proof is for Grace's key only.
		expect(await checkLinkProof(STRANGER.publicKey, LINK, url, { rawHost: host })).toEqual({ ok: false, reason: 'The proof in the gist is for another identity key.' });
	});

	it('a missing gist, a gist with no proof, and a link that is not a GitHub account', async () => {
		expect(await check(LINK, `http://${host}/grace/zz/raw/none.txt`)).toEqual({ ok: false, reason: 'The gist could not be fetched (404).' });
		expect(await check(LINK, publish('/grace/a6/raw/x.txt', 'hello'))).toEqual({ ok: false, reason: 'The gist holds no Milestone link proof.' });
		expect(githubAccount('https://github.com/grace/repo')).toBeUndefined();
		expect(await check('https://example.org/grace', `http://${host}/grace/a5/raw/proof.txt`)).toMatchObject({ ok: false });
		// Without the test's host, only GitHub's gist host is accepted.
		expect(await checkLinkProof(FREELANCER.publicKey, LINK, `http://${host}/grace/a5/raw/proof.txt`)).toMatchObject({ ok: false, reason: expect.stringMatching(/not the raw address of a gist/) });
	});
});
