/** Settings of a service process besides Kafka's. */
import { z } from 'zod';
import { DEFAULT_JPEG_QUALITY } from '@emostream/kafka';
import { DEFAULT_CLASSIFY } from './wiring.js';

/** Settings of a service process besides Kafka's: one strict schema, from env (EMOSTREAM_*, CLASSIFIER_*). */
export const ServeConfigSchema = z.strictObject({
  metricsPort: z.number().int().min(0).max(65535).default(9464).describe('Port of /metrics, /healthz, /readyz (env EMOSTREAM_METRICS_PORT)'),
  metricsHost: z.string().default('0.0.0.0').describe('Address the metrics server listens on (env EMOSTREAM_METRICS_HOST)'),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto').describe('TensorFlow.js backend (env EMOSTREAM_BACKEND)'),
  model: z.string().optional().describe('Classifier model directory, or `human` (env CLASSIFIER_MODEL); default: the shipped model'),
  maxWaitMs: z.number().int().min(0).max(10_000).default(DEFAULT_CLASSIFY.maxWaitMs).describe('Classifier: longest a frame waits for its batch, ms (env CLASSIFIER_MAX_WAIT_MS)'),
  maxBatchFrames: z.number().int().min(1).max(1024).default(DEFAULT_CLASSIFY.maxBatchFrames).describe('Classifier: most frames per model call (env CLASSIFIER_MAX_BATCH_FRAMES)'),
  modelPollMs: z.number().int().min(0).max(3_600_000).default(10_000).describe('Classifier: how often the model directory is checked for a new version, ms; 0 = never (env CLASSIFIER_MODEL_POLL_MS)'),
  jpegQuality: z.number().int().min(30).max(100).default(DEFAULT_JPEG_QUALITY).describe('Ingest: JPEG quality of frames on the wire (env INGEST_JPEG_QUALITY)'),
  fpsLimit: z.number().min(0.1).max(120).default(10).describe('Ingest: frames per second at most per camera (env INGEST_FPS)'),
  maxWidth: z.number().int().min(16).max(7680).default(1280).describe('Ingest: wider frames are scaled down, pixels (env INGEST_MAX_WIDTH)'),
  maxHeight: z.number().int().min(16).max(4320).default(720).describe('Ingest: taller frames are scaled down, pixels (env INGEST_MAX_HEIGHT)'),
  stallTimeoutMs: z.number().int().min(500).max(600_000).default(10_000)
    .describe('Ingest: a camera that delivers no frame for this long is restarted, ms (env INGEST_STALL_TIMEOUT_MS)'),
  readTimeoutMs: z.number().int().min(100).max(600_000).default(5_000).describe('Ingest: RTSP socket timeout handed to ffmpeg, ms (env INGEST_READ_TIMEOUT_MS)'),
  backoffInitialMs: z.number().int().min(10).max(60_000).default(500).describe('Ingest: first reconnect delay, ms (env INGEST_BACKOFF_INITIAL_MS)'),
  // 3 s, not the library's 30 s: a camera that comes back is read again within ~3 s (plus its
  // first keyframe), and a try against a closed port costs one ffmpeg start (~70 ms).
  backoffMaxMs: z.number().int().min(10).max(600_000).default(3_000).describe('Ingest: longest reconnect delay, ms (env INGEST_BACKOFF_MAX_MS)'),
  // 0 for a service: a camera that is away is retried for ever (the CameraStalled alert tells
  // the operator); giving up would only stop this camera, never the others.
  giveUpAfterMs: z.number().int().min(0).max(7 * 24 * 3_600_000).default(0)
    .describe('Ingest: give a silent camera up after this long, ms; 0 = retry for ever (env INGEST_GIVE_UP_AFTER_MS)'),
  queueMaxFrames: z.number().int().min(1).max(10_000).default(8).describe('Ingest: frames waiting per camera before the oldest is dropped (env INGEST_QUEUE_MAX_FRAMES)'),
  rtspTransport: z.enum(['tcp', 'udp']).default('tcp').describe('Ingest: RTSP transport (env INGEST_RTSP_TRANSPORT)'),
  realtime: z.boolean().default(false).describe('Ingest: read files at their own frame rate, like a camera (env INGEST_REALTIME=true); for demos and tests'),
  transactionalId: z.string().optional().describe('Aggregator: Kafka transactional id, unique per instance and stable across its restarts (env AGGREGATOR_TRANSACTIONAL_ID)'),
});
/** Parsed service settings. */
export type ServeConfig = z.infer<typeof ServeConfigSchema>;

const SERVE_ENV: Record<string, keyof ServeConfig> = {
  EMOSTREAM_METRICS_PORT: 'metricsPort', EMOSTREAM_METRICS_HOST: 'metricsHost', EMOSTREAM_BACKEND: 'backend',
  CLASSIFIER_MODEL: 'model', CLASSIFIER_MAX_WAIT_MS: 'maxWaitMs', CLASSIFIER_MAX_BATCH_FRAMES: 'maxBatchFrames', CLASSIFIER_MODEL_POLL_MS: 'modelPollMs',
  INGEST_JPEG_QUALITY: 'jpegQuality', INGEST_FPS: 'fpsLimit', AGGREGATOR_TRANSACTIONAL_ID: 'transactionalId',
  INGEST_MAX_WIDTH: 'maxWidth', INGEST_MAX_HEIGHT: 'maxHeight', INGEST_STALL_TIMEOUT_MS: 'stallTimeoutMs',
  INGEST_READ_TIMEOUT_MS: 'readTimeoutMs', INGEST_BACKOFF_INITIAL_MS: 'backoffInitialMs', INGEST_BACKOFF_MAX_MS: 'backoffMaxMs',
  INGEST_GIVE_UP_AFTER_MS: 'giveUpAfterMs', INGEST_QUEUE_MAX_FRAMES: 'queueMaxFrames', INGEST_RTSP_TRANSPORT: 'rtspTransport',
  INGEST_REALTIME: 'realtime',
};
const STRING_SETTINGS = new Set<keyof ServeConfig>(['model', 'metricsHost', 'backend', 'transactionalId', 'rtspTransport']);

/** The service settings from the environment (the one place that reads them). */
export function serveConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ServeConfig> = {}): ServeConfig {
  const raw: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(SERVE_ENV)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    raw[field] = STRING_SETTINGS.has(field) ? v : field === 'realtime' ? (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v) : Number(v);
  }
  const r = ServeConfigSchema.safeParse({ ...raw, ...overrides });
  if (r.success) return r.data;
  const byField = Object.fromEntries(Object.entries(SERVE_ENV).map(([k, f]) => [f, k]));
  throw new Error(`invalid service settings: ${r.error.issues.map((i) => `${byField[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`).join('; ')}`);
}
