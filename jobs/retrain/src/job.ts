/**
 * The retrain job: load labelled data in any supported layout, split it by the protocol,
 * train, evaluate on each test set and write a versioned model directory with its card.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import { loadWeightsAs, saveModelDir, PREPROCESSING, type ModelCard, type EvaluationSummary } from '@emostream/model';
import type { Tf } from '@emostream/runtime';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;
import { classShareFloor, configByName, type ConfigName, type TrainConfig } from './configs.js';
import {
  classCounts, concat, DataError, datasetCacheDir, isCkFolder, isFerFolder, loadCkFolder, loadFerFolders, loadLabelFolder, loadPipelineCrops,
  readPathColumn, subset, type LabelledSet,
} from './datasets.js';
import { equalisedCopy, filmedCopy, rng } from './augment.js';
import { loadFerPlus, readFerPlusVotes, withFerPlusTargets } from './ferplus.js';
import { DEFAULT_VIDEO_AUGMENT } from './video.js';
import { summarise } from './metrics.js';
import { predictSet, train, type TrainState } from './train.js';
import { adjustLogits, trainingPrior, type LogitAdjustment } from './adjust.js';
import { assertNoTestImages } from './selection.js';
import { teacherProbabilities, withTeacherTargets } from './teacher.js';

/** Options of `emostream train`. */
export interface TrainJobOptions {
  tf: Tf;
  backend: string;
  data: string;
  config: ConfigName;
  out: string;
  /** `official` (FER-2013 Training → PublicTest/PrivateTest) or `paper` (random 75:25 / 80:20). */
  split: 'official' | 'paper';
  epochs?: number;
  batchSize?: number;
  /** Stop after this many epochs in this call; rerun with --resume to continue. */
  maxEpochsThisRun?: number;
  resume?: boolean;
  labelMap?: Record<string, string>;
  /** Start from this model directory's weights (continue training a shipped model). */
  init?: string;
  /** Peak learning rate instead of the config's. */
  learningRate?: number;
  /** Oversample the classes under this share of the largest (see TrainConfig.minClassShare). */
  minClassShare?: number;
  /** Post-hoc logit adjustment: `auto` (τ chosen on the validation split) or a fixed τ. */
  logitAdjustment?: 'auto' | number;
  /**
   * Score FER-2013's PrivateTest (the final test split) after training (default true). The
   * scheduled retrain passes false: PrivateTest is scored once per shipped model, by a person.
   */
  finalTest?: boolean;
  /** FER+ folder (fer2013new.csv, mapping.csv) for the recipe's soft targets (`ferPlusWeight`). */
  ferplus?: string;
  /** Weight of FER+'s votes in the targets instead of the recipe's (0: FER-2013's labels alone). */
  ferPlusWeight?: number;
  /** Video augmentation probability instead of the recipe's (0: off). */
  videoP?: number;
  /** The filmed faces' height range in frame pixels instead of the recipe's ([24, 200]), e.g. [24, 80] for a run on small faces. */
  videoFacePx?: [number, number];
  /**
   * Which labels of the validation split choose the epoch and τ: `fer2013` (its own labels, the
   * default) or `ferplus` (FER+'s majority vote of PublicTest, for a run trained on FER+'s votes;
   * needs `ferplus` and the official FER-2013 split). FER+'s majority agrees with FER-2013's label
   * on only 65% of PublicTest, so a FER+ run chosen on FER-2013's labels would be chosen against
   * its own targets.
   */
  selectOn?: 'fer2013' | 'ferplus';
  /**
   * A folder of FER-2013 Training faces as the pipeline cropped them (`npm run crops`), trained on
   * beside the Training faces themselves (needs the official FER-2013 split).
   */
  pipelineCrops?: string;
  /**
   * A trained model directory whose probabilities on each clean training face are mixed into the
   * targets (teacher.ts): with video augmentation, the network learns to answer on a filmed face
   * as the teacher does on the clean one.
   */
  teacher?: string;
  /** Weight of the teacher's probabilities in the targets (default 0.5 when `teacher` is given). */
  teacherWeight?: number;
  /**
   * The four conv blocks' filters instead of the recipe's (a narrower, faster network). With
   * `init` a wider model, each conv starts from its strongest channels (prune.ts).
   */
  filters?: [number, number, number, number];
  /** Mirror TTA at evaluation (and so in the product, which reads it from the card) instead of the recipe's. */
  flipTta?: boolean;
  log: (line: string) => void;
}

