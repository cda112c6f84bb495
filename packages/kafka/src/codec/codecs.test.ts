// Unit tests of the wire formats: round trips, and a typed reason for every kind of bad message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMOTIONS, SCHEMA_VERSION, type EmotionEvent, type FacesMessage } from '@emostream/contracts';
import { decodeFrame, decodeFrameRgb, encodeFrame, toJpegFrame } from './frames.js';
import { CROP_BYTES, decodeFaces, encodeFaces } from './faces.js';
import { decodeEmotions, decodeEvent, encodeEmotions, encodeEvent } from './json.js';
import { decodeControl, encodeControl } from './control.js';
import { HEADER, type InMessage, type OutMessage } from './message.js';

const ref = { schemaVersion: SCHEMA_VERSION, cameraId: 'c1', seq: 3, mediaTimeMs: 300, capturedAtMs: 1_750_000_000_000, width: 4, height: 2 };
const probs = Object.fromEntries(EMOTIONS.map((e) => [e, 1 / 7])) as Record<(typeof EMOTIONS)[number], number>;
const asIn = (m: OutMessage): InMessage => ({ key: Buffer.from(m.key), value: m.value, headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v)])) });
const reason = (d: { ok: boolean; reason?: string }) => (d.ok ? 'ok' : d.reason);

test('frames: JPEG bytes as the value, identity in a header, never base64', () => {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
  const m = encodeFrame({ ...ref, pixels: { format: 'jpeg', data: jpeg } });
  assert.equal(m.key, 'c1');
  assert.equal(m.value, jpeg);
  const d = decodeFrame(asIn(m));
  assert.ok(d.ok);
  assert.deepEqual(d.value.pixels.data, jpeg);
  assert.equal(d.value.seq, 3);
  assert.equal(reason(decodeFrame({ ...asIn(m), value: Buffer.from('hello') })), 'undecodable_image');
  assert.equal(reason(decodeFrame({ ...asIn(m), headers: { [HEADER.frame]: Buffer.from(JSON.stringify({ ...ref, schemaVersion: 2 })) } })), 'schema_version');
  assert.equal(reason(decodeFrame({ ...asIn(m), headers: { [HEADER.frame]: Buffer.from('{') } })), 'malformed');
  assert.equal(reason(decodeFrame({ ...asIn(m), headers: {} })), 'malformed');
  assert.equal(reason(decodeFrame({ ...asIn(m), headers: { ...asIn(m).headers, [HEADER.schema]: Buffer.from('2') } })), 'schema_version');
});

test('frames: raw RGB → JPEG message → raw RGB in one codec; a truncated JPEG is a typed dead letter', async () => {
  const w = 32, h = 16;
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set([(i % w) * 8, Math.floor(i / w) * 16, 128], i * 3);
  const jpeg = await toJpegFrame({ ...ref, width: w, height: h, pixels: { format: 'rgb', data } }, 95);
  assert.equal(jpeg.pixels.format, 'jpeg');
  assert.deepEqual([...jpeg.pixels.data.subarray(0, 2)], [0xff, 0xd8]);
  const m = asIn(encodeFrame(jpeg, { live: true }));
  const d = await decodeFrameRgb(m);
  assert.ok(d.ok);
  assert.equal(d.value.pixels.format, 'rgb');
  assert.equal(d.value.pixels.data.length, w * h * 3);
  assert.deepEqual([d.value.width, d.value.height, d.value.seq], [w, h, 3]);
  // Lossy, but close: the mean absolute error of a smooth gradient at quality 95 is a few levels.
  let err = 0;
  for (let i = 0; i < data.length; i++) err += Math.abs(d.value.pixels.data[i] - data[i]);
  assert.ok(err / data.length < 4, `mean abs error ${err / data.length}`);
  const cut = await decodeFrameRgb({ ...m, value: jpeg.pixels.data.subarray(0, jpeg.pixels.data.length >> 1) });
  assert.equal(reason(cut), 'undecodable_image');
  assert.equal(reason(await decodeFrameRgb({ ...m, headers: {} })), 'malformed');
  // A frame over the pixel cap is refused from its header, before it is decoded.
  const big = await decodeFrameRgb(m, { maxPixels: w * h - 1 });
  assert.equal(reason(big), 'undecodable_image');
  assert.match(big.ok ? '' : big.detail, new RegExp(`larger than ${w * h - 1} pixels`));
  assert.ok((await decodeFrameRgb(m, { maxPixels: w * h })).ok, 'exactly at the cap is fine');
});

