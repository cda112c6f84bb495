/**
 * Subject-independent k-fold cross-validation (CK+'s protocol): per fold, train on the other
 * folds' subjects (from scratch or fine-tuning a given model), score on this fold's subjects.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import type { Tf } from '@emostream/runtime';
import type { EvaluationSummary } from '@emostream/model';
import type { TrainConfig } from './configs.js';
import { pick, type LabelledSet } from './datasets.js';
import { groupKFold } from './folds.js';
import { summarise } from './metrics.js';
import { predictSet, train } from './train.js';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** Result of a cross-validation. */
export interface CrossValidationResult {
  folds: number;
  subjects: number;
  perFold: { fold: number; n: number; subjects: number; accuracy: number; balancedAccuracy: number }[];
  meanAccuracy: number;
  stdAccuracy: number;
  meanBalancedAccuracy: number;
  /** Every test prediction pooled over the folds. */
  pooled: EvaluationSummary;
}

/** Options of {@link crossValidate}. */
export interface CrossValidateOptions {
  tf: Tf;
  set: LabelledSet;
  k: number;
  config: TrainConfig;
  /** Loads the starting weights for each fold (fine-tuning); undefined trains from scratch. */
  init?: () => Promise<LayersModel>;
  workDir: string;
  name: string;
  log: (l: string) => void;
}

/** One fold: the indices (into the set) it trains on and those it is scored on. */
export interface Fold { trainIdx: number[]; testIdx: number[] }

/** The folds {@link crossValidate} runs: per fold, its subjects (groups) are tested and every other subject trains. */
export function crossValidationFolds(groups: readonly string[], k: number, seed: number): Fold[] {
  const n = groups.length;
  return groupKFold(groups, k, seed).map((testIdx) => {
    const inTest = new Set(testIdx);
    return { trainIdx: Array.from({ length: n }, (_, i) => i).filter((i) => !inTest.has(i)), testIdx };
  });
}

/** Runs the folds one after another. */
export async function crossValidate(o: CrossValidateOptions): Promise<CrossValidationResult> {
  const folds = crossValidationFolds(o.set.groups, o.k, o.config.seed);
  const n = o.set.labels.length, k = EMOTIONS.length;
  const probs = new Float32Array(n * k);
  const perFold: CrossValidationResult['perFold'] = [];
  for (let f = 0; f < folds.length; f++) {
    const { trainIdx, testIdx } = folds[f];
    const trainSet = pick(o.set, trainIdx), testSet = pick(o.set, testIdx);
    const dir = path.join(o.workDir, `fold${f + 1}`);
    await fs.rm(dir, { recursive: true, force: true });
    const initialModel = o.init ? await o.init() : undefined;
    const r = await train({ tf: o.tf, train: trainSet, config: o.config, checkpointDir: dir, initialModel, progress: () => {} });
    const p = await predictSet(o.tf, r.model, testSet, o.config.flipTta);
    r.model.dispose();
    testIdx.forEach((i, j) => probs.set(p.subarray(j * k, (j + 1) * k), i * k));
    const s = summarise(o.name, `fold${f + 1}`, testSet.labels, p);
    perFold.push({ fold: f + 1, n: testSet.labels.length, subjects: new Set(testSet.groups).size, accuracy: s.accuracy, balancedAccuracy: s.balancedAccuracy });
    o.log(`fold ${f + 1}/${folds.length}: ${testSet.labels.length} images of ${new Set(testSet.groups).size} subjects, accuracy ${(s.accuracy * 100).toFixed(2)}%, balanced ${(s.balancedAccuracy * 100).toFixed(2)}%`);
  }
  const accs = perFold.map((p) => p.accuracy);
  const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
  const std = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / accs.length);
  return {
    folds: folds.length, subjects: new Set(o.set.groups).size, perFold, meanAccuracy: mean, stdAccuracy: std,
    meanBalancedAccuracy: perFold.reduce((a, p) => a + p.balancedAccuracy, 0) / perFold.length,
    pooled: summarise(o.name, `${o.name}-${o.k}fold-pooled`, o.set.labels, probs),
  };
}
