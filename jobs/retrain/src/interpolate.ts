/**
 * Weight-space interpolation between a model and its fine-tuned descendant (WiSE-FT: Wortsman et
 * al., "Robust fine-tuning of zero-shot models", CVPR 2022): (1 − λ)·base + λ·tuned, every weight
 * (batch-norm statistics included). Fine-tuning for video moves the network towards filmed faces
 * and away from clean stills; a point between the two keeps most of both. λ is chosen on the
 * validation split (FER-2013 PublicTest), still and filmed, never on a test set.
 */
import path from 'node:path';
import { loadModelDir, saveModelDir, type EvaluationSummary, type ModelCard } from '@emostream/model';
import type { Tf } from '@emostream/runtime';
import { equalisedCopy, filmedCopy } from './augment.js';
import { VIDEO_CONFIG, type TrainConfig } from './configs.js';
import { DataError, datasetCacheDir, isFerFolder, loadFerFolders, type LabelledSet } from './datasets.js';
import { summarise } from './metrics.js';
import { predictSet } from './train.js';
import { DEFAULT_VIDEO_AUGMENT } from './video.js';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** Sets `into`'s weights to (1 − λ)·base + λ·tuned; the three must share one architecture. */
export function interpolateInto(tf: Tf, into: LayersModel, base: LayersModel, tuned: LayersModel, lambda: number): void {
  if (!(lambda >= 0 && lambda <= 1)) throw new Error(`λ must be in [0, 1], got ${lambda}`);
  const a = base.getWeights(), b = tuned.getWeights();
  if (a.length !== b.length || a.length !== into.getWeights().length || a.some((w, i) => w.shape.join('x') !== b[i].shape.join('x'))) {
    throw new Error('the two models do not have the same layers and weight shapes: interpolate a model with one fine-tuned from it');
  }
  const mixed = a.map((w, i) => tf.tidy(() => tf.add(tf.mul(w, 1 - lambda), tf.mul(b[i], lambda))));
  into.setWeights(mixed);
  tf.dispose(mixed);
}

/** One λ's validation figures. */
export interface InterpolationPoint { lambda: number; stillAccuracy: number; stillBalancedAccuracy: number; filmedAccuracy: number }

/**
 * The rule: the λ with the best mean of still and filmed validation accuracy among those whose
 * still accuracy is at most `maxStillLoss` below the base model's (λ = 0), so that what is gained on
 * video is not paid for on clean faces; the smaller λ on ties.
 */
export function pickLambda(grid: readonly InterpolationPoint[], maxStillLoss: number): InterpolationPoint {
  const base = grid.find((g) => g.lambda === 0);
  if (!base) throw new Error('the grid needs λ = 0 (the base model) as its reference');
  const allowed = grid.filter((g) => g.stillAccuracy >= base.stillAccuracy - maxStillLoss - 1e-12);
  let best = base;
  for (const g of [...allowed].sort((x, y) => x.lambda - y.lambda)) {
    if ((g.stillAccuracy + g.filmedAccuracy) / 2 > (best.stillAccuracy + best.filmedAccuracy) / 2 + 1e-12) best = g;
  }
  return best;
}

/**
 * Scores every λ of `lambdas` on the still and filmed validation sets; `into` is left at the last λ.
 * Also returns each λ's full still summary (named `modelName` on `valName`), for the chosen one's card.
 */
export async function scoreInterpolations(
  tf: Tf, into: LayersModel, base: LayersModel, tuned: LayersModel,
  o: { lambdas: readonly number[]; val: LabelledSet; filmedVal: LabelledSet; flipTta: boolean; modelName?: string; valName?: string; log?: (l: string) => void },
): Promise<{ points: InterpolationPoint[]; stillSummaries: EvaluationSummary[] }> {
  const points: InterpolationPoint[] = [];
  const stillSummaries: EvaluationSummary[] = [];
  for (const lambda of o.lambdas) {
    interpolateInto(tf, into, base, tuned, lambda);
    const still = summarise(o.modelName ?? 'wise', o.valName ?? 'val', o.val.labels, await predictSet(tf, into, o.val, o.flipTta));
    const filmed = summarise(o.modelName ?? 'wise', 'val-filmed', o.filmedVal.labels, await predictSet(tf, into, o.filmedVal, o.flipTta));
    stillSummaries.push(still);
    points.push({ lambda, stillAccuracy: still.accuracy, stillBalancedAccuracy: still.balancedAccuracy, filmedAccuracy: filmed.accuracy });
    o.log?.(`λ ${lambda}: still ${(still.accuracy * 100).toFixed(2)}% (balanced ${(still.balancedAccuracy * 100).toFixed(2)}%), filmed ${(filmed.accuracy * 100).toFixed(2)}%`);
  }
  return { points, stillSummaries };
}

