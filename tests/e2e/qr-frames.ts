/**
 * A QR code as a Y4M video for Chromium's fake camera (`--use-file-for-fake-video-capture`): a few
 * identical 4:2:0 frames, dark modules on white, drawn with the app's own QR generator.
 */
import { writeFileSync } from 'node:fs';
import qrcode from 'qrcode-generator';

export function writeQrVideo(path: string, text: string, { width = 640, height = 480, frames = 4 } = {}): void {
	const y = new Uint8Array(width * height).fill(235);
	if (text) {
		const q = qrcode(0, 'M');
		q.addData(text);
		q.make();
		const n = q.getModuleCount();
		const cell = Math.floor((Math.min(width, height) - 40) / (n + 8));
		const x0 = Math.floor((width - cell * n) / 2);
		const y0 = Math.floor((height - cell * n) / 2);
		for (let r = 0; r < n; r++)
			for (let c = 0; c < n; c++) {
				if (!q.isDark(r, c)) continue;
				for (let dy = 0; dy < cell; dy++) y.fill(16, (y0 + r * cell + dy) * width + x0 + c * cell, (y0 + r * cell + dy) * width + x0 + (c + 1) * cell);
			}
	}
	const chroma = new Uint8Array((width / 2) * (height / 2)).fill(128);
	const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F5:1 Ip A1:1 C420jpeg\n`);
	const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma, chroma]);
	writeFileSync(path, Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]));
}
