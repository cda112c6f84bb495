/** The retrain job end to end on real labelled faces: train briefly, beat chance on held-out subjects, evaluate, hot reload. */
import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTf, silentLogger } from '@emostream/runtime';
import { loadEmotionModel, watchModel } from '@emostream/classifier';
import { untrainedModelDir } from './helpers/model.js';
import { filesMissing, requireResource } from './helpers/resources.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CK = path.resolve(ROOT, '../shared/data/ckplus48');
/** CK+ (48x48, from ../shared/data): skipped without it, failed under CI. */
const ck = (t: TestContext) => requireResource(t, 'CK+ data set', filesMissing(CK));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-retrain-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), ...args], { cwd: ROOT });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('train on CK+ (subject split), beat chance on unseen subjects, evaluate, hot-reload', async (t) => {
  if (!ck(t)) return;
  const out = path.join(tmp, 'ck');
  const r = await run(['train', '--data', CK, '--config', 'best', '--epochs', '6', '--batch-size', '16', '--logit-adjustment', '0.5', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /skipping label folder 'contempt' \(54 images\)/);
  assert.match(r.stderr, /epoch 6\/6 .*ETA/);
  const card = JSON.parse(fs.readFileSync(path.join(out, 'model', 'card.json'), 'utf8'));
  const held = card.evaluation['ckplus-subject-80-20'];
  // Six classes present (no neutral in CK+, contempt skipped). Chance is always answering the
  // held-out subjects' largest class (about 24%); six epochs from scratch reach about 74% (two runs
  // here: 74.2% and 73.7%). The logit adjustment must not raise neutral, which training never saw: when
  // it did, half the held-out faces were called neutral and accuracy fell to 29–41%.
  const supports = Object.values(held.perClass as Record<string, { support: number }>).map((c) => c.support);
  const majority = Math.max(...supports) / supports.reduce((a, b) => a + b, 0);
  assert.ok(majority > 0.2 && majority < 0.35, `largest held-out class ${majority}`);
  assert.ok(held.accuracy > majority + 0.2, `held-out accuracy ${held.accuracy} against ${majority} for always answering the largest class`);
  assert.equal(held.confusion.reduce((n: number, row: number[]) => n + row[4], 0), 0, 'no held-out face called neutral (a class training never saw)');
  assert.equal(card.training.epochsDone, 6);
  // A fixed τ is stored with the training prior it was applied to (7 classes, CK+ has no neutral).
  assert.equal(card.training.logitAdjustment.tau, 0.5);
  assert.equal(card.training.logitAdjustment.delta.length, 7);
  assert.match(r.stderr, /logit adjustment: τ=0.5/);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'model', 'labels.json'), 'utf8')), ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']);

  const ev = await run(['evaluate', '--model', path.join(out, 'model'), '--data', CK, '--json', '--report', path.join(tmp, 'ck.html')]);
  assert.equal(ev.code, 0, ev.stderr);
  const j = JSON.parse(ev.stdout);
  for (const k of ['model', 'data', 'n', 'accuracy', 'balancedAccuracy', 'perClass', 'confusion', 'ece']) assert.ok(k in j, `evaluate --json lacks ${k}`);
  assert.equal(j.n, 981 - 54);
  assert.deepEqual(j.skippedLabels, { contempt: 54 });
  assert.equal(j.confusion.length, 7);
  assert.match(fs.readFileSync(path.join(tmp, 'ck.html'), 'utf8'), /class="heatmap"/);

  // A running classifier picks up the new version from its model directory.
  const { tf } = await loadTf();
  const live = await untrainedModelDir('v0');
  const handle = watchModel({ tf, dir: live, initial: await loadEmotionModel(tf, { model: live }), logger: silentLogger });
  assert.equal(handle.current().version, 'v0');
  for (const f of fs.readdirSync(path.join(out, 'model'))) fs.copyFileSync(path.join(out, 'model', f), path.join(live, f));
  assert.equal(await handle.check(), true);
  assert.equal(handle.current().version, card.version);
  handle.close();
  handle.current().dispose();
});

test('train: a missing data folder is a clear error', async () => {
  const r = await run(['train', '--data', '/nonexistent/faces', '--out', path.join(tmp, 'x')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /emostream: data folder \/nonexistent\/faces does not exist/);
});

test('train: --logit-adjustment auto without a separate validation split, or a bad τ, is a clear error', async (t) => {
  if (!ck(t)) return;
  const r = await run(['train', '--data', CK, '--logit-adjustment', 'auto', '--out', path.join(tmp, 'la')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--logit-adjustment auto chooses τ on a validation split kept apart from the test set.*pass a fixed τ/);
  assert.ok(!fs.existsSync(path.join(tmp, 'la', 'checkpoint')), 'nothing was trained');
  const bad = await run(['train', '--data', CK, '--logit-adjustment', 'lots', '--out', path.join(tmp, 'la')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--logit-adjustment must be auto or a number from 0 to 5, got 'lots'/);
});

test('train: a folder with only unknown labels is an error naming them', async () => {
  const d = path.join(tmp, 'odd');
  fs.mkdirSync(path.join(d, 'contempt'), { recursive: true });
  fs.copyFileSync(path.join(CK, fs.readdirSync(CK).includes('contempt') ? 'contempt/' + fs.readdirSync(path.join(CK, 'contempt'))[0] : ''), path.join(d, 'contempt', 'a.png'));
  const r = await run(['train', '--data', d, '--out', path.join(tmp, 'y')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /skipping label folder 'contempt' \(1 images\)/);
  assert.match(r.stderr, /emostream: no usable images in/);
});