/** Options of `emostream interpolate`. */
export interface InterpolateJobOptions {
  tf: Tf;
  /** The model fine-tuned from (λ = 0) and its fine-tuned descendant (λ = 1): model directories. */
  base: string;
  tuned: string;
  /** FER-2013 folder: PublicTest, still and filmed, chooses λ. */
  data: string;
  out: string;
  /** A fixed λ instead of choosing one on the grid. */
  lambda?: number;
  /** Most still accuracy (0..1) the chosen λ may lose on PublicTest against the base (default 0.005). */
  maxStillLoss?: number;
  log: (line: string) => void;
}

/** The λ grid `interpolate` scores. */
export const LAMBDA_GRID = [0, 0.25, 0.5, 0.75, 1];

/** Runs `emostream interpolate`: scores λ on PublicTest (still and filmed), writes the chosen model directory. */
export async function runInterpolateJob(o: InterpolateJobOptions): Promise<string> {
  if (!isFerFolder(o.data)) throw new DataError(`--data must be the FER-2013 folder (train/ test/): λ is chosen on its PublicTest, got ${o.data}`);
  const base = await loadModelDir(o.tf, o.base);
  const tuned = await loadModelDir(o.tf, o.tuned);
  const into = (await loadModelDir(o.tf, o.base)).model;
  const tunedConfig = (tuned.card.training as { config?: TrainConfig }).config;
  const video = tunedConfig?.video ?? DEFAULT_VIDEO_AUGMENT;
  const seed = tunedConfig?.seed ?? VIDEO_CONFIG.seed;
  const flipTta = tunedConfig?.flipTta ?? true;
  const raw = (await loadFerFolders(o.data, { cacheDir: datasetCacheDir(), equalize: false, warn: (m) => o.log(`warning: ${m}`) })).PublicTest;
  const val = equalisedCopy(raw), filmedVal = filmedCopy(raw, video, seed);
  const lambdas = o.lambda === undefined ? LAMBDA_GRID : [0, o.lambda];
  const maxStillLoss = o.maxStillLoss ?? 0.005;
  o.log(`scoring λ ∈ {${lambdas.join(', ')}} between ${base.version} (0) and ${tuned.version} (1) on PublicTest (${raw.labels.length}), still and filmed`);
  const { points: grid, stillSummaries } = await scoreInterpolations(o.tf, into, base.model, tuned.model, {
    lambdas, val, filmedVal, flipTta, modelName: tuned.card.name, valName: 'fer2013-PublicTest', log: o.log,
  });
  const chosen = o.lambda === undefined ? pickLambda(grid, maxStillLoss) : grid.find((g) => g.lambda === o.lambda)!;
  interpolateInto(o.tf, into, base.model, tuned.model, chosen.lambda);
  // The still PublicTest summary of the chosen λ, as scored on the grid.
  const evaluation = stillSummaries[grid.indexOf(chosen)];
  const card: ModelCard = {
    ...tuned.card,
    version: `${tuned.version}-wise${chosen.lambda}`,
    createdAt: new Date().toISOString(),
    training: {
      ...tuned.card.training,
      interpolation: {
        base: `${o.base} (${base.version})`, tuned: `${o.tuned} (${tuned.version})`, lambda: chosen.lambda, grid,
        chosenOn: `FER-2013 PublicTest (${raw.labels.length}), still and filmed once (video augmentation, seed ${seed})`,
        rule: o.lambda === undefined
          ? `the best mean of still and filmed accuracy among the λ whose still accuracy is at most ${maxStillLoss * 100} points below λ = 0 (the base)`
          : `λ fixed at ${o.lambda} by the caller`,
        method: '(1 − λ)·base + λ·tuned for every weight, batch-norm statistics included (WiSE-FT, Wortsman et al. 2022)',
      },
    },
    evaluation: { 'fer2013-PublicTest': evaluation },
  };
  const dir = path.join(o.out, 'model');
  await saveModelDir(into, dir, card);
  o.log(`λ = ${chosen.lambda}: PublicTest still ${(chosen.stillAccuracy * 100).toFixed(2)}%, filmed ${(chosen.filmedAccuracy * 100).toFixed(2)}%; wrote ${dir} (version ${card.version})`);
  for (const m of [base.model, tuned.model, into]) m.dispose();
  return dir;
}
