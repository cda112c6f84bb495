/**
 * The warm-up before a source opens (real BlazeFace, Human's faceres, the shipped model): each
 * network runs once on a blank 720p frame or crop, and no tensor is left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '@emostream/runtime';
import { createDetector, createFaceEmbedder, parseDetectorConfig, type FaceDetector, type FaceEmbedder } from '@emostream/detector';
import { loadEmotionModel, type EmotionModel } from '@emostream/classifier';
import { warmUp } from '@emostream/pipeline';

test('warmUp runs the detector, the embedder and the model once each and leaks no tensor', async () => {
  const rt = await loadTf('auto');
  const detector = await createDetector(parseDetectorConfig({}), { tf: rt });
  const embedder = await createFaceEmbedder(rt);
  const model = await loadEmotionModel(rt.tf, {});
  const calls: string[] = [];
  const d: FaceDetector = { name: detector.name, detect: (rgb, w, h) => { calls.push(`detect ${w}x${h}`); return detector.detect(rgb, w, h); }, dispose: () => detector.dispose() };
  const e: FaceEmbedder = { embed: (rgb, w, h, boxes) => { calls.push(`embed ${boxes.length}`); return embedder.embed(rgb, w, h, boxes); }, dispose: () => embedder.dispose() };
  const m: EmotionModel = { version: model.version, predict: (crops) => { calls.push(`predict ${crops.length}`); return model.predict(crops); }, dispose: () => model.dispose() };
  try {
    await warmUp({ detector: d, embedder: e, model: m });
    const before = rt.tf.memory().numTensors;
    await warmUp({ detector: d, embedder: e, model: m });
    assert.equal(rt.tf.memory().numTensors, before, 'no tensor left behind');
    assert.deepEqual(calls, ['detect 1280x720', 'embed 1', 'predict 1', 'detect 1280x720', 'embed 1', 'predict 1']);
    await warmUp({ model: m });
    assert.equal(calls.at(-1), 'predict 1', 'only the parts given');
  } finally {
    embedder.dispose();
    model.dispose();
    await detector.dispose();
  }
});
