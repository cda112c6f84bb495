import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs, backoffSchedule } from './backoff.js';

const p = { backoffInitialMs: 500, backoffMaxMs: 4000 };

test('doubles from the initial delay up to the cap', () => {
  assert.deepEqual(backoffSchedule(6, p), [500, 1000, 2000, 4000, 4000, 4000]);
});

test('jitter stays within [half, full] of each step', () => {
  assert.deepEqual(backoffSchedule(4, p, () => 0), [250, 500, 1000, 2000]);
  for (let i = 0; i < 200; i++) {
    const a = i % 8;
    const d = backoffDelayMs(a, p);
    const ceil = Math.min(4000, 500 * 2 ** a);
    assert.ok(d >= ceil / 2 && d <= ceil, `attempt ${a}: ${d}`);
  }
});

test('equal jitter: exact delays from an injected random source', () => {
  // Each delay is ceil/2 + ceil/2 * r for the next r of the source (ceil = min(max, initial * 2^attempt)).
  const seq = [0.25, 0.5, 0.75, 0.1, 0.999, 0];
  let i = 0;
  const random = () => seq[i++];
  assert.deepEqual(backoffSchedule(6, p, random), [313, 750, 1750, 2200, 3998, 2000]);
  assert.equal(i, seq.length, 'one draw per attempt');
  // Out-of-range sources are clamped to [0, 1]: never below half a step, never above it.
  assert.equal(backoffDelayMs(2, p, () => -1), 1000);
  assert.equal(backoffDelayMs(2, p, () => 7), 2000);
});

test('huge attempt numbers do not overflow', () => {
  assert.equal(backoffDelayMs(10_000, p, () => 1), 4000);
  assert.equal(backoffDelayMs(-3, p, () => 1), 500);
});
