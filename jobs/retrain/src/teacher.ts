/**
 * Distillation targets (`emostream train --teacher <model dir>`): a trained model's probabilities
 * on each training face as it is (clean, equalised, mirror TTA) mixed into the targets. With video
 * augmentation on, the network then learns to give on a filmed face what the teacher gives on the
 * clean one: the faces' degradation is what it learns to ignore, not a new label set. The same
 * targets train a smaller network on a larger one's outputs.
 */
import { EMOTIONS } from '@emostream/contracts';
import { cardFlipTta, loadModelDir } from '@emostream/model';
import type { Tf } from '@emostream/runtime';
import { equalisedCopy } from './augment.js';
import type { LabelledSet } from './datasets.js';
import { predictSet } from './train.js';

/** What {@link withTeacherTargets} did to a training set. */
export interface TeacherMix {
  /** Images whose teacher's top class is their hard label. */
  agreeing: number;
  /** Mean of the teacher's top probability. */
  meanTop: number;
}

/**
 * Soft targets: (1 − weight)·the set's own target (its soft row, else one-hot of its label) +
 * weight·the teacher's probabilities (n×7, in the set's order). The hard labels, used for class
 * balancing, are kept.
 */
export function withTeacherTargets(set: LabelledSet, teacher: Float32Array, weight: number): { set: LabelledSet; mix: TeacherMix } {
  const k = EMOTIONS.length, n = set.labels.length;
  if (!(weight >= 0 && weight <= 1)) throw new Error(`the teacher's weight must be in [0, 1], got ${weight}`);
  if (teacher.length !== n * k) throw new Error(`the teacher gave ${teacher.length / k} rows of probabilities for ${n} images`);
  const soft = new Float32Array(n * k);
  let agreeing = 0, topSum = 0;
  for (let i = 0; i < n; i++) {
    let top = 0;
    for (let c = 0; c < k; c++) {
      const own = set.soft ? set.soft[i * k + c] : c === set.labels[i] ? 1 : 0;
      const t = teacher[i * k + c];
      soft[i * k + c] = (1 - weight) * own + weight * t;
      if (t > teacher[i * k + top]) top = c;
    }
    if (top === set.labels[i]) agreeing++;
    topSum += teacher[i * k + top];
  }
  return { set: { ...set, soft }, mix: { agreeing, meanTop: n ? topSum / n : 0 } };
}

/**
 * The probabilities of the model in `dir` for every image of `set`. `raw`: the set's faces are
 * not equalised yet (the video recipe equalises after filming); the teacher sees them equalised.
 * `flipTta: 'card'`: with the mirror TTA the model's card names, as the classifier runs it.
 */
export async function teacherProbabilities(tf: Tf, dir: string, set: LabelledSet, opts: { raw: boolean; flipTta: boolean | 'card' }): Promise<{ probs: Float32Array; version: string }> {
  const loaded = await loadModelDir(tf, dir);
  try {
    const flip = opts.flipTta === 'card' ? cardFlipTta(loaded.card) : opts.flipTta;
    const probs = await predictSet(tf, loaded.model, opts.raw ? equalisedCopy(set) : set, flip);
    return { probs, version: loaded.version };
  } finally {
    loaded.model.dispose();
  }
}
