/**
 * A second softmax head: fitted on the trunk's frozen features (the network and its own head
 * untouched), chosen on PublicTest with PrivateTest kept out, stored in heads.json and swapped in
 * by name at load.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EMOTIONS } from '@emostream/contracts';
import { PAPER_ARCHITECTURE, buildModel, headOf, loadModelDir, readHeads, saveModelDir, INPUT_PIXELS, type ModelCard } from '@emostream/model';
import { loadTf } from '@emostream/runtime';
import { fitHead, runFitHeadJob, HEAD_FIT_DEFAULTS } from './head.js';
import type { LabelledSet } from './datasets.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-head-'));
const cwd = process.cwd();
before(() => process.chdir(tmp));
after(() => { process.chdir(cwd); fs.rmSync(tmp, { recursive: true, force: true }); });

const HAPPY = EMOTIONS.indexOf('happy'), SAD = EMOTIONS.indexOf('sad');

/** A 48x48 face: bright (happy) or dark (sad) with noise, different for every seed. */
function face(bright: boolean, seed: number): Uint8Array {
  const px = new Uint8Array(INPUT_PIXELS);
  let s = seed * 2654435761 >>> 0;
  for (let i = 0; i < px.length; i++) { s = (s * 1103515245 + 12345) >>> 0; px[i] = (bright ? 150 : 20) + (s >>> 26); }
  return px;
}

function set(n: number, seed: number): LabelledSet {
  const images = new Uint8Array(n * INPUT_PIXELS), soft = new Float32Array(n * 7), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const bright = i % 2 === 0;
    images.set(face(bright, seed + i), i * INPUT_PIXELS);
    labels[i] = bright ? HAPPY : SAD;
    soft[i * 7 + labels[i]] = 0.8; soft[i * 7 + EMOTIONS.indexOf('neutral')] = 0.2;
  }
  return { images, soft, labels, ids: labels.reduce<string[]>((a, _, i) => [...a, `f${seed + i}`], []), groups: [], skippedLabels: {}, unreadable: [] };
}

const card = (): ModelCard => ({
  name: 'tiny', version: 'tiny-1', createdAt: new Date().toISOString(), architecture: PAPER_ARCHITECTURE, parameters: 0,
  labels: [...EMOTIONS], preprocessing: 'test', training: {}, evaluation: {},
});

test('fitHead learns the targets on frozen features and leaves the model as it was', async () => {
  const { tf } = await loadTf('auto');
  const model = buildModel(tf, PAPER_ARCHITECTURE, 3);
  const own = headOf(model);
  const trunkBefore = model.getLayer('fc1').getWeights()[0].dataSync().slice(0, 50);
  const r = await fitHead(tf, model, set(24, 1), set(12, 100), { ...HEAD_FIT_DEFAULTS, epochs: 40, learningRate: 0.05, batchSize: 8 });
  assert.equal(r.epochs.length, 40);
  assert.ok(r.chosen.accuracy === 1, `validation accuracy ${r.chosen.accuracy}`);
  assert.ok(r.epochs[0].epoch === 1 && r.chosen.epoch >= 1 && r.chosen.epoch <= 40);
  assert.deepEqual(headOf(model), own, 'the model\'s own head changed');
  assert.deepEqual(model.getLayer('fc1').getWeights()[0].dataSync().slice(0, 50), trunkBefore, 'the trunk changed');
  assert.notDeepEqual(r.head.kernel, own.kernel);
  model.dispose();
});

test('fit-head on a FER-style folder: Training fits, PublicTest chooses, PrivateTest stays out; the head loads by name', async () => {
  const { tf } = await loadTf('auto');
  const fer = path.join(tmp, 'fer2013'), fp = path.join(tmp, 'ferplus'), dir = path.join(tmp, 'model');
  const files: Array<[string, string, boolean]> = [];
  for (let i = 0; i < 8; i++) files.push(['Training', `train/${i % 2 ? 'sad' : 'happy'}/Training_${i}.png`, i % 2 === 0]);
  for (let i = 0; i < 4; i++) files.push(['PublicTest', `test/${i % 2 ? 'sad' : 'happy'}/PublicTest_${i}.png`, i % 2 === 0]);
  for (let i = 0; i < 5; i++) files.push(['PrivateTest', `test/${i % 2 ? 'sad' : 'happy'}/PrivateTest_${i}.png`, i % 2 === 0]);
  const votes = ['Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF'];
  const mapping = ['ferplus_row,usage,ferplus_image,fer2013_path'];
  for (const [k, [usage, rel, bright]] of files.entries()) {
    fs.mkdirSync(path.dirname(path.join(fer, rel)), { recursive: true });
    await sharp(Buffer.from(face(bright, 500 + k)), { raw: { width: 48, height: 48, channels: 1 } }).png().toFile(path.join(fer, rel));
    votes.push(`${usage},fer${k}.png,2,${bright ? 8 : 0},0,${bright ? 0 : 8},0,0,0,0,0,0`);
    mapping.push(`${k},${usage},fer${k}.png,${rel}`);
  }
  fs.mkdirSync(fp);
  fs.writeFileSync(path.join(fp, 'fer2013new.csv'), votes.join('\n') + '\n');
  fs.writeFileSync(path.join(fp, 'mapping.csv'), mapping.join('\n') + '\n');
  const model = buildModel(tf, PAPER_ARCHITECTURE, 5);
  await saveModelDir(model, dir, card());
  const own = headOf(model);
  model.dispose();
  await runFitHeadJob({ tf, model: dir, data: fer, ferplus: fp, name: 'ferplus', config: { ...HEAD_FIT_DEFAULTS, epochs: 5, batchSize: 4 }, log: () => {} });
  const heads = await readHeads(dir);
  const t = heads.ferplus.training as { data: { train: string; selection: string }; epochs: unknown[] };
  assert.match(t.data.train, /Training \(8 faces/);
  assert.match(t.data.selection, /PublicTest \(4\)/);
  assert.equal(t.epochs.length, 5);
  assert.equal((heads.ferplus.evaluation!['ferplus-PublicTest'] as { n: number }).n, 4);
  // The model's own files are untouched: loaded as it is, its own head; by name, the fitted one.
  const plain = await loadModelDir(tf, dir);
  assert.deepEqual(headOf(plain.model), own);
  assert.equal(plain.version, 'tiny-1');
  const withHead = await loadModelDir(tf, dir, { head: 'ferplus' });
  assert.equal(withHead.version, 'tiny-1+ferplus');
  assert.deepEqual(headOf(withHead.model).bias, heads.ferplus.bias.map((b) => Math.fround(b)));
  await assert.rejects(loadModelDir(tf, dir, { head: 'nope' }), /has no head 'nope' \(this model answers to: fer2013, ferplus\)/);
  plain.model.dispose(); withHead.model.dispose();
});
