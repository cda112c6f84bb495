/**
 * The training loop of the retrain job: seeded epochs over a labelled set with augmentation,
 * progress with ETA, a checkpoint every epoch (model + optimizer + state) and resume.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import { buildModel, predictBatch, INPUT_PIXELS, INPUT_SIZE } from '@emostream/model';
import type { Tf } from '@emostream/runtime';
import { augmentInto, epochOrder, rng } from './augment.js';
import { classShareFloor, learningRateAt, type TrainConfig } from './configs.js';
import type { LabelledSet } from './datasets.js';
import { summarise } from './metrics.js';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** One epoch's figures. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valAccuracy?: number;
  valBalancedAccuracy?: number;
  /** Accuracy on the filmed copy of the validation split (video augmentation runs only). */
  valFilmedAccuracy?: number;
  learningRate: number;
  seconds: number;
  imagesPerSecond: number;
}

/** What a checkpoint remembers besides the weights. */
export interface TrainState {
  config: TrainConfig;
  epochsDone: number;
  history: EpochRecord[];
  bestEpoch: number;
  bestValAccuracy: number;
}

/** Inputs of {@link train}. */
export interface TrainOptions {
  tf: Tf;
  train: LabelledSet;
  /** Used to pick the best epoch (PublicTest for FER-2013; never the final test set). */
  val?: LabelledSet;
  /**
   * The validation split filmed once, seeded (video augmentation runs): the best epoch is then
   * the one with the best mean of still and filmed validation accuracy.
   */
  filmedVal?: LabelledSet;
  config: TrainConfig;
  /** Checkpoints go to `<dir>/last` and `<dir>/best`, with `<dir>/state.json`. */
  checkpointDir: string;
  /** Continue from `<dir>/last` when it exists. */
  resume?: boolean;
  /** Stop after this many epochs in this call (the run resumes later). */
  maxEpochsThisRun?: number;
  progress?: (line: string) => void;
  /** Start from these weights (fine-tuning) instead of a fresh model; compiled here. */
  initialModel?: LayersModel;
}

/** Result of a training run: the best model (by validation accuracy) and the history. */
export interface TrainResult { model: LayersModel; state: TrainState; finished: boolean }

function targets(labels: Int32Array, soft: Float32Array | undefined, idx: Int32Array, from: number, to: number, eps: number): Float32Array {
  const k = EMOTIONS.length;
  const y = new Float32Array((to - from) * k);
  for (let j = from; j < to; j++) {
    const i = idx[j], o = (j - from) * k;
    if (soft) for (let c = 0; c < k; c++) y[o + c] = soft[i * k + c] * (1 - eps) + eps / k;
    else { for (let c = 0; c < k; c++) y[o + c] = eps / k; y[o + labels[i]] += 1 - eps; }
  }
  return y;
}

async function saveCheckpoint(model: LayersModel, dir: string, state: TrainState): Promise<void> {
  const tmp = dir + '.tmp';
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  await model.save(`file://${path.resolve(tmp)}`, { includeOptimizer: true });
  await fsp.writeFile(path.join(tmp, 'state.json'), JSON.stringify(state, null, 2));
  // Swap in atomically enough: a crash leaves either the old or the new checkpoint whole.
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rename(tmp, dir);
}

/** Accuracy of a model on a set, in batches (optionally with mirrored TTA). */
export async function predictSet(tf: Tf, model: LayersModel, set: LabelledSet, flipTta: boolean): Promise<Float32Array> {
  const n = set.labels.length, k = EMOTIONS.length;
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i += 256) {
    const j = Math.min(n, i + 256);
    out.set(await predictBatch(tf, model, set.images.subarray(i * INPUT_PIXELS, j * INPUT_PIXELS), { flipTta }), i * k);
  }
  return out;
}

