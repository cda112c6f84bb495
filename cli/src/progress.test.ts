import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLine } from './progress.js';

test('file progress shows a bar, the percentage and an ETA', () => {
  const l = progressLine({ frames: 50, faces: 40, persons: 2, drops: 0, reconnects: 0, mediaTimeMs: 5000, durationMs: 10000 }, 2000, 10);
  assert.match(l, /^\[#####-----\]  50% frames 50 \| 25\.0 fps \| faces 40 \| persons 2 \| elapsed 0:02 eta 0:02$/);
});

test('live progress shows media time, drops and reconnects', () => {
  const l = progressLine({ frames: 10, faces: 0, persons: 0, drops: 3, reconnects: 1, mediaTimeMs: 65000 }, 1000);
  assert.match(l, /^media 1:05 frames 10/);
  assert.match(l, /dropped 3 \| reconnects 1/);
});
