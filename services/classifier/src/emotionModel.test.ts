import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '@emostream/runtime';
import { buildModel, predictBatch, PAPER_ARCHITECTURE, INPUT_PIXELS } from '@emostream/model';
import { predictMirrored, loadEmotionModel } from './emotionModel.js';
import { mirrorCrop } from './reuse.js';

test('mirror TTA in one call of 2n gives the figures of two calls (predictBatch flipTta), for 0, 1 and 5 faces; no tensor left behind', async () => {
  const { tf } = await loadTf();
  const model = buildModel(tf, PAPER_ARCHITECTURE, 3);
  try {
    assert.equal((await predictMirrored(tf, model, [])).length, 0);
    // Crops that are not mirror-symmetric, so the mirrored half really differs.
    const crops = Array.from({ length: 5 }, (_, k) => Uint8Array.from({ length: INPUT_PIXELS }, (_, i) => ((i % 48) * (k + 2) + (i >> 5) * 3) % 256));
    const before = tf.memory().numTensors;
    for (const n of [1, 5]) {
      const want = await predictBatch(tf, model, crops.slice(0, n), { flipTta: true });
      const got = await predictMirrored(tf, model, crops.slice(0, n));
      assert.equal(got.length, n * 7);
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `output ${i}: ${got[i]} vs ${want[i]}`);
    }
    assert.equal(tf.memory().numTensors, before);
    await assert.rejects(predictMirrored(tf, model, [new Uint8Array(10)]), /crop 0 has 10 bytes/);
  } finally {
    model.dispose();
  }
});

test('the shipped model mirrors; one pass a crop (single) averaged over a crop and its mirror image gives its mirrored answer', async () => {
  const { tf } = await loadTf();
  const model = await loadEmotionModel(tf);
  try {
    assert.equal(model.mirrors, true);
    const crops = Array.from({ length: 3 }, (_, k) => Uint8Array.from({ length: INPUT_PIXELS }, (_, i) => ((i % 48) * (k + 2) + (i >> 5) * 3) % 256));
    const both = await model.predict(crops);
    const plain = await model.predict(crops, true);
    const mirrored = await model.predict(crops.map(mirrorCrop), true);
    let differ = 0;
    for (let i = 0; i < both.length; i++) {
      assert.ok(Math.abs(both[i] - (plain[i] + mirrored[i]) / 2) < 1e-5, `output ${i}: ${both[i]} vs the views' mean ${(plain[i] + mirrored[i]) / 2}`);
      differ = Math.max(differ, Math.abs(plain[i] - mirrored[i]));
    }
    assert.ok(differ > 1e-3, 'the two views answer differently, so single really is one view');
  } finally {
    model.dispose();
  }
});
