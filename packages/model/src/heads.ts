/**
 * Extra softmax heads of a model directory (`heads.json`): other label sets answered by the same
 * network. A head is the weights of the final layer (`emotion`: the 256 features of `fc1` → the
 * seven emotions) fitted to another set of labels, such as FER+'s ten crowd votes per face, on the
 * trunk's frozen features. Choosing a head swaps those weights in at load time, so the network,
 * its compiled forward pass and its cost are those of the model itself. The model's own layer is
 * the head named {@link OWN_HEAD}.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import type { Tf } from '@emostream/runtime';
import { emotionLayer } from './architecture.js';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** The file of a model directory that holds its extra heads. */
export const HEADS_FILE = 'heads.json';

/** The name of the model's own softmax layer, trained on FER-2013's labels (always present). */
export const OWN_HEAD = 'fer2013';

/** The weights of a softmax head: kernel row-major [features][7] and the seven biases. */
export interface HeadWeights {
  kernel: number[];
  bias: number[];
}

/** One extra head as stored: its weights, what it was fitted on, and its figures. */
export interface HeadEntry extends HeadWeights {
  /** What its outputs mean, for people (e.g. "FER+ majority of ten crowd votes"). */
  labels: string;
  /** How it was fitted: the command, data, selection, history. */
  training: Record<string, unknown>;
  /** Scores recorded by `emostream evaluate --head <name> --record`. */
  evaluation?: Record<string, unknown>;
}

/** A head name: letters, digits, `-` and `_` (it becomes part of the model version). */
export const HEAD_NAME = /^[A-Za-z0-9_-]{1,40}$/;

/** The extra heads of a model directory (none when it has no heads.json). */
export async function readHeads(dir: string): Promise<Record<string, HeadEntry>> {
  const file = path.join(dir, HEADS_FILE);
  if (!fs.existsSync(file)) return {};
  let parsed: unknown;
  try { parsed = JSON.parse(await fsp.readFile(file, 'utf8')); } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}): restore it, or refit the head with \`emostream fit-head\``);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file} must be an object of heads by name`);
  return parsed as Record<string, HeadEntry>;
}

/** The weights of `model`'s final layer (`emotion`). */
export function headOf(model: LayersModel): HeadWeights {
  const [kernel, bias] = emotionLayer(model).getWeights();
  return { kernel: Array.from(kernel.dataSync()), bias: Array.from(bias.dataSync()) };
}

/** Puts `head`'s weights into `model`'s final layer; throws naming the shapes when they do not fit. */
export function setHead(tf: Tf, model: LayersModel, head: HeadWeights, name = 'the head'): void {
  const layer = emotionLayer(model);
  const [kernel] = layer.getWeights();
  const [features, classes] = kernel.shape;
  if (head.bias?.length !== classes || classes !== EMOTIONS.length || head.kernel?.length !== features * classes) {
    throw new Error(`${name} has ${head.kernel?.length ?? 0} weights and ${head.bias?.length ?? 0} biases; this model's final layer needs ${features}x${classes} and ${classes}: it was fitted on another network`);
  }
  if (![...head.kernel, ...head.bias].every(Number.isFinite)) throw new Error(`${name} has weights that are not finite numbers: refit it`);
  const w = [tf.tensor2d(head.kernel, [features, classes]), tf.tensor1d(head.bias)];
  layer.setWeights(w);
  tf.dispose(w);
}

/** Stores (or replaces) head `name` in `dir`'s heads.json. */
export async function writeHead(dir: string, name: string, entry: HeadEntry): Promise<string> {
  if (!HEAD_NAME.test(name) || name === OWN_HEAD) throw new Error(`a head name must be 1-40 letters, digits, - or _, and not '${OWN_HEAD}' (the model's own layer); got '${name}'`);
  return updateHeads(dir, (heads) => { heads[name] = entry; });
}

/** Stores an evaluation of head `name` under its `evaluation.<key>`, with when. */
export async function recordHeadEvaluation(dir: string, name: string, key: string, value: Record<string, unknown>): Promise<string> {
  return updateHeads(dir, (heads) => {
    const entry = heads[name];
    if (!entry) throw new Error(`${path.join(dir, HEADS_FILE)} has no head '${name}'`);
    entry.evaluation = { ...entry.evaluation, [key]: { ...value, at: new Date().toISOString() } };
  });
}

/** Reads `dir`'s heads.json, lets `change` edit the heads, writes it back; returns the file. */
async function updateHeads(dir: string, change: (heads: Record<string, HeadEntry>) => void): Promise<string> {
  const heads = await readHeads(dir);
  change(heads);
  const file = path.join(dir, HEADS_FILE);
  await fsp.writeFile(file, JSON.stringify(heads) + '\n');
  return file;
}