/** Trains (or resumes) a model; returns the best epoch's model. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { tf, config: cfg, train: data } = opts;
  const log = opts.progress ?? ((l: string) => process.stderr.write(l + '\n'));
  const lastDir = path.join(opts.checkpointDir, 'last');
  const bestDir = path.join(opts.checkpointDir, 'best');
  let model: LayersModel;
  let state: TrainState;
  const compile = (m: LayersModel) => m.compile({ optimizer: tf.train.adam(cfg.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  if (opts.resume && fs.existsSync(path.join(lastDir, 'state.json'))) {
    state = JSON.parse(await fsp.readFile(path.join(lastDir, 'state.json'), 'utf8')) as TrainState;
    model = await tf.loadLayersModel(`file://${path.resolve(lastDir, 'model.json')}`);
    if (!model.optimizer) compile(model);
    state.config = { ...state.config, epochs: cfg.epochs };
    log(`resuming ${cfg.name} from epoch ${state.epochsDone}/${cfg.epochs} (best PublicTest ${(state.bestValAccuracy * 100).toFixed(2)}% at epoch ${state.bestEpoch})`);
  } else {
    model = opts.initialModel ?? buildModel(tf, cfg.architecture, cfg.seed);
    compile(model);
    state = { config: cfg, epochsDone: 0, history: [], bestEpoch: 0, bestValAccuracy: -1 };
    await fsp.mkdir(opts.checkpointDir, { recursive: true });
  }
  const n = data.labels.length;
  const stopAt = Math.min(cfg.epochs, state.epochsDone + (opts.maxEpochsThisRun ?? Infinity));
  const xb = new Float32Array(cfg.batchSize * INPUT_PIXELS);
  // Faces the pipeline already filmed and cropped are equalised as the others, never filmed again.
  const unfilmed = cfg.video ? { ...cfg.video, p: 0 } : undefined;
  while (state.epochsDone < stopAt) {
    const epoch = state.epochsDone;
    // Seeded per epoch, so a resumed run sees the same order and augmentations it would have.
    const rand = rng(cfg.seed * 1000 + epoch);
    const order = epochOrder(data.labels, EMOTIONS.length, classShareFloor(cfg), rand);
    const batches = Math.ceil(order.length / cfg.batchSize);
    const t0 = Date.now();
    let lossSum = 0, accSum = 0, seen = 0, lastPrint = t0;
    for (let b = 0; b < batches; b++) {
      const from = b * cfg.batchSize, to = Math.min(order.length, from + cfg.batchSize);
      const m = to - from;
      (model.optimizer as unknown as { learningRate: number }).learningRate = learningRateAt(cfg, epoch + b / batches);
      for (let j = from; j < to; j++) {
        const i = order[j];
        augmentInto(data.images.subarray(i * INPUT_PIXELS, (i + 1) * INPUT_PIXELS), xb, (j - from) * INPUT_PIXELS, cfg.augment, rand, data.prefilmed?.[i] ? unfilmed : cfg.video);
      }
      const x = tf.tensor4d(xb.subarray(0, m * INPUT_PIXELS), [m, INPUT_SIZE, INPUT_SIZE, 1]);
      const y = tf.tensor2d(targets(data.labels, data.soft, order, from, to, cfg.labelSmoothing), [m, EMOTIONS.length]);
      const [loss, acc] = (await model.trainOnBatch(x, y)) as number[];
      x.dispose(); y.dispose();
      if (cfg.weightDecay) decayKernels(tf, model, learningRateAt(cfg, epoch + b / batches) * cfg.weightDecay);
      lossSum += loss * m; accSum += acc * m; seen += m;
      const now = Date.now();
      if (now - lastPrint > 10_000 || b === batches - 1) {
        lastPrint = now;
        const rate = seen / ((now - t0) / 1000);
        const left = (order.length - seen) / rate + (stopAt - epoch - 1) * (order.length / rate);
        log(`epoch ${epoch + 1}/${cfg.epochs} batch ${b + 1}/${batches} loss ${(lossSum / seen).toFixed(4)} acc ${(accSum / seen * 100).toFixed(2)}% ${rate.toFixed(0)} img/s ETA ${fmt(left)}`);
      }
    }
    const seconds = (Date.now() - t0) / 1000;
    const rec: EpochRecord = {
      epoch: epoch + 1, loss: lossSum / seen, accuracy: accSum / seen, learningRate: learningRateAt(cfg, epoch + 1),
      seconds, imagesPerSecond: seen / seconds,
    };
    if (opts.val && opts.val.labels.length > 0) {
      const s = summarise(cfg.name, 'val', opts.val.labels, await predictSet(tf, model, opts.val, cfg.flipTta));
      rec.valAccuracy = s.accuracy; rec.valBalancedAccuracy = s.balancedAccuracy;
    }
    if (opts.filmedVal && opts.filmedVal.labels.length > 0) {
      rec.valFilmedAccuracy = summarise(cfg.name, 'val-filmed', opts.filmedVal.labels, await predictSet(tf, model, opts.filmedVal, cfg.flipTta)).accuracy;
    }
    state.history.push(rec);
    state.epochsDone = epoch + 1;
    const score = selectionScore(rec);
    const improved = score === undefined || score > state.bestValAccuracy;
    if (improved) { state.bestValAccuracy = score ?? rec.accuracy; state.bestEpoch = epoch + 1; }
    if (improved) await saveCheckpoint(model, bestDir, state);
    await saveCheckpoint(model, lastDir, state);
    log(`epoch ${epoch + 1} done in ${seconds.toFixed(0)} s: loss ${rec.loss.toFixed(4)} train acc ${(rec.accuracy * 100).toFixed(2)}%` +
      (rec.valAccuracy !== undefined ? ` val acc ${(rec.valAccuracy * 100).toFixed(2)}% (balanced ${(rec.valBalancedAccuracy! * 100).toFixed(2)}%)` : '') +
      (rec.valFilmedAccuracy !== undefined ? ` filmed val acc ${(rec.valFilmedAccuracy * 100).toFixed(2)}%` : '') +
      (improved ? ' [best]' : ''));
  }
  const finished = state.epochsDone >= cfg.epochs;
  model.dispose();
  const best = await tf.loadLayersModel(`file://${path.resolve(bestDir, 'model.json')}`);
  return { model: best, state, finished };
}

/** What chooses the best epoch: validation accuracy, or its mean with the filmed validation accuracy when there is one. */
export function selectionScore(rec: Pick<EpochRecord, 'valAccuracy' | 'valFilmedAccuracy'>): number | undefined {
  if (rec.valAccuracy === undefined) return undefined;
  return rec.valFilmedAccuracy === undefined ? rec.valAccuracy : (rec.valAccuracy + rec.valFilmedAccuracy) / 2;
}

/** AdamW's decoupled decay: every conv and dense kernel (not biases, not batch norm) times 1 − `amount`. */
export function decayKernels(tf: Tf, model: LayersModel, amount: number): void {
  tf.tidy(() => {
    for (const v of model.trainableWeights) if (v.shape.length > 1) v.write(tf.mul(v.read(), 1 - amount));
  });
}

function fmt(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}
