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
});

/** `jpeg` with the size in its SOF segment changed (the pixels stay the small image's). */
function withJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length; i++) {
    if (out[i] === 0xff && (out[i + 1] === 0xc0 || out[i + 1] === 0xc2)) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
  }
  throw new Error('no SOF segment');
}

test('frames: the pixel cap (EMOSTREAM_MAX_FRAME_PIXELS) refuses a frame before decoding it, by its header or its JPEG\'s', async () => {
  const w = 32, h = 16;
  const jpeg = await toJpegFrame({ ...ref, width: w, height: h, pixels: { format: 'rgb', data: Buffer.alloc(w * h * 3, 99) } });
  const m = asIn(encodeFrame(jpeg));
  // A configured cap: one pixel under the frame refuses it, the frame's own size passes.
  const over = await decodeFrameRgb(m, { maxPixels: w * h - 1 });
  assert.equal(reason(over), 'frame_too_large');
  assert.equal(over.ok ? '' : over.detail, `frame c1#3: 32x16 = 512 pixels by its header, over the cap of 511 pixels (EMOSTREAM_MAX_FRAME_PIXELS); not decoded`);
  assert.ok((await decodeFrameRgb(m, { maxPixels: w * h })).ok, 'exactly at the cap is fine');
  assert.ok((await decodeFrameRgb(m)).ok, 'the default cap (4096x4096) lets it through');
  // The header lies (says 32x16) but the JPEG says 5000x5000: sharp reads that from the JPEG's
  // header and refuses before decoding. With a cap above it the same bytes decode to 5000x5000
  // (75 MB of RGB): the cap is what stopped it, not the decoder.
  const liar = { ...m, value: withJpegSize(jpeg.pixels.data, 5000, 5000) };
  const refused = await decodeFrameRgb(liar);
  assert.equal(reason(refused), 'frame_too_large');
  assert.match(refused.ok ? '' : refused.detail, /^frame c1#3: its JPEG has 5000x5000 = 25000000 pixels \(its header says 32x16\), over the cap of 16777216 pixels/);
  const decoded = await decodeFrameRgb(liar, { maxPixels: 5000 * 5000 });
  assert.deepEqual(decoded.ok && [decoded.value.width, decoded.value.height, decoded.value.pixels.data.length], [5000, 5000, 5000 * 5000 * 3]);
  // By the identity header alone: 4097x4096 is over the default cap, whatever the JPEG.
  const tall = { ...m, headers: { ...m.headers, [HEADER.frame]: Buffer.from(JSON.stringify({ ...ref, width: 4097, height: 4096 })) } };
  assert.equal(reason(await decodeFrameRgb(tall)), 'frame_too_large');
  assert.ok((await decodeFrameRgb(tall, { maxPixels: 4097 * 4096 })).ok, 'a raised cap lets it through (the decoded size wins)');
});

test('frames: a side over 16384 px or a bad camera id in the header is malformed', () => {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
  const m = asIn(encodeFrame({ ...ref, pixels: { format: 'jpeg', data: jpeg } }));
  const withRef = (r: object) => ({ ...m, headers: { ...m.headers, [HEADER.frame]: Buffer.from(JSON.stringify(r)) } });
  assert.ok(decodeFrame(withRef({ ...ref, width: 16384, height: 16384 })).ok);
  for (const bad of [{ width: 16385 }, { height: 16385 }, { cameraId: 'my cam' }, { cameraId: 'x'.repeat(65) }, { cameraId: 'a{b="c"}' }]) {
    const d = decodeFrame(withRef({ ...ref, ...bad }));
    assert.equal(reason(d), 'malformed', JSON.stringify(bad));
    assert.match(d.ok ? '' : d.detail, /^frame header: (width|height|cameraId): /);
  }
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
  const badCam = decodeFaces(asIn(encodeFaces({ ...msg, frame: { ...ref, cameraId: 'cam/1' } })));
  assert.equal(reason(badCam), 'malformed', 'a bad camera id from another producer');
  assert.match(badCam.ok ? '' : badCam.detail, /frame\.cameraId: a camera id is/);
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
  // Another producer's bad camera id is refused (it would become a metric label).
  assert.equal(reason(decodeEvent({ value: Buffer.from(JSON.stringify({ ...ev, cameraId: 'x'.repeat(65) })) })), 'malformed');
  const badCam = decodeEmotions({ value: Buffer.from(JSON.stringify({ ...em, frame: { ...em.frame, cameraId: 'lobby cam' } })) });
  assert.equal(reason(badCam), 'malformed');
  assert.match(badCam.ok ? '' : badCam.detail, /^emotions: frame\.cameraId: a camera id is 1-64 characters/);
});

test('control: an end marker is recognised, data is not; an end marker without a valid camera id is bad', () => {
  assert.deepEqual(decodeControl(asIn(encodeControl({ type: 'end', cameraId: 'c9' }))), { type: 'end', cameraId: 'c9' });
  assert.deepEqual(decodeControl({ key: Buffer.from('c8'), value: Buffer.alloc(0), headers: { [HEADER.kind]: Buffer.from('end') } }), { type: 'end', cameraId: 'c8' }, 'the key when the header is missing');
  assert.deepEqual(decodeControl(asIn(encodeControl({ type: 'end', cameraId: 'my cam' }))), { type: 'bad', detail: 'end marker with camera id "my cam": a camera id is 1-64 characters of A-Z a-z 0-9 . _ -' });
  assert.deepEqual(decodeControl({ value: Buffer.alloc(0), headers: { [HEADER.kind]: Buffer.from('end') } }), { type: 'bad', detail: 'end marker with no camera: a camera id is 1-64 characters of A-Z a-z 0-9 . _ -' });
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
