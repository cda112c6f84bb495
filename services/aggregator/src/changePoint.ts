/**
 * The live dominant emotion by change-point detection: the online counterpart of the timelines
 * with hindsight (hindsight.ts), in the same units.
 *
 * Hindsight decodes all of a person's frames at once: the path of emotions that maximises the sum
 * over frames of (frame duration) x log P(emotion), minus a cost per change. Live, a decision
 * cannot wait for the frames after it and must not be taken back. So the current emotion is kept
 * until another one has gathered more than `changePointCost` nats x seconds of evidence against it since
 * some frame: for each other emotion j, the largest sum over the latest frames of
 * d x (log P(j) - log P(current)), kept by Page's CUSUM (it restarts from 0 whenever the sum falls
 * under 0). When one passes the cost, it becomes the current emotion, and the change is dated where
 * its evidence began (halfway between the last frame where its sum was 0 and the next), which is
 * where hindsight would date it with the frames seen so far. After a change every sum starts again
 * from 0, so a change back pays the cost again: events do not flicker.
 *
 * Frames of a clear emotion pass the cost in a few frames (log-ratios of 2-4 nats each); frames
 * that hesitate between two emotions hardly ever do. A segment whose emotion's mean probability
 * over its frames is under `uncertainBelow` is `uncertain`, as with hindsight; once a segment is
 * under way, it enters and leaves `uncertain` only across `uncertainMargin`.
 */
import { argmaxEmotion, EMOTIONS, type Emotion, type EmotionProbabilities } from '@emostream/contracts';
import type { AggregatorConfig } from './config.js';
import type { DominantEmotion, DominantStep } from './hysteresis.js';

/** The part of the configuration it reads (the cost of a change, nats x s; `uncertain` and its margin). */
export type ChangePointOptions = Pick<AggregatorConfig, 'changePointCost' | 'uncertainBelow' | 'uncertainMargin'>;

/** An emotion gathering evidence against the current one (JSON-serialisable). */
export interface Challenger {
  /** Its evidence against the current emotion since `sinceMs`, nats x s (> 0). */
  evidence: number;
  /** Where its evidence began, ms (the change's date if it wins). */
  sinceMs: number;
  /** The sum of its probability over the frames since `sinceMs`, and their count (its new segment's mean). */
  sum: number;
  frames: number;
}

/** One person's change-point state (JSON-serialisable: it goes into snapshots). */
export interface ChangePointState {
  /** The current emotion (the decoded state; `uncertain` is a property of its segment). */
  emotion: Emotion;
  /** Where the current emotion's segment began, ms. */
  sinceMs: number;
  /** Media time of the last frame, ms. */
  lastMs: number;
  /** The emotions with evidence against the current one; the others have none (their evidence would begin after `lastMs`). */
  challengers: Partial<Record<Emotion, Challenger>>;
  /** The current segment: the sum of its emotion's probability over its frames, and their count. */
  sum: number;
  frames: number;
  /** The current segment is `uncertain`. */
  uncertain: boolean;
}

/** Probabilities are floored before the log (as hindsight's): one frame's near-zero cannot decide alone. */
const FLOOR = 1e-3;
/** A frame counts for the time since the previous one, at most this (a person unseen for a while is not more certain for it). */
const MAX_FRAME_MS = 250;

const logP = (p: EmotionProbabilities, e: Emotion) => Math.log(Math.max(p[e], FLOOR));

/** The dominant state as the timeline and the events read it. */
function dominantOf(s: ChangePointState, candidate?: Emotion): DominantEmotion {
  const out: DominantEmotion = { emotion: s.uncertain ? 'uncertain' : s.emotion, sinceMs: s.sinceMs };
  if (candidate !== undefined) { out.candidate = candidate; out.candidateSinceMs = s.challengers[candidate]!.sinceMs; }
  return out;
}

function fresh(emotion: Emotion, sinceMs: number, timeMs: number, sum: number, frames: number, o: ChangePointOptions): ChangePointState {
  return { emotion, sinceMs, lastMs: timeMs, challengers: {}, sum, frames, uncertain: sum / frames < o.uncertainBelow };
}

