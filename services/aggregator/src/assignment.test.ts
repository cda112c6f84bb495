import { test } from 'node:test';
import assert from 'node:assert/strict';
import { solveAssignment } from './assignment.js';

test('solveAssignment finds the minimum-cost pairing, not the greedy one', () => {
  // Greedy takes (0,0)=1 then (1,1)=10 → 11; optimal is (0,1)+(1,0) = 2+2 = 4.
  assert.deepEqual(solveAssignment([[1, 2], [2, 10]]), [1, 0]);
});

test('solveAssignment handles rectangular matrices and forbidden pairs', () => {
  assert.deepEqual(solveAssignment([[5, 1, 9]]), [1]);
  assert.deepEqual(solveAssignment([[1], [0.5], [3]]), [-1, 0, -1]);
  assert.deepEqual(solveAssignment([[Infinity, Infinity], [Infinity, 0.3]]), [-1, 1]);
  assert.deepEqual(solveAssignment([]), []);
  assert.deepEqual(solveAssignment([[], []]), [-1, -1]);
});

test('solveAssignment agrees with brute force on random 4x4 matrices', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const perms = (xs: number[]): number[][] => xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((r) => [x, ...r]));
  for (let t = 0; t < 50; t++) {
    const m = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => Math.round(rnd() * 100)));
    const best = Math.min(...perms([0, 1, 2, 3]).map((p) => p.reduce((s, j, i) => s + m[i][j], 0)));
    const got = solveAssignment(m);
    assert.equal(got.reduce((s, j, i) => s + m[i][j], 0), best);
  }
});