/** The training set, the validation set (best epoch, τ) and the named test sets of a run. */
export type TrainSplits = {
  train: LabelledSet; val: LabelledSet; tests: Record<string, LabelledSet>; description: string;
  /** The validation split's name, and whether it is kept apart from the set the model is reported on. */
  valName: string; valHeldOut: boolean;
};

/** A random split keeping `ratio` for training (by group when groups are subjects). */
export function randomSplit(set: LabelledSet, ratio: number, seed: number, byGroup: boolean): { train: LabelledSet; test: LabelledSet } {
  const rand = rng(seed);
  const keys = byGroup ? [...new Set(set.groups)] : set.ids;
  const shuffled = [...keys];
  for (let i = shuffled.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]; }
  const trainKeys = new Set(shuffled.slice(0, Math.round(shuffled.length * ratio)));
  const key = (i: number) => (byGroup ? set.groups[i] : set.ids[i]);
  return { train: subset(set, (i) => trainKeys.has(key(i))), test: subset(set, (i) => !trainKeys.has(key(i))) };
}

/**
 * Loads `o.data` and splits it by the protocol. With `official`, no FER-2013 PrivateTest file
 * (by name, whatever the layout) is in the training or the validation set: a SelectionError says
 * which otherwise.
 */
export async function loadTrainSplits(o: Pick<TrainJobOptions, 'data' | 'split' | 'labelMap' | 'finalTest' | 'log'> & { raw?: boolean }, cfg: Pick<TrainConfig, 'seed'>): Promise<TrainSplits> {
  const splits = await splitData(o, cfg);
  if (o.split === 'official') {
    assertNoTestImages(splits.train, 'training');
    assertNoTestImages(splits.val, `validation (${splits.valName})`);
  }
  return splits;
}

async function splitData(o: Pick<TrainJobOptions, 'data' | 'split' | 'labelMap' | 'finalTest' | 'log'> & { raw?: boolean }, cfg: Pick<TrainConfig, 'seed'>): Promise<TrainSplits> {
  const cacheDir = datasetCacheDir();
  const warn = (m: string) => o.log(`warning: ${m}`);
  const equalize = !o.raw;
  if (!fs.existsSync(o.data)) throw new DataError(`data folder ${o.data} does not exist: pass --data with FER-2013 (train/ test/), CK+ or <label>/<image> folders`);
  if (isFerFolder(o.data)) {
    const fer = await loadFerFolders(o.data, { cacheDir, warn, labelMap: o.labelMap, equalize });
    // FER-2013's blank images (all black / uniform) carry arbitrary labels: drop them from training.
    const blanks = await readPathColumn(path.join(o.data, 'blank.csv'));
    const clean = subset(fer.Training, (i) => !blanks.has(fer.Training.ids[i]));
    if (o.split === 'paper') {
      const all = concat(fer.Training, fer.PublicTest, fer.PrivateTest);
      const { train: tr, test } = randomSplit(subset(all, (i) => !blanks.has(all.ids[i])), 0.75, cfg.seed, false);
      return { train: tr, val: test, valName: 'fer2013-paper-75-25', valHeldOut: false, tests: { 'fer2013-paper-75-25': test, ...officialTests(fer, o.finalTest !== false) }, description: 'FER-2013, all 35,887 images pooled, random 75:25 split (the paper\'s protocol), blank images dropped' };
    }
    const reported = o.finalTest !== false
      ? `reported on PrivateTest (${fer.PrivateTest.labels.length})`
      : `PrivateTest (${fer.PrivateTest.labels.length}) not scored by this run (scored once per shipped model)`;
    return { train: clean, val: fer.PublicTest, valName: 'fer2013-PublicTest', valHeldOut: true, tests: officialTests(fer, o.finalTest !== false), description: `FER-2013 official split: ${clean.labels.length} Training images (blank images dropped), model chosen on PublicTest (${fer.PublicTest.labels.length}), ${reported}` };
  }
  if (isCkFolder(o.data)) {
    const ck = await loadCkFolder(o.data, { cacheDir, warn, labelMap: o.labelMap, equalize });
    const { train: tr, test } = randomSplit(ck, 0.8, cfg.seed, o.split === 'official');
    const name = o.split === 'official' ? 'ckplus-subject-80-20' : 'ckplus-paper-80-20';
    return { train: tr, val: test, valName: name, valHeldOut: false, tests: { [name]: test }, description: o.split === 'official' ? 'CK+ subject-independent 80:20 split' : 'CK+ random 80:20 image split (the paper\'s protocol; frames of one sequence can fall on both sides)' };
  }
  const set = await loadLabelFolder(o.data, { cacheDir, warn, labelMap: o.labelMap, equalize });
  const { train: tr, test } = randomSplit(set, 0.8, cfg.seed, false);
  return { train: tr, val: test, valName: 'holdout-20', valHeldOut: false, tests: { 'holdout-20': test }, description: `${o.data}: random 80:20 split` };
}

