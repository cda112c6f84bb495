/** Shapes shared by the codecs: a message to produce, a received message, a decode result with its reason. */
import type { IHeaders } from 'kafkajs';

/** A message ready for the producer: key = camera id, so a camera stays in one partition and in order. */
export interface OutMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string | Buffer>;
}

/** What a consumer hands a codec (kafkajs's message, narrowed). */
export interface InMessage {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

/**
 * Why a message could not be decoded: the `reason` label of `deadLetters` and the DLQ header.
 * `frame_too_large`: a frame over the pixel cap, refused before its JPEG is decoded.
 */
export type DecodeReason = 'malformed' | 'schema_version' | 'undecodable_image' | 'frame_too_large';

/** A decoded value, or why not (never an exception: a bad message must not crash a consumer). */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DecodeReason; detail: string };

/** Header names every emostream message carries. */
export const HEADER = {
  /** The contracts' SCHEMA_VERSION the producer wrote. */
  schema: 'emostream-schema',
  /** frame | faces | emotions | event | end | state | marker */
  kind: 'emostream-kind',
  /** Frames: the frame's identity (FrameRef JSON); the value is the JPEG. */
  frame: 'emostream-frame',
  /** Frames: `1` when the source is live (a camera): the detector may shed it when behind. Files never are. */
  live: 'emostream-live',
  contentType: 'content-type',
  /** End-of-stream and state messages: the camera. */
  camera: 'emostream-camera',
  /** Dead letters: why, where from. */
  dlqReason: 'emostream-dlq-reason',
  dlqDetail: 'emostream-dlq-detail',
  dlqStage: 'emostream-dlq-stage',
  dlqTopic: 'emostream-dlq-topic',
  dlqPartition: 'emostream-dlq-partition',
  dlqOffset: 'emostream-dlq-offset',
} as const;

/** A header as a string (kafkajs gives Buffers; a repeated header gives its first value). */
export function header(m: InMessage, name: string): string | undefined {
  const v = m.headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/** A failed decode. */
export function fail<T>(reason: DecodeReason, detail: string): Decoded<T> {
  return { ok: false, reason, detail: detail.slice(0, 300) };
}

/** Checks the schema header when present (its absence is allowed: other producers may omit it). */
export function checkSchemaHeader<T>(m: InMessage, expected: number): Decoded<T> | undefined {
  const v = header(m, HEADER.schema);
  if (v !== undefined && v !== String(expected)) return fail('schema_version', `schemaVersion ${v} in header, this build reads ${expected}`);
  return undefined;
}

/** Checks a schemaVersion field before the full schema (so the reason is `schema_version`, not `malformed`). */
export function checkSchemaField<T>(value: unknown, expected: number, what: string): Decoded<T> | undefined {
  if (value === undefined) return fail('malformed', `${what}: schemaVersion is missing`);
  if (value !== expected) return fail('schema_version', `${what}: schemaVersion ${JSON.stringify(value)}, this build reads ${expected}`);
  return undefined;
}

/** zod issues in one line. */
export function zodDetail(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(value)'}: ${i.message}`).join('; ');
}