/**
 * A state that goes on from a dominant emotion decided otherwise (a snapshot written before this
 * decoding, or by the hysteresis): its emotion and date kept, its evidence starting from 0.
 */
export function changePointFrom(d: DominantEmotion, p: EmotionProbabilities, timeMs: number, o: ChangePointOptions): ChangePointState {
  const emotion: Emotion = d.emotion !== 'uncertain' ? d.emotion : argmaxEmotion(p).emotion;
  // Its segment's mean starts on the side of uncertainBelow that was decided, as if its frames so far (10 a second, at most 50) had been there.
  const uncertain = d.emotion === 'uncertain';
  const frames = Math.min(50, Math.max(1, Math.round((timeMs - d.sinceMs) / 100)));
  const level = uncertain ? Math.min(p[emotion], o.uncertainBelow - o.uncertainMargin) : Math.max(p[emotion], o.uncertainBelow + o.uncertainMargin);
  return { ...fresh(emotion, d.sinceMs, timeMs, level * frames, frames, o), uncertain };
}

const stepOf = (state: DominantEmotion, before: DominantEmotion['emotion']): DominantStep =>
  ({ state, changed: state.emotion !== before, ...(state.emotion !== before ? { previous: before } : {}) });

/**
 * Feeds one frame's probabilities (the classifier's, not smoothed: the evidence is summed here).
 * Returns the new state and the dominant step (`changed` when the emitted state changed).
 */
export function updateChangePoint(
  prev: ChangePointState | undefined,
  p: EmotionProbabilities,
  timeMs: number,
  o: ChangePointOptions,
): { state: ChangePointState; step: DominantStep } {
  if (!prev) {
    const first = argmaxEmotion(p);
    const state = fresh(first.emotion, timeMs, timeMs, first.confidence, 1, o);
    return { state, step: { state: dominantOf(state), changed: false } };
  }
  const dtMs = timeMs - prev.lastMs;
  if (dtMs <= 0) return { state: prev, step: { state: dominantOf(prev), changed: false } };
  const d = Math.min(dtMs, MAX_FRAME_MS) / 1000;
  const current = logP(p, prev.emotion);
  const challengers: ChangePointState['challengers'] = {};
  let winner: Emotion | undefined;
  let challenger: Emotion | undefined;
  for (const e of EMOTIONS) {
    if (e === prev.emotion) continue;
    const was = prev.challengers[e];
    const evidence = (was?.evidence ?? 0) + d * (logP(p, e) - current);
    // Nothing for e since this frame: its evidence, if any comes, begins after it.
    if (evidence <= 0) continue;
    // Evidence begins: dated halfway between the last frame without it and this one.
    const c: Challenger = was
      ? { evidence, sinceMs: was.sinceMs, sum: was.sum + p[e], frames: was.frames + 1 }
      : { evidence, sinceMs: (prev.lastMs + timeMs) / 2, sum: p[e], frames: 1 };
    challengers[e] = c;
    if (evidence > o.changePointCost && (winner === undefined || evidence > challengers[winner]!.evidence)) winner = e;
    if (challenger === undefined || evidence > challengers[challenger]!.evidence) challenger = e;
  }
  const before = dominantOf(prev).emotion;
  if (winner !== undefined) {
    const w = challengers[winner]!;
    const next = fresh(winner, Math.max(w.sinceMs, prev.sinceMs), timeMs, w.sum, w.frames, o);
    return { state: next, step: stepOf(dominantOf(next), before) };
  }
  const s: ChangePointState = { ...prev, lastMs: timeMs, challengers, sum: prev.sum + p[prev.emotion], frames: prev.frames + 1 };
  const mean = s.sum / s.frames;
  if (s.uncertain ? mean >= o.uncertainBelow + o.uncertainMargin : mean < o.uncertainBelow - o.uncertainMargin) {
    s.uncertain = !s.uncertain;
    s.sinceMs = timeMs;
  }
  return { state: s, step: stepOf(dominantOf(s, challenger), before) };
}
