/** Emotions messages and emotion events over Kafka: JSON values, checked against the contracts' schemas. */
import { EmotionEventSchema, EmotionsMessageSchema, SCHEMA_VERSION, type EmotionEvent, type EmotionsMessage } from '@emostream/contracts';
import { HEADER, checkSchemaField, checkSchemaHeader, fail, zodDetail, type Decoded, type InMessage, type OutMessage } from './message.js';

function parseJson<T>(m: InMessage, what: string): Decoded<T> | { ok: true; value: unknown } {
  const bad = checkSchemaHeader<T>(m, SCHEMA_VERSION);
  if (bad) return bad;
  if (!m.value || m.value.length === 0) return fail('malformed', `${what}: empty value`);
  try {
    return { ok: true, value: JSON.parse(m.value.toString('utf8')) as unknown };
  } catch (e) {
    return fail('malformed', `${what}: not JSON (${(e as Error).message})`);
  }
}

const json = (key: string, kind: string, value: unknown): OutMessage => ({
  key, value: Buffer.from(JSON.stringify(value), 'utf8'),
  headers: { [HEADER.schema]: String(SCHEMA_VERSION), [HEADER.kind]: kind, [HEADER.contentType]: 'application/json' },
});

/** Encodes an emotions message (JSON; keyed by camera). */
export function encodeEmotions(m: EmotionsMessage): OutMessage {
  return json(m.frame.cameraId, 'emotions', m);
}

/** Decodes and validates an emotions message. */
export function decodeEmotions(m: InMessage): Decoded<EmotionsMessage> {
  const p = parseJson<EmotionsMessage>(m, 'emotions');
  if (!p.ok) return p;
  const v = checkSchemaField<EmotionsMessage>((p.value as { frame?: { schemaVersion?: unknown } } | null)?.frame?.schemaVersion, SCHEMA_VERSION, 'emotions.frame');
  if (v) return v;
  const r = EmotionsMessageSchema.safeParse(p.value);
  return r.success ? { ok: true, value: r.data } : fail('malformed', `emotions: ${zodDetail(r.error)}`);
}

/** Encodes an emotion event (JSON; keyed by camera). */
export function encodeEvent(e: EmotionEvent): OutMessage {
  return json(e.cameraId, 'event', e);
}

/** Decodes and validates an emotion event. */
export function decodeEvent(m: InMessage): Decoded<EmotionEvent> {
  const p = parseJson<EmotionEvent>(m, 'event');
  if (!p.ok) return p;
  const v = checkSchemaField<EmotionEvent>((p.value as { schemaVersion?: unknown } | null)?.schemaVersion, SCHEMA_VERSION, 'event');
  if (v) return v;
  const r = EmotionEventSchema.safeParse(p.value);
  return r.success ? { ok: true, value: r.data } : fail('malformed', `event: ${zodDetail(r.error)}`);
}