function officialTests(fer: { PublicTest: LabelledSet; PrivateTest: LabelledSet }, finalTest: boolean): Record<string, LabelledSet> {
  return { 'fer2013-PublicTest': fer.PublicTest, ...(finalTest ? { 'fer2013-PrivateTest': fer.PrivateTest } : {}) };
}


/**
 * The splits as the recipe trains on them. With video augmentation the training faces stay
 * unequalised (filming comes first; augment.ts equalises after it), the validation and test sets
 * are equalised as always, and a filmed copy of the validation split (seeded, once) is made for
 * choosing the epoch. With a FER+ weight the training targets mix in FER+'s votes.
 */
async function videoSplits(o: TrainJobOptions, cfg: TrainConfig): Promise<{ splits: TrainSplits; filmedVal?: LabelledSet }> {
  const splits = await loadTrainSplits({ ...o, raw: cfg.video !== undefined }, cfg);
  if (o.pipelineCrops) {
    if (o.split !== 'official' || !isFerFolder(o.data)) throw new DataError(`--pipeline-crops adds FER-2013 Training faces as the pipeline cropped them: it needs --data with the FER-2013 folder and --split official`);
    // Refuses any crop not named after a Training face (so no test image either).
    const crops = await loadPipelineCrops(o.pipelineCrops, { cacheDir: datasetCacheDir(), warn: o.log });
    o.log(`pipeline crops: ${crops.labels.length} faces from ${o.pipelineCrops} (not filmed again)`);
    splits.train = concat(splits.train, crops);
    splits.description += `; plus ${crops.labels.length} of its Training faces as the pipeline cropped them (${path.basename(path.resolve(o.pipelineCrops))})`;
  }
  if (cfg.ferPlusWeight) {
    if (!o.ferplus) throw new DataError(`the '${cfg.name}' recipe mixes FER+ votes into the targets (weight ${cfg.ferPlusWeight}): pass --ferplus <folder with fer2013new.csv and mapping.csv>, or --ferplus-weight 0`);
    const votes = await readFerPlusVotes(path.join(o.ferplus, 'fer2013new.csv'), path.join(o.ferplus, 'mapping.csv'));
    const { set, mix } = withFerPlusTargets(splits.train, votes, cfg.ferPlusWeight);
    o.log(`FER+ targets (weight ${cfg.ferPlusWeight}): ${mix.mixed} images mixed, ${mix.withoutVotes} without FER+ votes kept as labelled, ${mix.droppedNotFace.length} dropped (FER+ majority: not a face)`);
    if (mix.mixed === 0) throw new DataError(`no training image of ${o.data} has a FER+ row in ${o.ferplus}: check that mapping.csv's fer2013_path matches the FER-2013 folder`);
    splits.train = set;
  }
  if (o.teacher) await withTeacher(o, cfg, splits);
  if (o.selectOn === 'ferplus') await selectOnFerPlus(o, splits, cfg.video !== undefined);
  if (!cfg.video) return { splits };
  const filmedVal = filmedCopy(splits.val, cfg.video, cfg.seed);
  // The validation split is usually also a test set (PublicTest): equalise each set once.
  const equalised = new Map<LabelledSet, LabelledSet>();
  const once = (set: LabelledSet) => equalised.get(set) ?? equalised.set(set, equalisedCopy(set)).get(set)!;
  splits.val = once(splits.val);
  splits.tests = Object.fromEntries(Object.entries(splits.tests).map(([k, v]) => [k, once(v)]));
  return { splits, filmedVal };
}

