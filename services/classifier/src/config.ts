/** The classifier service's settings (`CLASSIFIER_*`): one strict zod schema, read by the one env reader. */
import { z } from 'zod';
import { settingsFromEnv } from '@emostream/runtime';
import { HEAD_NAME, OWN_HEAD } from '@emostream/model';
import { DEFAULT_BREAKER_FAILED_BATCHES } from './breaker.js';
import type { ClassifyConfig } from './classifyFaces.js';

/**
 * The reuse defaults, chosen on the detector's output for woman2 at 720p, the six-face clip and
 * scene-bench scenes, every face classified (bench/RESULTS.md, Session 11). `maxMs` 300 is
 * Session 11's two reused frames in a row at 10 fps, held in media time so that 25 fps costs no
 * more model calls a second than 10 fps.
 */
export const REUSE_DEFAULTS = Object.freeze({ maxMs: 300, minMs: 100, maxChange: 0.03, minIou: 0.9, maxCameras: 512, pairMs: 300 });

/** A camera unseen this long (ms) is forgotten by the reuse cache. */
export const REUSE_IDLE_MS = 60_000;

/** The env prefix of {@link ClassifierSettingsSchema}. */
export const CLASSIFIER_PREFIX = 'CLASSIFIER_';

/**
 * The classifier service's settings. The batching defaults are those of every way of running the
 * pipeline (embedded and distributed: @emostream/pipeline's DEFAULT_CLASSIFY is taken from here):
 * a batch starts as soon as the model is free, with the frames that came while it was busy (at
 * most 32 frames, faces of several cameras in the service); a frame that finds it idle does not
 * wait for others (`maxWaitMs` 0).
 */
export const ClassifierSettingsSchema = z.strictObject({
  model: z.string().min(1).optional()
    .describe('Model directory (a version from `emostream train`; watched for new versions), or `human` for Human\'s emotion model; default: the shipped model'),
  maxWaitMs: z.number().int().min(0).max(10_000).default(0)
    .describe('Longest a frame that finds the model idle waits for other frames to join its batch, ms (0: only frames that arrive together); frames that arrive while the model is busy form the next batch without waiting'),
  maxBatchFrames: z.number().int().min(1).max(1024).default(32)
    .describe('Most frames per model call (each frame may carry several faces; a batch mixes cameras and partitions)'),
  modelPollMs: z.number().int().min(0).max(3_600_000).default(10_000)
    .describe('How often the model directory is checked for a new version, ms; 0 = never'),
  breakerFailedBatches: z.number().int().min(0).max(10_000).default(DEFAULT_BREAKER_FAILED_BATCHES)
    .describe('Circuit breaker: after this many batches in a row whose every model call failed (each retried, then frame by frame), /healthz answers 503 so the process is restarted, and emostream_classifier_breaker_open is 1; a batch that succeeds closes it; 0 = never'),
  reuseMaxMs: z.number().int().min(0).max(10_000).default(REUSE_DEFAULTS.maxMs)
    .describe('Classification reused for unchanged faces, in ms of media time: a face whose box and crop did not change since the camera\'s last frame takes the probabilities of its last fresh classification instead of a model call while that classification is less than this old (media time that goes back, a file that loops or a restarted stream, classifies afresh). With 300 a face is classified afresh at least every 3rd frame at 10 fps and every 8th at 25 fps, so analysing every frame costs no more model calls a second than 10 fps; at 25 fps, every frame of a 720p clip, this and the detector\'s time-based carry took the wall time to 0.77 of before with one face and 0.92 with six faces (bench/RESULTS.md, Session 15). Counted in emostream_faces_reused_total; 0 = off'),
  reuseMinMs: z.number().int().min(0).max(10_000).default(REUSE_DEFAULTS.minMs)
    .describe('Classification reused for every face, changed or not, for this long after its fresh classification, in ms of media time (same box overlap reuseMinIou, camera, model and hard-cut rules as reuseMaxMs): a face is classified at most once per reuseMinMs whatever the frame rate, and the frames between take its probabilities of 33-67 ms before. 100 is the default --fps 10 frame interval: at 10 fps every frame is classified as before, at 25-30 fps every third (woman2 720p, every frame at 30 fps: 0.84 of the CPU time; its timeline and short_hamilton_clip\'s the same for 98-100% of each person\'s time, a six-face clip\'s for 92%, the rest borderline segments of mean confidence 0.33-0.47; bench/RESULTS.md, Session 16); counted in emostream_faces_reused_total; 0 = off'),
  reuseMaxChange: z.number().min(0).max(1).default(REUSE_DEFAULTS.maxChange)
    .describe('Largest change of a reused face\'s 48x48 crop against the crop last classified: the largest mean absolute difference of the pixels of any of its 6x6 cells (8x8 pixels each), in gray levels / 255'),
  reuseMinIou: z.number().min(0).max(1).default(REUSE_DEFAULTS.minIou)
    .describe('Least overlap (IoU) of a reused face\'s box with the box last classified (a face carried by the detector keeps the identical box)'),
  reuseMaxCameras: z.number().int().min(1).max(100_000).default(REUSE_DEFAULTS.maxCameras)
    .describe('Most cameras whose last faces are kept for reuse, in memory only (about 2.5 KB per face; the least recently seen are forgotten first, and a camera unseen for 60 s)'),
  mirrorPairMs: z.number().int().min(0).max(10_000).default(REUSE_DEFAULTS.pairMs)
    .describe('Mirror TTA at one pass a face, in ms of media time: a model that averages each face with its mirror image (the shipped one) classifies a face seen afresh within this long of its last fresh classification (same box overlap reuseMinIou, camera, model and hard-cut rules as reuseMaxMs) with one view only, plain or mirrored, the one it did not get last time, averaged with the view it got then; a face new to the camera, or after a cut, gets both views at once; 0 = both views every time'),
  head: z.string().regex(HEAD_NAME).default(OWN_HEAD)
    .describe('Which softmax head of the model answers: `fer2013`, its own (trained on FER-2013\'s labels; the default), or one from its heads.json, such as `ferplus` (fitted to FER+\'s ten crowd votes per face: fewer neutral faces called sad, but subtle or posed anger and sadness more often called neutral); the model version in events becomes `<version>+<head>`'),
  worker: z.boolean().default(false)
    .describe('Run the emotion CNN in a worker thread (its own TensorFlow.js, same model directory and outputs; about 160 MiB more memory), so face detection of the next frame overlaps the classification of this one; a crashed worker fails that model call (retried) and is restarted; `human` stays on the main thread. Off by default: on 2 cores about 4% faster with six faces a frame at 25 fps, no faster with one face or at 10 fps'),
});

