/**
 * `emostream evaluate`'s work: load the evaluation set of a folder (a FER-2013 split, FER+
 * majority votes, CK+, any `<label>/<image>` folder), score a model on it and on FER-2013's
 * variants without duplicates/blank images, and render the report.
 */
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import { INPUT_PIXELS, type EvaluationSummary } from '@emostream/model';
import {
  DataError, datasetCacheDir, isCkFolder, isFerFolder, loadCkFolder, loadFerFolders, loadLabelFolder, readPathColumn, subset,
  type FerSplit, type LabelledSet,
} from './datasets.js';
import { loadFerPlus } from './ferplus.js';
import { summarise } from './metrics.js';
import { renderEvaluationReport } from './report.js';
import type { EpochRecord } from './train.js';

/** What scoring needs of a model (the classifier's EmotionModel is one). */
export interface Predictor {
  /** Reported as the model of the result. */
  version: string;
  /** Model directory (its card.json's training history goes into the report). */
  dir?: string;
  /** n crops → n*7 probabilities in EMOTIONS order. */
  predict(crops: Uint8Array[]): Promise<Float32Array>;
}

/** The split `evaluate` scores on FER-2013 without `--split`: a person's one-off report of a shipped model. */
export const DEFAULT_EVAL_SPLIT = 'PrivateTest' satisfies FerSplit;

/** The order `--split` errors list the choices in. */
const SPLIT_CHOICES: readonly FerSplit[] = ['PrivateTest', 'PublicTest', 'Training'];

/** Options of {@link loadEvalSets}. */
export interface EvalSetOptions {
  /** FER-2013 split (default PrivateTest); ignored for other data. */
  split?: string;
  /** The model's histogram equalisation (false for Human's model). */
  equalize?: boolean;
  labelMap?: Record<string, string>;
  warn?: (m: string) => void;
  /** FER+ folder (fer2013new.csv, mapping.csv): score against its majority votes. */
  ferplus?: string;
  /** Where decoded sets are cached (default .cache/datasets in the current folder). */
  cacheDir?: string;
}

/** An evaluation set, its name (the result's `data`) and, for FER-2013's test splits, its cleaned variants. */
export interface EvalSets { set: LabelledSet; name: string; variants: Record<string, LabelledSet> }

function ferSplit(split: string | undefined, what: string): FerSplit {
  const which = (split ?? DEFAULT_EVAL_SPLIT) as FerSplit;
  if (!SPLIT_CHOICES.includes(which)) throw new DataError(`--split must be one of ${SPLIT_CHOICES.join(', ')}${what}, got '${split}'`);
  return which;
}

/** Loads the evaluation set of a folder; for FER-2013, also the variants without duplicates/blank. */
export async function loadEvalSets(data: string, o: EvalSetOptions = {}): Promise<EvalSets> {
  const opts = { cacheDir: o.cacheDir ?? datasetCacheDir(), warn: o.warn, labelMap: o.labelMap ?? {}, equalize: o.equalize ?? true };
  if (o.ferplus) {
    if (!isFerFolder(data)) throw new DataError(`--ferplus needs --data to be the FER-2013 folder (train/ test/), got ${data}`);
    const votes = path.join(o.ferplus, 'fer2013new.csv'), mapping = path.join(o.ferplus, 'mapping.csv');
    for (const f of [votes, mapping]) if (!fsSync.existsSync(f)) throw new DataError(`${f} is missing: --ferplus needs fer2013new.csv and mapping.csv`);
    const which = ferSplit(o.split, '');
    const sets = await loadFerPlus(data, votes, mapping, opts);
    return { set: sets[which], name: `ferplus-majority-${which}`, variants: {} };
  }
  if (isFerFolder(data)) {
    const which = ferSplit(o.split, ' for FER-2013');
    const fer = await loadFerFolders(data, opts);
    const set = fer[which];
    const variants: Record<string, LabelledSet> = {};
    if (which !== 'Training') {
      // Test images whose exact pixels also occur in Training (duplicates.csv groups).
      const rows = (await fs.readFile(path.join(data, 'duplicates.csv'), 'utf8').catch(() => '')).trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
      const groupsWithTraining = new Set(rows.filter((r) => r[2] === 'Training').map((r) => r[0]));
      const dup = new Set(rows.filter((r) => groupsWithTraining.has(r[0]) && r[2] !== 'Training').map((r) => r[1]));
      const blank = await readPathColumn(path.join(data, 'blank.csv'));
      if (dup.size) variants.withoutTrainingDuplicates = subset(set, (i) => !dup.has(set.ids[i]));
      if (blank.size) variants.withoutBlank = subset(set, (i) => !blank.has(set.ids[i]));
    }
    return { set, name: `fer2013-${which}`, variants };
  }
  if (isCkFolder(data)) return { set: await loadCkFolder(data, opts), name: 'ckplus', variants: {} };
  return { set: await loadLabelFolder(data, opts), name: path.basename(path.resolve(data)), variants: {} };
}

