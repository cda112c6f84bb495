/**
 * Persons passing one camera one after another, as the classifier's emotions messages (the
 * public wire contract): person `k` shows their face on one of `spots` places, far apart, in
 * `framesPerPerson` frames 100 ms apart (3: enough to be confirmed), 300 ms after person `k - 1`
 * started; the next person on the same spot comes `spots × 300` ms later, after the first one's
 * track ended (personTtlMs 2000). Each person's first frame carries an appearance embedding of
 * their own (a seeded random direction of `dims` floats), as the detector sends for new faces,
 * so the re-identification gallery fills to its cap. Used by the state test and the state bench.
 */
import { EMOTIONS, SCHEMA_VERSION, packEmbedding, type EmotionsMessage, type EmotionProbabilities } from '@emostream/contracts';
import { mulberry32 } from '@emostream/runtime';

/** What a run of passers-by looks like. */
export interface PassersByOptions {
  cameraId: string;
  /** Spots where faces appear (default 8). */
  spots?: number;
  /** Frames per person (default 3). */
  framesPerPerson?: number;
  /** Floats per embedding (default 128). */
  dims?: number;
  /** Ingest run id on every frame. */
  run?: string;
}

/** Media time between two persons' first frames, ms. */
export const PERSON_MS = 300;
const FRAME_MS = 100;
const T0 = 1_750_000_000_000;

function probabilities(k: number): EmotionProbabilities {
  const main = EMOTIONS[k % EMOTIONS.length];
  const p = {} as EmotionProbabilities;
  for (const e of EMOTIONS) p[e] = e === main ? 0.8 : 0.2 / (EMOTIONS.length - 1);
  return p;
}

/** The frames of persons `from` (inclusive) to `to` (exclusive), in order; `seq` counts frames from person 0. */
export function passersBy(o: PassersByOptions, from: number, to: number): EmotionsMessage[] {
  const spots = o.spots ?? 8, per = o.framesPerPerson ?? 3, dims = o.dims ?? 128;
  const out: EmotionsMessage[] = [];
  for (let k = from; k < to; k++) {
    const spot = k % spots;
    const box = { x: 40 + (spot % 4) * 300, y: 60 + Math.floor(spot / 4) * 320, width: 90, height: 90 };
    const rnd = mulberry32(1000 + k);
    for (let f = 0; f < per; f++) {
      const mediaTimeMs = k * PERSON_MS + f * FRAME_MS;
      out.push({
        frame: { schemaVersion: SCHEMA_VERSION, cameraId: o.cameraId, seq: k * per + f, mediaTimeMs, capturedAtMs: T0 + mediaTimeMs, width: 1280, height: 720, ...(o.run ? { run: o.run } : {}) },
        faces: [{
          box, score: 0.95, probabilities: probabilities(k),
          ...(f === 0 ? { embedding: packEmbedding(Array.from({ length: dims }, () => rnd() - 0.5)) } : {}),
        }],
        modelVersion: 'passers-by',
      });
    }
  }
  return out;
}
