/**
 * The labelled faces of the measurement: FER-2013's images of one split (file-name prefix
 * PublicTest_ or PrivateTest_ under `test/<class>/`, Training_ under `train/<class>/`), read in place; the blank images of
 * `blank.csv` left out (no face to find); a seeded subset.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { EMOTIONS } from '@emostream/contracts';
import { readFerPlusMajorities } from '@emostream/retrain';
import type { Rng } from './geometry.js';

/** One labelled face image. */
export interface FerFace {
  /** Path relative to the FER-2013 folder, e.g. `test/sad/PublicTest_123.jpg`. */
  id: string;
  file: string;
  /** Index into EMOTIONS. */
  label: number;
}

/** The test splits of FER-2013 (PublicTest for choosing, PrivateTest for the one final score). */
export type TestSplit = 'PublicTest' | 'PrivateTest';
/** A split of FER-2013: Training (under `train/`) or a test split (under `test/`). */
export type FerSplit = TestSplit | 'Training';

/** Faces of a split, sorted by id, without the images listed in `blank.csv`. */
export function listFerFaces(ferDir: string, split: FerSplit): { faces: FerFace[]; blank: string[] } {
  const folder = split === 'Training' ? 'train' : 'test';
  const blankCsv = path.join(ferDir, 'blank.csv');
  const blankSet = new Set(fs.existsSync(blankCsv) ? fs.readFileSync(blankCsv, 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(',')[0]) : []);
  const faces: FerFace[] = [];
  const blank: string[] = [];
  EMOTIONS.forEach((emotion, label) => {
    const dir = path.join(ferDir, folder, emotion);
    if (!fs.existsSync(dir)) throw new Error(`${dir} is missing: expected FER-2013's image folders (${folder}/<class>/${split}_*.jpg)`);
    for (const f of fs.readdirSync(dir).filter((n) => n.startsWith(`${split}_`)).sort()) {
      const id = `${folder}/${emotion}/${f}`;
      if (blankSet.has(id)) blank.push(id);
      else faces.push({ id, file: path.join(dir, f), label });
    }
  });
  faces.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { faces, blank };
}

/**
 * The same faces labelled by FER+'s majority vote instead of FER-2013's label (FER+ agrees with
 * it on about 65% of the test faces; most of the rest are FER-2013 sad, fear or angry faces that
 * FER+'s ten voters call neutral). Faces whose majority is unknown, not a face or contempt, or
 * that FER+ has no row for, are left out.
 */
export async function withFerPlusLabels(faces: readonly FerFace[], ferPlusDir: string): Promise<FerFace[]> {
  const labelOf = await ferPlusLabeller(ferPlusDir);
  if (!labelOf) throw new Error(`${missingFerPlusFile(ferPlusDir)} is missing: FER+ labels need ${FERPLUS_FILES.join(' and ')} (BENCH_ACCURACY_LABELS=ferplus)`);
  return relabelled(faces, labelOf);
}

/** The files of FER+'s votes that its labels need. */
const FERPLUS_FILES = ['fer2013new.csv', 'mapping.csv'];

/** The first of FER+'s files missing from `ferPlusDir`, undefined when both are there. */
function missingFerPlusFile(ferPlusDir: string): string | undefined {
  return FERPLUS_FILES.map((f) => path.join(ferPlusDir, f)).find((f) => !fs.existsSync(f));
}

/**
 * FER+'s majority label (index into EMOTIONS) of a face by its id (`test/sad/PublicTest_123.jpg`),
 * undefined where FER+ has none of the seven; undefined itself when `ferPlusDir` lacks the votes.
 */
export async function ferPlusLabeller(ferPlusDir: string): Promise<((id: string) => number | undefined) | undefined> {
  if (missingFerPlusFile(ferPlusDir)) return undefined;
  const majority = await readFerPlusMajorities(ferPlusDir);
  return (id) => {
    const e = majority.get(id);
    return e ? EMOTIONS.indexOf(e) : undefined;
  };
}

/**
 * The same faces (or records of them) labelled another way, by id (FER+'s majority vote of each):
 * those `labelOf` gives no label for are left out; everything else is kept as it is.
 */
export function relabelled<T extends { id: string; label: number }>(items: readonly T[], labelOf: (id: string) => number | undefined): T[] {
  return items.flatMap((x) => {
    const label = labelOf(x.id);
    return label === undefined ? [] : [{ ...x, label }];
  });
}

/** A seeded shuffle (Fisher-Yates) of a copy; the first n of it are the subset of that size. */
export function seededShuffle<T>(items: readonly T[], rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** A FER-2013 image's gray pixels (48x48, 2304 bytes) as stored. */
export async function readGray(file: string): Promise<{ gray: Uint8Array; side: number }> {
  const { data, info } = await sharp(file).removeAlpha().grayscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== info.height) throw new Error(`${file}: ${info.width}x${info.height}, expected a square face image`);
  return { gray: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), side: info.width };
}
