/** The ingest source config: one strict zod schema, parsed once at start-up. */
import { z } from 'zod';
import { redactUrl } from '@emostream/runtime';

const int = (name: string, min: number, max: number, unit: string) =>
  z.number({ error: `${name} must be a number of ${unit} between ${min} and ${max}` })
    .int({ error: `${name} must be a whole number of ${unit} between ${min} and ${max}` })
    .min(min, { error: `${name} must be between ${min} and ${max} ${unit}` })
    .max(max, { error: `${name} must be between ${min} and ${max} ${unit}` });

/** Schema of one ingest source. Unknown keys are rejected; every number carries its unit in its name. */
export const SourceConfigSchema = z.strictObject({
  cameraId: z.string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'cameraId must be 1-64 characters of A-Z a-z 0-9 . _ -' })
    .default('cam0')
    .describe('Camera id put on every frame; Kafka key of the frames topic'),
  url: z.string().min(1, { error: 'url must be a file path, file: URL, rtsp:// or rtsps:// URL' })
    .describe('The source: a file path, a file: URL, or an rtsp:// / rtsps:// URL (credentials allowed, never logged). Required: it has no useful default'),
  fpsLimit: z.number({ error: 'fpsLimit must be a number of frames per second between 0.1 and 120' })
    .min(0.1, { error: 'fpsLimit must be between 0.1 and 120 frames per second' })
    .max(120, { error: 'fpsLimit must be between 0.1 and 120 frames per second' })
    // 10 fps is enough to follow facial expressions and within what the detector does on 2 cores.
    .default(10)
    .describe('Frames per second sent downstream at most (ffmpeg fps filter); lower than the source rate means frames are skipped'),
  maxWidth: int('maxWidth', 16, 7680, 'pixels').default(1280)
    .describe('Frames wider than this are scaled down, keeping the aspect ratio (dimensions rounded to even)'),
  maxHeight: int('maxHeight', 16, 4320, 'pixels').default(720)
    .describe('Frames taller than this are scaled down, keeping the aspect ratio (dimensions rounded to even)'),
  rtspTransport: z.enum(['tcp', 'udp'], { error: 'rtspTransport must be "tcp" or "udp"' }).default('tcp')
    .describe('RTSP transport: tcp (default, survives lossy networks and NAT) or udp'),
  realtime: z.boolean({ error: 'realtime must be true or false' }).default(false)
    .describe('Files only: read at the native frame rate (ffmpeg -re), to simulate a live camera'),
  stallTimeoutMs: int('stallTimeoutMs', 500, 600_000, 'ms').default(10_000)
    .describe('A running ffmpeg that delivers no frame for this long is killed and restarted (live) or fails (file)'),
  readTimeoutMs: int('readTimeoutMs', 100, 600_000, 'ms').default(5_000)
    .describe('RTSP socket read/connect timeout handed to ffmpeg (-timeout, in microseconds)'),
  backoffInitialMs: int('backoffInitialMs', 10, 60_000, 'ms').default(500)
    .describe('First delay before restarting a lost live source; doubles per failed attempt, with jitter'),
  backoffMaxMs: int('backoffMaxMs', 10, 600_000, 'ms').default(30_000)
    .describe('Cap of the restart delay'),
  giveUpAfterMs: int('giveUpAfterMs', 0, 7 * 24 * 3_600_000, 'ms').default(300_000)
    .describe('A live source that delivers no frame for this long (across restarts) fails with an error; 0 retries for ever'),
  killGraceMs: int('killGraceMs', 10, 60_000, 'ms').default(2_000)
    .describe('Time ffmpeg gets to exit after SIGTERM before SIGKILL (ffmpeg can ignore one SIGTERM while blocked in a read)'),
  queueMaxFrames: int('queueMaxFrames', 1, 10_000, 'frames').default(8)
    .describe('Frames waiting for the consumer at most; beyond that the oldest waiting frame is dropped and counted'),
}).superRefine((c, ctx) => {
  if (c.backoffMaxMs < c.backoffInitialMs) {
    ctx.addIssue({ code: 'custom', path: ['backoffMaxMs'], message: `backoffMaxMs (${c.backoffMaxMs}) must be >= backoffInitialMs (${c.backoffInitialMs}); raise backoffMaxMs or lower backoffInitialMs` });
  }
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
