/** Per-track smoothing of the 7 emotion probabilities over media time. */
import { EMOTIONS, type EmotionProbabilities } from '@emostream/contracts';

/** The smoother's state for one track (JSON-serialisable). */
export interface SmoothedProbabilities {
  probabilities: EmotionProbabilities;
  /** Media time of the last observation folded in, ms. */
  timeMs: number;
}

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
): SmoothedProbabilities {
  if (!prev) return { probabilities: { ...observed }, timeMs };
  const dt = timeMs - prev.timeMs;
  if (dt <= 0) return prev;
  const alpha = 1 - Math.exp(-dt / smoothingMs);
  const out = {} as EmotionProbabilities;
  for (const e of EMOTIONS) out[e] = prev.probabilities[e] + alpha * (observed[e] - prev.probabilities[e]);
  return { probabilities: out, timeMs };
}
