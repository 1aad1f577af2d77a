/**
 * Which contracts' screens are shared for screenshots now (the streams screen-capture.ts opened).
 * A module of its own, with no imports, so the header's tracker badge can say "screenshots on"
 * without loading the capture and thumbnail code on every page.
 */
const streams = new Map<string, MediaStream>();
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((fn) => fn());

/** Hear when screen sharing starts or ends for any contract. */
export function onSharingChange(fn: () => void): () => void {
	listeners.add(fn);
	return () => listeners.delete(fn);
}

/** Is the screen being shared for this contract's screenshots now? */
export function sharing(contract: string): boolean {
	return streams.get(contract)?.getVideoTracks().some((t) => t.readyState === 'live') ?? false;
}

export function sharedStream(contract: string): MediaStream | undefined {
	return streams.get(contract);
}

/** Keep this contract's shared stream (the one before it is stopped). */
export function keepStream(contract: string, stream: MediaStream): void {
	stopSharing(contract);
	streams.set(contract, stream);
	for (const track of stream.getVideoTracks()) track.addEventListener('ended', () => emit());
	emit();
}

/** Stop sharing the screen for this contract. */
export function stopSharing(contract: string): void {
	const s = streams.get(contract);
	if (!s) return;
	for (const track of s.getTracks()) track.stop();
	streams.delete(contract);
	emit();
}
