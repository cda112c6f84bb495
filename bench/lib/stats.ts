/** Small statistics for the benchmark: percentiles, means, ratios, rounding for the table. */

/** The p-th percentile (0..100) by linear interpolation; undefined for no data. */
export function percentile(xs: readonly number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const k = ((s.length - 1) * p) / 100;
  const lo = Math.floor(k);
  const hi = Math.ceil(k);
  return s[lo] + (s[hi] - s[lo]) * (k - lo);
}

/** Arithmetic mean; undefined for no data. */
export function mean(xs: readonly number[]): number | undefined {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

/** a / b, or null when either is missing or b is 0 (JSON-friendly). */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === undefined || a === null || b === undefined || b === null || b === 0) return null;
  return a / b;
}

/** Rounds to `digits` significant digits for the JSON (null stays null). */
export function sig(x: number | null | undefined, digits = 4): number | null {
  if (x === undefined || x === null || !Number.isFinite(x)) return null;
  if (x === 0) return 0;
  return Number(x.toPrecision(digits));
}

/**
 * Growth between the first and the last tenth of a series: mean(last tenth) / mean(first tenth) - 1.
 * Needs at least 10 samples.
 */
export function growth(xs: readonly number[]): number | null {
  if (xs.length < 10) return null;
  const k = Math.max(1, Math.floor(xs.length / 10));
  const first = mean(xs.slice(0, k))!;
  const last = mean(xs.slice(xs.length - k))!;
  return first > 0 ? last / first - 1 : null;
}
