/**
 * A big contract's first sync to a device that holds none of it, answered from a copy made ahead.
 *
 * y-webrtc answers a peer's sync step 1 by encoding the document for it (6 MB for 10,000 events)
 * and chunking.ts deflates that: about 130 ms on this device's main thread in Chromium, on the
 * critical path of the other device's first sync, and again for every such request. So when a new
 * peer is found (signaling introduced it; WebRTC needs another 100–200 ms to connect), a document
 * of at least PREPARE_FROM_ITEMS items is encoded as that answer and deflated once, and a sync step 1
 * whose state vector holds nothing of this document is answered with those bytes.
 *
 * They are the very bytes y-webrtc would send: `encodeStateAsUpdate(doc, sv)` for a state vector
 * with no clock for any of this document's clients writes every struct and the whole delete set,
 * as with no state vector at all. Any change to the document drops the copy (never a stale answer),
 * and so does time (KEEP_MS): it holds about a megabyte. A peer asking again and again is sent the
 * same bytes and costs this device no encoding: less than before, never more.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { canDeflate, deflate } from './chunking';

/** y-protocols' message numbers, as y-webrtc frames them: [sync, step] then the payload. */
const MESSAGE_SYNC = 0;
const SYNC_STEP_1 = 0;
const SYNC_STEP_2 = 1;
/** Below this many Yjs items (about one per event) encoding on request is cheap enough. */
export const PREPARE_FROM_ITEMS = 2000;
/** A copy nobody asked for is let go after this long. */
const KEEP_MS = 30_000;

/** y-webrtc's answer to a sync step 1 that holds nothing of `doc`: sync, step 2, the whole document. */
export function fullSyncAnswer(doc: Y.Doc): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, MESSAGE_SYNC);
	encoding.writeVarUint(e, SYNC_STEP_2);
	encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(doc));
	return encoding.toUint8Array(e);
}

const clocks = (doc: Y.Doc) => Y.decodeStateVector(Y.encodeStateVector(doc));

export class FirstSyncAnswer {
	/** The deflated answer, while the document is as it was when it was made. */
	private ready?: Uint8Array;
	private preparing?: Promise<void>;
	/** Bumped by every change to the document: a copy made before one is dropped. */
	private version = 0;
	private expiry?: ReturnType<typeof setTimeout>;

	constructor(
		private readonly doc: Y.Doc,
		private readonly minItems = PREPARE_FROM_ITEMS
	) {
		doc.on('afterTransaction', this.changed);
	}

	private readonly changed = (tr: Y.Transaction) => {
		if (!tr.changed.size && !tr.deleteSet.clients.size) return;
		this.version++;
		this.drop();
	};

	/** Make the copy, once, if the document is big enough for it to matter; resolves when made (or not). */
	prepare(): Promise<void> {
		if (this.ready || !canDeflate()) return Promise.resolve();
		if (this.preparing) return this.preparing;
		let items = 0;
		for (const clock of clocks(this.doc).values()) items += clock;
		if (items < this.minItems) return Promise.resolve();
		const version = this.version;
		this.preparing = deflate(fullSyncAnswer(this.doc))
			.then((bytes) => {
				if (version !== this.version) return;
				this.ready = bytes;
				clearTimeout(this.expiry);
				this.expiry = setTimeout(() => this.drop(), KEEP_MS);
			})
			.catch(() => {})
			.finally(() => (this.preparing = undefined));
		return this.preparing;
	}

	/**
	 * The deflated answer to `message` when it is a sync step 1 holding nothing of this document and
	 * the copy is ready; otherwise undefined, and y-webrtc answers as it always did.
	 */
	answer(message: Uint8Array): Uint8Array | undefined {
		if (!this.ready || message[0] !== MESSAGE_SYNC || message[1] !== SYNC_STEP_1) return undefined;
		let theirs: Map<number, number>;
		try {
			const d = decoding.createDecoder(message);
			decoding.readVarUint(d);
			decoding.readVarUint(d);
			theirs = Y.decodeStateVector(decoding.readVarUint8Array(d));
			if (decoding.hasContent(d)) return undefined;
		} catch {
			return undefined;
		}
		for (const client of clocks(this.doc).keys()) if ((theirs.get(client) ?? 0) > 0) return undefined;
		return this.ready;
	}

	private drop(): void {
		this.ready = undefined;
		clearTimeout(this.expiry);
		this.expiry = undefined;
	}

	destroy(): void {
		this.doc.off('afterTransaction', this.changed);
		this.version++;
		this.drop();
	}
}
