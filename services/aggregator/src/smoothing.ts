/** Per-track smoothing of the 7 emotion probabilities over media time. */
import { EMOTIONS, type EmotionProbabilities } from '@emostream/contracts';

/** The smoother's state for one track (JSON-serialisable). */
export interface SmoothedProbabilities {
  probabilities: EmotionProbabilities;
  /** Media time of the last observation folded in, ms. */
  timeMs: number;
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
 */
export function smoothProbabilities(
  prev: SmoothedProbabilities | undefined,
  observed: EmotionProbabilities,
  timeMs: number,
  smoothingMs: number,
  space: SmoothingSpace = 'probability',
): SmoothedProbabilities {
  if (!prev) return { probabilities: { ...observed }, timeMs };
  const dt = timeMs - prev.timeMs;
  if (dt <= 0) return prev;
  const alpha = 1 - Math.exp(-dt / smoothingMs);
  const out = {} as EmotionProbabilities;
  if (space === 'probability') {
    for (const e of EMOTIONS) out[e] = prev.probabilities[e] + alpha * (observed[e] - prev.probabilities[e]);
    return { probabilities: out, timeMs };
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
  return { probabilities: out, timeMs };
}
