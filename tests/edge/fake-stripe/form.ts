/**
 * Stripe's request encoding: application/x-www-form-urlencoded with bracketed keys
 * (`metadata[contract]=…`, `expand[0]=data.refunds`, `capabilities[transfers][requested]=true`).
 * Decoded back into the nested object the SDK started from; arrays come back as arrays.
 */
export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
	[key: string]: FormValue;
}

export function decodeForm(text: string): FormObject {
	const root: FormObject = {};
	for (const [key, value] of new URLSearchParams(text)) {
		const path = key.replace(/\]/g, '').split('[');
		let node: FormObject | FormValue[] = root;
		for (let i = 0; i < path.length; i++) {
			const seg = path[i]!;
			const last = i === path.length - 1;
			const slot: string | number = Array.isArray(node) ? Number(seg || node.length) : seg;
			if (last) {
				(node as Record<string | number, FormValue>)[slot] = value;
				break;
			}
			const nextIsIndex = /^\d*$/.test(path[i + 1]!);
			const existing: FormValue | undefined = (node as Record<string | number, FormValue>)[slot];
			const child: FormObject | FormValue[] = (existing as FormObject | FormValue[] | undefined) ?? (nextIsIndex ? [] : {});
			(node as Record<string | number, FormValue>)[slot] = child;
			node = child;
		}
	}
	return root;
}

/** A stable string of the parameters: the idempotency layer compares requests by it. */
export function canonical(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
	if (value && typeof value === 'object')
		return `{${Object.keys(value)
			.sort()
			.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
			.join(',')}}`;
	return JSON.stringify(value);
}
