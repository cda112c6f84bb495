import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { fromLetterbox, humanConfig, letterbox, placeInSquare } from './blazeface.js';

test('letterbox fits a 16:9 frame into the square input, centred, without distortion', () => {
  const lb = letterbox(1280, 720, 256);
  assert.deepEqual(lb, { size: 256, width: 256, height: 144, left: 0, top: 56 });
  const portrait = letterbox(360, 640, 256);
  assert.deepEqual(portrait, { size: 256, width: 144, height: 256, left: 56, top: 0 });
});

test('fromLetterbox maps input points back to frame pixels', () => {
  const lb = letterbox(1280, 720, 256);
  assert.deepEqual(fromLetterbox(lb, 1280, 720, 0, 56), [0, 0]);
  assert.deepEqual(fromLetterbox(lb, 1280, 720, 256, 200), [1280, 720]);
  assert.deepEqual(fromLetterbox(lb, 1280, 720, 128, 128), [640, 360]);
});

test('humanConfig enables only the face detector, loads from a file:// folder and caches nothing', () => {
  const c = humanConfig({ candidateScore: 0.3, iouThreshold: 0.2 }, '/opt/models');
  assert.equal(c.modelBasePath, 'file:///opt/models/');
  assert.equal(c.cacheSensitivity, 0);
  assert.equal(c.face?.detector?.enabled, true);
  assert.equal(c.face?.detector?.skipFrames, 0);
  assert.equal(c.face?.detector?.scale, 1);
  assert.equal(c.face?.detector?.minConfidence, 0.3);
  for (const k of ['mesh', 'iris', 'emotion', 'description', 'antispoof', 'liveness', 'attention'] as const) {
    assert.equal((c.face as Record<string, { enabled?: boolean }>)[k]?.enabled, false, k);
  }
  for (const k of ['body', 'hand', 'object', 'gesture', 'segmentation'] as const) assert.equal(c[k]?.enabled, false, k);
});

test('placeInSquare: the resized image in its letterbox, black around it, as sharp\'s extend draws it', async () => {
  for (const [w, h] of [[1280, 720], [360, 640], [394, 411], [183, 180], [257, 3]]) {
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 2654435761) >>> 24);
    const lb = letterbox(w, h, 256);
    const resized = sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).resize(lb.width, lb.height, { fit: 'fill' });
    const want = await resized.clone().extend({ left: lb.left, top: lb.top, right: lb.size - lb.width - lb.left, bottom: lb.size - lb.height - lb.top, background: { r: 0, g: 0, b: 0 } }).raw().toBuffer();
    const square = new Uint8Array(2 * 256 * 256 * 3);
    placeInSquare(await resized.raw().toBuffer(), lb, square, 256 * 256 * 3);
    assert.ok(Buffer.from(square.subarray(256 * 256 * 3)).equals(want), `${w}x${h}`);
    assert.ok(square.subarray(0, 256 * 256 * 3).every((v) => v === 0), `${w}x${h}: the slot before is untouched`);
  }
  assert.throws(() => placeInSquare(new Uint8Array(5), letterbox(1280, 720, 256), new Uint8Array(256 * 256 * 3)), /expected 256x144x3 bytes, got 5/);
});
