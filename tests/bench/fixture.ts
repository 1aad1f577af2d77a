/**
 * A large, realistic contract for benchmarks: 50 milestones each funded, submitted, timestamped and
 * released through provider receipts, and thousands of messages between them — every event signed.
 */
import { encodeBody, encodeEnvelope, signingBytes, withDerivedContract, type Draft } from '../../src/lib/contract/envelope';
import { DEFAULT_CLOCKS, type EventType, type Payload } from '../../src/lib/contract/schema';
import { sign, type DeviceKey } from '../../src/lib/identity/ed25519';
import { TEST_MODE_KEY } from '../../src/lib/escrow/mock';
import { CLIENT, FREELANCER, T0 } from '../support/world';

const milestones = Array.from({ length: 50 }, (_, i) => ({ id: `m${i}`, title: `Milestone ${i + 1}`, amount: 10_000 + i }));
/** The proposal is fixed, so the contract id (its hash) is too. */
const PROPOSAL: Draft = withDerivedContract({
	contract: '',
	author: CLIENT.publicKey,
	prev: null,
	deps: [],
	at: T0,
	type: 'contract.proposed',
	payload: {
		role: 'client',
		name: 'Ada',
		nonce: 'bench-nonce-0000000001',
		terms: { title: 'Bench', scope: 'A long engagement.', currency: 'USD', milestones, provider: { id: 'mock', publicKey: TEST_MODE_KEY.publicKey, testMode: true }, ...DEFAULT_CLOCKS }
	}
});
export const BENCH_CONTRACT = PROPOSAL.contract;

export async function bigContract(total = 10_000): Promise<[string, string][]> {
	const drafts: { key: DeviceKey; draft: Draft }[] = [];
	const last = new Map<string, string>();
	let head: string | undefined;
	let at = T0;
	const emit = <T extends EventType>(key: DeviceKey, type: T, payload: Payload<T>, receiptOf?: string): string => {
		const draft: Draft = {
			contract: BENCH_CONTRACT,
			author: key.publicKey,
			prev: last.get(key.publicKey) ?? null,
			deps: receiptOf ? [receiptOf] : head ? [head] : [],
			at: (at += 60_000),
			type,
			payload
		};
		const { id } = encodeBody(draft);
		last.set(key.publicKey, id);
		head = id;
		drafts.push({ key, draft });
		return id;
	};
	const proposal = encodeBody(PROPOSAL).id;
	last.set(CLIENT.publicKey, proposal);
	head = proposal;
	drafts.push({ key: CLIENT, draft: PROPOSAL });
	const acceptance = emit(FREELANCER, 'contract.accepted', { proposal, name: 'Grace' });
	const countersign = emit(CLIENT, 'contract.countersigned', { acceptance });
	emit(TEST_MODE_KEY, 'receipt.attested', { event: countersign, kind: 'countersign' }, countersign);
	const perMilestone = Math.floor((total - 4) / milestones.length);
	for (const m of milestones) {
		const fund = emit(CLIENT, 'milestone.fund', { milestone: m.id, amount: m.amount, currency: 'USD', method: 'card' });
		emit(TEST_MODE_KEY, 'receipt.funded', { intent: fund, milestone: m.id, amount: m.amount, fee: 30, currency: 'USD', method: 'card', clearsAt: at }, fund);
		for (let i = 0; i < perMilestone - 6; i++)
			emit(i % 2 ? CLIENT : FREELANCER, 'message.posted', { text: `Progress note ${i} on ${m.title}: the work is moving along as agreed, next step tomorrow.` });
		const sub = emit(FREELANCER, 'milestone.submitted', { milestone: m.id, message: 'Done, please review.', links: ['https://example.com/deliverable'] });
		emit(TEST_MODE_KEY, 'receipt.attested', { event: sub, kind: 'submission' }, sub);
		const rel = emit(CLIENT, 'milestone.release', { milestone: m.id, amount: m.amount, currency: 'USD', method: 'card' });
		emit(TEST_MODE_KEY, 'receipt.released', { intent: rel, milestone: m.id, amount: m.amount, currency: 'USD', auto: false }, rel);
	}
	while (drafts.length < total) emit(CLIENT, 'message.posted', { text: 'Thanks!' });
	return Promise.all(
		drafts.map(async ({ key, draft }) => {
			const { id, body } = encodeBody(draft);
			return [id, encodeEnvelope(id, body, await sign(key, signingBytes(id)))] as [string, string];
		})
	);
}
