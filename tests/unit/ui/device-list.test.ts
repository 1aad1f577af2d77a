/**
 * Settings → Your devices (ui/device-list.ts): a device certified on this device is listed from this
 * device's store before it has acted in any contract; certificates of another identity are not; a
 * revocation in any contract marks the device revoked.
 */
import { describe, expect, it } from 'vitest';
import { certifyDeviceSync } from '../../../src/lib/identity/certificate';
import { identityDevices } from '../../../src/lib/ui/device-list';
import { CLIENT, CLIENT_LAPTOP, CLIENT_PHONE, STRANGER, T0 } from '../../support/world';

const laptop = certifyDeviceSync(CLIENT, { device: CLIENT_LAPTOP.publicKey, name: 'Laptop', created: T0 });
const phone = certifyDeviceSync(CLIENT, { device: CLIENT_PHONE.publicKey, name: 'Phone', created: T0 });
const none = { certificates: new Map(), revocations: new Map() };

describe('the identity’s devices', () => {
	it('lists a device certified here but not yet seen in any contract', () => {
		expect(identityDevices(CLIENT.publicKey, [], [phone.envelope])).toEqual([{ device: CLIENT_PHONE.publicKey, name: 'Phone', certificates: [phone.id], revoked: false }]);
		expect(identityDevices(CLIENT.publicKey, [none], [])).toEqual([]);
	});

	it('merges the store with the contracts, once per device, and marks a revocation', () => {
		const contract = {
			certificates: new Map([[laptop.id, laptop], [phone.id, phone]]),
			revocations: new Map([['r1', { identity: CLIENT.publicKey, device: CLIENT_LAPTOP.publicKey }]])
		};
		const rows = identityDevices(CLIENT.publicKey, [contract], [phone.envelope]);
		expect(rows.map((r) => [r.name, r.certificates, r.revoked])).toEqual([
			['Phone', [phone.id], false],
			['Laptop', [laptop.id], true]
		]);
	});

	it('leaves out certificates of another identity and damaged store entries; a stranger’s revocation changes nothing', () => {
		const theirs = certifyDeviceSync(STRANGER, { device: CLIENT_PHONE.publicKey, name: 'Not yours', created: T0 });
		const contract = { certificates: new Map([[theirs.id, theirs]]), revocations: new Map([['r', { identity: STRANGER.publicKey, device: CLIENT_PHONE.publicKey }]]) };
		expect(identityDevices(CLIENT.publicKey, [contract], [theirs.envelope, 'junk', phone.envelope])).toEqual([
			{ device: CLIENT_PHONE.publicKey, name: 'Phone', certificates: [phone.id], revoked: false }
		]);
	});
});
