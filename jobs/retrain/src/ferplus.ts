/**
 * FER+ (Barsoum et al., 2016): ten crowd votes per FER-2013 image, read from `fer2013new.csv` and
 * joined to the FER-2013 image paths through `mapping.csv` (`ferplus_row` → `fer2013_path`).
 * Used two ways: as a test set (the majority label) and as soft training targets that cut
 * FER-2013's label noise (FER+'s majority agrees with FER-2013's label on about 63% of images).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { EMOTIONS, normaliseLabel, type Emotion } from '@emostream/contracts';
import { INPUT_PIXELS } from '@emostream/model';
import { loadFerFolders, type FerSplits, type LabelledSet, type LoadOptions } from './datasets.js';

/** FER+ vote columns in `fer2013new.csv`, in file order. */
export const FERPLUS_COLUMNS = ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt', 'unknown', 'NF'] as const;

/** One image's votes: its FER-2013 usage and the ten counts in FERPLUS_COLUMNS order. */
export interface FerPlusVotes { usage: string; counts: number[] }

/** FER+ votes by FER-2013 image path (relative to the FER-2013 folder, e.g. `train/angry/Training_1426440.jpg`). */
export async function readFerPlusVotes(votesCsv: string, mappingCsv: string): Promise<Map<string, FerPlusVotes>> {
  const votes = (await fsp.readFile(votesCsv, 'utf8')).trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
  const mapLines = (await fsp.readFile(mappingCsv, 'utf8')).trim().split(/\r?\n/);
  const mh = mapLines[0].split(',');
  const ri = mh.indexOf('ferplus_row'), fi = mh.indexOf('fer2013_path');
  if (ri < 0 || fi < 0) throw new Error(`${mappingCsv}: expected the columns ferplus_row and fer2013_path`);
  const out = new Map<string, FerPlusVotes>();
  for (const l of mapLines.slice(1)) {
    const c = l.split(',');
    const row = votes[Number(c[ri])];
    if (c[fi] && row) out.set(c[fi], { usage: row[0], counts: row.slice(2, 12).map(Number) });
  }
  return out;
}

/** The majority column of a vote row (the first on ties, as FER+'s own majority rule reads the file). */
export function majorityColumn(counts: readonly number[]): (typeof FERPLUS_COLUMNS)[number] {
  return FERPLUS_COLUMNS[counts.indexOf(Math.max(...counts))];
}

/** The emotion of a vote row's majority; undefined when it is unknown, not a face (NF) or contempt. */
export function majorityEmotion(counts: readonly number[]): Emotion | undefined {
  return normaliseLabel(majorityColumn(counts));
}

/**
 * The FER+ majority emotion of each FER-2013 image path that has one (see {@link majorityEmotion}),
 * from the FER+ folder (`fer2013new.csv`, `mapping.csv`).
 */
export async function readFerPlusMajorities(ferPlusDir: string): Promise<Map<string, Emotion>> {
  const votes = await readFerPlusVotes(path.join(ferPlusDir, 'fer2013new.csv'), path.join(ferPlusDir, 'mapping.csv'));
  const out = new Map<string, Emotion>();
  for (const [id, v] of votes) {
    const e = majorityEmotion(v.counts);
    if (e) out.set(id, e);
  }
  return out;
}

/** The votes for the seven emotions (contempt, unknown and NF left out), normalised; undefined when none. */
export function voteDistribution(counts: readonly number[]): number[] | undefined {
  const soft = new Array(EMOTIONS.length).fill(0);
  FERPLUS_COLUMNS.forEach((c, k) => { const e = normaliseLabel(c); if (e) soft[EMOTIONS.indexOf(e)] += counts[k]; });
  const tot = soft.reduce((a, b) => a + b, 0);
  return tot > 0 ? soft.map((v) => v / tot) : undefined;
}

/**
 * FER+ labels for the FER-2013 images: soft targets (vote distribution over the seven) and the
 * majority label; rows whose majority is unknown, NF or contempt are dropped (FER+ practice).
 */
