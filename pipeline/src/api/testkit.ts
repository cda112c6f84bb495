/** Hand-made emotion events for the live API's tests. */
import { createHash } from 'node:crypto';
import { EMOTIONS, SCHEMA_VERSION, type Emotion, type EmotionEvent, type EmotionState } from '@emostream/contracts';

/** The wall clock of media time 0 in {@link ev}. */
export const T0 = Date.parse('2026-03-01T12:00:00.000Z');

/** A hand-made event (a deterministic eventId); `at` is T0 + media time unless given. */
export function ev(type: EmotionEvent['type'], personId: string, t: number, emotion: EmotionState, confidence: number, o: { camera?: string; at?: number; returning?: boolean } = {}): EmotionEvent {
  const cameraId = o.camera ?? 'cam0';
  const at = new Date(o.at ?? T0 + t).toISOString();
  const probabilities = Object.fromEntries(EMOTIONS.map((e) => [e, e === emotion ? confidence : (1 - confidence) / 6])) as Record<Emotion, number>;
  return {
    schemaVersion: SCHEMA_VERSION, eventId: createHash('sha256').update(`${cameraId}/${personId}/${type}/${t}/${at}`).digest('hex').slice(0, 32),
    type, cameraId, personId, at, mediaTimeMs: t, emotion, confidence, probabilities, modelVersion: 'test-1',
    ...(o.returning ? { returning: true } : {}),
  };
}

