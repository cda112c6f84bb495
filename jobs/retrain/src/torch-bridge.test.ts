import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTf } from '@emostream/runtime';
import { buildModel, BEST_ARCHITECTURE, INPUT_PIXELS, INPUT_SIZE } from '@emostream/model';
import { medResiduals, readTorchRun, setWeightsByName } from './torch-bridge.js';

/** The decoder of jobs/retrain/torch/train.py (undo_med), one image at a time. */
function undoMed(res: Uint8Array): Uint8Array {
  const n = INPUT_SIZE, out = new Uint8Array(res.length);
  for (let base = 0; base < res.length; base += n * n) {
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const i = base + y * n + x;
        let pred: number;
        if (y === 0) pred = x === 0 ? 0 : out[i - 1];
        else if (x === 0) pred = out[i - n];
        else {
          const a = out[i - 1], b = out[i - n], c = out[i - n - 1];
          pred = c >= Math.max(a, b) ? Math.min(a, b) : c <= Math.min(a, b) ? Math.max(a, b) : a + b - c;
        }
        out[i] = (res[i] + pred) & 255;
      }
    }
  }
  return out;
}

test('medResiduals is lossless, and a flat face costs one nonzero byte', () => {
  let s = 12345;
  const noise = Uint8Array.from({ length: 3 * INPUT_PIXELS }, () => (s = (s * 1103515245 + 12345) >>> 0) >>> 24);
  assert.deepEqual(undoMed(medResiduals(noise)), noise);
  const ramp = Uint8Array.from({ length: INPUT_PIXELS }, (_, i) => (i % INPUT_SIZE) * 5 + Math.floor(i / INPUT_SIZE));
  assert.deepEqual(undoMed(medResiduals(ramp)), ramp);
  const flat = new Uint8Array(INPUT_PIXELS).fill(77);
  const r = medResiduals(flat);
  assert.equal(r[0], 77);
  assert.equal(r.subarray(1).some((v) => v !== 0), false);
});

/** Writes `model`'s weights as train.py does: `<name>.json` listing them in tfjs order, `<name>.bin` float32 LE. */
function writeRun(dir: string, name: string, model: ReturnType<typeof buildModel>, drop?: string): string {
  const specs: { name: string; shape: number[]; dtype: string }[] = [];
  const parts: Buffer[] = [];
  for (const v of model.weights) {
    const n = v.originalName ?? v.name;
    if (n === drop) continue;
    specs.push({ name: n, shape: v.shape as number[], dtype: 'float32' });
    const values = v.read().dataSync() as Float32Array;
    parts.push(Buffer.from(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)));
  }
  fs.writeFileSync(path.join(dir, `${name}.bin`), Buffer.concat(parts));
  const json = path.join(dir, `${name}.json`);
  fs.writeFileSync(json, JSON.stringify({ weights: specs, weightsFile: `${name}.bin`, bestEpoch: 3 }));
  return json;
}

test('a run\'s weights set by name give the network that wrote them', async () => {
  const { tf } = await loadTf();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emostream-torch-'));
  const a = buildModel(tf, BEST_ARCHITECTURE, 1);
  const b = buildModel(tf, BEST_ARCHITECTURE, 99);
  try {
    const run = readTorchRun(writeRun(dir, 'run', a));
    assert.equal(run.meta.bestEpoch, 3);
    assert.equal(run.weights.get('block1_conv1/kernel')?.shape.join('x'), '3x3x1x32');
    const x = tf.randomUniform([4, INPUT_SIZE, INPUT_SIZE, 1], 0, 1, 'float32', 5);
    const before = Array.from((a.predict(x) as import('@tensorflow/tfjs-node').Tensor).dataSync());
    const other = Array.from((b.predict(x) as import('@tensorflow/tfjs-node').Tensor).dataSync());
    assert.notDeepEqual(other, before);
    setWeightsByName(tf, b, run.weights);
    const after = Array.from((b.predict(x) as import('@tensorflow/tfjs-node').Tensor).dataSync());
    after.forEach((p, i) => assert.ok(Math.abs(p - before[i]) < 1e-6, `output ${i}: ${p} vs ${before[i]}`));
    x.dispose();
  } finally {
    a.dispose();
    b.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncated weight file or a missing weight is named in the error', async () => {
  const { tf } = await loadTf();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emostream-torch-'));
  const a = buildModel(tf, BEST_ARCHITECTURE, 1);
  try {
    const json = writeRun(dir, 'cut', a);
    const bin = path.join(dir, 'cut.bin');
    fs.truncateSync(bin, fs.statSync(bin).size - 4);
    assert.throws(() => readTorchRun(json), (e: Error) => e.message.includes(bin) && /copy both files/.test(e.message));
    const partial = readTorchRun(writeRun(dir, 'partial', a, 'fc1/bias'));
    assert.throws(() => setWeightsByName(tf, a, partial.weights), /no weight 'fc1\/bias'/);
    fs.writeFileSync(path.join(dir, 'bad.json'), '{ not json');
    assert.throws(() => readTorchRun(path.join(dir, 'bad.json')), /bad\.json: not a readable run record/);
  } finally {
    a.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
