/**
 * Recovery (identity/recovery.ts): the passphrase backup holds the identity key, not the device key,
 * and the device's contracts with their link secrets, in one AES-GCM message; restoring it makes a
 * new device of the same person, which can revoke the lost one and open its contracts again. A wrong
 * passphrase, an edited file (its contracts included) and a spliced file are refused as a whole.
 */
import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../../../src/lib/contract/encoding';
import { BackupError, exportBackup, importBackup } from '../../../src/lib/identity/backup';
import { certifyDeviceSync, readCertificate, revokeDevice } from '../../../src/lib/identity/certificate';
import { lockIdentity, unlockIdentity } from '../../../src/lib/identity/identity';
import { canExportRecovery, exportRecovery, openRecovery, restoreIdentity, type RecoveryContract } from '../../../src/lib/identity/recovery';
import { CLIENT, CLIENT_LAPTOP, CLIENT_PHONE, FREELANCER, T0, World } from '../../support/world';

const FAST = { iterations: 1000 };
const PASS = 'correct horse battery';

describe('the recovery file', () => {
	it('from a certified device that holds the locked identity: the identity key, not the device key', async () => {
		const identity = await lockIdentity(CLIENT, PASS, FAST);
		const cert = certifyDeviceSync(CLIENT, { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0 });
		const laptop = { key: CLIENT_LAPTOP, acting: { identity: cert.identity }, identity };
		expect(canExportRecovery(laptop)).toBe(true);
		const file = await exportRecovery(laptop, PASS, FAST);
		expect(JSON.parse(file).publicKey).toBe(CLIENT.publicKey);
		expect((await openRecovery(file, PASS)).identity).toEqual(CLIENT);
	});

	it('from a device whose key is its own identity: that key', async () => {
		const file = await exportRecovery({ key: CLIENT }, PASS, FAST);
		expect((await openRecovery(file, PASS)).identity).toEqual(CLIENT);
	});

	it('needs the identity’s own passphrase where the device keeps it locked', async () => {
		const identity = await lockIdentity(CLIENT, PASS, FAST);
		const laptop = { key: CLIENT_LAPTOP, acting: { identity: CLIENT.publicKey }, identity };
		await expect(exportRecovery(laptop, 'another passphrase', FAST)).rejects.toThrow('This is not the passphrase of your identity key.');
	});

	it('is refused on a certified device without the identity key: its own key would come back as another person', async () => {
		const phone = { key: CLIENT_PHONE, acting: { identity: CLIENT.publicKey } };
		expect(canExportRecovery(phone)).toBe(false);
		await expect(exportRecovery(phone, PASS, FAST)).rejects.toThrow(/does not hold its key/);
	});
});

describe('restoring on a new device', () => {
	it('certifies a new device key for the same identity, keeps the identity locked, and can revoke the lost device', async () => {
		const file = await exportRecovery({ key: CLIENT }, PASS, FAST);
		const { identity: key } = await openRecovery(file, PASS);
		const restored = await restoreIdentity(key, PASS, 'New laptop', T0 + 5, FAST);
		expect(restored.device.publicKey).not.toBe(CLIENT.publicKey);
		expect(readCertificate(restored.certificate.envelope, restored.device.publicKey)).toMatchObject({ identity: CLIENT.publicKey, name: 'New laptop' });
		expect(await unlockIdentity(restored.identity, PASS)).toEqual(CLIENT);

		// The lost phone acted in a contract; the restored identity revokes it there.
		const w = new World();
		await w.active();
		const lost = certifyDeviceSync(CLIENT, { device: CLIENT_PHONE.publicKey, name: 'Phone', created: T0 });
		await w.put(lost.id, lost.envelope);
		const revocation = await revokeDevice(await unlockIdentity(restored.identity, PASS), w.log, lost, w.now);
		await w.put(revocation.id, revocation.envelope);
		expect(w.rejection(revocation.id)).toBeUndefined();
		expect(w.state.devices.revocations.get(revocation.id)).toMatchObject({ identity: CLIENT.publicKey, device: CLIENT_PHONE.publicKey });
	});

	it('refuses a wrong passphrase with a clear error', async () => {
		const file = await exportRecovery({ key: CLIENT }, PASS, FAST);
		const e = await openRecovery(file, 'not the passphrase').catch((x: unknown) => x);
		expect(e).toBeInstanceOf(BackupError);
		expect(e).toMatchObject({ code: 'wrong-passphrase', message: 'The passphrase is wrong, or the backup was changed.' });
	});

	it('refuses an edited file: another public key, a changed ciphertext, weakened key stretching, cut short', async () => {
		const file = JSON.parse(await exportRecovery({ key: CLIENT }, PASS, FAST)) as Record<string, unknown>;
		const flip = (s: string) => (s[5] === 'A' ? s.slice(0, 5) + 'B' + s.slice(6) : s.slice(0, 5) + 'A' + s.slice(6));
		const edits: [Record<string, unknown>, RegExp][] = [
			[{ ...file, publicKey: CLIENT_LAPTOP.publicKey }, /passphrase is wrong, or the backup was changed/],
			[{ ...file, ciphertext: flip(file.ciphertext as string) }, /passphrase is wrong, or the backup was changed/],
			[{ ...file, iterations: 10 }, /key-stretching settings this app does not accept/],
			[{ ...file, salt: undefined }, /not a Milestone key backup, or the file is damaged/]
		];
		for (const [edited, message] of edits) await expect(importBackup(JSON.stringify(edited), PASS)).rejects.toThrow(message);
		await expect(openRecovery(JSON.stringify(file).slice(0, 80), PASS)).rejects.toThrow(/not a Milestone key backup/);
	});
});

