/** The classifier service's settings (`CLASSIFIER_*`): one strict zod schema, read by the one env reader. */
import { z } from 'zod';
import { settingsFromEnv } from '@emostream/runtime';
import { DEFAULT_BREAKER_FAILED_BATCHES } from './breaker.js';

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
});

/** Parsed classifier service settings. */
export type ClassifierSettings = z.output<typeof ClassifierSettingsSchema>;

/** The defaults (the shipped model, 0 ms, 32 frames, 10 s, the breaker at 5 failed batches). */
export const DEFAULT_CLASSIFIER_SETTINGS: Readonly<ClassifierSettings> = Object.freeze(ClassifierSettingsSchema.parse({}));

/** The classifier service's settings from `CLASSIFIER_*` variables; a bad one fails naming it. */
export function classifierSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ClassifierSettings {
  return settingsFromEnv(ClassifierSettingsSchema, CLASSIFIER_PREFIX, env, { what: 'classifier' });
}
