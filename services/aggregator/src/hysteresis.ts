/** The dominant emotion of a track, with hysteresis: no flicker from single frames. */
import { EMOTIONS, type EmotionProbabilities, type EmotionState } from '@emostream/contracts';
import type { AggregatorConfig } from './config.js';

/** The part of the configuration hysteresis reads. */
export type HysteresisConfig = Pick<AggregatorConfig, 'switchMargin' | 'minDwellMs' | 'uncertainBelow' | 'uncertainMargin'>;

/** Hysteresis state of one track (JSON-serialisable). */
export interface DominantEmotion {
  /** The current dominant emotion, or `uncertain`. */
  emotion: EmotionState;
  /** Media time from which `emotion` is dominant (when it started leading), ms. */
  sinceMs: number;
  /** An emotion currently leading `emotion` by the margin, not yet for long enough. */
  candidate?: EmotionState;
  /** Media time the candidate started leading, ms. */
  candidateSinceMs?: number;
}

/** The result of {@link updateDominant}. */
export interface DominantStep {
  state: DominantEmotion;
  /** The dominant emotion changed in this step (from `previous`). */
  changed: boolean;
  previous?: EmotionState;
}

/**
 * The level of each state: an emotion's smoothed probability, and for `uncertain` the constant
 * `uncertainBelow`: `uncertain` leads when no emotion reaches it, and the switch rules (margin,
 * dwell) apply to it as to any emotion.
 */
function level(p: EmotionProbabilities, s: EmotionState, cfg: HysteresisConfig): number {
  return s === 'uncertain' ? cfg.uncertainBelow : p[s];
}

/**
 * Feeds one (smoothed) probability vector. The dominant state starts as the leader (the argmax,
 * or `uncertain` when no emotion reaches `uncertainBelow`); it changes only when another state
 * leads it by at least `switchMargin` continuously for at least `minDwellMs` of media time. The
 * change takes effect from when the lead began (`sinceMs`).
 */
export function updateDominant(
  prev: DominantEmotion | undefined,
  p: EmotionProbabilities,
  timeMs: number,
  cfg: HysteresisConfig,
): DominantStep {
  const states: EmotionState[] = [...EMOTIONS, 'uncertain'];
  let leader: EmotionState = prev?.emotion ?? 'uncertain';
  for (const e of states) if (level(p, e, cfg) > level(p, leader, cfg)) leader = e;
  if (!prev) return { state: { emotion: leader, sinceMs: timeMs }, changed: false };
  const margin = leader === 'uncertain' || prev.emotion === 'uncertain' ? cfg.uncertainMargin : cfg.switchMargin;
  if (leader === prev.emotion || level(p, leader, cfg) - level(p, prev.emotion, cfg) < margin) {
    return { state: { emotion: prev.emotion, sinceMs: prev.sinceMs }, changed: false };
  }
  const since = prev.candidate === leader && prev.candidateSinceMs !== undefined ? prev.candidateSinceMs : timeMs;
  if (timeMs - since >= cfg.minDwellMs) {
    return { state: { emotion: leader, sinceMs: since }, changed: true, previous: prev.emotion };
  }
  return { state: { emotion: prev.emotion, sinceMs: prev.sinceMs, candidate: leader, candidateSinceMs: since }, changed: false };
}
