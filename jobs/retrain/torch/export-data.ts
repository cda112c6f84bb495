// Writes FER-2013's Training images (blanks dropped) and PublicTest as the model's own
// preprocessing decodes them (48x48 gray; the histogram equalisation is left to the reader,
// which repeats equalizeHist exactly), into one xz-compressed file that
// jobs/retrain/torch/train.py reads on a GPU machine. PrivateTest is never written: the model
// is chosen on PublicTest and scored on PrivateTest here, through `emostream evaluate`.
//   node --import tsx jobs/retrain/torch/export-data.ts ../shared/data/fer2013 .gpu/fer2013.bin.xz
//
// Layout (before xz): 'EMOFER1\n', a uint32 LE header length, a JSON header
// { labels, coding, equalized, sets: [{ name, n, classCounts }] }, then per set n*2304 image bytes and n
// label bytes. The image bytes are each pixel's residual (mod 256) from the median edge
// predictor of JPEG-LS (LOCO-I) over its left, upper and upper-left neighbours: lossless, and
// about 15% smaller after xz than the plain pixels, which keeps the file under the 64 MiB a
// GPU machine of ours accepts.
// The file holds face images: keep it out of git and delete it after the run (.gitignore: .gpu/).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { EMOTIONS } from '@emostream/contracts';
import { loadFerFolders, readPathColumn, subset, classCounts, medResiduals, type LabelledSet } from '../src/index.js';

const [root, out] = process.argv.slice(2);
if (!root || !out) {
  console.error('usage: export-data.ts <FER-2013 folder> <out.bin.xz>');
  process.exit(2);
}
// The plain gray pixels: train.py equalises them with the same rule as equalizeHist (they
// compress to 47 MiB, the equalised ones to 52, and a GPU machine of ours takes 64 MiB with the repo).
const fer = await loadFerFolders(root, { equalize: false, cacheDir: path.resolve('.cache/datasets'), warn: (m) => console.error(`warning: ${m}`) });
const blanks = await readPathColumn(path.join(root, 'blank.csv'));
const sets: Array<[string, LabelledSet]> = [
  ['Training', subset(fer.Training, (i) => !blanks.has(fer.Training.ids[i]))],
  ['PublicTest', fer.PublicTest],
];
const header = Buffer.from(JSON.stringify({
  labels: EMOTIONS, coding: 'med-residual', equalized: false,
  sets: sets.map(([name, s]) => ({ name, n: s.labels.length, classCounts: classCounts(s) })),
}));
const len = Buffer.alloc(4);
len.writeUInt32LE(header.length);
const parts = [Buffer.from('EMOFER1\n'), len, header];
for (const [, s] of sets) parts.push(Buffer.from(medResiduals(s.images)), Buffer.from(Uint8Array.from(s.labels)));
fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
const raw = out.replace(/\.xz$/, '');
fs.writeFileSync(raw, Buffer.concat(parts));
if (raw !== out) execFileSync('xz', ['-f', '-9e', '-T1', raw]);
console.log(`wrote ${out}: ${sets.map(([n, s]) => `${n} ${s.labels.length}`).join(', ')} (${(fs.statSync(out).size / 2 ** 20).toFixed(1)} MiB)`);

