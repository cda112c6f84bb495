/**
 * The torch path keeps the split discipline: on a small FER-2013-style folder (a PrivateTest file
 * misplaced under train/, files without a split prefix, a blank image), the data file for
 * jobs/retrain/torch/train.py holds Training (blanks dropped) to train and PublicTest to choose,
 * and no PrivateTest file or pixel; FER+ votes travel with the training rows as ferplus.ts joins
 * them. Where a Python with numpy and Pillow is at hand (EMOSTREAM_TORCH_PYTHON, else python3),
 * train.py's reader reads the same file back; with torch too, jobs/retrain/torch's own tests run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { EMOTIONS } from '@emostream/contracts';
import { INPUT_PIXELS } from '@emostream/model';
import { loadFerFolders } from './datasets.js';
import { readFerPlusVotes, withFerPlusTargets } from './ferplus.js';
import { buildTorchData, readTorchData, TORCH_DATA_MAGIC } from './torch-bridge.js';

const TORCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../torch');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-torch-export-'));
const FER = path.join(tmp, 'fer2013');
const FERPLUS = path.join(tmp, 'ferplus');
const cwd = process.cwd();

const FILES = {
  Training: ['train/happy/Training_1.png', 'train/happy/Training_2.jpg', 'train/sad/Training_3.png', 'train/sad/Training_4.jpg', 'train/angry/Training_5.png', 'train/neutral/Training_6.jpg', 'train/fear/Training_7.png'],
  PublicTest: ['test/happy/PublicTest_11.png', 'test/happy/PublicTest_12.jpg', 'test/sad/PublicTest_13.png', 'test/angry/PublicTest_14.png'],
  PrivateTest: ['test/happy/PrivateTest_21.png', 'test/sad/PrivateTest_22.jpg', 'train/happy/PrivateTest_24.png'],
  unknown: ['train/sad/Holdout_31.png'],
};
const BLANK = 'train/fear/Training_7.png';

let nth = 0;
/** A distinct 48x48 gray image per call (a pattern of its own), as PNG or JPEG. */
async function writeFace(file: string): Promise<void> {
  const k = ++nth;
  const px = Buffer.from(Array.from({ length: INPUT_PIXELS }, (_, i) => (i * (k + 2) + ((i / 48) | 0) * k * 5) & 255));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp(px, { raw: { width: 48, height: 48, channels: 1 } });
  await (file.endsWith('.jpg') ? img.jpeg({ quality: 90 }) : img.png()).toFile(file);
}

before(async () => {
  for (const f of Object.values(FILES).flat()) await writeFace(path.join(FER, f));
  fs.writeFileSync(path.join(FER, 'blank.csv'), `path\n${BLANK}\n`);
  fs.mkdirSync(FERPLUS, { recursive: true });
  // Votes for Training_1 (6 neutral, 4 happy), Training_3 (all "not a face"), PublicTest_11 and a PrivateTest file.
  fs.writeFileSync(path.join(FERPLUS, 'fer2013new.csv'), [
    'Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF',
    'Training,fer0.png,6,4,0,0,0,0,0,0,0,0', 'Training,fer1.png,0,0,0,0,0,0,0,0,0,10',
    'PublicTest,fer2.png,0,10,0,0,0,0,0,0,0,0', 'PrivateTest,fer3.png,0,0,0,10,0,0,0,0,0,0',
  ].join('\n'));
  fs.writeFileSync(path.join(FERPLUS, 'mapping.csv'), [
    'ferplus_row,usage,ferplus_image,fer2013_path', '0,Training,fer0.png,train/happy/Training_1.png', '1,Training,fer1.png,train/sad/Training_3.png',
    '2,PublicTest,fer2.png,test/happy/PublicTest_11.png', '3,PrivateTest,fer3.png,test/sad/PrivateTest_22.jpg',
  ].join('\n'));
  process.chdir(tmp);
});
after(() => { process.chdir(cwd); fs.rmSync(tmp, { recursive: true, force: true }); });

