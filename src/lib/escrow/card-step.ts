/**
 * The card step of a Stripe-funded milestone: Stripe.js (always loaded from js.stripe.com, as Stripe
 * requires) mounts a Payment Element; funding asks it for a PaymentMethod, and a payment that needs
 * the browser (3-D Secure) is finished with handleNextAction. The page that shows the fund panel
 * registers the element here; the Stripe adapter asks for the PaymentMethod through `collect`.
 */

interface StripeElement {
	mount(el: HTMLElement): void;
	destroy(): void;
}
interface StripeElements {
	create(type: 'payment'): StripeElement;
	submit(): Promise<{ error?: { message?: string } }>;
}
interface StripeJs {
	elements(opts: { mode: 'payment'; amount: number; currency: string }): StripeElements;
	createPaymentMethod(opts: { elements: StripeElements }): Promise<{ paymentMethod?: { id: string }; error?: { message?: string } }>;
	handleNextAction(opts: { clientSecret: string }): Promise<{ error?: { message?: string } }>;
}

const STRIPE_JS = 'https://js.stripe.com/v3/';
let loading: Promise<(key: string) => StripeJs> | undefined;
const instances = new Map<string, StripeJs>();

export class CardStepError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'CardStepError';
	}
}

function loadStripeJs(): Promise<(key: string) => StripeJs> {
	loading ??= new Promise((resolve, reject) => {
		const w = window as unknown as { Stripe?: (key: string) => StripeJs };
		if (w.Stripe) return resolve(w.Stripe);
		const script = document.createElement('script');
		script.src = STRIPE_JS;
		script.onload = () => (w.Stripe ? resolve(w.Stripe) : reject(new CardStepError('Stripe.js loaded without Stripe.')));
		script.onerror = () => {
			loading = undefined;
			reject(new CardStepError('Stripe.js could not be loaded: the card step needs a connection to js.stripe.com.'));
		};
		document.head.appendChild(script);
	});
	return loading;
}

async function stripe(publishableKey: string): Promise<StripeJs> {
	let s = instances.get(publishableKey);
	if (!s) instances.set(publishableKey, (s = (await loadStripeJs())(publishableKey)));
	return s;
}

let mounted: { stripe: StripeJs; elements: StripeElements; element: StripeElement } | undefined;

/** Mount a Payment Element for `amount` (minor units) into `el`; returns the unmount function. */
export async function mountCardStep(el: HTMLElement, publishableKey: string, amount: number, currency: string): Promise<() => void> {
	const s = await stripe(publishableKey);
	const elements = s.elements({ mode: 'payment', amount, currency: currency.toLowerCase() });
	const element = elements.create('payment');
	element.mount(el);
	mounted = { stripe: s, elements, element };
	return () => {
		element.destroy();
		if (mounted?.element === element) mounted = undefined;
	};
}

/** The PaymentMethod of the mounted Payment Element; the adapter calls this when it funds. */
export async function collect(): Promise<string | undefined> {
	if (!mounted) throw new CardStepError('Enter the card details first.');
	const submitted = await mounted.elements.submit();
	if (submitted.error) throw new CardStepError(submitted.error.message ?? 'The card details are incomplete.');
	const { paymentMethod, error } = await mounted.stripe.createPaymentMethod({ elements: mounted.elements });
	if (error || !paymentMethod) throw new CardStepError(error?.message ?? 'The card was not accepted.');
	return paymentMethod.id;
}

/** Finish a payment that needs the person (3-D Secure) in Stripe's own dialog. */
export async function completePayment(clientSecret: string): Promise<void> {
	if (!mounted) throw new CardStepError('The payment needs confirmation, but no card form is open.');
	const { error } = await mounted.stripe.handleNextAction({ clientSecret });
	if (error) throw new CardStepError(error.message ?? 'The payment was not confirmed.');
}
