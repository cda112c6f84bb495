import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '@emostream/runtime';
import { buildModel, BEST_ARCHITECTURE } from '@emostream/model';
import { configByName, learningRateAt, CONFIG_NAMES } from './configs.js';
import { decayKernels } from './train.js';

test('every config name resolves, and an unknown one lists them', () => {
  for (const name of CONFIG_NAMES) assert.equal(configByName(name).name, name);
  assert.throws(() => configByName('fast'), /unknown config 'fast': use paper, best, best-gpu/);
  // A copy each time: changing one run's config never changes the recipe.
  const a = configByName('best-gpu');
  a.epochs = 2;
  assert.equal(configByName('best-gpu').epochs, 153);
});

test('best-gpu warms up over 3 epochs, then decays by cosine to 1% at epoch 153', () => {
  const cfg = configByName('best-gpu');
  assert.equal(cfg.weightDecay, 0.05);
  assert.equal(cfg.augment.eraseP, 0.5);
  assert.ok(Math.abs(learningRateAt(cfg, 1.5) - 0.001) < 1e-12);
  assert.ok(Math.abs(learningRateAt(cfg, 3) - 0.002) < 1e-12);
  assert.ok(Math.abs(learningRateAt(cfg, 78) - (0.00002 + 0.5 * (0.002 - 0.00002))) < 1e-12);
  assert.ok(Math.abs(learningRateAt(cfg, 153) - 0.00002) < 1e-12);
});

test('decayKernels shrinks conv and dense kernels only, not biases or batch norm', async () => {
  const { tf } = await loadTf();
  const model = buildModel(tf, BEST_ARCHITECTURE, 3);
  try {
    const before = new Map(model.trainableWeights.map((v) => [v.originalName ?? v.name, Array.from(v.read().dataSync())]));
    decayKernels(tf, model, 0.1);
    for (const v of model.trainableWeights) {
      const name = v.originalName ?? v.name;
      const was = before.get(name)!, now = Array.from(v.read().dataSync());
      const factor = v.shape.length > 1 ? 0.9 : 1;
      now.forEach((x, i) => assert.ok(Math.abs(x - was[i] * factor) < 1e-6, `${name}[${i}]`));
    }
    assert.ok(model.trainableWeights.some((v) => (v.originalName ?? v.name) === 'block1_bn1/gamma'));
  } finally {
    model.dispose();
  }
});
