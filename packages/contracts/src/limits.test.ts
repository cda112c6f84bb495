import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { CAMERA_ID, CAMERA_ID_MAX_LENGTH, CameraIdSchema, DEFAULT_MAX_FRAME_PIXELS, MAX_FRAME_SIDE, isCameraId } from './limits.js';
import { ControlHeadersSchema, EmotionEventSchema, EmotionsMessageSchema, FacesMetaSchema, FrameRefSchema, PersonLinkSchema, SCHEMA_VERSION, TimelinesSchema } from './messages.js';
import { EMOTIONS } from './labels.js';
import { contractSchemas } from './jsonSchema.js';

const GOOD = ['cam0', 'a', 'Door-1.b_2', 'x'.repeat(CAMERA_ID_MAX_LENGTH), '.', '..'];
const BAD = ['', 'my cam', 'door/1', 'x'.repeat(CAMERA_ID_MAX_LENGTH + 1), 'caméra', 'cam\n', 'a{b="c"}', 'cam0 ', '👀'];

test('camera ids: 1-64 characters of A-Z a-z 0-9 . _ -, nothing else', () => {
  for (const id of GOOD) assert.ok(isCameraId(id) && CameraIdSchema.safeParse(id).success, id);
  for (const id of BAD) {
    assert.equal(isCameraId(id), false, JSON.stringify(id));
    const r = CameraIdSchema.safeParse(id);
    assert.ok(!r.success && /a camera id is 1-64 characters of A-Z a-z 0-9 \. _ -/.test(r.error.issues[0].message), JSON.stringify(id));
  }
  assert.equal(isCameraId(7), false);
  assert.equal(CAMERA_ID.source, '^[A-Za-z0-9._-]{1,64}$');
});

const ref = { schemaVersion: SCHEMA_VERSION, cameraId: 'cam0', seq: 0, mediaTimeMs: 0, capturedAtMs: 0, width: 1280, height: 720 };
const probabilities = Object.fromEntries(EMOTIONS.map((e) => [e, 1 / 7]));
const event = { schemaVersion: SCHEMA_VERSION, type: 'person.appeared', cameraId: 'cam0', personId: 'p1', at: '2026-01-01T00:00:00.000Z', mediaTimeMs: 0, emotion: 'happy', confidence: 0.5, probabilities, modelVersion: 'v1' };

test('every message that carries a camera id refuses a bad one', () => {
  const carriers: Array<[string, z.ZodType, (id: string) => unknown]> = [
    ['frame header', FrameRefSchema.strict(), (id) => ({ ...ref, cameraId: id })],
    ['faces message', FacesMetaSchema, (id) => ({ schemaVersion: SCHEMA_VERSION, frame: { ...ref, cameraId: id }, faces: [] })],
    ['emotions message', EmotionsMessageSchema, (id) => ({ frame: { ...ref, cameraId: id }, faces: [], modelVersion: 'v1' })],
    ['event', EmotionEventSchema, (id) => ({ ...event, cameraId: id })],
    ['event sameAs', EmotionEventSchema, (id) => ({ ...event, sameAs: { cameraId: id, personId: 'p1' } })],
    ['person link', PersonLinkSchema, (id) => ({ cameraId: id, personId: 'p1' })],
    ['end marker headers', ControlHeadersSchema, (id) => ({ 'emostream-schema': String(SCHEMA_VERSION), 'emostream-kind': 'end', 'emostream-camera': id })],
    ['timelines', TimelinesSchema, (id) => ({ schemaVersion: SCHEMA_VERSION, modelVersion: 'v1', cameras: { [id]: { persons: {} } } })],
  ];
  for (const [what, schema, of] of carriers) {
    for (const id of GOOD) assert.ok(schema.safeParse(of(id)).success, `${what}: ${id} is accepted`);
    for (const id of BAD) assert.equal(schema.safeParse(of(id)).success, false, `${what}: ${JSON.stringify(id)} is refused`);
  }
});

test('a frame declares at most 16384 px a side; the default pixel cap is 4096x4096', () => {
  assert.equal(MAX_FRAME_SIDE, 16384);
  assert.equal(DEFAULT_MAX_FRAME_PIXELS, 4096 * 4096);
  const ok = (w: number, h: number) => FrameRefSchema.strict().safeParse({ ...ref, width: w, height: h }).success;
  assert.ok(ok(16384, 16384) && ok(1, 1) && ok(7680, 4320));
  for (const [w, h] of [[16385, 1], [1, 16385], [0, 720], [1280, -1], [1280.5, 720], [1e12, 1e12]]) assert.equal(ok(w, h), false, `${w}x${h}`);
  // What the published schema says of it: the side limit, and the detector's cap.
  const published = contractSchemas()['frame-header.schema.json'] as { properties: Record<string, { maximum?: number; description?: string; pattern?: string }> };
  assert.equal(published.properties.width.maximum, MAX_FRAME_SIDE);
  assert.equal(published.properties.height.maximum, MAX_FRAME_SIDE);
  assert.match(published.properties.width.description ?? '', /EMOSTREAM_MAX_FRAME_PIXELS .*default 4096x4096 = 16777216.*frame_too_large/);
  assert.equal(published.properties.cameraId.pattern, CAMERA_ID.source);
});
