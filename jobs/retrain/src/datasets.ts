/**
 * Labelled face data for training and evaluation: FER-2013 image folders (Training_/PublicTest_/
 * PrivateTest_ names), FER+ votes (CSV) over those folders, CK+ folders with subject ids, and any
 * `<label>/<image>` folder. Every image goes through the model's own preprocessing.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { EMOTIONS, normaliseLabel, type Emotion } from '@emostream/contracts';
import { imageFileToModelCrop, INPUT_PIXELS } from '@emostream/model';

/** A set of preprocessed 48x48 faces with labels. */
export interface LabelledSet {
  /** n*2304 bytes, preprocessed (equalised) gray. */
  images: Uint8Array;
  /** Hard label per image (index into EMOTIONS). */
  labels: Int32Array;
  /** Optional soft targets (n*7), e.g. FER+ vote distributions. */
  soft?: Float32Array;
  /**
   * 1 for an image already filmed and cropped by the pipeline (`--pipeline-crops`): video
   * augmentation does not film it again. Absent: none is.
   */
  prefilmed?: Uint8Array;
  /** A stable id per image (its path relative to the data folder). */
  ids: string[];
  /** Group per image (CK+ subject, FER split name); used for splits. */
  groups: string[];
  /** Images skipped because their label is outside the seven, by label name. */
  skippedLabels: Record<string, number>;
  /** Images that could not be decoded. */
  unreadable: string[];
}

/** Where the loaders cache decoded sets: `.cache/datasets` under the current folder. */
export function datasetCacheDir(): string { return path.resolve('.cache/datasets'); }

/** Number of images in a set. */
export function size(s: LabelledSet): number { return s.labels.length; }

/** A clear error about a data set, naming the path and what to do. */
export class DataError extends Error {
  constructor(message: string) { super(message); this.name = 'DataError'; }
}

interface Entry { file: string; label: Emotion; id: string; group: string }

const IMAGE_EXT = /\.(jpe?g|png|bmp|webp|tiff?|gif)$/i;

/** Options shared by the folder loaders. */
export interface LoadOptions {
  /** Extra label synonyms (`--label-map contempt=disgust`). */
  labelMap?: Record<string, string>;
  /** Called with warnings (skipped label folders, unreadable files). */
  warn?: (msg: string) => void;
  /** Where decoded sets are cached (skip to always decode). */
  cacheDir?: string;
  /**
   * Apply the model's histogram equalisation (default true). Off only to feed a foreign model
   * (Human's) the plain gray pixels it was trained on.
   */
  equalize?: boolean;
}

