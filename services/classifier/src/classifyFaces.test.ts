import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { Subject, VirtualTimeScheduler, lastValueFrom, toArray, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { createMetrics, loadTf, silentLogger, type PipelineMetrics } from '@emostream/runtime';
import { buildModel, saveModelDir, PAPER_ARCHITECTURE, type ModelCard } from '@emostream/model';
import { EMOTIONS, type FacesMessage } from '@emostream/contracts';
import { classifyFaces, classifyBatch, batchWhileBusy } from './classifyFaces.js';
import { loadEmotionModel, type EmotionModel } from './emotionModel.js';
import { watchModel } from './hotReload.js';
import { writeTestModel } from './testModel.js';

const frame = (seq: number, faces: number): FacesMessage => ({
  frame: { schemaVersion: 1, cameraId: 'cam', seq, mediaTimeMs: seq * 100, capturedAtMs: 1e12 + seq, width: 64, height: 64 },
  faces: Array.from({ length: faces }, (_, k) => ({ box: { x: k, y: 0, width: 10, height: 10 }, score: 0.9, crop: new Uint8Array(2304).fill(seq * 10 + k) })),
});

/** One-hot outputs: face crop value v → emotion v % 7. */
function oneHot(crops: Uint8Array[]): Float32Array {
  const o = new Float32Array(crops.length * 7);
  for (let i = 0; i < crops.length; i++) o[i * 7 + (crops[i][0] % 7)] = 1;
  return o;
}

/** A model that records its batch sizes (stands in only for batching logic; real CNN below). */
const recorder = (version = 'rec'): EmotionModel & { calls: number[] } => {
  const calls: number[] = [];
  return { version, calls, dispose() {}, async predict(crops) { calls.push(crops.length); return oneHot(crops); } };
};

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

/** A counter's samples as `labels → value`, from prom-client. */
async function samples(metric: PipelineMetrics['facesSkipped'] | PipelineMetrics['emotions']): Promise<Record<string, number>> {
  return Object.fromEntries((await metric.get()).values.map((v) => [JSON.stringify(v.labels), v.value]));
}

/** A frame of another camera. */
const onCamera = (cameraId: string, m: FacesMessage): FacesMessage => ({ ...m, frame: { ...m.frame, cameraId } });

test('batching: a frame that finds the model idle goes at once with those of the same turn; frames that come while it is busy form the next batch (at most maxBatchFrames), without waiting; outputs in order', async () => {
  const batches: number[][] = [];
  const release: Array<() => void> = [];
  const work = (b: number[]) => { batches.push(b); return new Promise<number[]>((r) => release.push(() => r(b.map((v) => v * 10)))); };
  const turn = () => new Promise((r) => setImmediate(r));
  const scheduler = new VirtualTimeScheduler();
  const input = new Subject<number>();
  const done = lastValueFrom(input.pipe(batchWhileBusy({ maxWaitMs: 0, maxBatchFrames: 3 }, work, scheduler), toArray()));
  input.next(1);
  input.next(2);
  assert.deepEqual(batches, [], 'the model is idle: the batch starts at the end of the turn');
  scheduler.flush();
  assert.deepEqual(batches, [[1, 2]]);
  for (const v of [3, 4, 5, 6, 7]) input.next(v); // the model is busy: they wait for it
  assert.deepEqual(batches, [[1, 2]]);
  release[0]();
  await turn();
  assert.deepEqual(batches, [[1, 2], [3, 4, 5]], 'the next batch starts as soon as the model is free, capped at maxBatchFrames');
  input.complete();
  release[1]();
  await turn();
  assert.deepEqual(batches, [[1, 2], [3, 4, 5], [6, 7]]);
  release[2]();
  assert.deepEqual(await done, [10, 20, 30, 40, 50, 60, 70]);
  assert.equal(scheduler.actions.length, 0, 'no timer left behind');
});

test('batching: with maxWaitMs an idle model waits for more frames, unless maxBatchFrames are there; the end of the stream flushes; no empty batches', async () => {
  const batches: string[][] = [];
  const work = async (b: string[]) => { batches.push(b); return b; };
  const ts = new TestScheduler((a, b) => assert.deepEqual(a, b));
  const input = new Subject<string>();
  const done = lastValueFrom(input.pipe(batchWhileBusy({ maxWaitMs: 10, maxBatchFrames: 3 }, work, ts), toArray()));
  input.next('a');
  input.next('b');
  input.next('c');
  assert.deepEqual(batches, [['a', 'b', 'c']], 'full: no wait');
  await new Promise((r) => setImmediate(r));
  input.next('d');
  assert.equal(batches.length, 1, 'd waits up to 10 ms for company');
  ts.flush();
  assert.deepEqual(batches, [['a', 'b', 'c'], ['d']]);
  await new Promise((r) => setImmediate(r));
  input.next('e');
  input.complete();
  assert.deepEqual(await done, ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(batches, [['a', 'b', 'c'], ['d'], ['e']]);
});

test('one emotions message per frame, in order, faces mapped back to their frame; each classified face counted by emotion', async () => {
  const model = recorder();
  const metrics = createMetrics();
  const frames = [frame(0, 1), frame(1, 2), frame(2, 0), frame(3, 3)];
  const out = await lastValueFrom(of(...frames).pipe(classifyFaces({ model: () => model, config: { maxWaitMs: 5, maxBatchFrames: 3 }, logger: silentLogger, metrics }), toArray()));
  assert.deepEqual(out.map((m) => m.frame.seq), [0, 1, 2, 3]);
  assert.deepEqual(out.map((m) => m.faces.length), [1, 2, 0, 3]);
  assert.deepEqual(model.calls, [3, 3]);
  // Face k of frame s has crop value s*10+k → argmax (s*10+k) % 7.
  const best = (p: Record<string, number>) => EMOTIONS.findIndex((e) => p[e] === 1);
  assert.equal(best(out[3].faces[2].probabilities), 32 % 7);
  assert.equal(out[0].modelVersion, 'rec');
  // Crops 0, 10, 11, 30, 31, 32 → emotions 0 angry, 3 happy, 4 neutral, 2 fear, 3 happy, 4 neutral.
  assert.deepEqual(await samples(metrics.emotions), {
    '{"camera":"cam","emotion":"angry"}': 1, '{"camera":"cam","emotion":"happy"}': 2, '{"camera":"cam","emotion":"neutral"}': 2, '{"camera":"cam","emotion":"fear"}': 1,
  });
  assert.deepEqual((await metrics.facesSkipped.get()).values, [], 'nothing skipped');
});

test('a batch that keeps failing: retried with backoff, then each frame alone; without `failed` (embedded) its frames go on without faces, each face counted as faces_skipped{reason="classify_error"}', async () => {
  let calls = 0;
  const bad: EmotionModel = { version: 'bad', dispose() {}, async predict() { calls++; throw new Error('boom'); } };
  const metrics = createMetrics();
  const delays: number[] = [];
  const frames = [frame(0, 1), frame(1, 2), frame(2, 0), onCamera('door', frame(3, 3))];
  const out = await lastValueFrom(of(...frames).pipe(classifyFaces({
    model: () => bad, config: { maxWaitMs: 5, maxBatchFrames: 8, retries: 2, retryBackoffMs: 100 }, logger: silentLogger, metrics,
    sleep: async (ms) => { delays.push(ms); },
  }), toArray()));
  assert.deepEqual(out.map((m) => [m.frame.cameraId, m.frame.seq, m.faces, m.modelVersion]), [
    ['cam', 0, [], 'bad'], ['cam', 1, [], 'bad'], ['cam', 2, [], 'bad'], ['door', 3, [], 'bad'],
  ]);
  // 3 calls on the batch, then one per frame with faces (frame 2 has none: no model call, nothing lost).
  assert.equal(calls, 3 + 3);
  assert.equal(delays.length, 2);
  assert.ok(delays[0] >= 50 && delays[0] <= 100 && delays[1] >= 100 && delays[1] <= 200, `backoff doubles with jitter: ${delays}`);
  assert.deepEqual(await samples(metrics.facesSkipped), {
    '{"camera":"cam","reason":"classify_error"}': 3, '{"camera":"door","reason":"classify_error"}': 3,
  });
  assert.deepEqual((await metrics.emotions.get()).values, [], 'no face counted as classified');
});

test('a transient error: the batch is retried after a backoff and every face is classified; nothing skipped', async () => {
  const ok = recorder();
  let failures = 2;
  const flaky: EmotionModel = { version: 'flaky', dispose() {}, async predict(crops) { if (failures-- > 0) throw new Error('device busy'); return ok.predict(crops); } };
  const metrics = createMetrics();
  const delays: number[] = [];
  const out = await lastValueFrom(of(frame(0, 1), frame(1, 2)).pipe(classifyFaces({
    model: () => flaky, config: { maxWaitMs: 5, maxBatchFrames: 8 }, logger: silentLogger, metrics, sleep: async (ms) => { delays.push(ms); },
  }), toArray()));
  assert.deepEqual(out.map((m) => m.faces.length), [1, 2]);
  assert.deepEqual(ok.calls, [3], 'the third call of the whole batch succeeded');
  assert.equal(delays.length, 2, 'two waits (DEFAULT_CLASSIFY_RETRY: 2 retries)');
  assert.deepEqual((await metrics.facesSkipped.get()).values, []);
});

test('one poison frame in a batch: the others are classified, only it becomes what `failed` makes of it (the service: a dead letter), in its place', async () => {
  const ok = recorder();
  // A crop whose value is 11 (frame 1's second face) makes the model throw, as a malformed tensor would.
  const picky: EmotionModel = { version: 'picky', dispose() {}, async predict(crops) { if (crops.some((c) => c[0] === 11)) throw new Error('bad crop'); return ok.predict(crops); } };
  const metrics = createMetrics();
  const failed = (m: FacesMessage, e: Error) => ({ rejected: m.frame.seq, why: e.message });
  const out = await lastValueFrom(of(frame(0, 1), frame(1, 2), frame(2, 1)).pipe(classifyFaces({
    model: () => picky, config: { maxWaitMs: 5, maxBatchFrames: 8, retries: 1, retryBackoffMs: 1 }, logger: silentLogger, metrics, failed,
  }), toArray()));
  assert.deepEqual(out.map((m) => ('rejected' in m ? m : m.faces.length)), [1, { rejected: 1, why: 'bad crop' }, 1]);
  assert.deepEqual(ok.calls, [1, 1], 'frames 0 and 2 alone');
  assert.deepEqual(await samples(metrics.facesSkipped), { '{"camera":"cam","reason":"classify_error"}': 2 });
});

test('a model swapped while a batch runs takes effect at the next batch, not inside the running one', async () => {
  // v1 answers only when the test lets it; the batching clock is virtual, so batches close on
  // size (4 frames), when the model is free, or at the end of the stream, never on a wall-clock window.
  const hold = deferred();
  const entered = deferred();
  const v1 = recorder('v1');
  const slowV1: EmotionModel = { version: 'v1', dispose() {}, async predict(crops) { const p = await v1.predict(crops); entered.resolve(); await hold.promise; return p; } };
  const v2 = recorder('v2');
  let current: EmotionModel = slowV1;
  const input = new Subject<FacesMessage>();
  const done = lastValueFrom(input.pipe(classifyFaces({
    model: () => current, config: { maxWaitMs: 1000, maxBatchFrames: 4 }, logger: silentLogger, scheduler: new VirtualTimeScheduler(),
  }), toArray()));
  for (let i = 0; i < 4; i++) input.next(frame(i, 1)); // batch 1, full: v1 starts on it at once
  await entered.promise; // v1 is inside batch 1
  for (let i = 4; i < 8; i++) input.next(frame(i, 1)); // batch 2, full: waits behind batch 1
  current = v2; // the swap, in the middle of batch 1
  for (let i = 8; i < 10; i++) input.next(frame(i, 1)); // batch 3: closed by the end of the stream
  hold.resolve();
  input.complete();
  const out = await done;
  assert.deepEqual(out.map((m) => [m.frame.seq, m.modelVersion]), [
    [0, 'v1'], [1, 'v1'], [2, 'v1'], [3, 'v1'], [4, 'v2'], [5, 'v2'], [6, 'v2'], [7, 'v2'], [8, 'v2'], [9, 'v2'],
  ]);
  assert.deepEqual(v1.calls, [4], 'v1 ran batch 1 only');
  assert.deepEqual(v2.calls, [4, 2], 'v2 ran batches 2 and 3');
});

const writeModel = writeTestModel;

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

test('hot reload: a new version loaded while a batch runs classifies from the next batch on, no frame dropped; a corrupt one, one with a numeric version, one that predicts NaN are refused', async () => {
  const { tf } = await loadTf();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'emo-model-'));
  await writeModel(dir, 'v1', 1);
  const handle = watchModel({ tf, dir, initial: await loadEmotionModel(tf, { model: dir }), logger: silentLogger });
  // The stage reads the handle once per batch, as the classifier service does; the first batch's
  // answer (computed by the real CNN) is held back until the test lets it go.
  const hold = deferred();
  const entered = deferred();
  let first = true;
  const model = (): EmotionModel => {
    const m = handle.current();
    return {
      version: m.version, dispose: () => m.dispose(),
      async predict(crops) {
        const p = await m.predict(crops);
        if (first) { first = false; entered.resolve(); await hold.promise; }
        return p;
      },
    };
  };
  const input = new Subject<FacesMessage>();
  const done = lastValueFrom(input.pipe(classifyFaces({
    model, config: { maxWaitMs: 1000, maxBatchFrames: 4 }, logger: silentLogger, scheduler: new VirtualTimeScheduler(),
  }), toArray()));
  for (let i = 0; i < 4; i++) input.next(frame(i, 1)); // batch 1: v1
  await entered.promise;
  for (let i = 4; i < 8; i++) input.next(frame(i, 1)); // batch 2: queued before the new version lands
  await writeModel(dir, 'v2', 2);
  assert.equal(await handle.check(), true);
  assert.equal(handle.current().version, 'v2');
  for (let i = 8; i < 10; i++) input.next(frame(i, 1)); // batch 3
  hold.resolve();
  input.complete();
  const out = await done;
  assert.deepEqual(out.map((m) => [m.frame.seq, m.modelVersion, m.faces.length]), [
    [0, 'v1', 1], [1, 'v1', 1], [2, 'v1', 1], [3, 'v1', 1], [4, 'v2', 1], [5, 'v2', 1], [6, 'v2', 1], [7, 'v2', 1], [8, 'v2', 1], [9, 'v2', 1],
  ]);
  // A card whose version is a number (every later message would be invalid downstream) is refused.
  await writeModel(dir, 'v3', 3);
  const cardFile = path.join(dir, 'card.json');
  await fs.writeFile(cardFile, JSON.stringify({ ...JSON.parse(await fs.readFile(cardFile, 'utf8')), version: 4 }));
  assert.equal(await handle.check(), false);
  assert.equal(handle.current().version, 'v2');
  // A version that loads but does not predict probabilities (NaN weights) is refused.
  const { tf: t2 } = await loadTf();
  const broken = buildModel(t2, PAPER_ARCHITECTURE, 5);
  broken.setWeights(broken.getWeights().map((w) => t2.fill(w.shape, NaN)));
  await saveModelDir(broken, dir, { name: 'paper', version: 'v5', createdAt: new Date().toISOString(), architecture: PAPER_ARCHITECTURE, parameters: broken.countParams(), labels: [...EMOTIONS], preprocessing: 'test', training: {}, evaluation: {} } satisfies ModelCard);
  broken.dispose();
  assert.equal(await handle.check(), false);
  assert.equal(handle.current().version, 'v2');
  // A corrupt new version is refused and the current model kept.
  await fs.writeFile(path.join(dir, 'model.json'), '{ not json');
  assert.equal(await handle.check(), false);
  assert.equal(handle.current().version, 'v2');
  handle.close();
  handle.current().dispose();
  await fs.rm(dir, { recursive: true });
});

