/** The evidence file's verifier, built into one inline script by bundle-plugin.ts. */
declare module 'virtual:evidence-verifier' {
	const code: string;
	export default code;
}
