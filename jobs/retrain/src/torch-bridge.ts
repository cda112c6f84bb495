/**
 * The bridge to jobs/retrain/torch/train.py (training on CUDA GPUs where tfjs-node-gpu cannot
 * run): the data file it reads (FER-2013 Training and PublicTest, never PrivateTest, with FER+
 * votes), and reading the weights it writes and setting them on a tfjs model by name.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Tf } from '@emostream/runtime';
import { EMOTIONS } from '@emostream/contracts';
import { INPUT_PIXELS, INPUT_SIZE } from '@emostream/model';
import { rng } from './augment.js';
import { classCounts, ferSplitOf, loadFerFolders, pick, readPathColumn, subset, type LabelledSet } from './datasets.js';
import { majorityColumn, readFerPlusVotes, voteDistribution } from './ferplus.js';
import { assertNoTestImages, SelectionError } from './selection.js';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** One run of train.py: its record (`<run>.json`) and its weights by tfjs name. */
export interface TorchRun {
  meta: Record<string, unknown> & { weights: { name: string; shape: number[]; dtype: string }[]; weightsFile: string };
  weights: Map<string, { shape: number[]; values: Float32Array }>;
}

/** Reads `<run>.json` and the `.bin` it names; throws naming the file when they do not fit. */
export function readTorchRun(jsonFile: string): TorchRun {
  let meta: TorchRun['meta'];
  try { meta = JSON.parse(fs.readFileSync(jsonFile, 'utf8')); } catch (e) {
    throw new Error(`${jsonFile}: not a readable run record of jobs/retrain/torch/train.py (${(e as Error).message})`);
  }
  if (!Array.isArray(meta.weights) || typeof meta.weightsFile !== 'string') throw new Error(`${jsonFile}: no weight list: not written by jobs/retrain/torch/train.py`);
  const binFile = path.join(path.dirname(jsonFile), meta.weightsFile);
  const buf = fs.readFileSync(binFile);
  const need = meta.weights.reduce((a, w) => a + 4 * w.shape.reduce((x, y) => x * y, 1), 0);
  if (buf.length !== need) throw new Error(`${binFile} has ${buf.length} bytes, ${jsonFile} lists ${need}: copy both files of the run again`);
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  let off = 0;
  for (const w of meta.weights) {
    if (w.dtype !== 'float32') throw new Error(`${jsonFile}: weight ${w.name} is ${w.dtype}, expected float32`);
    const n = w.shape.reduce((x, y) => x * y, 1);
    // Little-endian float32, as tfjs's own weight files (and every host it runs on).
    const values = new Float32Array(Uint8Array.from(buf.subarray(off, off + 4 * n)).buffer);
    weights.set(w.name, { shape: w.shape, values });
    off += 4 * n;
  }
  return { meta, weights };
}

/**
 * Sets every weight of `model` from `weights` by its tfjs name (`block1_conv1/kernel`, …).
 * Throws naming the first weight missing or of another shape.
 */
export function setWeightsByName(tf: Tf, model: LayersModel, weights: TorchRun['weights']): void {
  for (const layer of model.layers) {
    const current = layer.weights;
    if (current.length === 0) continue;
    const values = current.map((v) => {
      const name = v.originalName ?? v.name;
      const w = weights.get(name);
      if (!w) throw new Error(`the run has no weight '${name}': it was not trained with the '${model.name}' architecture`);
      if (w.shape.join('x') !== v.shape.join('x')) throw new Error(`weight '${name}' is ${w.shape.join('x')} in the run, ${v.shape.join('x')} in the model`);
      return tf.tensor(w.values, w.shape);
    });
    layer.setWeights(values);
    values.forEach((t) => t.dispose());
  }
}

/** Per 48x48 image: pixel − MED(left a, up b, upper-left c), mod 256 (first row/column: the neighbour, (0,0): 0). */
export function medResiduals(images: Uint8Array): Uint8Array {
  const n = INPUT_SIZE, out = new Uint8Array(images.length);
  for (let base = 0; base < images.length; base += n * n) {
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const i = base + y * n + x;
        let pred: number;
        if (y === 0) pred = x === 0 ? 0 : images[i - 1];
        else if (x === 0) pred = images[i - n];
        else {
          const a = images[i - 1], b = images[i - n], c = images[i - n - 1];
          pred = c >= Math.max(a, b) ? Math.min(a, b) : c <= Math.min(a, b) ? Math.max(a, b) : a + b - c;
        }
        out[i] = (images[i] - pred) & 255;
      }
    }
  }
  return out;
}

