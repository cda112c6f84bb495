/** Per-track smoothing of the 7 emotion probabilities over media time. */
import { EMOTIONS, type EmotionProbabilities } from '@emostream/contracts';

/** The smoother's state for one track (JSON-serialisable). */
export interface SmoothedProbabilities {
  probabilities: EmotionProbabilities;
  /** Media time of the last observation folded in, ms. */
  timeMs: number;
  /**
   * Weight of the evidence folded in so far, 0..1 (1 − exp(−span / smoothingMs) for a steady
   * stream): the average is divided by it, so that a young track's first frames count alike
   * instead of the first one outweighing the rest. 0 after the first observation (it takes the
   * weight of the gap to the next one). Absent in states saved before it existed: 1.
   */
  weight?: number;
}

/**
 * What is averaged: `log`, the log-probabilities (a weighted geometric mean of the frames'
 * distributions, renormalised: each frame counts by how sure the model was, since a flat answer
 * moves every log-probability alike and so changes nothing, while a sure one moves its emotion
 * far from the rest); `probability`, the probabilities themselves (an arithmetic mean, where a
 * frame counts the same however unsure it was).
 */
export type SmoothingSpace = 'log' | 'probability';

/** Probabilities under this are taken as this in log space (a frame never vetoes an emotion outright). */
const FLOOR = 1e-4;

/**
 * One step of a continuous-time exponential moving average: the weight of the new observation is
 * `1 - exp(-dt / smoothingMs)`, so the result depends on how much media time passed, not on how
 * many frames arrived (irregular frame intervals and dropped frames give the same curve as a
 * steady rate). The first observation is taken as is. A repeated or earlier timestamp adds nothing.
 *
 * With `warmup` the average is bias-corrected as Adam's moments are: divided by the weight of the
 * evidence so far, so that until a track has been seen for about `smoothingMs` its frames count
 * alike (the first frame does not outweigh the next ones), and after that it is the plain average.
 */
export function smoothProbabilities(
  prev: SmoothedProbabilities | undefined,
  observed: EmotionProbabilities,
  timeMs: number,
  smoothingMs: number,
  space: SmoothingSpace = 'probability',
  warmup = false,
): SmoothedProbabilities {
  if (!prev) return warmup ? { probabilities: { ...observed }, timeMs, weight: 0 } : { probabilities: { ...observed }, timeMs };
  const dt = timeMs - prev.timeMs;
  if (dt <= 0) return prev;
  const step = 1 - Math.exp(-dt / smoothingMs);
  let alpha = step;
  let weight: number | undefined;
  if (warmup) {
    const before = prev.weight === undefined ? 1 : prev.weight === 0 ? step : prev.weight;
    weight = (1 - step) * before + step;
    alpha = step / weight;
  }
  const out = {} as EmotionProbabilities;
  const done = (probabilities: EmotionProbabilities): SmoothedProbabilities => (weight === undefined ? { probabilities, timeMs } : { probabilities, timeMs, weight });
  if (space === 'probability') {
    for (const e of EMOTIONS) out[e] = prev.probabilities[e] + alpha * (observed[e] - prev.probabilities[e]);
    return done(out);
  }
  const log = (p: number) => Math.log(Math.max(FLOOR, p));
  let max = -Infinity;
  for (const e of EMOTIONS) {
    out[e] = log(prev.probabilities[e]) + alpha * (log(observed[e]) - log(prev.probabilities[e]));
    max = Math.max(max, out[e]);
  }
  let sum = 0;
  for (const e of EMOTIONS) { out[e] = Math.exp(out[e] - max); sum += out[e]; }
  for (const e of EMOTIONS) out[e] /= sum;
  return done(out);
}
