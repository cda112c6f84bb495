/**
 * The settings every service process shares (`EMOSTREAM_*`): topic and group naming, the
 * metrics server, the TensorFlow.js backend, load shedding, the frame size cap, the cameras. One strict schema, read
 * from the environment by the one reader (`settingsFromEnv`); the README table is generated from it.
 */
import { z } from 'zod';
import { DEFAULT_MAX_FRAME_PIXELS, MAX_FRAME_SIDE } from '@emostream/contracts';
import { settingsFromEnv } from '@emostream/runtime';
import { DEFAULT_SHED, type ShedOptions } from './shed.js';

/** The env prefix of {@link SharedSettingsSchema}. */
export const SHARED_PREFIX = 'EMOSTREAM_';

/**
 * `EMOSTREAM_*` names that are not settings of {@link SharedSettingsSchema}: read by other code
 * (the logger, the TensorFlow.js loader, the retrain job, install and test scripts), so a
 * service does not reject them when the same ConfigMap or shell sets them.
 */
export const SHARED_OTHER_NAMES = [
  'EMOSTREAM_LOG_LEVEL', 'EMOSTREAM_GPU',
  'EMOSTREAM_TRAIN_CONFIG', 'EMOSTREAM_TRAIN_DATA', 'EMOSTREAM_EVAL_DATA', 'EMOSTREAM_MIN_ACCURACY', 'EMOSTREAM_MODELS',
  'EMOSTREAM_FAULTS', 'EMOSTREAM_SKIP_FAULTS', 'EMOSTREAM_TF_WHEEL_VERSION', 'EMOSTREAM_TFJS_OFFLINE', 'EMOSTREAM_CACHE',
] as const;

const name = /^[A-Za-z0-9._-]{0,100}$/;

/** Settings of every service process besides the Kafka connection's. Unknown keys fail. */
export const SharedSettingsSchema = z.strictObject({
  topicPrefix: z.string().regex(name).default('')
    .describe('Prefix of every topic name, for tenants and tests'),
  groupPrefix: z.string().regex(name).optional()
    .describe('Prefix of the consumer group ids (`<prefix>detector`, `…classifier`, `…aggregator`); default: the topic prefix + `emostream-`'),
  topicPartitions: z.number().int().min(1).max(1000).default(6)
    .describe('Partitions of the pipeline topics when a service creates them: the most instances of a stage that can share the work'),
  topicReplication: z.number().int().min(1).max(10).default(1)
    .describe('Replication factor of the topics a service creates'),
  biometricRetentionMs: z.number().int().min(60_000).max(7 * 24 * 3_600_000).default(3_600_000)
    .describe('Retention of the topics that carry faces or their embeddings (frames, faces, emotions and their dead-letter topics) when a service creates them, ms: biometric data is kept no longer than a restart needs to catch up (1 hour). Events keep the broker\'s default'),
  stopGraceMs: z.number().int().min(100).max(600_000).default(7_000)
    .describe('On SIGTERM, how long a service waits for its last chunk, its commits and its disconnects before it exits anyway, ms: the process is gone within 10 s of the signal, broker reachable or not, well inside Kubernetes\' 30 s grace period, so an unreachable broker cannot get it killed mid-shutdown'),
  stallTimeoutMs: z.number().int().min(0).max(3_600_000).refine((v) => v === 0 || v >= 10_000, { error: 'at least 10000 ms (or 0: off)' }).default(120_000)
    .describe('Detector, classifier and aggregator: a stage with messages waiting on its partitions that commits no offset for this long while the broker answers (its consumer lag read every 5 s) counts as stalled: the batch in hand is abandoned and the consumer restarted (`emostream_stage_stalls_total`); a consumer that will not stop within 30 s ends the process, to be restarted. A broker outage never counts. `0`: off'),
  metricsPort: z.number().int().min(0).max(65535).default(9464)
    .describe('Port of `/metrics`, `/healthz` and `/readyz` (ready once the service joined its consumer group); `--metrics-port` wins'),
  metricsHost: z.string().min(1).default('127.0.0.1')
    .describe('Address the metrics server listens on: this host only by default; `0.0.0.0` where Prometheus scrapes from elsewhere (deploy/k8s sets it)'),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto')
    .describe('TensorFlow.js backend of the detector and the classifier'),
  shedAfterLag: z.number().int().min(0).default(DEFAULT_SHED.afterLag)
    .describe('Detector, live cameras only: once more than this many frames wait, or the cameras offer more work than the detector does (measured), each camera\'s frames are spaced out evenly (active cameras × time per frame × 1.25) and the others skipped (`frames_dropped_total{reason="overload"}`): every camera gets the same frame rate whatever its partition. At any load, a live frame with a newer frame of its camera fetched behind it is skipped too (the same reason): the detector goes to each camera\'s newest frame. `0` turns both off. Files are never shed'),
  maxFrameAgeMs: z.number().int().min(0).default(DEFAULT_SHED.maxAgeMs)
    .describe('Detector, live cameras only: while shedding, frames older than this (produce time to now) are skipped too (`reason="stale"`), so the view stays current; `0`: no age limit'),
  maxFramePixels: z.number().int().min(1).max(MAX_FRAME_SIDE * MAX_FRAME_SIDE).default(DEFAULT_MAX_FRAME_PIXELS)
    .describe('Detector: most pixels (width x height) a frame on the frames topic may have, 4096x4096 by default. A larger frame goes to the frames dead-letter topic (reason `frame_too_large`) before its JPEG is decoded: decoded it takes width x height x 3 bytes, and one huge frame from a broken or hostile producer could get the detector killed for memory over and over. Ingest refuses to start when `INGEST_MAX_WIDTH` x `INGEST_MAX_HEIGHT` is over it'),
  sources: z.string().optional()
    .describe('Ingest: the cameras, `<cameraId>=<url>` separated by newlines, spaces or commas (a comma inside a URL: `%2C`; a URL ending in `#rotate=<deg>` turns that camera\'s frames, over INGEST_ROTATE), added to `--source` (a camera named in both with the same URL counts once, with two URLs it is an error). Every camera is checked at start (id, URL scheme, settings); errors name the camera, never the password. Kept in a Secret'),
});

/** Parsed shared settings. */
export type SharedSettings = z.output<typeof SharedSettingsSchema>;
/** What a caller may pass over the environment's values. */
export type SharedSettingsInput = z.input<typeof SharedSettingsSchema>;

/** The shared settings from `EMOSTREAM_*` variables, `overrides` on top. */
export function sharedSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<SharedSettingsInput> = {}): SharedSettings {
  return settingsFromEnv(SharedSettingsSchema, SHARED_PREFIX, env, { overrides, ignore: SHARED_OTHER_NAMES });
}

/** The detector's load shedding from the shared settings; undefined when turned off (`shedAfterLag` 0). */
export function shedOptionsOf(s: Pick<SharedSettings, 'shedAfterLag' | 'maxFrameAgeMs'>): ShedOptions | undefined {
  if (s.shedAfterLag === 0) return undefined;
  return { ...DEFAULT_SHED, afterLag: s.shedAfterLag, maxAgeMs: s.maxFrameAgeMs };
}

/** Shedding settings from the environment (EMOSTREAM_SHED_AFTER_LAG, EMOSTREAM_MAX_FRAME_AGE_MS); undefined when turned off. */
export function shedOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ShedOptions | undefined {
  return shedOptionsOf(sharedSettingsFromEnv(env));
}
