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
 * A face whose box overlaps its box of the frame before (or the tracker's prediction of it) by
 * less than this has jumped: it moved or changed size more than a face does between two frames
 * (under 0.1% of the followed faces of the scene bench and of the sample clips at 10 fps), which
 * is also how a cut the scene-cut detector missed between two like shots looks. The detector
 * embeds such a face again at once, and the aggregator's tracker lets it continue a track only
 * when its likeness agrees.
 */
export const JUMP_IOU = 0.5;

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

/**
 * A box this close to the frame's edge, as a share of its own width (left, right) or height
 * (top, bottom), is taken as cut by it. Boxes come clipped to the frame, but the detector's box
 * of a face partly outside it may stop short of the edge: on the scene bench, faces 5-10% outside
 * the picture had boxes ending 10 px (7-9% of their width) inside it.
 */
const EDGE_MARGIN = 0.15;

/** Whether a face's box reaches (or nearly reaches) the frame's edge: part of the face is likely outside the picture. */
export function isCutByEdge(box: Box, frame: { width: number; height: number }): boolean {
  const mx = Math.max(2, EDGE_MARGIN * box.width), my = Math.max(2, EDGE_MARGIN * box.height);
  return box.x <= mx || box.y <= my || box.x + box.width >= frame.width - mx || box.y + box.height >= frame.height - my;
}
