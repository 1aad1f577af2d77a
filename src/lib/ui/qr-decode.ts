/**
 * Reading a QR code from a camera frame: the browser's BarcodeDetector where it reads QR codes
 * (Chromium on Android, macOS, ChromeOS), otherwise jsQR, loaded only when a scan starts so it stays
 * out of the app's first download.
 */
export type QrReader = (video: HTMLVideoElement) => Promise<string[]>;

interface Detector {
	detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}
type DetectorClass = { new (o: { formats: string[] }): Detector; getSupportedFormats?: () => Promise<string[]> };

/** The best reader this browser has. */
export async function qrReader(): Promise<QrReader> {
	const Barcode = (globalThis as unknown as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
	const formats = Barcode ? await Barcode.getSupportedFormats?.().catch(() => [] as string[]) : [];
	if (Barcode && (formats ?? ['qr_code']).includes('qr_code')) {
		const detector = new Barcode({ formats: ['qr_code'] });
		return async (video) => (await detector.detect(video).catch(() => [])).map((c) => c.rawValue);
	}
	const { default: jsQR } = await import('jsqr');
	const canvas = document.createElement('canvas');
	const ctx = canvas.getContext('2d', { willReadFrequently: true });
	return async (video) => {
		const w = video.videoWidth;
		const h = video.videoHeight;
		if (!ctx || !w || !h) return [];
		// Large frames are scaled down: a code that fills part of the view still has enough pixels.
		const scale = Math.min(1, 800 / Math.max(w, h));
		canvas.width = Math.round(w * scale);
		canvas.height = Math.round(h * scale);
		ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
		const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
		const found = jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' });
		return found?.data ? [found.data] : [];
	};
}