/** How a set's face images travel: the original files (JPEG/PNG, decoded by train.py with Pillow) or lossless MED residuals of the decoded pixels. */
export type TorchImageCoding = 'files' | 'med-residual';

/** One set of a data file for train.py: what it holds and its blocks, in file order. */
export interface TorchDataSet {
  name: string;
  /** What the set may do there: `train` trains, `val` chooses the epoch; there is no other role. */
  role: 'train' | 'val';
  n: number;
  coding: TorchImageCoding;
  /** Always false: the faces travel before the model's equalisation (train.py equalises, after filming when it films). */
  equalized: false;
  classCounts: number[];
  /** FER+ votes joined to the set's rows (ferplus.ts): rows with a vote distribution, without, and whose FER+ majority is "not a face". */
  ferplus?: { withVotes: number; withoutVotes: number; notFace: number };
  /** Byte length of each block, in file order. */
  blocks: Array<[TorchDataBlock, number]>;
}

/**
 * The blocks of a set: `images` (the files one after another, or n·2304 residual bytes),
 * `fileLengths` (n uint32 LE, `files` coding), `crc32` (n uint32 LE: CRC-32 of each face's 48x48
 * gray pixels as the model's own decoder gives them, so train.py can check its decoding), `labels`
 * (n bytes, FER-2013's label as an EMOTIONS index), `ids` (the paths, '\n'-joined UTF-8),
 * `ferplusSoft` (n·7 float32 LE: FER+'s vote distribution where there is one, else the one-hot
 * label: mixing it with weight w gives withFerPlusTargets' targets) and `ferplusFlags` (n bytes:
 * 1 votes, 2 FER+ majority "not a face").
 */
export type TorchDataBlock = 'images' | 'fileLengths' | 'crc32' | 'labels' | 'ids' | 'ferplusSoft' | 'ferplusFlags';

/** The JSON header of a data file (format 2). */
export interface TorchDataHeader {
  format: 2;
  labels: readonly string[];
  source: { fer2013: string; ferplus?: string; blankDropped: number; limitTraining?: { kept: number; of: number; seed: number } };
  sets: TorchDataSet[];
}

/** The magic line of the data file format 2 (format 1, 'EMOFER1\n', held med-residual pixels and labels only). */
export const TORCH_DATA_MAGIC = 'EMOFER2\n';
const K = EMOTIONS.length;

/** The FER-2013 split the torch data file gives each role: Training trains, PublicTest chooses, PrivateTest never travels. */
const ROLE_SPLITS = { train: 'Training', val: 'PublicTest' } as const;

/** Inputs of {@link buildTorchData}. */
export interface TorchDataOptions {
  /** The FER-2013 folder (train/, test/, blank.csv). */
  fer: string;
  /** The FER+ folder (fer2013new.csv, mapping.csv): the training rows carry their vote distributions. */
  ferplus?: string;
  coding?: TorchImageCoding;
  /** Keep only this many Training faces, drawn at random (seeded): smoke tests. */
  limitTraining?: number;
  seed?: number;
  cacheDir?: string;
  warn?: (message: string) => void;
}

/**
 * The data file jobs/retrain/torch/train.py reads (before xz): FER-2013 Training (blank images
 * dropped) and PublicTest as the model's decoder reads them, before equalisation, with the FER+
 * votes of the training rows when `ferplus` is given. PrivateTest is never written: a
 * SelectionError is thrown if a PrivateTest file would travel in either set.
 */
