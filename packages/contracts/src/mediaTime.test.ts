import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withinMediaTime } from './mediaTime.js';

test('withinMediaTime: from the time itself up to (not including) the period; media time that went back is not within', () => {
  assert.deepEqual([0, 100, 299, 300, 320].map((t) => withinMediaTime(t, 0, 300)), [true, true, true, false, false]);
  assert.equal(withinMediaTime(4_900, 5_000, 300), false, 'a looped file');
  assert.equal(withinMediaTime(5_000, 5_000, 0), false, 'a period of 0: never within');
});
