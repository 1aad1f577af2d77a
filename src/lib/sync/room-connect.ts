/**
 * y-webrtc's `Room.connect` (10.3.0) less one message. On every connect (each contract opened,
 * each resume) y-webrtc pushed the whole document to this browser's other tabs, unasked: a sync
 * step 2 against an empty state vector, encrypted and posted on the BroadcastChannel, even with no
 * other tab open. For a contract of 10,000 events that was ~200 ms of the page's thread (encoding
 * ~100, the cipher's copy ~60, the rest copying and posting 6 MB) just after the contract is drawn.
 * Nothing needs all of it: a tab that connects sends its sync step 1 and every tab answers with what
 * it lacks, and updates made while both are open reach the other tab as they happen. What the other
 * tabs can lack is what this tab wrote while it was disconnected (paused, offline): a reconnect
 * pushes exactly that, the update since the state it had when it left.
 *
 * Everything else is y-webrtc's, in its order and wire format (its helpers are not exported, so
 * they are written here): subscribe and announce on each signaling connection, the tab's peer id,
 * sync step 1, the awareness query and this tab's awareness state, each encrypted under the room's
 * key as y-webrtc's crypto.js does ('AES-GCM', iv, ciphertext). Installed by peers.ts; a y-webrtc
 * upgrade must run `tests/unit/sync/room-connect.test.ts` and `tests/e2e/sync.spec.ts` (two tabs).
 */
import * as bc from 'lib0/broadcastchannel';
import * as buffer from 'lib0/buffer';
import * as encoding from 'lib0/encoding';
import { Room } from 'y-webrtc';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';

// y-webrtc's message types.
const messageSync = 0;
const messageAwareness = 1;
const messageQueryAwareness = 3;
const messageBcPeerId = 4;
// y-protocols' sync steps.
const messageYjsSyncStep1 = 0;
const messageYjsSyncStep2 = 1;

/** An update that carries nothing: no structs, no deletions (Yjs v1 encoding: [0, 0]). */
const isEmptyUpdate = (u: Uint8Array) => u.length === 2 && u[0] === 0 && u[1] === 0;

/** The parts of y-webrtc's Room that connecting uses. */
interface RoomParts {
	doc: Y.Doc;
	awareness: awarenessProtocol.Awareness;
	name: string;
	key: CryptoKey | null;
	peerId: string;
	bcconnected: boolean;
	webrtcConns: Map<string, unknown>;
	mux: (f: () => void) => void;
	provider: { maxConns: number; filterBcConns: boolean; signalingConns: { connected: boolean; send(m: object): void }[] };
	_docUpdateHandler: (update: Uint8Array, origin: unknown) => void;
	_awarenessUpdateHandler: (changes: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => void;
	_bcSubscriber: (data: ArrayBuffer, origin?: unknown) => void;
	/** The document's state vector when this room last disconnected (see `disconnectNoting`). */
	__awaySince?: Uint8Array;
}

/** y-webrtc's crypto.js `encrypt`: nothing without a key. */
export async function encryptForRoom(data: Uint8Array, key: CryptoKey | null): Promise<Uint8Array> {
	if (!key) return data;
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const cipher = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, data as Uint8Array<ArrayBuffer>);
	const e = encoding.createEncoder();
	encoding.writeVarString(e, 'AES-GCM');
	encoding.writeVarUint8Array(e, iv);
	encoding.writeVarUint8Array(e, new Uint8Array(cipher));
	return encoding.toUint8Array(e);
}

function toTabs(room: RoomParts, message: Uint8Array): void {
	void encryptForRoom(message, room.key).then((data) => room.mux(() => bc.publish(room.name, data)));
}

function message(write: (e: encoding.Encoder) => void): Uint8Array {
	const e = encoding.createEncoder();
	write(e);
	return encoding.toUint8Array(e);
}

/** Connect the room as y-webrtc does, without pushing the whole document to the other tabs. */
export function connectAsking(this: Room): void {
	const room = this as unknown as RoomParts;
	room.doc.on('update', room._docUpdateHandler);
	room.awareness.on('update', room._awarenessUpdateHandler);
	// This provider's signaling connections (y-webrtc walks every provider's; a connection that opens
	// later subscribes and announces every room itself).
	for (const conn of room.provider.signalingConns)
		if (conn.connected) {
			conn.send({ type: 'subscribe', topics: [room.name] });
			if (room.webrtcConns.size < room.provider.maxConns) {
				const announce = { type: 'announce', from: room.peerId };
				if (!room.key) conn.send({ type: 'publish', topic: room.name, data: announce });
				else void encryptForRoom(message((e) => encoding.writeAny(e, announce)), room.key).then((data) => conn.send({ type: 'publish', topic: room.name, data: buffer.toBase64(data) }));
			}
		}
	bc.subscribe(room.name, room._bcSubscriber);
	room.bcconnected = true;
	if (room.provider.filterBcConns)
		toTabs(
			room,
			message((e) => {
				encoding.writeVarUint(e, messageBcPeerId);
				encoding.writeUint8(e, 1);
				encoding.writeVarString(e, room.peerId);
			})
		);
	toTabs(
		room,
		message((e) => {
			encoding.writeVarUint(e, messageSync);
			encoding.writeVarUint(e, messageYjsSyncStep1);
			encoding.writeVarUint8Array(e, Y.encodeStateVector(room.doc));
		})
	);
	// Back after a disconnect: what was written meanwhile, which the other tabs did not hear.
	const away = room.__awaySince;
	room.__awaySince = undefined;
	if (away) {
		const since = Y.encodeStateAsUpdate(room.doc, away);
		if (!isEmptyUpdate(since))
			toTabs(
				room,
				message((e) => {
					encoding.writeVarUint(e, messageSync);
					encoding.writeVarUint(e, messageYjsSyncStep2);
					encoding.writeVarUint8Array(e, since);
				})
			);
	}
	toTabs(room, message((e) => encoding.writeVarUint(e, messageQueryAwareness)));
	toTabs(
		room,
		message((e) => {
			encoding.writeVarUint(e, messageAwareness);
			encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(room.awareness, [room.doc.clientID]));
		})
	);
}

const disconnectRoom = Room.prototype.disconnect;

/** y-webrtc's disconnect, noting the document's state first (what a reconnect pushes is what came after). */
export function disconnectNoting(this: Room): void {
	const room = this as unknown as RoomParts;
	if (room.bcconnected) room.__awaySince = Y.encodeStateVector(room.doc);
	disconnectRoom.call(this);
}

/** Use `connectAsking` and `disconnectNoting` for every y-webrtc room from now on. */
export function installRoomConnect(): void {
	const proto = Room.prototype as unknown as { connect: () => void; disconnect: () => void };
	proto.connect = connectAsking;
	proto.disconnect = disconnectNoting;
}
