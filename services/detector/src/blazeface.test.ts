import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromLetterbox, humanConfig, letterbox } from './blazeface.js';

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
