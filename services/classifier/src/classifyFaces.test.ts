import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { Subject, lastValueFrom, toArray, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { loadTf, silentLogger } from '@emostream/runtime';
import { buildModel, saveModelDir, PAPER_ARCHITECTURE, type ModelCard } from '@emostream/model';
import { EMOTIONS, type FacesMessage } from '@emostream/contracts';
import { classifyFaces, classifyBatch, batchFrames } from './classifyFaces.js';
import { loadEmotionModel, type EmotionModel } from './emotionModel.js';
import { watchModel } from './hotReload.js';

const frame = (seq: number, faces: number): FacesMessage => ({
  frame: { schemaVersion: 1, cameraId: 'cam', seq, mediaTimeMs: seq * 100, capturedAtMs: 1e12 + seq, width: 64, height: 64 },
  faces: Array.from({ length: faces }, (_, k) => ({ box: { x: k, y: 0, width: 10, height: 10 }, score: 0.9, crop: new Uint8Array(2304).fill(seq * 10 + k) })),
});

/** A model that records its batch sizes (stands in only for batching logic; real CNN below). */
const recorder = (): EmotionModel & { calls: number[] } => {
  const calls: number[] = [];
  return {
    version: 'rec', calls, dispose() {},
    async predict(crops) { calls.push(crops.length); const o = new Float32Array(crops.length * 7); for (let i = 0; i < crops.length; i++) o[i * 7 + (crops[i][0] % 7)] = 1; return o; },
  };
};

test('batches close on size or on the time limit, on a virtual clock; no empty batches', () => {
  const ts = new TestScheduler((a, b) => assert.deepEqual(a, b));
  ts.run(({ cold, expectObservable }) => {
    // a,b,c fill a batch of 3 at once (frame 0); d (frame 5) waits for the 10 ms window to
    // close; e (frame 36) goes out at 40; the empty windows in between emit nothing.
    const src = cold('(abc) d 30ms e 20ms |');
    expectObservable(src.pipe(batchFrames({ maxWaitMs: 10, maxBatchFrames: 3 }, ts))).toBe(
      '(x) 7ms y 29ms z 16ms |', { x: ['a', 'b', 'c'], y: ['d'], z: ['e'] });
  });
});

test('one emotions message per frame, in order, faces mapped back to their frame', async () => {
  const model = recorder();
  const frames = [frame(0, 1), frame(1, 2), frame(2, 0), frame(3, 3)];
  const out = await lastValueFrom(of(...frames).pipe(classifyFaces({ model: () => model, config: { maxWaitMs: 5, maxBatchFrames: 3 }, logger: silentLogger }), toArray()));
  assert.deepEqual(out.map((m) => m.frame.seq), [0, 1, 2, 3]);
  assert.deepEqual(out.map((m) => m.faces.length), [1, 2, 0, 3]);
  assert.deepEqual(model.calls, [3, 3]);
  // Face k of frame s has crop value s*10+k → argmax (s*10+k) % 7.
  const best = (p: Record<string, number>) => EMOTIONS.findIndex((e) => p[e] === 1);
  assert.equal(best(out[3].faces[2].probabilities), 32 % 7);
  assert.equal(out[0].modelVersion, 'rec');
});

test('a failing batch is counted and its frames continue without faces', async () => {
  const bad: EmotionModel = { version: 'bad', dispose() {}, async predict() { throw new Error('boom'); } };
  const out = await lastValueFrom(of(frame(0, 1), frame(1, 1)).pipe(classifyFaces({ model: () => bad, config: { maxWaitMs: 5, maxBatchFrames: 8 }, logger: silentLogger }), toArray()));
  assert.deepEqual(out.map((m) => m.faces.length), [0, 0]);
});

async function writeModel(dir: string, version: string, seed: number) {
  const { tf } = await loadTf();
  const m = buildModel(tf, PAPER_ARCHITECTURE, seed);
  const card = { name: 'paper', version, createdAt: new Date().toISOString(), architecture: PAPER_ARCHITECTURE, parameters: m.countParams(), labels: [...EMOTIONS], preprocessing: 'test', training: {}, evaluation: {} } satisfies ModelCard;
  await saveModelDir(m, dir, card);
  m.dispose();
}

test('the real CNN: tensor count stays flat over many batches', async () => {
  const { tf } = await loadTf();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'emo-model-'));
  await writeModel(dir, 'v1', 1);
  const model = await loadEmotionModel(tf, { model: dir, flipTta: true });
  await classifyBatch(model, [frame(0, 4)]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 30; i++) await classifyBatch(model, [frame(i, 3), frame(i + 1, 5)]);
  assert.equal(tf.memory().numTensors, before);
  const out = await classifyBatch(model, [frame(0, 2)]);
  const sum = EMOTIONS.reduce((a, e) => a + out[0].faces[0].probabilities[e], 0);
  assert.ok(Math.abs(sum - 1) < 1e-4);
  model.dispose();
  await fs.rm(dir, { recursive: true });
});

test('hot reload swaps in a new version mid-stream without dropping a frame', async () => {
  const { tf } = await loadTf();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'emo-model-'));
  await writeModel(dir, 'v1', 1);
  const handle = watchModel({ tf, dir, initial: await loadEmotionModel(tf, { model: dir }), logger: silentLogger });
  const input = new Subject<FacesMessage>();
  const done = lastValueFrom(input.pipe(classifyFaces({ model: handle.current, config: { maxWaitMs: 2, maxBatchFrames: 4 }, logger: silentLogger }), toArray()));
  for (let i = 0; i < 10; i++) input.next(frame(i, 1));
  await new Promise((r) => setTimeout(r, 50));
  await writeModel(dir, 'v2', 2);
  assert.equal(await handle.check(), true);
  for (let i = 10; i < 20; i++) input.next(frame(i, 1));
  input.complete();
  const out = await done;
  assert.deepEqual(out.map((m) => m.frame.seq), Array.from({ length: 20 }, (_, i) => i));
  assert.equal(out[0].modelVersion, 'v1');
  assert.equal(out[19].modelVersion, 'v2');
  // A corrupt new version is refused and the current model kept.
  await fs.writeFile(path.join(dir, 'model.json'), '{ not json');
  assert.equal(await handle.check(), false);
  assert.equal(handle.current().version, 'v2');
  handle.close();
  handle.current().dispose();
  await fs.rm(dir, { recursive: true });
});
