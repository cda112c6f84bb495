import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lagOf } from './lag.js';

test('lag is the end offset minus the committed offset', () => {
  assert.equal(lagOf('40', '0', '100'), 60);
  assert.equal(lagOf('100', '0', '100'), 0);
});

test('a group with no committed offset starts at the earliest retained offset', () => {
  assert.equal(lagOf('-1', '0', '25'), 25);
  assert.equal(lagOf('-1', '20', '25'), 5, 'retention removed the first 20');
});

test('never negative, and exact beyond 2^53', () => {
  assert.equal(lagOf('120', '0', '100'), 0);
  assert.equal(lagOf('9007199254740993', '0', '9007199254741000'), 7);
});
