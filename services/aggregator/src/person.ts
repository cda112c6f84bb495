/** One person of one camera as the aggregator keeps them, and the events that describe them. */
import { createHash } from 'node:crypto';
import { SCHEMA_VERSION, type EmotionEvent, type EmotionProbabilities, type PersonLink, type Segment } from '@emostream/contracts';
import { updateDominant, type DominantEmotion, type DominantStep } from './hysteresis.js';
import { smoothProbabilities, type SmoothedProbabilities } from './smoothing.js';
import type { AggregatorConfig } from './config.js';
import { stateConfidence, type TimelineState } from './timeline.js';
import type { HindsightTrack } from './hindsight.js';
import { changePointFrom, updateChangePoint, type ChangePointState } from './changePoint.js';

/** One person of one camera (JSON-serialisable). */
export interface PersonState {
  personId?: string;
  smoothed: SmoothedProbabilities;
  dominant: DominantEmotion;
  /** The change-point state behind `dominant` (`liveDecoding` changePoint). */
  changePoint?: ChangePointState;
  timeline: TimelineState;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Capture time of the last frame the person was seen in: the `at` of `person.left`. */
  lastSeenCapturedAtMs: number;
  modelVersion: string;
  /** A returning person's timeline before they left (their new segments follow it). */
  priorSegments?: Segment[];
  /** Recognised as a person who left this camera before. */
  returning?: boolean;
  /** Linked across cameras: who they were first seen as on another camera. */
  sameAs?: PersonLink;
  /** Their frames for a timeline with hindsight (`timelineHindsight`; memory only, never in a snapshot). */
  hindsight?: HindsightTrack;
}

/**
 * An event's id: deterministic, so the same frames give the same id (a consumer deduplicates
 * redelivered events on it): the first 16 bytes of SHA-256 over camera, person, type, media time
 * and capture time, hex.
 */
export function eventIdOf(cameraId: string, personId: string, type: string, mediaTimeMs: number, at: string): string {
  return createHash('sha256').update(`${cameraId}\n${personId}\n${type}\n${mediaTimeMs}\n${at}`).digest('hex').slice(0, 32);
}

/** The event of `type` about a person, dated at a frame (media and capture time). */
export function personEvent(type: EmotionEvent['type'], cameraId: string, person: PersonState, mediaTimeMs: number, capturedAtMs: number): EmotionEvent {
  const probabilities: EmotionProbabilities = { ...person.smoothed.probabilities };
  const emotion = person.dominant.emotion;
  const confidence = stateConfidence(probabilities, emotion);
  const at = new Date(capturedAtMs).toISOString();
  const media = Math.max(0, mediaTimeMs);
  return {
    schemaVersion: SCHEMA_VERSION, eventId: eventIdOf(cameraId, person.personId!, type, media, at), type, cameraId, personId: person.personId!,
    at, mediaTimeMs: media, emotion,
    confidence: Math.min(1, Math.max(0, confidence)), probabilities, modelVersion: person.modelVersion,
    ...(type === 'person.appeared' && person.returning ? { returning: true } : {}),
    ...(person.sameAs ? { sameAs: { ...person.sameAs } } : {}),
  };
}

/**
 * One frame of a person's emotion: the moving average (the probabilities events carry) and the
 * live decision on it (`liveDecoding`: hysteresis on the average, or change points on the frames'
 * own probabilities, whose state is returned for the person to keep).
 */
export function emotionStep(prev: PersonState | undefined, probabilities: EmotionProbabilities, timeMs: number, c: AggregatorConfig): {
  smoothed: SmoothedProbabilities; step: DominantStep; changePoint?: ChangePointState;
} {
  const smoothed = smoothProbabilities(prev?.smoothed, probabilities, timeMs, c.smoothingMs, c.smoothingSpace, c.smoothingWarmup);
  if (c.liveDecoding === 'hysteresis') return { smoothed, step: updateDominant(prev?.dominant, smoothed.probabilities, timeMs, c) };
  // A person of a snapshot written before (or by the hysteresis) goes on from the emotion they had.
  const from = prev && (prev.changePoint ?? changePointFrom(prev.dominant, prev.smoothed.probabilities, prev.lastSeenMs, c));
  const cp = updateChangePoint(from, probabilities, timeMs, c);
  return { smoothed, step: cp.step, changePoint: cp.state };
}
