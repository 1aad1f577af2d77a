declare module 'simple-peer/simplepeer.min.js' {
	const Peer: { prototype: { send(chunk: Uint8Array): void; _onChannelMessage(event: { data: unknown }): void } };
	export default Peer;
}