/** Lists `<label>/<image>` entries under a folder, mapping label names through synonyms. */
async function listLabelFolders(root: string, opts: LoadOptions, group: (file: string, label: string) => string) {
  const entries: Entry[] = [];
  const skipped: Record<string, number> = {};
  let dirs: string[];
  try {
    dirs = (await fsp.readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    throw new DataError(`data folder ${root} does not exist or cannot be read: pass a folder of <label>/<image> sub-folders`);
  }
  for (const d of dirs) {
    const files = (await fsp.readdir(path.join(root, d))).filter((f) => IMAGE_EXT.test(f)).sort();
    const label = normaliseLabel(d, opts.labelMap);
    if (!label) {
      skipped[d] = (skipped[d] ?? 0) + files.length;
      opts.warn?.(`skipping label folder '${d}' (${files.length} images): not one of ${EMOTIONS.join(', ')} nor a synonym; map it with --label-map ${d}=<emotion>`);
      continue;
    }
    for (const f of files) entries.push({ file: path.join(root, d, f), label, id: `${d}/${f}`, group: group(f, d) });
  }
  return { entries, skipped };
}

async function decodeEntries(entries: Entry[], skipped: Record<string, number>, opts: LoadOptions, cacheKey: string): Promise<LabelledSet> {
  const equalize = opts.equalize ?? true;
  const cacheFile = opts.cacheDir ? path.join(opts.cacheDir, `set-${crypto.createHash('sha1').update(cacheKey + (equalize ? '' : ':raw') + entries.map((e) => e.file).join('\n')).digest('hex').slice(0, 16)}.bin`) : undefined;
  if (cacheFile && fs.existsSync(cacheFile)) {
    const buf = await fsp.readFile(cacheFile);
    const meta = JSON.parse(buf.subarray(4, 4 + buf.readUInt32LE(0)).toString()) as { n: number; ok: number[]; unreadable: string[] };
    const images = new Uint8Array(buf.buffer, buf.byteOffset + 4 + buf.readUInt32LE(0), meta.ok.length * INPUT_PIXELS);
    return build(entries, meta.ok, images, skipped, meta.unreadable);
  }
  const images = new Uint8Array(entries.length * INPUT_PIXELS);
  const ok: number[] = [];
  const unreadable: string[] = [];
  const results: (Uint8Array | undefined)[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      try {
        results[i] = await imageFileToModelCrop(entries[i].file, { equalize });
      } catch {
        unreadable.push(entries[i].file);
        opts.warn?.(`skipping unreadable image ${entries[i].file}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  let k = 0;
  results.forEach((r, i) => { if (r) { images.set(r, k * INPUT_PIXELS); ok.push(i); k++; } });
  const packed = images.subarray(0, k * INPUT_PIXELS);
  if (cacheFile) {
    await fsp.mkdir(path.dirname(cacheFile), { recursive: true });
    const meta = Buffer.from(JSON.stringify({ n: entries.length, ok, unreadable }));
    const head = Buffer.alloc(4); head.writeUInt32LE(meta.length, 0);
    await fsp.writeFile(cacheFile, Buffer.concat([head, meta, Buffer.from(packed.buffer, packed.byteOffset, packed.length)]));
  }
  return build(entries, ok, packed, skipped, unreadable);
}

function build(entries: Entry[], ok: number[], images: Uint8Array, skipped: Record<string, number>, unreadable: string[]): LabelledSet {
  const labels = new Int32Array(ok.length);
  const ids: string[] = [];
  const groups: string[] = [];
  ok.forEach((i, k) => { labels[k] = EMOTIONS.indexOf(entries[i].label); ids.push(entries[i].id); groups.push(entries[i].group); });
  return { images, labels, ids, groups, skippedLabels: skipped, unreadable };
}

/** Loads any `<label>/<image>` folder (a user's own data). */
export async function loadLabelFolder(root: string, opts: LoadOptions = {}): Promise<LabelledSet> {
  const { entries, skipped } = await listLabelFolders(root, opts, () => 'all');
  if (entries.length === 0) throw new DataError(`no usable images in ${root}: expected <label>/<image> folders with labels among ${EMOTIONS.join(', ')} (or --label-map)`);
  return decodeEntries(entries, skipped, opts, `folder:${root}`);
}

/** The official FER-2013 splits from an image-folder export (`train/`, `test/`). */
export interface FerSplits { Training: LabelledSet; PublicTest: LabelledSet; PrivateTest: LabelledSet }

/** FER-2013's splits: train on Training, choose on PublicTest, report PrivateTest once. */
export const FER_SPLITS = ['Training', 'PublicTest', 'PrivateTest'] as const;
export type FerSplit = (typeof FER_SPLITS)[number];

/** The FER-2013 split of a file from its name's prefix (`test/sad/PublicTest_123.jpg` → PublicTest); undefined when it has none. */
export function ferSplitOf(file: string): FerSplit | undefined {
  const prefix = path.basename(file).split('_')[0];
  return (FER_SPLITS as readonly string[]).includes(prefix) ? (prefix as FerSplit) : undefined;
}

/** True when a folder looks like the FER-2013 image-folder export. */
export function isFerFolder(root: string): boolean {
  return fs.existsSync(path.join(root, 'train')) && fs.existsSync(path.join(root, 'test'));
}

/** True when a folder looks like CK+ (an index.csv with subject ids). */
export function isCkFolder(root: string): boolean {
  return fs.existsSync(path.join(root, 'index.csv')) && !isFerFolder(root);
}

/**
 * Loads FER-2013's image folders; the split comes from each file's name prefix (not its folder).
 * Files without a split prefix are left out of every split, with a warning naming how many and one.
 */
export async function loadFerFolders(root: string, opts: LoadOptions = {}): Promise<FerSplits> {
  const prefix = (f: string) => f.split('_')[0];
  const trainDir = await listLabelFolders(path.join(root, 'train'), opts, prefix);
  const testDir = await listLabelFolders(path.join(root, 'test'), opts, prefix);
  const listed = [...trainDir.entries, ...testDir.entries].map((e) => ({ ...e, id: path.relative(root, e.file) }));
  const unknown = listed.filter((e) => !ferSplitOf(e.file));
  if (unknown.length) {
    opts.warn?.(`${unknown.length} image${unknown.length === 1 ? '' : 's'} under ${root} without a FER-2013 split prefix (${FER_SPLITS.map((p) => `${p}_`).join(', ')}), e.g. ${unknown[0].id}: left out of every split`);
  }
  const all = listed.filter((e) => ferSplitOf(e.file));
  if (all.length === 0) throw new DataError(`no images under ${root}/train and ${root}/test${unknown.length ? ` with a FER-2013 split prefix (${FER_SPLITS.map((p) => `${p}_`).join(', ')})` : ''}`);
  const set = await decodeEntries(all, { ...trainDir.skipped, ...testDir.skipped }, opts, `fer:${root}`);
  return {
    Training: subset(set, (i) => set.groups[i] === 'Training'),
    PublicTest: subset(set, (i) => set.groups[i] === 'PublicTest'),
    PrivateTest: subset(set, (i) => set.groups[i] === 'PrivateTest'),
  };
}

/** Loads CK+ folders; `groups` are subject ids (from index.csv, else the S### file prefix). */
export async function loadCkFolder(root: string, opts: LoadOptions = {}): Promise<LabelledSet> {
  const subjects = new Map<string, string>();
  const index = path.join(root, 'index.csv');
  if (fs.existsSync(index)) {
    const lines = (await fsp.readFile(index, 'utf8')).trim().split(/\r?\n/);
    const head = lines[0].split(',');
    const pi = head.indexOf('path'), si = head.indexOf('subject');
    for (const l of lines.slice(1)) { const c = l.split(','); subjects.set(path.basename(c[pi]), c[si]); }
  }
  const { entries, skipped } = await listLabelFolders(root, opts, (f) => subjects.get(f) ?? f.split('_')[0]);
  if (entries.length === 0) throw new DataError(`no usable images in CK+ folder ${root}`);
  return decodeEntries(entries, skipped, opts, `ck:${root}`);
}

/** The images of a set for which `keep(i)` holds. */
export function subset(s: LabelledSet, keep: (i: number) => boolean): LabelledSet {
  const idx: number[] = [];
  for (let i = 0; i < s.labels.length; i++) if (keep(i)) idx.push(i);
  return pick(s, idx);
}

/** The images at the given indices, in that order. */
export function pick(s: LabelledSet, idx: number[]): LabelledSet {
  const images = new Uint8Array(idx.length * INPUT_PIXELS);
  const soft = s.soft ? new Float32Array(idx.length * EMOTIONS.length) : undefined;
  const prefilmed = s.prefilmed ? Uint8Array.from(idx.map((i) => s.prefilmed![i])) : undefined;
  idx.forEach((i, k) => {
    images.set(s.images.subarray(i * INPUT_PIXELS, (i + 1) * INPUT_PIXELS), k * INPUT_PIXELS);
    if (soft && s.soft) soft.set(s.soft.subarray(i * EMOTIONS.length, (i + 1) * EMOTIONS.length), k * EMOTIONS.length);
  });
  return {
    images, soft, labels: Int32Array.from(idx.map((i) => s.labels[i])), ids: idx.map((i) => s.ids[i]),
    groups: idx.map((i) => s.groups[i]), skippedLabels: s.skippedLabels, unreadable: s.unreadable, ...(prefilmed ? { prefilmed } : {}),
  };
}

/** Concatenates sets. */
export function concat(...sets: LabelledSet[]): LabelledSet {
  const n = sets.reduce((a, s) => a + s.labels.length, 0);
  const images = new Uint8Array(n * INPUT_PIXELS);
  const labels = new Int32Array(n);
  let k = 0;
  const prefilmed = sets.some((s) => s.prefilmed) ? new Uint8Array(n) : undefined;
  const soft = sets.some((s) => s.soft) ? new Float32Array(n * EMOTIONS.length) : undefined;
  for (const s of sets) {
    images.set(s.images, k * INPUT_PIXELS); labels.set(s.labels, k);
    if (prefilmed && s.prefilmed) prefilmed.set(s.prefilmed, k);
    // A set without soft targets keeps its one-hot labels beside one that has them.
    if (soft) s.labels.forEach((l, i) => { if (s.soft) soft.set(s.soft.subarray(i * EMOTIONS.length, (i + 1) * EMOTIONS.length), (k + i) * EMOTIONS.length); else soft[(k + i) * EMOTIONS.length + l] = 1; });
    k += s.labels.length;
  }
  return {
    images, labels, ids: sets.flatMap((s) => s.ids), groups: sets.flatMap((s) => s.groups), skippedLabels: Object.assign({}, ...sets.map((s) => s.skippedLabels)), unreadable: sets.flatMap((s) => s.unreadable),
    ...(soft ? { soft } : {}), ...(prefilmed ? { prefilmed } : {}),
  };
}

/**
 * FER-2013 Training faces as the pipeline cropped them (`npm run crops`: a `<label>/<image>`
 * folder of the detector stage's 48x48 crops, already equalised, named after their FER-2013
 * Training file). Their ids become the source file's FER-2013 path (`train/<label>/Training_….jpg`,
 * for the FER+ votes) and every image is marked {@link LabelledSet.prefilmed}. A file whose name
 * is not a Training file is an error: test faces never train.
 */
export async function loadPipelineCrops(root: string, opts: LoadOptions = {}): Promise<LabelledSet> {
  const set = await loadLabelFolder(root, { ...opts, equalize: false });
  const ids = set.ids.map((id) => {
    const [label, file] = id.split('/');
    if (ferSplitOf(file) !== 'Training') throw new DataError(`${path.join(root, id)} is not named after a FER-2013 Training image (Training_*): pipeline crops must be made from the Training split (npm run crops)`);
    return `train/${label}/${file.replace(/\.\w+$/, '.jpg')}`;
  });
  return { ...set, ids, groups: ids.map(() => 'Training'), prefilmed: new Uint8Array(ids.length).fill(1) };
}

/** Reads FER-2013's `blank.csv`/`duplicates.csv` path lists (paths relative to the FER root). */
export async function readPathColumn(csv: string, filter: (row: Record<string, string>) => boolean = () => true): Promise<Set<string>> {
  if (!fs.existsSync(csv)) return new Set();
  const lines = (await fsp.readFile(csv, 'utf8')).trim().split(/\r?\n/);
  const head = lines[0].split(',');
  const out = new Set<string>();
  for (const l of lines.slice(1)) {
    const c = l.split(',');
    const row = Object.fromEntries(head.map((h, i) => [h, c[i]]));
    if (filter(row)) out.add(row.path);
  }
  return out;
}

/** Label counts of a set, in EMOTIONS order. */
export function classCounts(s: LabelledSet): number[] {
  const c = new Array(EMOTIONS.length).fill(0);
  for (const l of s.labels) c[l]++;
  return c;
}