/** The teacher's probabilities on the clean training faces mixed into the targets; recorded in the config (and so the card). */
async function withTeacher(o: TrainJobOptions, cfg: TrainConfig, splits: TrainSplits): Promise<void> {
  const weight = o.teacherWeight ?? 0.5;
  // The teacher answers as the product runs it: with the mirror TTA its own card names.
  const { probs, version } = await teacherProbabilities(o.tf, o.teacher!, splits.train, { raw: cfg.video !== undefined, flipTta: 'card' });
  const { set, mix } = withTeacherTargets(splits.train, probs, weight);
  const n = set.labels.length;
  o.log(`teacher ${o.teacher} (${version}, weight ${weight}): its top class is the label on ${(mix.agreeing / n * 100).toFixed(1)}% of the ${n} training faces, mean top probability ${mix.meanTop.toFixed(2)}`);
  splits.train = set;
  splits.description += `; targets mixed with the probabilities of ${version} on the clean faces (weight ${weight})`;
  cfg.teacher = { model: o.teacher!, version, weight };
}

/**
 * The validation split becomes FER+'s majority vote of PublicTest (rows whose majority is unknown,
 * not a face or contempt dropped), also reported as a test set. `raw`: left unequalised (the video
 * recipe equalises after filming).
 */
async function selectOnFerPlus(o: TrainJobOptions, splits: TrainSplits, raw: boolean): Promise<void> {
  if (!o.ferplus || o.split !== 'official' || !isFerFolder(o.data)) {
    throw new DataError('--select-on ferplus chooses on FER+\'s majority vote of FER-2013 PublicTest: it needs --data with the FER-2013 folder, --split official and --ferplus');
  }
  const fp = await loadFerPlus(o.data, path.join(o.ferplus, 'fer2013new.csv'), path.join(o.ferplus, 'mapping.csv'), { cacheDir: datasetCacheDir(), warn: o.log, labelMap: o.labelMap, equalize: !raw });
  assertNoTestImages(fp.PublicTest, 'validation (ferplus-majority-PublicTest)');
  splits.val = fp.PublicTest;
  splits.valName = 'ferplus-majority-PublicTest';
  splits.tests['ferplus-majority-PublicTest'] = fp.PublicTest;
  splits.description += `; chosen on FER+'s majority vote of PublicTest (${fp.PublicTest.labels.length})`;
  o.log(`validation: FER+ majority vote of PublicTest, ${fp.PublicTest.labels.length} faces`);
}

