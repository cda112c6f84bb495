/** The dominant emotion of a track, with hysteresis: no flicker from single frames. */
import { EMOTIONS, argmaxEmotion, type Emotion, type EmotionProbabilities } from '@emostream/contracts';
import type { AggregatorConfig } from './config.js';

/** The part of the configuration hysteresis reads. */
export type HysteresisConfig = Pick<AggregatorConfig, 'switchMargin' | 'minDwellMs'>;

/** Hysteresis state of one track (JSON-serialisable). */
export interface DominantEmotion {
  /** The current dominant emotion. */
  emotion: Emotion;
  /** Media time from which `emotion` is dominant (when it started leading), ms. */
  sinceMs: number;
  /** An emotion currently leading `emotion` by the margin, not yet for long enough. */
  candidate?: Emotion;
  /** Media time the candidate started leading, ms. */
  candidateSinceMs?: number;
}

/** The result of {@link updateDominant}. */
export interface DominantStep {
  state: DominantEmotion;
  /** The dominant emotion changed in this step (from `previous`). */
  changed: boolean;
  previous?: Emotion;
}

/**
 * Feeds one (smoothed) probability vector. The dominant emotion starts as the argmax; it changes
 * only when another emotion leads it by at least `switchMargin` continuously for at least
 * `minDwellMs` of media time. The change takes effect from when the lead began (`sinceMs`).
 */
export function updateDominant(
  prev: DominantEmotion | undefined,
  p: EmotionProbabilities,
  timeMs: number,
  cfg: HysteresisConfig,
): DominantStep {
  if (!prev) return { state: { emotion: argmaxEmotion(p).emotion, sinceMs: timeMs }, changed: false };
  let leader: Emotion = prev.emotion;
  for (const e of EMOTIONS) if (p[e] > p[leader]) leader = e;
  if (leader === prev.emotion || p[leader] - p[prev.emotion] < cfg.switchMargin) {
    return { state: { emotion: prev.emotion, sinceMs: prev.sinceMs }, changed: false };
  }
  const since = prev.candidate === leader && prev.candidateSinceMs !== undefined ? prev.candidateSinceMs : timeMs;
  if (timeMs - since >= cfg.minDwellMs) {
    return { state: { emotion: leader, sinceMs: since }, changed: true, previous: prev.emotion };
  }
  return { state: { emotion: prev.emotion, sinceMs: prev.sinceMs, candidate: leader, candidateSinceMs: since }, changed: false };
}
