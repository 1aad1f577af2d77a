/** Save text as a file the browser downloads (evidence, invoices, CSV): no server is involved. */
export function saveFile(name: string, text: string, type: string): void {
	const url = URL.createObjectURL(new Blob([text], { type }));
	const a = document.createElement('a');
	a.href = url;
	a.download = name;
	document.body.append(a);
	a.click();
	a.remove();
	// Revoking at once can cancel the download in some browsers: give it a moment to start.
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
