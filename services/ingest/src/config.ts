/**
 * The ingest settings: one set of fields with one set of defaults, read by the ingest service
 * from `INGEST_*` ({@link IngestSettingsSchema}) and the base of every camera's source config
 * ({@link SourceConfigSchema}, the same fields plus its camera id and URL).
 */
import { z } from 'zod';
import { CAMERA_ID, CAMERA_ID_RULE } from '@emostream/contracts';
import { redactUrl, settingsFromEnv } from '@emostream/runtime';

/** The turns {@link SourceSettingsSchema}'s `rotate` takes, degrees clockwise. */
export const ROTATIONS = [0, 90, 180, 270] as const;
/** One of {@link ROTATIONS}. */
export type Rotation = (typeof ROTATIONS)[number];
const ROTATE_VALUES = `${ROTATIONS.slice(0, -1).join(', ')} or ${ROTATIONS.at(-1)}`;
const ROTATE_RULE = `rotate must be ${ROTATE_VALUES} (degrees clockwise)`;

/** Whether `v` is one of {@link ROTATIONS}: the schema's rule and {@link parseRotation}'s. */
const isRotation = (v: number): v is Rotation => (ROTATIONS as readonly number[]).includes(v);

/** A turn written as text (an option, a URL's `#rotate=`): one of {@link ROTATIONS}, else undefined. */
export function parseRotation(text: string): Rotation | undefined {
  const n = Number(text);
  return text.trim() !== '' && isRotation(n) ? n : undefined;
}

const int = (name: string, min: number, max: number, unit: string) =>
  z.number({ error: `${name} must be a number of ${unit} between ${min} and ${max}` })
    .int({ error: `${name} must be a whole number of ${unit} between ${min} and ${max}` })
    .min(min, { error: `${name} must be between ${min} and ${max} ${unit}` })
    .max(max, { error: `${name} must be between ${min} and ${max} ${unit}` });

/**
 * The settings of a source besides its camera id and URL, each defined once. The defaults are
 * the ingest service's: a camera that goes away is tried again within 3 s (`backoffMaxMs`) and for
 * ever (`giveUpAfterMs` 0: the CameraStalled alert tells the operator; giving up would only stop
 * this camera, never the others). `analyze` passes its own `--give-up-after` (60 s).
 */
export const SourceSettingsSchema = z.strictObject({
  fpsLimit: z.number({ error: 'fpsLimit must be a number of frames per second between 0.1 and 120' })
    .min(0.1, { error: 'fpsLimit must be between 0.1 and 120 frames per second' })
    .max(120, { error: 'fpsLimit must be between 0.1 and 120 frames per second' })
    // 10 fps is enough to follow facial expressions and within what the detector does on 2 cores.
    .default(10)
    // INGEST_FPS, the name the deployments use (not INGEST_FPS_LIMIT).
    .meta({ env: 'FPS' })
    .describe('Frames per second sent downstream at most (ffmpeg fps filter); lower than the source rate means frames are skipped'),
  maxWidth: int('maxWidth', 16, 7680, 'pixels').default(1280)
    .describe('Frames wider than this are scaled down, keeping the aspect ratio (dimensions rounded to even); a portrait source (taller than wide) gets the box turned: maxHeight wide, maxWidth tall'),
  maxHeight: int('maxHeight', 16, 4320, 'pixels').default(720)
    .describe('Frames taller than this are scaled down, keeping the aspect ratio (dimensions rounded to even); turned with maxWidth for a portrait source (a 1080x1920 phone clip is read at 720x1280 by default)'),
  rotate: z.number({ error: ROTATE_RULE })
    .refine(isRotation, { error: ROTATE_RULE })
    .default(0)
    .meta({ values: ROTATE_VALUES })
    .describe('Degrees to turn every frame clockwise after decoding (0, 90, 180 or 270), for a camera mounted sideways or upside down: faces must be upright for the detector and the emotion model (upside down, BlazeFace takes a face for an upright one and its emotion is read wrong). A file\'s own rotation tag is applied first, as players do; maxWidth and maxHeight apply to the turned picture. A camera whose URL ends in `#rotate=<deg>` (`--source`, EMOSTREAM_SOURCES) has its own turn instead'),
  rtspTransport: z.enum(['tcp', 'udp'], { error: 'rtspTransport must be "tcp" or "udp"' }).default('tcp')
    .describe('RTSP transport: tcp (default, survives lossy networks and NAT) or udp'),
  realtime: z.boolean({ error: 'realtime must be true or false' }).default(false)
    .describe('Files only: read at the native frame rate (ffmpeg -re), to simulate a live camera (demos, tests)'),
  stallTimeoutMs: int('stallTimeoutMs', 500, 600_000, 'ms').default(10_000)
    .describe('A running ffmpeg that delivers no frame for this long is killed and restarted (live) or fails (file)'),
  readTimeoutMs: int('readTimeoutMs', 100, 600_000, 'ms').default(5_000)
    .describe('RTSP socket read/connect timeout of ffmpeg and ffprobe (their RTSP `timeout`, in the input list they read on stdin)'),
  backoffInitialMs: int('backoffInitialMs', 10, 60_000, 'ms').default(500)
    .describe('First delay before restarting a lost live source; doubles per failed attempt, with jitter'),
  // 3 s: a camera that comes back is read again within ~3 s (plus its first keyframe), and a
  // try against a closed port costs one ffmpeg start (~70 ms).
  backoffMaxMs: int('backoffMaxMs', 10, 600_000, 'ms').default(3_000)
    .describe('Cap of the restart delay: a camera that comes back is read again within seconds, whatever the length of its outage'),
  giveUpAfterMs: int('giveUpAfterMs', 0, 7 * 24 * 3_600_000, 'ms').default(0)
    .describe('A live source that delivers no frame for this long (across restarts) fails with an error, and the other cameras go on; 0 (the service\'s default) retries for ever. `analyze --give-up-after` sets it (60 s)'),
  killGraceMs: int('killGraceMs', 10, 60_000, 'ms').default(2_000)
    .describe('Time ffmpeg gets to exit after SIGTERM before SIGKILL (ffmpeg can ignore one SIGTERM while blocked in a read)'),
  queueMaxFrames: int('queueMaxFrames', 1, 10_000, 'frames').default(8)
    .describe('Frames waiting for the consumer at most; beyond that the oldest waiting frame is dropped and counted'),
});

