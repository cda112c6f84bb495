import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupKFold } from './folds.js';

test('every item is in exactly one test fold and no subject spans two folds', () => {
  const groups = Array.from({ length: 300 }, (_, i) => `S${(i * 7) % 37}`);
  const folds = groupKFold(groups, 10, 3);
  const seen = new Array(groups.length).fill(0);
  for (const f of folds) for (const i of f) seen[i]++;
  assert.ok(seen.every((c) => c === 1));
  const foldOf = new Map<string, number>();
  folds.forEach((f, k) => f.forEach((i) => {
    const prev = foldOf.get(groups[i]);
    assert.ok(prev === undefined || prev === k, `subject ${groups[i]} in folds ${prev} and ${k}`);
    foldOf.set(groups[i], k);
  }));
  // Balanced to within the largest subject's size.
  const sizes = folds.map((f) => f.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 9);
});

test('too few subjects is an error', () => {
  assert.throws(() => groupKFold(['a', 'a', 'b'], 3), /3 subject-independent folds from 2 subjects/);
});
