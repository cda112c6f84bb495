import { test } from 'node:test';
import assert from 'node:assert/strict';
import { camerasSummary, decodeErrorsText, figures } from './analyze.js';

const run = { frames: 40, mediaMs: 4000, wallMs: 2000, faces: 3, persons: 1, events: 2, drops: 0, reconnects: 0 };

test('summary: decode errors named, with what they mean, only when there were some', () => {
  assert.doesNotMatch(figures({ ...run, decodeErrors: 0 }), /decode/);
  assert.doesNotMatch(figures(run), /decode/);
  assert.match(figures({ ...run, decodeErrors: 3 }), /; 3 faces, 1 persons, 2 events, 3 decode errors \(the file is damaged; ffmpeg skipped or patched the pictures it could not decode\)$/);
  assert.equal(decodeErrorsText(1), '1 decode error (the file is damaged; ffmpeg skipped or patched the pictures it could not decode)');
});

test('several cameras: each camera\'s line says its own decode errors', () => {
  const cam = (cameraId: string, decodeErrors: number) => ({
    ...run, cameraId, source: `${cameraId}.mp4`, outDir: `/out/${cameraId}`, skipped: 0, decodeErrors,
  });
  const lines = camerasSummary({ cameras: [cam('a', 5), cam('b', 0)], failed: [], wallMs: 2000, backend: 'cpu', modelVersion: 'v1', outDir: '/out' }).split('\n');
  assert.match(lines[1], /^ {2}a: .*, 5 decode errors \(the file is damaged/);
  assert.match(lines[2], /^ {2}b: /);
  assert.doesNotMatch(lines[2], /decode/);
});