function checkBackoff(c: { backoffInitialMs: number; backoffMaxMs: number }, ctx: z.RefinementCtx): void {
  if (c.backoffMaxMs < c.backoffInitialMs) {
    ctx.addIssue({ code: 'custom', path: ['backoffMaxMs'], message: `backoffMaxMs (${c.backoffMaxMs}) must be >= backoffInitialMs (${c.backoffInitialMs}); raise backoffMaxMs or lower backoffInitialMs` });
  }
}

/** The env prefix of {@link IngestSettingsSchema}. */
export const INGEST_PREFIX = 'INGEST_';

/** The ingest service's settings (`INGEST_*`): every camera's source settings, plus the JPEG quality on the wire. */
export const IngestSettingsSchema = SourceSettingsSchema.extend({
  // 85: the wire codec's DEFAULT_JPEG_QUALITY (@emostream/kafka; test/settings.test.ts checks they agree).
  jpegQuality: int('jpegQuality', 30, 100, 'percent').default(85)
    .describe('JPEG quality of the frames sent to the frames topic (each frame is encoded once)'),
}).superRefine(checkBackoff);

/** Parsed ingest service settings. */
export type IngestSettings = z.output<typeof IngestSettingsSchema>;

/** The ingest service's settings from `INGEST_*` variables; a bad one fails naming it. */
export function ingestSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<z.input<typeof IngestSettingsSchema>> = {}): IngestSettings {
  return settingsFromEnv(IngestSettingsSchema, INGEST_PREFIX, env, { overrides, what: 'ingest' });
}

/** Schema of one ingest source: its camera id and URL, and {@link SourceSettingsSchema}'s fields. Unknown keys are rejected. */
export const SourceConfigSchema = z.strictObject({
  cameraId: z.string()
    .regex(CAMERA_ID, { error: `cameraId must be ${CAMERA_ID_RULE}` })
    .default('cam0')
    .describe('Camera id put on every frame; Kafka key of the frames topic'),
  url: z.string().min(1, { error: 'url must be a file path, file: URL, rtsp:// or rtsps:// URL' })
    .describe('The source: a file path, a file: URL, or an rtsp:// / rtsps:// URL (credentials allowed, never logged). Required: it has no useful default'),
  ...SourceSettingsSchema.shape,
}).superRefine((c, ctx) => {
  checkBackoff(c, ctx);
  if (c.realtime && /^rtsps?:/i.test(c.url)) {
    ctx.addIssue({ code: 'custom', path: ['realtime'], message: 'realtime applies to files only (a camera is already real time); remove realtime for rtsp sources' });
  }
});

/** A parsed, complete source config. */
export type SourceConfig = z.infer<typeof SourceConfigSchema>;
/** What a caller may pass: every field but `url` may be left out. */
export type SourceConfigInput = z.input<typeof SourceConfigSchema>;

/** Thrown by {@link parseSourceConfig}; `issues` lists every bad field with its valid range. */
export class ConfigError extends Error {
  constructor(message: string, readonly issues: string[]) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Parses and checks a source config; throws a {@link ConfigError} naming every bad field and
 * its valid range. The URL in messages is redacted.
 */
export function parseSourceConfig(input: unknown): SourceConfig {
  const r = SourceConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const where = i.path.length ? i.path.join('.') : '(config)';
    // zod's own message for unknown keys does not say what is allowed.
    if (i.code === 'unrecognized_keys') {
      return `unknown key(s) ${i.keys.join(', ')}; allowed: ${Object.keys(SourceConfigSchema.shape).join(', ')}`;
    }
    const given = i.path.length === 1 && input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[String(i.path[0])] : 0;
    if (i.code === 'invalid_type' && given === undefined) return `${where} is required`;
    return `${where}: ${i.message}`;
  });
  const cam = typeof (input as { cameraId?: unknown })?.cameraId === 'string' ? ` for camera "${(input as { cameraId: string }).cameraId}"` : '';
  const url = typeof (input as { url?: unknown })?.url === 'string' ? ` (${redactUrl((input as { url: string }).url)})` : '';
  throw new ConfigError(`invalid ingest source config${cam}${url}: ${issues.join('; ')}`, issues);
}
