/**
 * Which detection is which placed face: one-to-one, greedy by intersection over union (the
 * largest overlap first), a pair counting only at `minIou` or more.
 */
import type { Box } from '@emostream/contracts';
import { iou as iouOf, matchByIou } from '@emostream/contracts';

/** A placed face and the detection matched to it. */
export interface BoxMatch {
  truth: number;
  detection: number;
  iou: number;
}

/** The result of {@link matchBoxes}. */
export interface MatchResult {
  /** In truth order. */
  matches: BoxMatch[];
  unmatchedTruth: number[];
  unmatchedDetections: number[];
}

/** IoU of a pair needed for a detection to count as a placed face (the scene section's 0.3). */
export const MIN_IOU = 0.3;

/**
 * Greedy one-to-one matching: every (truth, detection) pair at `minIou` or more, largest IoU
 * first (ties: lower truth index, then lower detection index); a truth or detection used once
 * is out. Deterministic.
 */
export function matchBoxes(truth: readonly Box[], detections: readonly Box[], minIou = MIN_IOU): MatchResult {
  const pick = matchByIou(truth, detections, minIou);
  const matches: BoxMatch[] = [];
  pick.forEach((j, i) => {
    if (j === undefined) return;
    const iou = iouOf(truth[i], detections[j]);
    if (iou > 0) matches.push({ truth: i, detection: j, iou });
  });
  const usedD = new Set(matches.map((m) => m.detection));
  return {
    matches,
    unmatchedTruth: truth.map((_, i) => i).filter((i) => !matches.some((m) => m.truth === i)),
    unmatchedDetections: detections.map((_, j) => j).filter((j) => !usedD.has(j)),
  };
}

/**
 * Where a detection box sits on its placed face, in the units the crop settings use: the crop
 * margin that would make the crop the face's patch, `(patch side / box side - 1) / 2`, and the
 * vertical offset of the patch centre from the box centre as a fraction of the box height
 * (`cropOffsetY` that would centre the crop on the patch; negative: the patch centre is above).
 */
export function framingOf(truth: Box, det: Box): { marginToPatch: number; offsetYToPatch: number; sideRatio: number } {
  const side = Math.max(det.width, det.height);
  return {
    marginToPatch: (truth.width / side - 1) / 2,
    offsetYToPatch: ((truth.y + truth.height / 2) - (det.y + det.height / 2)) / det.height,
    sideRatio: side / truth.width,
  };
}
