// The soak's trend fitting: least-squares slopes on known lines, noise around them, the warm-up
// left out of the fit, and the degenerate cases (too few samples, a zero mean).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLine, trendOf } from './trend.js';

test('fitLine recovers an exact line, and the least-squares line of noisy points', () => {
  const xs = [0, 1, 2, 3, 4];
  assert.deepEqual(fitLine(xs, xs.map((x) => 3 + 2 * x)), { slope: 2, intercept: 3 });
  // +1, -1, +1, -1 about y = 10 - x; by hand: mean x 1.5, mean y 8.5, Sxy -7, Sxx 5.
  const l = fitLine([0, 1, 2, 3], [11, 8, 9, 6])!;
  assert.ok(Math.abs(l.slope - -1.4) < 1e-12, `slope ${l.slope}`);
  assert.ok(Math.abs(l.intercept - 10.6) < 1e-12, `intercept ${l.intercept}`);
});

test('fitLine: fewer than two points, or one x only, has no line; mismatched lengths throw', () => {
  assert.equal(fitLine([], []), undefined);
  assert.equal(fitLine([1], [5]), undefined);
  assert.equal(fitLine([2, 2, 2], [1, 2, 3]), undefined);
  assert.throws(() => fitLine([1, 2], [1]), /2 x values but 1 y values/);
});

test('trendOf: slope per hour from seconds, as a share of the mean, warm-up left out of the fit', () => {
  // 100 MiB flat for the first 10 minutes (the warm-up climbs to it), then +6 MiB per hour.
  const pts = [];
  for (let tS = 0; tS <= 3600; tS += 30) {
    const v = tS < 600 ? 20 + (80 * tS) / 600 : 100 + (6 * (tS - 600)) / 3600;
    pts.push({ tS, v });
  }
  const t = trendOf([...pts].reverse(), 600);
  assert.equal(t.samples, 121);
  assert.equal(t.fitted, 101);
  assert.equal(t.first, 20, 'first is the earliest sample, whatever the input order');
  assert.equal(t.last, 105);
  assert.equal(t.max, 105);
  assert.ok(Math.abs(t.slopePerHour! - 6) < 1e-9, `slope ${t.slopePerHour}`);
  assert.ok(Math.abs(t.mean! - 102.5) < 1e-9, `mean ${t.mean}`);
  assert.ok(Math.abs(t.slopeShareOfMeanPerHour! - 6 / 102.5) < 1e-12);
  assert.equal(t.fittedSpanS, 3000);
  // Fitted from the start, the warm-up's climb dominates.
  assert.ok(trendOf(pts, 0).slopePerHour! > 20);
});

test('trendOf: a flat series has slope 0; one sample after the warm-up has none; a zero mean has no share; non-finite values are dropped', () => {
  const flat = trendOf([0, 30, 60, 90].map((tS) => ({ tS, v: 7 })), 0);
  assert.equal(flat.slopePerHour, 0);
  assert.equal(flat.slopeShareOfMeanPerHour, 0);
  const short = trendOf([{ tS: 0, v: 1 }, { tS: 70, v: 2 }], 60);
  assert.equal(short.slopePerHour, null);
  assert.equal(short.max, 2);
  const zero = trendOf([{ tS: 0, v: 0 }, { tS: 30, v: 0 }], 0);
  assert.equal(zero.slopePerHour, 0);
  assert.equal(zero.slopeShareOfMeanPerHour, null);
  const holes = trendOf([{ tS: 0, v: 1 }, { tS: 30, v: Number.NaN }, { tS: 60, v: 3 }], 0);
  assert.equal(holes.samples, 2);
  assert.equal(holes.slopePerHour, 120);
  const none = trendOf([], 0);
  assert.deepEqual([none.first, none.last, none.max, none.mean, none.slopePerHour], [null, null, null, null, null]);
});