const sorted = (a: Iterable<string>) => [...a].sort();
const u32s = (b: Buffer) => Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(4 * i));

test('the torch data file trains on Training, chooses on PublicTest, and never carries PrivateTest', async () => {
  const warnings: string[] = [];
  const { buffer, header } = await buildTorchData({ fer: FER, ferplus: FERPLUS, warn: (m) => warnings.push(m) });
  assert.equal(buffer.subarray(0, 8).toString(), TORCH_DATA_MAGIC);
  const { sets } = readTorchData(buffer);
  assert.deepEqual([...sets.keys()], ['Training', 'PublicTest']);
  assert.deepEqual(header.sets.map((s) => s.role), ['train', 'val']);
  const ids = (name: string) => sets.get(name)!.blocks.get('ids')!.toString().split('\n');
  assert.deepEqual(sorted(ids('Training')), sorted(FILES.Training.filter((f) => f !== BLANK)));
  assert.deepEqual(sorted(ids('PublicTest')), sorted(FILES.PublicTest));
  assert.equal(header.source.blankDropped, 1);
  assert.ok(warnings.some((w) => /^1 image under .* without a FER-2013 split prefix .*Holdout_31\.png: left out of every split$/.test(w)), warnings.join('\n'));
  // No PrivateTest file, by name or by content: neither its bytes nor its pixels are anywhere in the file.
  assert.ok(!buffer.includes('PrivateTest_'), 'a PrivateTest name in the data file');
  const raw = await loadFerFolders(FER, { equalize: false });
  for (const f of FILES.PrivateTest) assert.ok(!buffer.includes(fs.readFileSync(path.join(FER, f))), `${f}'s bytes in the data file`);
  for (let i = 0; i < raw.PrivateTest.labels.length; i++) {
    const px = raw.PrivateTest.images.subarray(i * INPUT_PIXELS, (i + 1) * INPUT_PIXELS);
    for (const name of ['Training', 'PublicTest']) assert.ok(!u32s(sets.get(name)!.blocks.get('crc32')!).includes(zlib.crc32(px)), `PrivateTest pixels in ${name}`);
  }
  // Each set's blocks: the files one after the other, their pixels' CRC-32 as the model's decoder gives them, the labels.
  for (const [name, set] of [['Training', raw.Training], ['PublicTest', raw.PublicTest]] as const) {
    const s = sets.get(name)!;
    const files = ids(name).map((id) => fs.readFileSync(path.join(FER, id)));
    assert.deepEqual(s.blocks.get('images'), Buffer.concat(files));
    assert.deepEqual(u32s(s.blocks.get('fileLengths')!), files.map((f) => f.length));
    const at = ids(name).map((id) => set.ids.indexOf(id));
    assert.deepEqual(u32s(s.blocks.get('crc32')!), at.map((i) => zlib.crc32(set.images.subarray(i * INPUT_PIXELS, (i + 1) * INPUT_PIXELS))));
    assert.deepEqual([...s.blocks.get('labels')!], at.map((i) => set.labels[i]));
  }
  // FER+: only the training rows, mixing to exactly withFerPlusTargets' targets at any weight.
  assert.ok(!sets.get('PublicTest')!.blocks.has('ferplusSoft'));
  assert.deepEqual(header.sets[0].ferplus, { withVotes: 1, withoutVotes: 5, notFace: 1 });
  const tr = sets.get('Training')!, trIds = ids('Training'), k = EMOTIONS.length;
  const soft = new Float32Array(Uint8Array.from(tr.blocks.get('ferplusSoft')!).buffer), flags = [...tr.blocks.get('ferplusFlags')!];
  const labels = [...tr.blocks.get('labels')!];
  const votes = await readFerPlusVotes(path.join(FERPLUS, 'fer2013new.csv'), path.join(FERPLUS, 'mapping.csv'));
  const byId = { ...raw.Training, ids: trIds, labels: Int32Array.from(labels), images: new Uint8Array(trIds.length * INPUT_PIXELS) };
  const w = 0.5, mixed = withFerPlusTargets(byId, votes, w).set;
  assert.deepEqual(mixed.ids, trIds.filter((_, i) => (flags[i] & 2) === 0), 'the "not a face" row goes');
  mixed.ids.forEach((id, j) => {
    const i = trIds.indexOf(id);
    for (let c = 0; c < k; c++) {
      const here = (1 - w) * (c === labels[i] ? 1 : 0) + w * soft[i * k + c];
      assert.ok(Math.abs(here - mixed.soft![j * k + c]) < 1e-6, `${id} class ${c}: ${here} vs ${mixed.soft![j * k + c]}`);
    }
  });
});

