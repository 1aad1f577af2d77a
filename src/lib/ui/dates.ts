/**
 * Dates as pages write them ("7 Dec 2026" in the person's locale). One formatter, built once:
 * `toLocaleDateString` with options builds a new one on every call, which a contract page with
 * fifty milestones' clocks did hundreds of times on its first render.
 */
const SHORT = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });

export const shortDate = (ms: number): string => SHORT.format(ms);
