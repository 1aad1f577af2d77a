/**
 * Adding a device: the pure exchange (identity/pairing.ts), an attacker in the middle, and the whole
 * flow through a real relay in-process (sync/pairing-transport.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifyDeviceSync } from '../../../src/lib/identity/certificate';
import { lockIdentity } from '../../../src/lib/identity/identity';
import {
	CODE_LENGTH,
	ExistingDevice,
	formatCode,
	NewDevice,
	PAIRING_FINGERPRINT_PATTERN,
	PairingError,
	parseCode,
	roomSecret,
	type PairingBundle
} from '../../../src/lib/identity/pairing';
import { deriveRelayKeys } from '../../../src/lib/sync/relay-client';
import { PairingChannel, pairAsExistingDevice, pairAsNewDevice } from '../../../src/lib/sync/pairing-transport';
import { CLIENT, CLIENT_PHONE, STRANGER, T0 } from '../../support/world';
import { newAddress, nodeTarget, socketFrom, type RelayTarget } from '../../relay/harness';

const contracts = [
	{ contract: 'c1', secret: 'link-secret-of-the-bakery-logo', title: 'Harbour Bakery logo', relays: ['ws://relay.example'] },
	{ contract: 'c2', secret: 'link-secret-of-the-website', title: 'Website' }
];
const bundleFor = (device: string, name = 'Phone'): PairingBundle => ({
	identity: CLIENT.publicKey,
	certificate: certifyDeviceSync(CLIENT, { device, name, created: T0 }).envelope,
	contracts
});

describe('rendezvous code', () => {
	it('is 8 Crockford base32 characters, read back whatever the case, dashes and look-alike letters', () => {
		const code = new NewDevice(CLIENT_PHONE.publicKey, 'Phone').code;
		expect(code).toMatch(new RegExp(`^[0-9A-HJKMNP-TV-Z]{${CODE_LENGTH}}$`));
		expect(parseCode(formatCode(code).toLowerCase())).toBe(code);
		expect(parseCode(' 7kq2-m9xo ')).toBe('7KQ2M9X0');
		expect(parseCode('1lI10000')).toBe('11110000');
	});

	it('says what is wrong with a mistyped code', () => {
		expect(() => parseCode('')).toThrow('Enter the code');
		expect(() => parseCode('7KQ2-M9X')).toThrow('The code has 8 characters; this has 7.');
		expect(() => parseCode('7KQ2-M9XU')).toThrow('characters it never contains (U)');
	});

	it('names a different room for each code, the same for both devices', () => {
		expect(roomSecret('7KQ2-M9XD')).toBe(roomSecret('7kq2m9xd'));
		expect(deriveRelayKeys(roomSecret('7KQ2M9XD')).room).not.toBe(deriveRelayKeys(roomSecret('7KQ2M9XE')).room);
	});
});

describe('the exchange', () => {
	it('both devices show the same numbers, and the new device receives its certificate and the contracts', () => {
		const phone = new NewDevice(CLIENT_PHONE.publicKey, 'Phone');
		const laptop = new ExistingDevice(phone.code);
		const answer = laptop.offer(phone.offer());
		const { reveal, fingerprint } = phone.answer(answer);
		const seen = laptop.reveal(reveal);
		expect(fingerprint).toMatch(PAIRING_FINGERPRINT_PATTERN);
		expect(seen).toEqual({ fingerprint, device: CLIENT_PHONE.publicKey, name: 'Phone' });
		const sealed = laptop.seal(bundleFor(CLIENT_PHONE.publicKey));
		// Sealed: neither the link secrets nor the titles travel in the clear.
		expect(sealed.data).not.toContain('link-secret');
		expect(Buffer.from(sealed.data, 'base64url').toString('latin1')).not.toContain('Harbour');
		const got = phone.open(sealed);
		expect(got.identity).toBe(CLIENT.publicKey);
		expect(got.certificateInfo).toMatchObject({ identity: CLIENT.publicKey, device: CLIENT_PHONE.publicKey, name: 'Phone' });
		expect(got.contracts).toEqual(contracts);
	});

	it('carries the passphrase-locked identity key, so the new device can add and revoke devices too', async () => {
		const phone = new NewDevice(CLIENT_PHONE.publicKey, 'Phone');
		const laptop = new ExistingDevice(phone.code);
		laptop.reveal(phone.answer(laptop.offer(phone.offer())).reveal);
		const lockedIdentity = await lockIdentity(CLIENT, 'correct horse battery', { iterations: 1000 });
		expect(phone.open(laptop.seal({ ...bundleFor(CLIENT_PHONE.publicKey), lockedIdentity })).lockedIdentity).toEqual(lockedIdentity);
	});

	it('a server in the middle that swaps the keys makes the two screens show different numbers, and cannot seal for the new device', () => {
		const phone = new NewDevice(CLIENT_PHONE.publicKey, 'Phone');
		const laptop = new ExistingDevice(phone.code);
		// The middle knows the code, and plays the existing device to the phone and the new device to the laptop.
		const towardPhone = new ExistingDevice(phone.code);
		const towardLaptop = new NewDevice(STRANGER.publicKey, 'Phone');
		const offer = phone.offer();
		towardPhone.offer(offer);
		const laptopAnswer = laptop.offer(towardLaptop.offer());
		const phoneSide = phone.answer(towardPhone.offer(offer));
		towardPhone.reveal(phoneSide.reveal);
		const laptopSide = laptop.reveal(towardLaptop.answer(laptopAnswer).reveal);
		expect(phoneSide.fingerprint).not.toBe(laptopSide.fingerprint);
		// Forwarding the phone's own reveal to the laptop instead fails its commitment check.
		const laptop2 = new ExistingDevice(phone.code);
		laptop2.offer(towardLaptop.offer());
		expect(() => laptop2.reveal(phoneSide.reveal)).toThrow('not the one it committed to');
		// What the laptop seals (after a person wrongly confirmed) opens only for the key it paired with.
		const sealed = laptop.seal(bundleFor(STRANGER.publicKey));
		expect(() => phone.open(sealed)).toThrow(PairingError);
		// And the middle, which does hold a key with the phone, has no certificate for the phone's key.
		expect(() => towardPhone.seal(bundleFor(STRANGER.publicKey))).toThrow('another device key');
	});

	it('the new device refuses a certificate for another key, or one whose identity is not the one named', () => {
		const phone = new NewDevice(CLIENT_PHONE.publicKey, 'Phone');
		const laptop = new ExistingDevice(phone.code);
		laptop.reveal(phone.answer(laptop.offer(phone.offer())).reveal);
		expect(() => laptop.seal(bundleFor(STRANGER.publicKey))).toThrow('another device key');
		expect(() => laptop.seal({ ...bundleFor(CLIENT_PHONE.publicKey), identity: STRANGER.publicKey })).toThrow('another identity');
	});

	it('an altered bundle does not open', () => {
		const phone = new NewDevice(CLIENT_PHONE.publicKey, 'Phone');
		const laptop = new ExistingDevice(phone.code);
		laptop.reveal(phone.answer(laptop.offer(phone.offer())).reveal);
		const sealed = laptop.seal(bundleFor(CLIENT_PHONE.publicKey));
		const bytes = Buffer.from(sealed.data, 'base64url');
		bytes[40]! ^= 1;
		expect(() => phone.open({ t: 'sealed', data: bytes.toString('base64url') })).toThrow('not sealed by the device you compared');
	});
});

describe('through a relay', () => {
	let target: RelayTarget;
	beforeAll(async () => {
		target = nodeTarget();
		await target.start();
	});
	afterAll(() => target.stop());

	it('pairs two devices; the relay stores only ciphertext', async () => {
		let code = '';
		let phoneNumbers = '';
		let confirm!: () => void;
		const confirmed = new Promise<void>((r) => (confirm = r));
		const phonePairing = pairAsNewDevice(target.url, CLIENT_PHONE.publicKey, 'Phone', {
			onCode: (c) => (code = c),
			onFingerprint: (f) => {
				phoneNumbers = f;
				confirm();
			},
			confirmed,
			socket: socketFrom(target, newAddress())
		});
		phonePairing.catch(() => {});
		while (!code) await new Promise((r) => setTimeout(r, 10));
		let laptopNumbers = '';
		const sent = await pairAsExistingDevice(target.url, formatCode(code).toLowerCase(), {
			onNewDevice: async (found) => {
				laptopNumbers = found.fingerprint;
				expect(found.device).toBe(CLIENT_PHONE.publicKey);
				return bundleFor(found.device, found.name);
			},
			socket: socketFrom(target, newAddress())
		});
		expect(sent).toBe(true);
		const got = await phonePairing;
		expect(laptopNumbers).toBe(phoneNumbers);
		expect(got.certificateInfo.device).toBe(CLIENT_PHONE.publicKey);
		expect(got.contracts.map((c) => c.secret)).toEqual(contracts.map((c) => c.secret));
		const stored = target.storedBytes().toString('latin1');
		expect(stored).not.toContain('link-secret');
		expect(stored).not.toContain('Harbour');
		expect(stored).not.toContain(CLIENT_PHONE.publicKey);
	});

	it('someone who answers the code first is noticed by the existing device, and the screens differ', async () => {
		let code = '';
		let phoneNumbers = '';
		const phone = pairAsNewDevice(target.url, CLIENT_PHONE.publicKey, 'Phone', {
			onCode: (c) => (code = c),
			onFingerprint: (f) => (phoneNumbers = f),
			confirmed: new Promise(() => {}),
			socket: socketFrom(target, newAddress())
		});
		phone.catch(() => {});
		while (!code) await new Promise((r) => setTimeout(r, 10));
		// An eavesdropper who learned the code answers before the person's laptop.
		const thief = new ExistingDevice(code);
		const channel = await PairingChannel.open(target.url, code, { socket: socketFrom(target, newAddress()) });
		await channel.sendAnswer(thief.offer(await channel.waitOffer()));
		const stolen = thief.reveal(await channel.waitReveal());
		channel.close();
		expect(stolen.fingerprint).toBe(phoneNumbers);
		await expect(
			pairAsExistingDevice(target.url, code, { onNewDevice: async () => bundleFor(CLIENT_PHONE.publicKey), socket: socketFrom(target, newAddress()) })
		).rejects.toThrow('Another device already answered this code');
	});

	it('when the person cancels on the existing device (numbers differ), the new device is told and receives nothing', async () => {
		let code = '';
		const phone = pairAsNewDevice(target.url, CLIENT_PHONE.publicKey, 'Phone', {
			onCode: (c) => (code = c),
			onFingerprint: () => {},
			confirmed: Promise.resolve(),
			socket: socketFrom(target, newAddress())
		});
		phone.catch(() => {});
		while (!code) await new Promise((r) => setTimeout(r, 10));
		const sent = await pairAsExistingDevice(target.url, code, { onNewDevice: async () => null, socket: socketFrom(target, newAddress()) });
		expect(sent).toBe(false);
		await expect(phone).rejects.toThrow('Your other device cancelled');
	});

	it('a code nobody shows is reported, not waited for forever', async () => {
		await expect(
			pairAsExistingDevice(target.url, 'ZZZZ-ZZZZ', { onNewDevice: async () => null, socket: socketFrom(target, newAddress()), stepMs: 300 })
		).rejects.toThrow('No device is showing this code');
	});
});
