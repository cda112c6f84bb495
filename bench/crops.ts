/**
 * FER-2013 faces as the pipeline crops them (bench/accuracy/cropset.ts):
 *
 *   npm run crops -- --out DIR [--split Training|PublicTest] [--limit N] [--seed S] [--faces-per-frame K] [--part i/n]
 *     writes a `<label>/<image>` folder of the detector stage's crops: of Training faces for
 *     `emostream train --pipeline-crops DIR`, of PublicTest faces for choosing between models;
 *     beside them `crops-<seed>.csv`, one row per crop: the face's placed side and the detection's box;
 *     `--part i/n` writes the i-th of n slices of the seeded face order (its frames seeded apart),
 *     so that n processes can share the work.
 *   npm run crops -- --score DIR --models A,B,…
 *     scores models (their directories, or DIR@HEAD for one of its extra heads; mirror TTA as each card says) on such a folder of
 *     PublicTest crops: accuracy, balanced accuracy, neutral faces called sad; beside it the same
 *     faces as stills (their own files), so the gap is read on the same faces. With FER+'s votes
 *     (../shared/data/ferplus, or EMOSTREAM_FERPLUS_DIR) the same figures again against FER+'s
 *     majority vote of each face (faces whose majority is unknown, not a face or contempt left out).
 *
 * Reads ../shared/data/fer2013 (or EMOSTREAM_FER_DIR) in place. PrivateTest is never cropped.
 */
import path from 'node:path';
import fs from 'node:fs';
import { EMOTIONS } from '@emostream/contracts';
import { loadTf, mulberry32 } from '@emostream/runtime';
import { createDetector, parseDetectorConfig } from '@emostream/detector';
import { loadEmotionModel } from '@emostream/classifier';
import { datasetCacheDir, ferSplitOf, loadLabelFolder, readFerPlusMajorities, summarise } from '@emostream/retrain';
import { imageFileToModelCrop, INPUT_PIXELS } from '@emostream/model';
import { DATA_DIR } from './lib/context.js';
import { listFerFaces, seededShuffle } from './accuracy/faces.js';
import { writePipelineCrops, type CropSplit } from './accuracy/cropset.js';
import { predictInBatches } from './accuracy/measure.js';
import { argmaxAt } from './accuracy/score.js';

const USAGE = 'npm run crops -- --out DIR [--split Training|PublicTest] [--limit N] [--seed S] [--faces-per-frame K] [--part i/n] | --score DIR --models A,B,…';

function parse(argv: string[]) {
  const a = { out: '', split: 'Training' as CropSplit, limit: Infinity, seed: 9001, facesPerFrame: 3, part: 0, parts: 1, score: '', models: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i], next = () => { const n = argv[++i]; if (n === undefined) throw new Error(`${v} needs a value`); return n; };
    if (v === '--out') a.out = next();
    else if (v === '--split') a.split = next() as CropSplit;
    else if (v === '--limit') a.limit = Number(next());
    else if (v === '--seed') a.seed = Number(next());
    else if (v === '--faces-per-frame') a.facesPerFrame = Number(next());
    else if (v === '--part') { const m = /^(\d+)\/(\d+)$/.exec(next()); if (!m || +m[1] >= +m[2]) throw new Error('--part takes i/n with 0 <= i < n, e.g. 0/2'); a.part = +m[1]; a.parts = +m[2]; }
    else if (v === '--score') a.score = next();
    else if (v === '--models') a.models = next().split(',').filter(Boolean);
    else throw new Error(`unknown option ${v}: ${USAGE}`);
  }
  if (a.score) {
    if (!a.models.length) throw new Error(`--score needs --models A,B,… (model directories): ${USAGE}`);
    return a;
  }
  if (!a.out) throw new Error(`--out DIR is required: the folder the crops are written to (<emotion>/<file>.png): ${USAGE}`);
  if (a.split !== 'Training' && a.split !== 'PublicTest') throw new Error(`--split must be Training (to train on) or PublicTest (to choose on), got '${a.split}'; PrivateTest is never cropped`);
  if (!(a.limit > 0) || !Number.isInteger(a.seed) || !(a.facesPerFrame >= 1 && a.facesPerFrame <= 6)) throw new Error('--limit must be positive, --seed an integer, --faces-per-frame 1..6');
  return a;
}

/** Accuracy, balanced accuracy and the share of neutral faces called sad, of `probs` against `labels` (-1: not scored). */
function figures(m: string, labels: ArrayLike<number>, probs: Float32Array): string[] {
  const keep = Array.from(labels, (l, i) => (l >= 0 ? i : -1)).filter((i) => i >= 0);
  const k = EMOTIONS.length;
  const p = new Float32Array(keep.length * k);
  keep.forEach((i, j) => p.set(probs.subarray(i * k, (i + 1) * k), j * k));
  const truth = Int32Array.from(keep, (i) => labels[i]);
  const s = summarise(m, 'crops', truth, p);
  const neutral = EMOTIONS.indexOf('neutral'), sad = EMOTIONS.indexOf('sad');
  let neutrals = 0, toSad = 0;
  truth.forEach((l, j) => { if (l === neutral) { neutrals++; if (argmaxAt(p, j * k) === sad) toSad++; } });
  return [String(keep.length), `${(s.accuracy * 100).toFixed(2)}%`, `${(s.balancedAccuracy * 100).toFixed(2)}%`, `${((100 * toSad) / Math.max(1, neutrals)).toFixed(1)}%`];
}

