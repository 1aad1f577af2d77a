import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../../../src/lib/contract/encoding';
import { BackupError, DEFAULT_ITERATIONS, exportBackup, importBackup, type BackupErrorCode } from '../../../src/lib/identity/backup';
import { generateKey, publicKeyFromSeed, sign, verify, type DeviceKey } from '../../../src/lib/identity/ed25519';

const FAST = { iterations: 1000 };
const PASS = 'correct horse battery staple';
const key: DeviceKey = { seed: toBase64url(new Uint8Array(32).fill(9)), publicKey: publicKeyFromSeed(toBase64url(new Uint8Array(32).fill(9))) };

async function expectCode(promise: Promise<unknown>, code: BackupErrorCode): Promise<BackupError> {
	const error = await promise.then(
		() => null,
		(e: unknown) => e
	);
	expect(error).toBeInstanceOf(BackupError);
	expect((error as BackupError).code).toBe(code);
	return error as BackupError;
}

function edit(text: string, change: (file: Record<string, unknown>) => void): string {
	const file = JSON.parse(text) as Record<string, unknown>;
	change(file);
	return JSON.stringify(file);
}

describe('key backup', () => {
	it('round-trips and the restored key signs for the same identity', async () => {
		const text = await exportBackup(key, PASS, FAST);
		const file = JSON.parse(text) as Record<string, unknown>;
		expect(file).toMatchObject({ kind: 'milestone-key-backup', v: 1, kdf: 'PBKDF2-SHA256', iterations: 1000, publicKey: key.publicKey });
		expect(fromBase64url(file.salt as string)).toHaveLength(16);
		expect(fromBase64url(file.iv as string)).toHaveLength(12);
		expect(fromBase64url(file.ciphertext as string)).toHaveLength(48);
		expect(text).not.toContain(key.seed);

		const restored = await importBackup(text, PASS);
		expect(restored).toEqual(key);
		const message = new TextEncoder().encode('hello');
		expect(await verify(key.publicKey, message, await sign(restored, message))).toBe(true);
	});

	it('uses a fresh salt and iv each time', async () => {
		const a = JSON.parse(await exportBackup(key, PASS, FAST)) as Record<string, string>;
		const b = JSON.parse(await exportBackup(key, PASS, FAST)) as Record<string, string>;
		expect(a.salt).not.toBe(b.salt);
		expect(a.iv).not.toBe(b.iv);
		expect(a.ciphertext).not.toBe(b.ciphertext);
	});

	it('defaults to 600 000 iterations (one real run, ~0.1 s each way on Node)', async () => {
		const text = await exportBackup(key, PASS);
		expect(JSON.parse(text)).toMatchObject({ iterations: DEFAULT_ITERATIONS });
		expect(DEFAULT_ITERATIONS).toBe(600_000);
		expect(await importBackup(text, PASS)).toEqual(key);
	});

	it('rejects the wrong passphrase with a clear message', async () => {
		const text = await exportBackup(key, PASS, FAST);
		const error = await expectCode(importBackup(text, 'correct horse battery stapler'), 'wrong-passphrase');
		expect(error.message).toBe('The passphrase is wrong, or the backup was changed.');
		await expectCode(importBackup(text, ''), 'wrong-passphrase');
	});

	it('normalises passphrases (NFC), so NFD input from another OS still opens it', async () => {
		const text = await exportBackup(key, 'caf\u00e9 au lait', FAST);
		expect((await importBackup(text, 'cafe\u0301 au lait')).seed).toBe(key.seed);
	});

	it('detects a swapped public key and tampered ciphertext', async () => {
		const text = await exportBackup(key, PASS, FAST);
		const other = await generateKey();
		await expectCode(importBackup(edit(text, (f) => (f.publicKey = other.publicKey)), PASS), 'wrong-passphrase');
		const tampered = edit(text, (f) => {
			const ct = fromBase64url(f.ciphertext as string);
			ct[3]! ^= 1;
			f.ciphertext = toBase64url(ct);
		});
		await expectCode(importBackup(tampered, PASS), 'wrong-passphrase');
		await expectCode(importBackup(edit(text, (f) => (f.salt = toBase64url(new Uint8Array(16)))), PASS), 'wrong-passphrase');
	});

	it('reports malformed files', async () => {
		const text = await exportBackup(key, PASS, FAST);
		await expectCode(importBackup(text.slice(0, -5), PASS), 'malformed');
		await expectCode(importBackup('null', PASS), 'malformed');
		await expectCode(importBackup('[]', PASS), 'malformed');
		await expectCode(importBackup('{}', PASS), 'malformed');
		await expectCode(importBackup(edit(text, (f) => (f.kind = 'something-else')), PASS), 'malformed');
		await expectCode(importBackup(edit(text, (f) => (f.kdf = 'scrypt')), PASS), 'malformed');
		await expectCode(importBackup(edit(text, (f) => delete f.iv), PASS), 'malformed');
		await expectCode(importBackup(edit(text, (f) => (f.iv = 'AAAA')), PASS), 'malformed');
		await expectCode(importBackup(edit(text, (f) => (f.publicKey = 42)), PASS), 'malformed');
		await expectCode(importBackup(edit(text, (f) => (f.v = '1')), PASS), 'malformed');
	});

	it('refuses iteration counts outside [1000, 10 000 000] without running them', async () => {
		const text = await exportBackup(key, PASS, FAST);
		for (const iterations of [999, 0, -1, 1.5, 1e12, '1000']) {
			await expectCode(importBackup(edit(text, (f) => (f.iterations = iterations)), PASS), 'malformed');
		}
		await expect(exportBackup(key, PASS, { iterations: 10 })).rejects.toThrow(RangeError);
	});

	it('reports a newer format version', async () => {
		const text = await exportBackup(key, PASS, FAST);
		const error = await expectCode(importBackup(edit(text, (f) => (f.v = 3)), PASS), 'unsupported-version');
		expect(error.message).toMatch(/newer version/);
	});

	it('rejects weak passphrases on export (counting characters, not UTF-16 units)', async () => {
		await expectCode(exportBackup(key, 'short', FAST), 'weak-passphrase');
		await expectCode(exportBackup(key, '1234567', FAST), 'weak-passphrase');
		await expectCode(exportBackup(key, '🔑🔑🔑🔑🔑🔑🔑', FAST), 'weak-passphrase');
		expect(await exportBackup(key, '12345678', FAST)).toContain('milestone-key-backup');
	});

	it('refuses to back up a damaged key', async () => {
		const other = await generateKey();
		await expect(exportBackup({ seed: key.seed, publicKey: other.publicKey }, PASS, FAST)).rejects.toThrow(/does not match/);
	});
});
