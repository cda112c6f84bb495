/** Geometry of face boxes every stage shares. */
import type { Box } from './messages.js';

/** Intersection over union of two boxes (0 when they do not overlap or are empty). */
export function iou(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * One-to-one matching of two lists of boxes by overlap: for each box of `a`, the index of the box
 * of `b` it is matched to, or undefined. Every pair with an IoU of at least `minIou` is a
 * candidate. Pairs are taken largest IoU first (ties: lower index of `a`, then of `b`), and each
 * box is used at most once. Deterministic.
 */
export function matchByIou(a: readonly Box[], b: readonly Box[], minIou: number): Array<number | undefined> {
  const out: Array<number | undefined> = a.map(() => undefined);
  if (b.length === 0) return out;
  const pairs: Array<[number, number, number]> = [];
  a.forEach((x, i) => b.forEach((y, j) => {
    const v = iou(x, y);
    if (v >= minIou) pairs.push([v, i, j]);
  }));
  // A stable sort: pairs of equal IoU keep their (i, j) order.
  pairs.sort((x, y) => y[0] - x[0]);
  const used = new Set<number>();
  for (const [, i, j] of pairs) {
    if (out[i] !== undefined || used.has(j)) continue;
    out[i] = j;
    used.add(j);
  }
  return out;
}