test('reuse: unchanged faces take their last probabilities without a model call (faces_reused_total, still in emotions_total); a batch of reused faces only is no model outcome', async () => {
  const model = recorder();
  const metrics = createMetrics();
  const outcomes: string[] = [];
  const still = (seq: number, cameraId = 'cam'): FacesMessage => ({
    frame: { schemaVersion: 1, cameraId, seq, mediaTimeMs: seq * 100, capturedAtMs: 1e12 + seq, width: 64, height: 64 },
    faces: [{ box: { x: 0, y: 0, width: 20, height: 20 }, score: 0.9, crop: new Uint8Array(2304).fill(3) }],
  });
  const reuse = { maxMs: 300, minMs: 0, maxChange: 0.03, minIou: 0.9, maxCameras: 8, idleMs: 60_000 };
  const out = await lastValueFrom(of(still(0), still(1), still(2), still(3), still(0, 'door')).pipe(classifyFaces({
    model: () => model, config: { maxWaitMs: 0, maxBatchFrames: 1, reuse }, logger: silentLogger, metrics,
    outcome: { success: () => outcomes.push('ok'), failure: () => outcomes.push('failed') },
  }), toArray()));
  assert.deepEqual(model.calls, [1, 1, 1], 'frames 0 and 3 of cam, and door\'s first frame, went to the model');
  assert.deepEqual(out.map((m) => EMOTIONS.findIndex((e) => m.faces[0].probabilities[e] === 1)), [3, 3, 3, 3, 3]);
  assert.deepEqual(await samples(metrics.facesReused as unknown as PipelineMetrics['emotions']), { '{"camera":"cam"}': 2 });
  assert.deepEqual(await samples(metrics.emotions), { '{"camera":"cam","emotion":"happy"}': 4, '{"camera":"door","emotion":"happy"}': 1 });
  assert.deepEqual(outcomes, ['ok', 'ok', 'ok'], 'the breaker hears of model calls only');
  assert.equal((await metrics.batchSize.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value, 3, 'batch sizes of model calls only');
});