/** FER+'s majority label of each crop (`<label>/<PublicTest_id>.png`), -1 where it has none; undefined without the votes. */
async function ferPlusLabels(ids: readonly string[], ferPlusDir: string): Promise<Int32Array | undefined> {
  const votesCsv = path.join(ferPlusDir, 'fer2013new.csv'), mappingCsv = path.join(ferPlusDir, 'mapping.csv');
  if (!fs.existsSync(votesCsv) || !fs.existsSync(mappingCsv)) return undefined;
  const majority = await readFerPlusMajorities(ferPlusDir);
  return Int32Array.from(ids, (id) => {
    const [label, file] = id.split('/');
    const e = majority.get(`test/${label}/${file.replace(/\.png$/, '.jpg')}`);
    return e ? EMOTIONS.indexOf(e) : -1;
  });
}

/** Scores each model on a folder of PublicTest crops (already the model's preprocessing: not equalised again). */
async function score(dir: string, models: string[], ferDir: string, ferPlusDir: string, log: (m: string) => void): Promise<void> {
  const set = await loadLabelFolder(dir, { equalize: false, cacheDir: datasetCacheDir(), warn: log });
  const bad = set.ids.find((id) => ferSplitOf(id) !== 'PublicTest');
  if (bad) throw new Error(`${path.join(dir, bad)} is not a PublicTest crop: models are chosen on PublicTest crops (npm run crops -- --split PublicTest)`);
  const crops = Array.from(set.labels, (_, i) => set.images.subarray(i * INPUT_PIXELS, (i + 1) * INPUT_PIXELS));
  // The same faces as stills: their own 48x48 files, the model's preprocessing (as `evaluate`).
  const stills = await Promise.all(set.ids.map((id) => {
    const [label, file] = id.split('/');
    return imageFileToModelCrop(path.join(ferDir, 'test', label, file.replace(/\.png$/, '.jpg')));
  }));
  const fp = await ferPlusLabels(set.ids, ferPlusDir);
  if (!fp) log(`no FER+ votes in ${ferPlusDir}: FER-2013's labels only`);
  const rt = await loadTf();
  const head = (of: string) => `${of}: n\tthrough the pipeline: accuracy\tbalanced\tneutral called sad\tsame faces as stills: accuracy\tbalanced\tneutral called sad`;
  process.stdout.write(`model\t${head('FER-2013 labels')}${fp ? `\t${head('FER+ majority')}` : ''}\n`);
  for (const m of models) {
    // DIR@HEAD: one of the directory's extra softmax heads (heads.json), e.g. models/video@ferplus.
    const [dir, head] = m.split('@');
    const model = await loadEmotionModel(rt.tf, { model: dir, head });
    const probs = await predictInBatches(model, crops);
    const still = await predictInBatches(model, stills);
    const row = (labels: ArrayLike<number>) => [...figures(m, labels, probs), ...figures(m, labels, still).slice(1)];
    process.stdout.write([m, ...row(set.labels), ...(fp ? row(fp) : [])].join('\t') + '\n');
  }
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
  const t0 = Date.now();
  const log = (m: string) => process.stderr.write(`[crops ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${m}\n`);
  const ferDir = process.env.EMOSTREAM_FER_DIR ?? path.join(DATA_DIR, 'fer2013');
  if (a.score) return score(a.score, a.models, ferDir, process.env.EMOSTREAM_FERPLUS_DIR ?? path.join(DATA_DIR, 'ferplus'), log);
  const { faces: all } = listFerFaces(ferDir, a.split);
  const chosen = seededShuffle(all, mulberry32(a.seed)).slice(0, Math.min(all.length, a.limit));
  const faces = chosen.slice(Math.floor((a.part * chosen.length) / a.parts), Math.floor(((a.part + 1) * chosen.length) / a.parts));
  log(`${faces.length} of ${all.length} ${a.split} faces (part ${a.part}/${a.parts}) → ${a.out}`);
  const rt = await loadTf();
  const detector = await createDetector(parseDetectorConfig({}), { tf: rt });
  const r = await writePipelineCrops(detector, { faces, split: a.split, out: a.out, seed: a.seed + 7919 * a.part, facesPerFrame: a.facesPerFrame, log });
  log(`done: ${r.written} crops of ${r.faces} faces in ${r.frames} frames (${JSON.stringify(r.detectedBySize)}), ${r.falseDetections} false detections`);
}

main().catch((e: Error) => { process.stderr.write(`crops: ${e.message}\n`); process.exit(1); });