/** A model's probabilities on every image of a set (n x 7, in EMOTIONS order), batch by batch. */
export async function predictorProbabilities(model: Predictor, set: LabelledSet): Promise<Float32Array> {
  const n = set.labels.length, k = EMOTIONS.length;
  const probs = new Float32Array(n * k);
  for (let i = 0; i < n; i += 256) {
    const crops: Uint8Array[] = [];
    for (let j = i; j < Math.min(n, i + 256); j++) crops.push(set.images.subarray(j * INPUT_PIXELS, (j + 1) * INPUT_PIXELS));
    probs.set(await model.predict(crops), i * k);
  }
  return probs;
}

/** Scores a model on a set. */
export async function scoreSet(model: Predictor, set: LabelledSet, name: string, data: string): Promise<EvaluationSummary> {
  const probs = await predictorProbabilities(model, set);
  return summarise(name, data, set.labels, probs);
}

/** Options of {@link evaluateModel}. */
export interface EvaluateModelOptions extends EvalSetOptions {
  /** The data folder (`--data`). */
  data: string;
  /** The tfjs backend that scored, reported in the result. */
  backend: string;
}

/** `evaluate --json`'s object. */
export type EvaluationResultJson = EvaluationSummary & {
  model: string; data: string; variants?: Record<string, { n: number; accuracy: number; balancedAccuracy: number }>;
  skippedLabels?: Record<string, number>; unreadable: number; backend: string;
};

/** What {@link evaluateModel} found. */
export interface ModelEvaluation {
  /** The evaluation set's name (`fer2013-PublicTest`, `ckplus`, …). */
  name: string;
  /** The figures on the whole set. */
  main: EvaluationSummary;
  /** n, accuracy and balanced accuracy on each variant (FER-2013 without duplicates/blank). */
  extra: Record<string, { n: number; accuracy: number; balancedAccuracy: number }>;
  /** `evaluate --json`'s object. */
  result: EvaluationResultJson;
  /** The HTML report (with the training curves of the model's card, when it has them). */
  report: string;
}

/** Scores a model on a folder's evaluation set (and its variants) and renders the report. */
export async function evaluateModel(model: Predictor, o: EvaluateModelOptions): Promise<ModelEvaluation> {
  const { set, name, variants } = await loadEvalSets(o.data, o);
  const skipped = Object.entries(set.skippedLabels);
  const main = await scoreSet(model, set, model.version, name);
  const extra: ModelEvaluation['extra'] = {};
  for (const [k, v] of Object.entries(variants)) {
    const s = await scoreSet(model, v, model.version, `${name}-${k}`);
    extra[k] = { n: s.n, accuracy: s.accuracy, balancedAccuracy: s.balancedAccuracy };
  }
  const result: EvaluationResultJson = { ...main, model: model.version, data: name, ...(Object.keys(extra).length ? { variants: extra } : {}), ...(skipped.length ? { skippedLabels: set.skippedLabels } : {}), unreadable: set.unreadable.length, backend: o.backend };
  let history: EpochRecord[] | undefined;
  if (model.dir) {
    try { history = (JSON.parse(await fs.readFile(path.join(model.dir, 'card.json'), 'utf8')).training?.history) as EpochRecord[]; } catch { /* no card history */ }
  }
  const report = renderEvaluationReport({ title: `Evaluation of ${model.version} on ${name}`, model: model.version, results: [main], history });
  return { name, main, extra, result, report };
}
