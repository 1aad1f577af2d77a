/**
 * A call between the two parties of a contract: camera and microphone over a WebRTC connection of
 * its own, straight between their two devices, set up through the signaling server the app already
 * uses (a room derived from the link secret, call-signal.ts). Every set-up message is signed by the
 * sending device and checked against the identity the contract pins for the other party, so holding
 * the share link (or running the signaling server) is not enough to answer in their place.
 *
 * Nothing of a call is stored: no recording, no log entry, no history; the streams stop when it ends.
 *
 * Offers and answers carry all their ICE candidates (gathered before sending: no trickle), so each
 * side sends exactly one signed description. Hanging up goes over the call's own data channel (the
 * DTLS connection authenticates it) and, signed, through signaling for a side not yet connected.
 */
import { callTopic, checkCall, messageHash, openCall, sealCall, signCall, type CallBody, type CallKind, type CallSigner } from './call-signal';
import { randomId } from './links';

export type CallPhase = 'idle' | 'calling' | 'ringing' | 'connecting' | 'connected';

export interface CallView {
	phase: CallPhase;
	local?: MediaStream;
	remote?: MediaStream;
	microphoneOff: boolean;
	cameraOff: boolean;
	/** How the last call ended, or why it could not start, in words. */
	note?: string;
}

export interface CallOptions {
	signaling: string[];
	iceServers: RTCIceServer[];
	secret: string;
	contract: string;
	signer: CallSigner;
	/** The other party now (read from the contract at each message), and whether a device of theirs is revoked there. */
	counterparty(): { identity: string; name: string; revoked(device: string, identity: string): boolean } | undefined;
	/** getUserMedia, replaceable in tests. */
	media?: (c: MediaStreamConstraints) => Promise<MediaStream>;
}

/** How long a call rings before the caller gives up. */
const RING_MS = 60_000;
/** The offer is sent again this often while ringing: a page that joins the room late still rings. */
const RESEND_MS = 4_000;
const ICE_GATHER_MS = 4_000;

interface Current {
	id: string;
	role: 'caller' | 'callee';
	/** Hash of the offer message (what the answer names). */
	offer?: string;
	/** The callee's copy of the offer it rings for. */
	incoming?: CallBody;
}

export class CallLine {
	view: CallView = { phase: 'idle', microphoneOff: false, cameraOff: false };
	private readonly listeners = new Set<(v: CallView) => void>();
	private readonly topic: string;
	private sockets: WebSocket[] = [];
	private closed = false;
	private pc?: RTCPeerConnection;
	private control?: RTCDataChannel;
	private current?: Current;
	/** Messages handled already (the caller sends its offer again while ringing). */
	private readonly seen = new Set<string>();
	private timers: ReturnType<typeof setTimeout>[] = [];

	constructor(private readonly opts: CallOptions) {
		this.topic = callTopic(opts.secret);
		for (const url of opts.signaling) this.connect(url);
	}

	subscribe(fn: (v: CallView) => void): () => void {
		this.listeners.add(fn);
		fn(this.view);
		return () => this.listeners.delete(fn);
	}

	private set(next: Partial<CallView>): void {
		this.view = { ...this.view, ...next };
		for (const fn of this.listeners) fn(this.view);
	}

	// —— signaling ——

	private connect(url: string): void {
		if (this.closed) return;
		let ws: WebSocket;
		try {
			ws = new WebSocket(url);
		} catch {
			return;
		}
		this.sockets.push(ws);
		ws.onopen = () => ws.send(JSON.stringify({ type: 'subscribe', topics: [this.topic] }));
		ws.onmessage = (e) => {
			let m: { type?: unknown; topic?: unknown; data?: unknown };
			try {
				m = JSON.parse(String(e.data)) as typeof m;
			} catch {
				return;
			}
			if (m.type !== 'publish' || m.topic !== this.topic) return;
			const text = openCall(this.opts.secret, m.data);
			if (text) void this.receive(text);
		};
		ws.onclose = () => {
			this.sockets = this.sockets.filter((s) => s !== ws);
			if (!this.closed) this.later(() => this.connect(url), 2000);
		};
	}

	private publish(text: string): void {
		const data = JSON.stringify({ type: 'publish', topic: this.topic, data: sealCall(this.opts.secret, text) });
		for (const ws of this.sockets) if (ws.readyState === WebSocket.OPEN) ws.send(data);
	}

	private async send(kind: CallKind, fields: { sdp?: string; offer?: string } = {}): Promise<string | undefined> {
		const other = this.opts.counterparty();
		if (!other || !this.current) return undefined;
		const text = await signCall(this.opts.signer, { kind, call: this.current.id, contract: this.opts.contract, to: other.identity, at: Date.now(), ...fields });
		this.publish(text);
		return text;
	}

