/**
 * A trained model directory: tfjs `model.json` + weights, `labels.json` and `card.json`.
 * Loading checks each file and says which one is wrong and what to do.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMOTIONS } from '@emostream/contracts';
import type { Tf } from '@emostream/runtime';
import { rebuildWithWeights, type ArchitectureConfig } from './architecture.js';
import { pruneWithWeights } from './prune.js';
import { OWN_HEAD, readHeads, setHead } from './heads.js';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** Evaluation figures of a model on one test set (the `evaluate --json` shape). */
export interface EvaluationSummary {
  model: string;
  data: string;
  n: number;
  accuracy: number;
  balancedAccuracy: number;
  perClass: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  confusion: number[][];
  ece: number;
  [extra: string]: unknown;
}

/** `card.json`: how a model was trained and how it scores. */
export interface ModelCard {
  name: string;
  version: string;
  createdAt: string;
  architecture: ArchitectureConfig;
  parameters: number;
  labels: string[];
  preprocessing: string;
  training: Record<string, unknown>;
  evaluation: Record<string, EvaluationSummary | Record<string, unknown>>;
  notes?: string[];
}

/** A loaded model ready for the classifier. */
export interface LoadedModel {
  model: LayersModel;
  card: ModelCard;
  labels: string[];
  version: string;
  dir: string;
  /** The softmax head in use: {@link OWN_HEAD} or a name from the directory's heads.json. */
  head: string;
}

/** A clear error about a model directory, naming the file and what to do. */
export class ModelError extends Error {
  constructor(message: string) { super(message); this.name = 'ModelError'; }
}

/** The repo's `models/` folder. */
export function modelsRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../models');
}

/** The shipped default model directory: the one `models/DEFAULT` names, else `models/best`. */
export function defaultModelDir(): string {
  const root = modelsRoot();
  const pointer = path.join(root, 'DEFAULT');
  const name = fs.existsSync(pointer) ? fs.readFileSync(pointer, 'utf8').trim() : 'best';
  return path.join(root, name);
}

async function readJson<T>(file: string, what: string): Promise<T> {
  let text: string;
  try { text = await fsp.readFile(file, 'utf8'); } catch {
    throw new ModelError(`${file} is missing: a model directory needs model.json, its weight files, labels.json and card.json (${what})`);
  }
  try { return JSON.parse(text) as T; } catch (e) {
    throw new ModelError(`${file} is not valid JSON (${(e as Error).message}): re-export the model or restore the file`);
  }
}

/**
 * Loads and checks a model directory. `head`: one of its extra softmax heads (heads.json) instead
 * of its own; the version then names it (`<version>+<head>`), so every message says which answered.
 */
export async function loadModelDir(tf: Tf, dir: string, opts: { head?: string } = {}): Promise<LoadedModel> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ModelError(`model directory ${dir} does not exist: pass --model with a folder written by \`emostream train\``);
  }
  const labels = await readJson<string[]>(path.join(dir, 'labels.json'), 'the label order of the softmax');
  if (!Array.isArray(labels) || labels.join(',') !== EMOTIONS.join(',')) {
    throw new ModelError(`${path.join(dir, 'labels.json')} lists [${String(labels)}] but the classifier expects [${EMOTIONS.join(', ')}] in that order: retrain with \`emostream train\` or fix the file`);
  }
  const card = await readJson<ModelCard>(path.join(dir, 'card.json'), 'how the model was trained');
  // The version travels on every emotions message and event (a string in the contract): a card
  // whose version is a number or empty would make every later message invalid downstream.
  if (card.version !== undefined && (typeof card.version !== 'string' || !/^[A-Za-z0-9._@+-]{1,100}$/.test(card.version))) {
    throw new ModelError(`${path.join(dir, 'card.json')}: version must be a text of 1-100 letters, digits or . _ @ + -, got ${JSON.stringify(card.version)}`);
  }
  const topo = await readJson<{ weightsManifest?: { paths: string[] }[] }>(path.join(dir, 'model.json'), 'the network');
  for (const group of topo.weightsManifest ?? []) for (const p of group.paths) {
    if (!fs.existsSync(path.join(dir, p))) throw new ModelError(`${path.join(dir, p)} (named in model.json) is missing: copy the whole model directory`);
  }
  let model: LayersModel;
  try {
    model = await tf.loadLayersModel(`file://${path.resolve(dir, 'model.json')}`);
  } catch (e) {
    throw new ModelError(`${path.join(dir, 'model.json')} or its weights cannot be loaded (${(e as Error).message}): the files are corrupt or from another architecture; re-copy or retrain`);
  }
  const shape = model.outputs[0].shape;
  if (shape[shape.length - 1] !== EMOTIONS.length) {
    model.dispose();
    throw new ModelError(`${path.join(dir, 'model.json')} outputs ${shape[shape.length - 1]} classes, expected ${EMOTIONS.length}`);
  }
  const version = card.version ?? path.basename(dir);
  const head = opts.head ?? OWN_HEAD;
  if (head !== OWN_HEAD) {
    try {
      const heads = await readHeads(dir);
      const entry = heads[head];
      if (!entry) throw new Error(`${path.join(dir, 'heads.json')} has no head '${head}' (this model answers to: ${[OWN_HEAD, ...Object.keys(heads)].join(', ')}): pick one of those, or fit it with \`emostream fit-head --model ${dir} --name ${head}\``);
      setHead(tf, model, entry, `head '${head}' of ${dir}`);
    } catch (e) {
      model.dispose();
      throw new ModelError((e as Error).message);
    }
  }
  return { model, card, labels, version: head === OWN_HEAD ? version : `${version}+${head}`, dir, head };
}

