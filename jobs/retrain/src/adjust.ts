/**
 * Post-hoc logit adjustment (Menon et al., ICLR 2021): a network trained on skewed class
 * frequencies under-predicts the rare classes; subtracting τ·log(prior) from its logits trades a
 * little accuracy for much better recall of the rare ones (balanced accuracy). τ is chosen on the
 * validation split (FER-2013: PublicTest), never on a test set, and stored in the network's
 * softmax bias, so the classifier, `evaluate` and the card all see the same model.
 */
import { EMOTIONS } from '@emostream/contracts';
import { shiftEmotionLogits } from '@emostream/model';
import type { Tf } from '@emostream/runtime';
import type { LabelledSet } from './datasets.js';
import { epochOrder } from './augment.js';
import { summarise } from './metrics.js';
import { predictSet } from './train.js';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** What was chosen, stored in the card (`training.logitAdjustment`). */
export interface LogitAdjustment {
  /** Chosen τ (0: no change). */
  tau: number;
  /** Class frequencies the network saw in training (after any oversampling); 0 for a class it never saw. */
  prior: number[];
  /** Added to the softmax layer's bias: −τ·log prior (a class never seen: the least shift of those seen). */
  delta: number[];
  /** Where τ was chosen, and the rule. */
  chosenOn: string;
  rule: string;
  /** Every τ tried, with the validation figures. */
  grid: { tau: number; accuracy: number; balancedAccuracy: number }[];
}

/** The τ tried by `auto`. */
export const TAU_GRID = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** The class frequencies of one training epoch: natural, or after oversampling to `minClassShare`. */
export function trainingPrior(labels: Int32Array, classes: number, minClassShare: number): number[] {
  const order = epochOrder(labels, classes, minClassShare, () => 0);
  const counts = new Array<number>(classes).fill(0);
  for (const i of order) counts[labels[i]]++;
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => c / n);
}

/**
 * −τ·log prior. A class the network never saw in training (prior 0, e.g. neutral when training on
 * CK+) is not raised: its output learned nothing, so a boost would only make the network answer a
 * class the data does not have. It gets the least shift of the classes seen (that of the largest
 * one), which leaves it where training put it relative to them.
 */
export function logitShift(prior: readonly number[], tau: number): number[] {
  if (tau === 0) return prior.map(() => 0);
  const seen = prior.filter((p) => p > 0).map((p) => -tau * Math.log(p));
  const floor = seen.length > 0 ? Math.min(...seen) : 0;
  return prior.map((p) => (p > 0 ? -tau * Math.log(p) : floor));
}

/** The rule: the τ with the highest mean of accuracy and balanced accuracy; the smaller τ on ties. */
export function pickTau(grid: LogitAdjustment['grid']): number {
  let best = grid[0];
  for (const g of grid) if ((g.accuracy + g.balancedAccuracy) / 2 > (best.accuracy + best.balancedAccuracy) / 2 + 1e-12) best = g;
  return best.tau;
}

/**
 * Chooses τ on `val` (a fixed τ when given) and leaves the model adjusted by it. Each τ is scored
 * by running the adjusted network itself (with the recipe's test-time flip), not by reweighting
 * its outputs, so the figures are exactly the shipped model's.
 */
export async function adjustLogits(tf: Tf, model: LayersModel, opts: {
  val: LabelledSet; valName: string; prior: number[]; flipTta: boolean; tau?: number; log?: (l: string) => void;
}): Promise<LogitAdjustment> {
  const taus = opts.tau !== undefined ? [opts.tau] : TAU_GRID;
  const grid: LogitAdjustment['grid'] = [];
  let applied = new Array<number>(opts.prior.length).fill(0);
  const moveTo = (delta: number[]) => { shiftEmotionLogits(tf, model, delta.map((d, c) => d - applied[c])); applied = delta; };
  for (const tau of taus) {
    moveTo(logitShift(opts.prior, tau));
    const s = summarise('adjusted', opts.valName, opts.val.labels, await predictSet(tf, model, opts.val, opts.flipTta), EMOTIONS.length);
    grid.push({ tau, accuracy: s.accuracy, balancedAccuracy: s.balancedAccuracy });
    opts.log?.(`logit adjustment τ=${tau.toFixed(1)}: ${opts.valName} accuracy ${(s.accuracy * 100).toFixed(2)}%, balanced ${(s.balancedAccuracy * 100).toFixed(2)}%`);
  }
  const tau = opts.tau ?? pickTau(grid);
  const delta = logitShift(opts.prior, tau);
  moveTo(delta);
  return {
    tau, prior: opts.prior, delta, chosenOn: opts.tau !== undefined ? 'given (--logit-adjustment)' : opts.valName,
    rule: opts.tau !== undefined ? 'fixed' : 'highest mean of accuracy and balanced accuracy', grid,
  };
}