	private async receive(text: string): Promise<void> {
		const other = this.opts.counterparty();
		if (!other) return;
		const checked = await checkCall(text, {
			contract: this.opts.contract,
			me: this.opts.signer.identity,
			counterparty: other.identity,
			now: Date.now(),
			revoked: other.revoked
		});
		if (!checked.ok) return this.elsewhere(text, other);
		if (this.seen.has(checked.hash)) return;
		this.seen.add(checked.hash);
		const { body } = checked;
		const cur = this.current;
		const phase = this.view.phase;
		switch (body.kind) {
			case 'offer':
				if (phase === 'calling' && cur) {
					// Both called at once: the smaller identity key's call goes on, the other side answers it.
					if (this.opts.signer.identity < other.identity) return;
					this.stop();
				} else if (phase !== 'idle') return;
				this.current = { id: body.call, role: 'callee', offer: checked.hash, incoming: body };
				this.set({ phase: 'ringing', note: undefined });
				this.later(() => this.current?.id === body.call && this.view.phase === 'ringing' && this.finish(`Missed call from ${other.name}.`), RING_MS);
				return;
			case 'answer':
				if (phase !== 'calling' || !cur || body.call !== cur.id || body.offer !== cur.offer || !this.pc) return;
				this.set({ phase: 'connecting' });
				await this.pc.setRemoteDescription({ type: 'answer', sdp: body.sdp! }).catch(() => this.finish('The call could not be connected.'));
				return;
			case 'decline':
				if (phase === 'calling' && cur && body.call === cur.id && body.offer === cur.offer) this.finish(`${other.name} declined the call.`);
				return;
			case 'cancel':
				if (phase === 'ringing' && cur && body.call === cur.id) this.finish(`Missed call from ${other.name}.`);
				return;
			case 'hangup':
				if (cur && body.call === cur.id) this.finish(`${other.name} hung up. The call has ended.`);
				return;
		}
	}

	/**
	 * Another device of this same person answered or declined the call ringing here (it is signed by
	 * this identity, for the other party): stop ringing.
	 */
	private async elsewhere(text: string, other: NonNullable<ReturnType<CallOptions['counterparty']>>): Promise<void> {
		const cur = this.current;
		if (this.view.phase !== 'ringing' || !cur) return;
		const mine = await checkCall(text, { contract: this.opts.contract, me: other.identity, counterparty: this.opts.signer.identity, now: Date.now(), revoked: other.revoked });
		if (!mine.ok || mine.body.device === this.opts.signer.key.publicKey || mine.body.call !== cur.id || this.current !== cur) return;
		if (mine.body.kind === 'answer') this.finish('Answered on another of your devices.');
		else if (mine.body.kind === 'decline') this.finish('Declined on another of your devices.');
	}

	// —— the call ——

	private async media(): Promise<MediaStream> {
		const get = this.opts.media ?? ((c) => navigator.mediaDevices.getUserMedia(c));
		return get({ audio: true, video: true });
	}

	private peer(): RTCPeerConnection {
		const pc = new RTCPeerConnection({ iceServers: this.opts.iceServers });
		pc.ontrack = (e) => this.set({ remote: e.streams[0] ?? new MediaStream([e.track]) });
		pc.onconnectionstatechange = () => {
			if (this.pc !== pc) return;
			const other = this.opts.counterparty()?.name ?? 'The other party';
			if (pc.connectionState === 'connected') this.set({ phase: 'connected' });
			else if (pc.connectionState === 'failed') this.finish(`The connection to ${other} was lost. The call has ended.`);
		};
		return pc;
	}

	private useControl(channel: RTCDataChannel): void {
		this.control = channel;
		channel.onmessage = (e) => {
			if (e.data === 'bye' && this.control === channel) this.finish(`${this.opts.counterparty()?.name ?? 'The other party'} hung up. The call has ended.`);
		};
	}

	/** Start a call to the other party. */
	async start(): Promise<void> {
		const other = this.opts.counterparty();
		if (!other || this.view.phase !== 'idle') return;
		const id = randomId(16);
		this.current = { id, role: 'caller' };
		this.set({ phase: 'calling', note: undefined });
		try {
			const local = await this.media();
			if (this.current?.id !== id) return void local.getTracks().forEach((t) => t.stop());
			this.set({ local, microphoneOff: false, cameraOff: false });
			const pc = (this.pc = this.peer());
			for (const track of local.getTracks()) pc.addTrack(track, local);
			this.useControl(pc.createDataChannel('control'));
			await pc.setLocalDescription(await pc.createOffer());
			await gathered(pc);
			if (this.current?.id !== id) return;
			const text = await this.send('offer', { sdp: pc.localDescription!.sdp });
			if (!text || this.current?.id !== id) return;
			this.current.offer = messageHash(text);
			const again = () => {
				if (this.current?.id !== id || this.view.phase !== 'calling') return;
				this.publish(text);
				this.later(again, RESEND_MS);
			};
			this.later(again, RESEND_MS);
			this.later(() => {
				if (this.current?.id !== id || this.view.phase !== 'calling') return;
				void this.send('cancel');
				this.finish(`${other.name} did not answer.`);
			}, RING_MS);
		} catch (e) {
			if (this.current?.id === id) this.finish(`The call could not start: ${mediaError(e)}`);
		}
	}