/** Runs `emostream train`; returns the model directory written (or undefined if stopped early). */
export async function runTrainJob(o: TrainJobOptions): Promise<string | undefined> {
  const cfg = configByName(o.config);
  if (o.epochs !== undefined) cfg.epochs = o.epochs;
  if (o.batchSize !== undefined) cfg.batchSize = o.batchSize;
  if (o.learningRate !== undefined) cfg.learningRate = o.learningRate;
  if (o.minClassShare !== undefined) cfg.minClassShare = o.minClassShare;
  if (o.logitAdjustment !== undefined) cfg.logitAdjustment = o.logitAdjustment;
  if (o.filters) cfg.architecture = { ...cfg.architecture, filters: o.filters };
  if (o.flipTta !== undefined) cfg.flipTta = o.flipTta;
  if (o.ferPlusWeight !== undefined) cfg.ferPlusWeight = o.ferPlusWeight;
  if (o.videoP !== undefined) cfg.video = o.videoP > 0 ? { ...(cfg.video ?? DEFAULT_VIDEO_AUGMENT), p: o.videoP } : undefined;
  if (o.videoFacePx) {
    if (!cfg.video) throw new DataError(`--video-face-px sets the filmed faces' sizes, and the '${cfg.name}' recipe films none: add --video-augment <p>`);
    cfg.video = { ...cfg.video, facePx: o.videoFacePx };
  }
  const { splits, filmedVal } = await videoSplits(o, cfg);
  if (splits.train.labels.length === 0) throw new DataError(`nothing left to train on in ${o.data}`);
  if (cfg.logitAdjustment === 'auto' && !splits.valHeldOut) {
    throw new DataError(`--logit-adjustment auto chooses τ on a validation split kept apart from the test set, and ${o.data} with --split ${o.split} has none (its only held-out part, ${splits.valName}, is the test set): pass a fixed τ, e.g. --logit-adjustment 0.3`);
  }
  o.log(`training '${cfg.name}' on ${splits.train.labels.length} images (${EMOTIONS.map((e, i) => `${e} ${classCounts(splits.train)[i]}`).join(', ')}); ${splits.description}`);
  const checkpointDir = path.join(o.out, 'checkpoint');
  let initialModel: LayersModel | undefined;
  let initFrom: string | undefined;
  if (o.init) {
    // Weights only: the recipe's own architecture settings (dropout rates) apply from here on.
    const start = await loadWeightsAs(o.tf, o.init, cfg.architecture, cfg.seed);
    initialModel = start.model;
    o.log(`starting from the ${start.pruned ? `strongest channels (filters ${cfg.architecture.filters.join(',')})` : 'weights'} of ${o.init} (${start.card?.version ?? 'no card'})`);
    initFrom = start.card?.version ? `${o.init} (${start.card.version})` : o.init;
  }
  const result = await train({ tf: o.tf, train: splits.train, val: splits.val, filmedVal, config: cfg, checkpointDir, resume: o.resume, maxEpochsThisRun: o.maxEpochsThisRun, progress: o.log, initialModel });
  if (!result.finished) {
    o.log(`stopped after epoch ${result.state.epochsDone}/${cfg.epochs}; rerun with --resume to continue (checkpoint in ${checkpointDir})`);
  }
  let adjustment: LogitAdjustment | undefined;
  if (cfg.logitAdjustment !== undefined) {
    const prior = trainingPrior(splits.train.labels, EMOTIONS.length, classShareFloor(cfg));
    adjustment = await adjustLogits(o.tf, result.model, {
      val: splits.val, valName: splits.valName, prior, flipTta: cfg.flipTta, log: o.log,
      tau: cfg.logitAdjustment === 'auto' ? undefined : cfg.logitAdjustment,
    });
    o.log(`logit adjustment: τ=${adjustment.tau} (${adjustment.chosenOn}) stored in the softmax bias`);
  }
  const evaluation: Record<string, EvaluationSummary> = {};
  for (const [name, set] of Object.entries(splits.tests)) {
    evaluation[name] = summarise(cfg.name, name, set.labels, await predictSet(o.tf, result.model, set, cfg.flipTta));
    o.log(`${name}: accuracy ${(evaluation[name].accuracy * 100).toFixed(2)}%, balanced ${(evaluation[name].balancedAccuracy * 100).toFixed(2)}% (n=${set.labels.length})`);
  }
  const version = `${cfg.name}-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-e${result.state.bestEpoch}`;
  const card = makeCard(cfg, result.state, version, { ...o, initFrom }, splits, evaluation, result.model.countParams(), adjustment);
  const dir = path.join(o.out, 'model');
  await saveModelDir(result.model, dir, card);
  result.model.dispose();
  o.log(`wrote ${dir} (version ${version})`);
  return dir;
}

function makeCard(cfg: TrainConfig, state: TrainState, version: string, o: TrainJobOptions & { initFrom?: string }, splits: TrainSplits, evaluation: Record<string, EvaluationSummary>, parameters: number, logitAdjustment?: LogitAdjustment): ModelCard {
  return {
    name: cfg.name, version, createdAt: new Date().toISOString(), architecture: cfg.architecture, parameters,
    labels: [...EMOTIONS],
    preprocessing: PREPROCESSING,
    training: {
      config: cfg, data: path.basename(path.resolve(o.data)), split: o.split, splitDescription: splits.description,
      trainImages: splits.train.labels.length, classCounts: classCounts(splits.train), seed: cfg.seed,
      initialisedFrom: o.initFrom, epochsDone: state.epochsDone, bestEpoch: state.bestEpoch, bestValAccuracy: state.bestValAccuracy,
      history: state.history, backend: o.backend, ...(logitAdjustment ? { logitAdjustment } : {}),
      secondsPerEpoch: state.history.length ? state.history.reduce((a, h) => a + h.seconds, 0) / state.history.length : undefined,
    },
    evaluation,
  };
}