const CONTRACTS: RecoveryContract[] = [
	{ contract: 'c0ntract-one-0000000', secret: 'secret-of-contract-one-000000', title: 'Logo design', relays: ['wss://relay.example/'] },
	{ contract: 'c0ntract-two-0000000', secret: 'secret-of-contract-two-000000', title: 'Website' }
];
const fileWithContracts = (key = CLIENT, pass = PASS) => exportRecovery({ key }, pass, { ...FAST, contracts: CONTRACTS });
const flipAt = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

describe('the recovery file’s contracts', () => {
	it('come back with the identity: each contract with its link secret, title and relays', async () => {
		const opened = await openRecovery(await fileWithContracts(), PASS);
		expect(opened.identity).toEqual(CLIENT);
		expect(opened.contracts).toEqual(CONTRACTS);
	});

	it('are encrypted: neither a link secret nor a title is readable in the file', async () => {
		const text = await fileWithContracts();
		for (const c of CONTRACTS) for (const clear of [c.contract, c.secret, c.title]) expect(text).not.toContain(clear);
	});

	it('an old recovery file, without contracts, still restores the identity (with no contracts)', async () => {
		// What this app wrote before contracts were in the file: version 1, the bare key.
		const old = await exportBackup(CLIENT, PASS, FAST);
		expect(JSON.parse(old).v).toBe(1);
		expect(await openRecovery(old, PASS)).toEqual({ identity: CLIENT, contracts: [] });
	});

	it('attack: an edited contracts section fails as a whole, the identity key included', async () => {
		const file = JSON.parse(await fileWithContracts()) as Record<string, string | number>;
		const ct = file.ciphertext as string;
		// Past the 32-byte seed (43 characters): the bytes that hold the contracts list.
		for (const i of [50, Math.floor(ct.length / 2), ct.length - 30]) {
			const e = await openRecovery(JSON.stringify({ ...file, ciphertext: flipAt(ct, i) }), PASS).catch((x: unknown) => x);
			expect(e).toMatchObject({ code: 'wrong-passphrase', message: 'The passphrase is wrong, or the backup was changed.' });
		}
		// Cut the list short, or keep only the key and the tag relabelled as a version 1 key backup: well-formed, not authentic.
		const bytes = fromBase64url(ct);
		const cut = (keep: number) => toBase64url(new Uint8Array([...bytes.subarray(0, keep), ...bytes.subarray(bytes.length - 16)]));
		for (const edited of [{ ...file, ciphertext: cut(60) }, { ...file, v: 1, ciphertext: cut(32) }])
			await expect(openRecovery(JSON.stringify(edited), PASS)).rejects.toThrow(/passphrase is wrong, or the backup was changed/);
	});

	it('attack: a file from another identity cannot pass for yours, nor lend you its contracts section', async () => {
		// Mallory knows the passphrase scheme and makes her own file with the same passphrase.
		const mine = JSON.parse(await fileWithContracts(CLIENT)) as Record<string, string | number>;
		const hers = JSON.parse(await exportRecovery({ key: FREELANCER }, PASS, { ...FAST, contracts: [{ contract: 'mallory-contract-00000', secret: 'mallory-secret-000000000000', title: 'Pay Mallory' }] })) as Record<string, string | number>;
		// Her encrypted section under your public key, or your section under hers: neither opens.
		for (const spliced of [
			{ ...hers, publicKey: mine.publicKey },
			{ ...mine, ciphertext: hers.ciphertext, iv: hers.iv, salt: hers.salt },
			{ ...mine, ciphertext: hers.ciphertext }
		])
			await expect(openRecovery(JSON.stringify(spliced), PASS)).rejects.toBeInstanceOf(BackupError);
		// Her whole file opens as what it is: her identity, never yours.
		expect((await openRecovery(JSON.stringify(hers), PASS)).identity.publicKey).toBe(FREELANCER.publicKey);
	});

	it('attack: a wrong passphrase yields nothing, contracts included', async () => {
		const e = await openRecovery(await fileWithContracts(), 'not the passphrase').catch((x: unknown) => x);
		expect(e).toBeInstanceOf(BackupError);
		expect(e).toMatchObject({ code: 'wrong-passphrase' });
	});

	it('a contracts list that decrypts but is not one (a hand-made file) is refused, not half-restored', async () => {
		for (const payload of ['not json', '{"contracts":{}}', '{"contracts":[{"contract":"c0ntract-one-0000000","secret":7,"title":"x"}]}', '{"contracts":[{"contract":"x","secret":"secret-of-contract-one-000000","title":"x"}]}']) {
			const text = await exportBackup(CLIENT, PASS, { ...FAST, payload: new TextEncoder().encode(payload) });
			await expect(openRecovery(text, PASS)).rejects.toThrow(/contracts list in this backup is damaged/);
		}
	});
});
