// Writes the data file jobs/retrain/torch/train.py reads on a GPU machine (torch-bridge.ts
// buildTorchData): FER-2013 Training (blank images dropped) and PublicTest, before the model's
// equalisation, with each training row's FER+ vote distribution when --ferplus is given, xz-compressed.
// PrivateTest is never written: the model is chosen on PublicTest and scored on PrivateTest here,
// through `emostream evaluate`.
//   node --import tsx jobs/retrain/torch/export-data.ts ../shared/data/fer2013 .gpu/fer2013.bin.xz \
//     [--ferplus ../shared/data/ferplus] [--coding files|med-residual] [--limit-training N]
//
// Coding `files` (the default) carries the original image files, which train.py decodes with
// Pillow and checks against the CRC-32 of the pixels the model's own decoder gave here: FER-2013's
// JPEGs are about 25% smaller after xz than the pixels' lossless residuals (`med-residual`, for
// data whose files Pillow would decode differently, e.g. not 48x48 gray).
// The file holds face images: keep it out of git and delete it after the run (.gitignore: .gpu/).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildTorchData, type TorchImageCoding } from '../src/index.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
const ferplus = option('--ferplus');
const coding = (option('--coding') ?? 'files') as TorchImageCoding;
const limitArg = option('--limit-training');
const [root, out] = args;
if (!root || !out || !['files', 'med-residual'].includes(coding) || (limitArg !== undefined && !(Number(limitArg) > 0))) {
  console.error('usage: export-data.ts <FER-2013 folder> <out.bin.xz> [--ferplus <FER+ folder>] [--coding files|med-residual] [--limit-training N]');
  process.exit(2);
}
const { buffer, header } = await buildTorchData({
  fer: root, ferplus, coding, limitTraining: limitArg === undefined ? undefined : Number(limitArg),
  cacheDir: path.resolve('.cache/datasets'), warn: (m) => console.error(`warning: ${m}`),
});
fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
const raw = out.replace(/\.xz$/, '');
fs.writeFileSync(raw, buffer);
if (raw !== out) execFileSync('xz', ['-f', '-9e', '-T1', raw]);
const fp = header.sets[0].ferplus;
console.log(`wrote ${out}: ${header.sets.map((s) => `${s.name} ${s.n}`).join(', ')}, coding ${coding}` +
  (fp ? `; FER+ votes for ${fp.withVotes} training faces (${fp.withoutVotes} without, ${fp.notFace} "not a face")` : '') +
  ` (${(fs.statSync(out).size / 2 ** 20).toFixed(1)} MiB)`);
