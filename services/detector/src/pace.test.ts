import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FramePace } from './pace.js';

test('a camera keeps its pace while its frames come at its own spacing; a skipped frame says it does not; cameras apart', () => {
  const p = new FramePace();
  const at10fps = [0, 100, 200, 300, 400].map((t) => p.frame('cam', t));
  assert.deepEqual(at10fps, [true, true, true, true, true]);
  assert.equal(p.frame('cam', 600), false, 'a frame skipped (200 ms after the last at 10 fps)');
  assert.equal(p.frame('other', 0), true, 'another camera has its own pace');
  assert.equal(p.frame('cam', 700), true, 'back at its pace');
  assert.equal(p.frame('cam', 1000), false, 'two skipped');
  // Irregular spacing within 1.5 times the shortest still keeps up (a 25 fps file read at 10 fps: 80-120 ms).
  const q = new FramePace();
  assert.deepEqual([0, 120, 200, 320, 400, 520].map((t) => q.frame('c', t)), [true, true, true, true, true, true]);
  // Media time that goes back (a looped file, a restarted stream) starts over.
  assert.equal(p.frame('cam', 50), true);
  assert.equal(p.frame('cam', 150), true);
});
