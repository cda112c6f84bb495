import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settlesWithin } from './deadline.js';

test('settlesWithin: true for work that resolves or rejects in time, false for work that hangs', async () => {
  assert.equal(await settlesWithin(Promise.resolve(1), 50), true);
  assert.equal(await settlesWithin(Promise.reject(new Error('x')), 50), true);
  assert.equal(await settlesWithin(new Promise(() => {}), 30), false);
  const slow = new Promise((r) => setTimeout(r, 200));
  assert.equal(await settlesWithin(slow, 20), false);
});