	/** Answer the call that is ringing. */
	async answer(): Promise<void> {
		const cur = this.current;
		if (this.view.phase !== 'ringing' || !cur?.incoming) return;
		this.set({ phase: 'connecting' });
		try {
			const local = await this.media();
			if (this.current !== cur) return void local.getTracks().forEach((t) => t.stop());
			this.set({ local, microphoneOff: false, cameraOff: false });
			const pc = (this.pc = this.peer());
			pc.ondatachannel = (e) => this.useControl(e.channel);
			await pc.setRemoteDescription({ type: 'offer', sdp: cur.incoming.sdp! });
			for (const track of local.getTracks()) pc.addTrack(track, local);
			await pc.setLocalDescription(await pc.createAnswer());
			await gathered(pc);
			if (this.current !== cur) return;
			await this.send('answer', { sdp: pc.localDescription!.sdp, offer: cur.offer });
		} catch (e) {
			if (this.current === cur) {
				void this.send('decline', { offer: cur.offer });
				this.finish(`The call could not be answered: ${mediaError(e)}`);
			}
		}
	}

	/** Decline the call that is ringing. */
	decline(): void {
		const cur = this.current;
		if (this.view.phase !== 'ringing' || !cur) return;
		void this.send('decline', { offer: cur.offer }).finally(() => this.finish('You declined the call.'));
	}

	/** Hang up (or stop calling). */
	hangUp(): void {
		if (!this.current) return;
		if (this.view.phase === 'ringing') return this.decline();
		const calling = this.view.phase === 'calling';
		if (this.control?.readyState === 'open') this.control.send('bye');
		void this.send(calling ? 'cancel' : 'hangup').finally(() => this.finish(calling ? 'You stopped calling.' : 'You hung up. The call has ended.'));
	}

	setMicrophone(off: boolean): void {
		for (const t of this.view.local?.getAudioTracks() ?? []) t.enabled = !off;
		this.set({ microphoneOff: off });
	}

	setCamera(off: boolean): void {
		for (const t of this.view.local?.getVideoTracks() ?? []) t.enabled = !off;
		this.set({ cameraOff: off });
	}

	/** Close the call's connection and stop camera and microphone. */
	private stop(): void {
		const cur = this.current;
		this.current = undefined;
		this.control = undefined;
		this.pc?.close();
		this.pc = undefined;
		this.view.local?.getTracks().forEach((t) => t.stop());
		if (cur) this.set({ local: undefined, remote: undefined });
	}

	private finish(note: string): void {
		this.stop();
		this.set({ phase: 'idle', local: undefined, remote: undefined, note, microphoneOff: false, cameraOff: false });
	}

	private later(fn: () => void, ms: number): void {
		const t = setTimeout(() => {
			this.timers = this.timers.filter((x) => x !== t);
			fn();
		}, ms);
		this.timers.push(t);
	}

	/** Leaving the page: end any call (telling the other side) and leave the room. */
	destroy(): void {
		if (this.current && this.view.phase !== 'idle') this.hangUp();
		this.closed = true;
		// The hang-up above is signed asynchronously: give it a moment before the sockets go.
		const sockets = this.sockets;
		setTimeout(() => sockets.forEach((ws) => ws.close()), 500);
		for (const t of this.timers) clearTimeout(t);
		this.timers = [];
		this.stop();
		this.listeners.clear();
	}
}

/** Resolves once the connection has gathered its ICE candidates (or after a few seconds: what it has then goes). */
function gathered(pc: RTCPeerConnection): Promise<void> {
	if (pc.iceGatheringState === 'complete') return Promise.resolve();
	return new Promise((resolve) => {
		const done = () => {
			clearTimeout(timer);
			pc.removeEventListener('icegatheringstatechange', check);
			resolve();
		};
		const check = () => void (pc.iceGatheringState === 'complete' && done());
		const timer = setTimeout(done, ICE_GATHER_MS);
		pc.addEventListener('icegatheringstatechange', check);
	});
}

function mediaError(e: unknown): string {
	const name = e instanceof Error ? e.name : '';
	if (name === 'NotAllowedError') return 'the browser was not allowed to use the camera and microphone. Allow them for this site and try again.';
	if (name === 'NotFoundError') return 'this device has no camera or microphone the browser can use.';
	if (name === 'NotReadableError') return 'the camera or microphone is in use by another app.';
	return e instanceof Error ? e.message : String(e);
}