export async function buildTorchData(o: TorchDataOptions): Promise<{ buffer: Buffer; header: TorchDataHeader }> {
  const coding = o.coding ?? 'files';
  const fer = await loadFerFolders(o.fer, { equalize: false, cacheDir: o.cacheDir, warn: o.warn });
  const blanks = await readPathColumn(path.join(o.fer, 'blank.csv'));
  let training = subset(fer.Training, (i) => !blanks.has(fer.Training.ids[i]));
  const blankDropped = fer.Training.labels.length - training.labels.length;
  let limit: TorchDataHeader['source']['limitTraining'];
  if (o.limitTraining !== undefined && o.limitTraining < training.labels.length) {
    const seed = o.seed ?? 7, rand = rng(seed), idx = Array.from(training.labels.keys());
    for (let i = idx.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [idx[i], idx[j]] = [idx[j], idx[i]]; }
    limit = { kept: o.limitTraining, of: training.labels.length, seed };
    training = pick(training, idx.slice(0, o.limitTraining).sort((a, b) => a - b));
  }
  const votes = o.ferplus ? await readFerPlusVotes(path.join(o.ferplus, 'fer2013new.csv'), path.join(o.ferplus, 'mapping.csv')) : undefined;
  const sets: Array<[TorchDataSet['role'], LabelledSet]> = [['train', training], ['val', fer.PublicTest]];
  const header: TorchDataHeader = {
    format: 2, labels: EMOTIONS,
    source: { fer2013: path.basename(path.resolve(o.fer)), ...(o.ferplus ? { ferplus: path.basename(path.resolve(o.ferplus)) } : {}), blankDropped, ...(limit ? { limitTraining: limit } : {}) },
    sets: [],
  };
  const body: Buffer[] = [];
  for (const [role, set] of sets) {
    const name = ROLE_SPLITS[role];
    assertNoTestImages(set, role === 'train' ? 'torch training' : 'torch validation');
    const wrong = set.ids.find((id) => ferSplitOf(id) !== name);
    if (wrong) throw new SelectionError(`${wrong} is not a ${name} file: the ${role} set of the torch data holds ${name} alone`);
    const n = set.labels.length;
    const blocks: TorchDataSet['blocks'] = [];
    const add = (block: TorchDataBlock, bytes: Uint8Array) => { blocks.push([block, bytes.length]); body.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)); };
    if (coding === 'files') {
      const files: Buffer[] = [];
      for (const id of set.ids) files.push(await fsp.readFile(path.join(o.fer, id)));
      add('images', Buffer.concat(files));
      add('fileLengths', u32(files.map((f) => f.length)));
    } else add('images', medResiduals(set.images));
    add('crc32', u32(set.ids.map((_, i) => zlib.crc32(set.images.subarray(i * INPUT_PIXELS, (i + 1) * INPUT_PIXELS)))));
    add('labels', Uint8Array.from(set.labels));
    add('ids', Buffer.from(set.ids.join('\n')));
    let ferplus: TorchDataSet['ferplus'];
    if (votes && role === 'train') {
      const soft = new Float32Array(n * K), flags = new Uint8Array(n);
      set.ids.forEach((id, i) => {
        const v = votes.get(id);
        const dist = v ? voteDistribution(v.counts) : undefined;
        if (dist) { soft.set(dist, i * K); flags[i] |= 1; } else soft[i * K + set.labels[i]] = 1;
        if (v && majorityColumn(v.counts) === 'NF') flags[i] |= 2;
      });
      add('ferplusSoft', new Uint8Array(soft.buffer));
      add('ferplusFlags', flags);
      const withVotes = flags.reduce((a, f) => a + (f & 1), 0);
      ferplus = { withVotes, withoutVotes: n - withVotes, notFace: flags.reduce((a, f) => a + (f >> 1), 0) };
    }
    header.sets.push({ name, role, n, coding, equalized: false, classCounts: classCounts(set), ...(ferplus ? { ferplus } : {}), blocks });
  }
  const json = Buffer.from(JSON.stringify(header));
  return { buffer: Buffer.concat([Buffer.from(TORCH_DATA_MAGIC), u32([json.length]), json, ...body]), header };
}

function u32(values: number[]): Uint8Array {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, 4 * i));
  return b;
}

/** A set of a data file as read back: its header entry and its blocks' bytes. */
export interface TorchDataRead { header: TorchDataHeader; sets: Map<string, { set: TorchDataSet; blocks: Map<TorchDataBlock, Buffer> }> }

/** Reads a data file written by {@link buildTorchData} (before xz), as train.py does; throws naming what does not fit. */
export function readTorchData(buf: Buffer, name = 'the torch data file'): TorchDataRead {
  if (buf.subarray(0, 8).toString() !== TORCH_DATA_MAGIC) throw new Error(`${name} is not a data file of format 2 (jobs/retrain/torch/export-data.ts): export it again`);
  const hl = buf.readUInt32LE(8);
  const header = JSON.parse(buf.subarray(12, 12 + hl).toString()) as TorchDataHeader;
  let off = 12 + hl;
  const sets: TorchDataRead['sets'] = new Map();
  for (const set of header.sets) {
    const blocks = new Map<TorchDataBlock, Buffer>();
    for (const [block, bytes] of set.blocks) { blocks.set(block, buf.subarray(off, off + bytes)); off += bytes; }
    sets.set(set.name, { set, blocks });
  }
  if (off !== buf.length) throw new Error(`${name} has ${buf.length} bytes, its header lists ${off}: export it again`);
  return { header, sets };
}