test('faces: crops travel as raw bytes in the envelope and come back equal', () => {
  const crop = new Uint8Array(CROP_BYTES).map((_, i) => i % 251);
  const msg: FacesMessage = { frame: ref, faces: [{ box: { x: 1, y: 2, width: 30, height: 30 }, score: 0.9, crop }, { box: { x: 5, y: 2, width: 30, height: 30 }, score: 0.8, crop: crop.map((v) => 255 - v) }] };
  const m = encodeFaces(msg);
  assert.ok(m.value.length < 2 * CROP_BYTES + 400, 'no base64 inflation');
  const d = decodeFaces(asIn(m));
  assert.ok(d.ok);
  assert.deepEqual(d.value.faces.map((f) => [...f.crop]), msg.faces.map((f) => [...f.crop]));
  assert.deepEqual(d.value.frame, ref);
  assert.equal(reason(decodeFaces({ value: m.value.subarray(0, m.value.length - 1) })), 'malformed');
  assert.equal(reason(decodeFaces({ value: Buffer.from('nope') })), 'malformed');
  assert.equal(reason(decodeFaces({ value: null })), 'malformed');
  assert.throws(() => encodeFaces({ frame: ref, faces: [{ ...msg.faces[0], crop: new Uint8Array(10) }] }), /2304/);
});

test('emotions and events: JSON checked against the contracts, version first', () => {
  const em = { frame: ref, faces: [{ box: { x: 1, y: 2, width: 3, height: 4 }, score: 0.5, probabilities: probs }], modelVersion: 'v1' };
  const d = decodeEmotions(asIn(encodeEmotions(em)));
  assert.ok(d.ok);
  assert.deepEqual(d.value, em);
  assert.equal(reason(decodeEmotions({ value: Buffer.from(JSON.stringify({ ...em, frame: { ...ref, schemaVersion: 9 } })) })), 'schema_version');
  assert.equal(reason(decodeEmotions({ value: Buffer.from(JSON.stringify({ ...em, faces: 'x' })) })), 'malformed');
  assert.equal(reason(decodeEmotions({ value: Buffer.from('{') })), 'malformed');
  const ev: EmotionEvent = { schemaVersion: SCHEMA_VERSION, type: 'person.appeared', cameraId: 'c1', personId: 'p1', at: new Date(0).toISOString(), mediaTimeMs: 0, emotion: 'happy', confidence: 0.5, probabilities: probs, modelVersion: 'v1' };
  const e = decodeEvent(asIn(encodeEvent(ev)));
  assert.ok(e.ok);
  assert.deepEqual(e.value, ev);
  assert.equal(reason(decodeEvent({ value: Buffer.from(JSON.stringify({ ...ev, schemaVersion: 2 })) })), 'schema_version');
});

test('control: an end marker is recognised, data is not', () => {
  assert.deepEqual(decodeControl(asIn(encodeControl({ type: 'end', cameraId: 'c9' }))), { type: 'end', cameraId: 'c9' });
  assert.equal(decodeControl(asIn(encodeEvent({ schemaVersion: SCHEMA_VERSION, type: 'person.left', cameraId: 'c1', personId: 'p1', at: '', mediaTimeMs: 0, emotion: 'sad', confidence: 1, probabilities: probs, modelVersion: 'v' }))), undefined);
});

test('face embeddings cross the faces and emotions topics unchanged (and only those)', () => {
  const crop = new Uint8Array(CROP_BYTES).fill(7);
  const embedding = Buffer.from(Int8Array.from({ length: 1024 }, (_, i) => (i % 255) - 127).buffer).toString('base64');
  const faces: FacesMessage = { frame: ref, faces: [{ box: { x: 1, y: 2, width: 60, height: 60 }, score: 0.9, crop, embedding }, { box: { x: 90, y: 2, width: 60, height: 60 }, score: 0.8, crop }] };
  const f = decodeFaces(asIn(encodeFaces(faces)));
  assert.ok(f.ok);
  assert.equal(f.value.faces[0].embedding, embedding);
  assert.equal(f.value.faces[1].embedding, undefined);
  const emotions = { frame: ref, modelVersion: 'm', faces: [{ box: faces.faces[0].box, score: 0.9, probabilities: probs, embedding }] };
  const e = decodeEmotions(asIn(encodeEmotions(emotions)));
  assert.ok(e.ok);
  assert.equal(e.value.faces[0].embedding, embedding);
  const tooLong = decodeFaces(asIn(encodeFaces({ ...faces, faces: [{ ...faces.faces[0], embedding: 'A'.repeat(9000) }] })));
  assert.equal(reason(tooLong), 'malformed', 'an oversized embedding is refused');
});