/** Whether a model was scored with mirror TTA (its card's training config), so runs with it. */
export function cardFlipTta(card: Pick<ModelCard, 'training'> | undefined): boolean {
  return Boolean((card?.training as { config?: { flipTta?: boolean } } | undefined)?.config?.flipTta);
}

/** Largest weight shard written, in bytes: keeps every file of a shipped model small for git. */
export const SHARD_BYTES = 2 * 1024 * 1024;

/** Writes a model directory (model.json, weights in shards of at most 2 MiB, labels, card). */
export async function saveModelDir(model: LayersModel, dir: string, card: ModelCard): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  const { io } = await import('@tensorflow/tfjs-node');
  await model.save(io.withSaveHandler(async (a) => {
    const data = Buffer.from(Array.isArray(a.weightData) ? Buffer.concat(a.weightData.map((b) => Buffer.from(b))) : Buffer.from(a.weightData as ArrayBuffer));
    const count = Math.max(1, Math.ceil(data.length / SHARD_BYTES));
    const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
    for (const old of await fsp.readdir(dir)) if (/^group\d+-shard\d+of\d+\.bin$|^weights\.bin$/.test(old)) await fsp.rm(path.join(dir, old));
    await Promise.all(paths.map((p, i) => fsp.writeFile(path.join(dir, p), data.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES))));
    const json = {
      modelTopology: a.modelTopology, format: 'layers-model', generatedBy: a.generatedBy, convertedBy: a.convertedBy ?? null,
      weightsManifest: [{ paths, weights: a.weightSpecs }],
    };
    await fsp.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.length } };
  }));
  await fsp.writeFile(path.join(dir, 'labels.json'), JSON.stringify(EMOTIONS) + '\n');
  await fsp.writeFile(path.join(dir, 'card.json'), JSON.stringify(card, null, 2) + '\n');
}

/**
 * The weights of a model directory in a fresh network of `arch` (fine-tuning under a recipe
 * whose dropout rates may differ from the stored model's); with the directory's card. When
 * `arch` is narrower than the stored network (its card's architecture), the strongest channels
 * of each conv are kept (prune.ts).
 */
export async function loadWeightsAs(tf: Tf, dir: string, arch: ArchitectureConfig, seed = 1): Promise<{ model: LayersModel; card: ModelCard; pruned: boolean }> {
  const start = await loadModelDir(tf, dir);
  try {
    const stored = start.card?.architecture as ArchitectureConfig | undefined;
    // Other filters than the stored network's: cut from it (a wider `arch` is refused there, naming both).
    const otherFilters = stored !== undefined && stored.filters.some((f, i) => f !== arch.filters[i]);
    if (otherFilters) return { model: pruneWithWeights(tf, start.model, stored, arch, seed), card: start.card, pruned: true };
    return { model: rebuildWithWeights(tf, start.model, arch, seed), card: start.card, pruned: false };
  } finally {
    start.model.dispose();
  }
}

/** Stores an evaluation in a model directory's card.json under `evaluation.<key>`, with when. */
export async function recordEvaluation(dir: string, key: string, value: Record<string, unknown>): Promise<string> {
  const cardFile = path.join(dir, 'card.json');
  const card = JSON.parse(await fsp.readFile(cardFile, 'utf8')) as ModelCard;
  card.evaluation = { ...card.evaluation, [key]: { ...value, at: new Date().toISOString() } };
  await fsp.writeFile(cardFile, JSON.stringify(card, null, 2) + '\n');
  return cardFile;
}