test('med-residual coding, a training subset, and a data file that does not add up', async () => {
  const { buffer, header } = await buildTorchData({ fer: FER, coding: 'med-residual', limitTraining: 3, seed: 5 });
  assert.deepEqual(header.source.limitTraining, { kept: 3, of: 6, seed: 5 });
  const { sets } = readTorchData(buffer);
  assert.equal(sets.get('Training')!.set.n, 3);
  assert.equal(sets.get('Training')!.blocks.get('images')!.length, 3 * INPUT_PIXELS);
  assert.ok(!sets.get('Training')!.blocks.has('fileLengths'));
  assert.throws(() => readTorchData(buffer.subarray(0, buffer.length - 1), 'cut.bin'), /cut\.bin has \d+ bytes, its header lists \d+/);
  assert.throws(() => readTorchData(Buffer.from('EMOFER1\n....')), /not a data file of format 2/);
});

/** The Python that runs train.py here, and whether it has what a check needs. */
function python(modules: string): { bin: string; ok: true } | { ok: false; reason: string } {
  const bin = process.env.EMOSTREAM_TORCH_PYTHON ?? 'python3';
  const r = spawnSync(bin, ['-c', `import ${modules}`], { encoding: 'utf8' });
  return r.status === 0 ? { bin, ok: true } : { ok: false, reason: `${bin} cannot import ${modules} (set EMOSTREAM_TORCH_PYTHON to a Python that can; jobs/retrain/torch/README.md)` };
}

test('train.py\'s reader reads the file as it was written (Python with numpy and Pillow)', async (t) => {
  const py = python('numpy, PIL');
  if (!py.ok) { t.skip(py.reason); return; }
  const file = path.join(tmp, 'data.bin');
  const { buffer } = await buildTorchData({ fer: FER, ferplus: FERPLUS });
  fs.writeFileSync(file, buffer);
  const r = spawnSync(py.bin, [path.join(TORCH_DIR, 'emodata.py'), file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout);
  const { sets } = readTorchData(buffer);
  for (const name of ['Training', 'PublicTest']) {
    const s = sets.get(name)!;
    assert.equal(seen.sets[name].n, s.set.n);
    assert.deepEqual(seen.sets[name].splits, [name]);
    assert.deepEqual(seen.sets[name].crc32, u32s(s.blocks.get('crc32')!).slice(0, 3), `${name}: Pillow decodes the files to the pixels the model's decoder gave`);
  }
  assert.deepEqual(seen.sets.Training.ferplus.notFace, 1);
  // A PrivateTest id smuggled into the training set is refused there too.
  const bad = Buffer.from(buffer);
  const at = bad.indexOf('train/happy/Training_1.png');
  bad.write('train/PrivateTest_1234.png', at);   // as long as the name it replaces
  fs.writeFileSync(file, bad);
  const refused = spawnSync(py.bin, [path.join(TORCH_DIR, 'emodata.py'), file], { encoding: 'utf8' });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /set Training holds 1 files of another split, e\.g\. train\/PrivateTest_1234\.png/);
});

test('jobs/retrain/torch\'s own tests pass (Python with torch)', { timeout: 600_000 }, (t) => {
  const py = python('torch, numpy, PIL');
  if (!py.ok) { t.skip(py.reason); return; }
  const r = spawnSync(py.bin, ['-W', 'ignore', path.join(TORCH_DIR, 'test_torch_path.py')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr.slice(-4000));
});