export async function loadFerPlus(ferRoot: string, votesCsv: string, mappingCsv: string, opts: LoadOptions = {}): Promise<FerSplits> {
  const votes = await readFerPlusVotes(votesCsv, mappingCsv);
  const ferSets = await loadFerFolders(ferRoot, opts);
  const picked: { usage: string; img: Uint8Array; soft: number[]; label: number; id: string }[] = [];
  for (const s of [ferSets.Training, ferSets.PublicTest, ferSets.PrivateTest]) {
    s.ids.forEach((id, i) => {
      const v = votes.get(id);
      if (!v) return;
      const emo = majorityEmotion(v.counts);
      const soft = voteDistribution(v.counts);
      if (!emo || !soft) return;
      picked.push({ usage: v.usage, img: s.images.subarray(i * INPUT_PIXELS, (i + 1) * INPUT_PIXELS), soft, label: EMOTIONS.indexOf(emo), id });
    });
  }
  const mk = (usage: string): LabelledSet => {
    const rows = picked.filter((x) => x.usage === usage);
    const images = new Uint8Array(rows.length * INPUT_PIXELS);
    const soft = new Float32Array(rows.length * EMOTIONS.length);
    rows.forEach((x, k) => { images.set(x.img, k * INPUT_PIXELS); soft.set(x.soft, k * EMOTIONS.length); });
    return { images, soft, labels: Int32Array.from(rows.map((x) => x.label)), ids: rows.map((x) => x.id), groups: rows.map(() => usage), skippedLabels: {}, unreadable: [] };
  };
  return { Training: mk('Training'), PublicTest: mk('PublicTest'), PrivateTest: mk('PrivateTest') };
}

/** What {@link withFerPlusTargets} did to a training set. */
export interface FerPlusMix {
  /** Images that got a mixed target. */
  mixed: number;
  /** Images dropped because most FER+ voters said "not a face" (NF). */
  droppedNotFace: string[];
  /** Images with no FER+ row (kept with their FER-2013 label alone). */
  withoutVotes: number;
}

/**
 * Soft targets for training: (1 − weight)·one-hot(FER-2013 label) + weight·FER+ vote distribution,
 * for every image FER+ voted on; images without votes keep their one-hot label. Images whose FER+
 * majority is NF (not a face) are dropped. `weight` 0 keeps FER-2013's labels alone, 1 uses FER+'s.
 * The hard labels (used for class balancing) stay FER-2013's.
 */
export function withFerPlusTargets(set: LabelledSet, votes: Map<string, FerPlusVotes>, weight: number): { set: LabelledSet; mix: FerPlusMix } {
  if (!(weight >= 0 && weight <= 1)) throw new Error(`the FER+ weight must be in [0, 1], got ${weight}`);
  const k = EMOTIONS.length;
  const keep: number[] = [];
  const droppedNotFace: string[] = [];
  set.ids.forEach((id, i) => {
    const v = votes.get(id);
    if (v && majorityColumn(v.counts) === 'NF') droppedNotFace.push(id);
    else keep.push(i);
  });
  const images = new Uint8Array(keep.length * INPUT_PIXELS);
  const soft = new Float32Array(keep.length * k);
  let mixed = 0, withoutVotes = 0;
  keep.forEach((i, j) => {
    images.set(set.images.subarray(i * INPUT_PIXELS, (i + 1) * INPUT_PIXELS), j * INPUT_PIXELS);
    const v = votes.get(set.ids[i]);
    const dist = v ? voteDistribution(v.counts) : undefined;
    if (dist) mixed++; else withoutVotes++;
    for (let c = 0; c < k; c++) soft[j * k + c] = (c === set.labels[i] ? 1 - (dist ? weight : 0) : 0) + (dist ? weight * dist[c] : 0);
  });
  return {
    set: {
      images, soft, labels: Int32Array.from(keep.map((i) => set.labels[i])), ids: keep.map((i) => set.ids[i]),
      groups: keep.map((i) => set.groups[i]), skippedLabels: set.skippedLabels, unreadable: set.unreadable,
      ...(set.prefilmed ? { prefilmed: Uint8Array.from(keep.map((i) => set.prefilmed![i])) } : {}),
    },
    mix: { mixed, droppedNotFace, withoutVotes },
  };
}
