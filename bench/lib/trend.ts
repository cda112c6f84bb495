/**
 * Trends of a series sampled over time (the soak's RSS, lag and state bytes): a least-squares
 * line through the samples after a warm-up, its slope per hour, absolute and as a share of the
 * series' mean, with the first, last, largest and mean values. Pure code.
 */

/** One sample: seconds since the start of the run and the value then. */
export interface Point {
  tS: number;
  v: number;
}

/** The least-squares line y = intercept + slope * x; undefined for fewer than two distinct x. */
export function fitLine(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } | undefined {
  if (xs.length !== ys.length) throw new Error(`fitLine: ${xs.length} x values but ${ys.length} y values`);
  const n = xs.length;
  if (n < 2) return undefined;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** What a series did over the run. */
export interface Trend {
  /** Samples in the whole series / after the warm-up (the fit's). */
  samples: number;
  fitted: number;
  first: number | null;
  last: number | null;
  max: number | null;
  /** Mean of the samples after the warm-up. */
  mean: number | null;
  /** Least-squares slope after the warm-up, in the value's unit per hour (null: fewer than 2 samples). */
  slopePerHour: number | null;
  /** slopePerHour / mean, as a fraction (0.01 = 1 % of the mean per hour); null when the mean is 0. */
  slopeShareOfMeanPerHour: number | null;
  /** Seconds the fit spans. */
  fittedSpanS: number;
}

/** The trend of `points` (any order), fitted on those at or after `warmupS`. */
export function trendOf(points: readonly Point[], warmupS: number): Trend {
  const all = [...points].filter((p) => Number.isFinite(p.v) && Number.isFinite(p.tS)).sort((a, b) => a.tS - b.tS);
  const fit = all.filter((p) => p.tS >= warmupS);
  const line = fitLine(fit.map((p) => p.tS / 3600), fit.map((p) => p.v));
  const mean = fit.length ? fit.reduce((a, p) => a + p.v, 0) / fit.length : null;
  const slopePerHour = line ? line.slope : null;
  return {
    samples: all.length,
    fitted: fit.length,
    first: all[0]?.v ?? null,
    last: all[all.length - 1]?.v ?? null,
    max: all.length ? Math.max(...all.map((p) => p.v)) : null,
    mean,
    slopePerHour,
    slopeShareOfMeanPerHour: slopePerHour !== null && mean ? slopePerHour / mean : null,
    fittedSpanS: fit.length ? fit[fit.length - 1].tS - fit[0].tS : 0,
  };
}