/** The settings of the classifier stage itself (batching, reuse): what `analyze --set classifier.<key>=` takes. */
export const ClassifyStageSchema = ClassifierSettingsSchema.pick({
  maxWaitMs: true, maxBatchFrames: true, reuseMaxMs: true, reuseMinMs: true, reuseMaxChange: true, reuseMinIou: true, reuseMaxCameras: true, mirrorPairMs: true, worker: true, head: true,
});

/** {@link ClassifyStageSchema}'s input (every field optional: the defaults fill the rest). */
export type ClassifyStageInput = z.input<typeof ClassifyStageSchema>;

/** Parsed classifier service settings. */
export type ClassifierSettings = z.output<typeof ClassifierSettingsSchema>;

/** The defaults (the shipped model, 0 ms, 32 frames, 10 s, the breaker at 5 failed batches). */
export const DEFAULT_CLASSIFIER_SETTINGS: Readonly<ClassifierSettings> = Object.freeze(ClassifierSettingsSchema.parse({}));

/** The classifier stage's configuration (batching and reuse) from its settings, embedded and distributed alike. */
export function classifyConfigOf(s: Pick<ClassifierSettings, 'maxWaitMs' | 'maxBatchFrames' | 'reuseMaxMs' | 'reuseMinMs' | 'reuseMaxChange' | 'reuseMinIou' | 'reuseMaxCameras' | 'mirrorPairMs'>): ClassifyConfig {
  return {
    maxWaitMs: s.maxWaitMs, maxBatchFrames: s.maxBatchFrames,
    reuse: { maxMs: s.reuseMaxMs, minMs: s.reuseMinMs, maxChange: s.reuseMaxChange, minIou: s.reuseMinIou, maxCameras: s.reuseMaxCameras, idleMs: REUSE_IDLE_MS, pairMs: s.mirrorPairMs },
  };
}

/** The classifier service's settings from `CLASSIFIER_*` variables; a bad one fails naming it. */
export function classifierSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ClassifierSettings {
  return settingsFromEnv(ClassifierSettingsSchema, CLASSIFIER_PREFIX, env, { what: 'classifier' });
}
