/**
 * `npm run crops -- --out DIR [--limit N] [--seed S] [--faces-per-frame K] [--part i/n]`: FER-2013 Training faces
 * cropped as the pipeline crops them (bench/accuracy/cropset.ts), written as a `<label>/<image>`
 * folder for `emostream train --pipeline-crops DIR`. Reads ../shared/data/fer2013 (or
 * EMOSTREAM_FER_DIR) in place; the Training split only. `--part i/n` writes the i-th of n slices of
 * the seeded face order (its frames seeded apart), so that n processes can share the work.
 */
import path from 'node:path';
import { loadTf, mulberry32 } from '@emostream/runtime';
import { createDetector, parseDetectorConfig } from '@emostream/detector';
import { DATA_DIR } from './lib/context.js';
import { listFerFaces, seededShuffle } from './accuracy/faces.js';
import { writePipelineCrops } from './accuracy/cropset.js';

function parse(argv: string[]) {
  const a = { out: '', limit: Infinity, seed: 9001, facesPerFrame: 3, part: 0, parts: 1 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i], next = () => { const n = argv[++i]; if (n === undefined) throw new Error(`${v} needs a value`); return n; };
    if (v === '--out') a.out = next();
    else if (v === '--limit') a.limit = Number(next());
    else if (v === '--seed') a.seed = Number(next());
    else if (v === '--faces-per-frame') a.facesPerFrame = Number(next());
    else if (v === '--part') { const m = /^(\d+)\/(\d+)$/.exec(next()); if (!m || +m[1] >= +m[2]) throw new Error('--part takes i/n with 0 <= i < n, e.g. 0/2'); a.part = +m[1]; a.parts = +m[2]; }
    else throw new Error(`unknown option ${v}: npm run crops -- --out DIR [--limit N] [--seed S] [--faces-per-frame K] [--part i/n]`);
  }
  if (!a.out) throw new Error('--out DIR is required: the folder the crops are written to (<emotion>/<Training_…>.png)');
  if (!(a.limit > 0) || !Number.isInteger(a.seed) || !(a.facesPerFrame >= 1 && a.facesPerFrame <= 6)) throw new Error('--limit must be positive, --seed an integer, --faces-per-frame 1..6');
  return a;
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
  const ferDir = process.env.EMOSTREAM_FER_DIR ?? path.join(DATA_DIR, 'fer2013');
  const t0 = Date.now();
  const log = (m: string) => process.stderr.write(`[crops ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${m}\n`);
  const { faces: all } = listFerFaces(ferDir, 'Training');
  const chosen = seededShuffle(all, mulberry32(a.seed)).slice(0, Math.min(all.length, a.limit));
  const faces = chosen.slice(Math.floor((a.part * chosen.length) / a.parts), Math.floor(((a.part + 1) * chosen.length) / a.parts));
  log(`${faces.length} of ${all.length} Training faces (part ${a.part}/${a.parts}) → ${a.out}`);
  const rt = await loadTf();
  const detector = await createDetector(parseDetectorConfig({}), { tf: rt });
  const r = await writePipelineCrops(detector, { faces, out: a.out, seed: a.seed + 7919 * a.part, facesPerFrame: a.facesPerFrame, log });
  log(`done: ${r.written} crops of ${r.faces} faces in ${r.frames} frames (${JSON.stringify(r.detectedBySize)}), ${r.falseDetections} false detections`);
}

main().catch((e: Error) => { process.stderr.write(`crops: ${e.message}\n`); process.exit(1); });
