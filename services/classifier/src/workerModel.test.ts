import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, from, toArray } from 'rxjs';
import { EMOTIONS, type FacesMessage } from '@emostream/contracts';
import { loadTf, silentLogger, type Logger } from '@emostream/runtime';
import { INPUT_PIXELS } from '@emostream/model';
import { loadEmotionModel } from './emotionModel.js';
import { WorkerEmotionModel, backendChoiceOf } from './workerModel.js';
import { watchModel } from './hotReload.js';
import { writeTestModel } from './testModel.js';
import { classifyFaces } from './classifyFaces.js';

// FER-2013's PublicTest faces (48x48 gray, read in place): real crops, as the detector makes them.
const FER_TEST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data/fer2013/test');
const haveFer = fs.existsSync(FER_TEST);

async function realCrops(n: number): Promise<Uint8Array[]> {
  const { tf } = await loadTf();
  const files = EMOTIONS.flatMap((e) => fs.readdirSync(path.join(FER_TEST, e)).filter((f) => f.startsWith('PublicTest_')).sort().slice(0, 3).map((f) => path.join(FER_TEST, e, f)));
  return files.slice(0, n).map((f) => {
    const img = tf.node.decodeImage(fs.readFileSync(f), 1);
    const bytes = Uint8Array.from(img.dataSync());
    img.dispose();
    assert.equal(bytes.length, INPUT_PIXELS, f);
    return bytes;
  });
}

/** A turn of microtasks only: a message from the worker cannot come in between. */
const microtasks = async (n = 10) => { for (let i = 0; i < n; i++) await null; };

const writeModel = writeTestModel;

test('the shipped model in a worker answers as in this thread: same version and directory, probabilities within 1e-5 on real face crops; the caller keeps its crops', { skip: haveFer ? undefined : `no FER-2013 test faces at ${FER_TEST}` }, async () => {
  const rt = await loadTf();
  const crops = await realCrops(21);
  const here = await loadEmotionModel(rt.tf);
  const there = await WorkerEmotionModel.load({ backend: backendChoiceOf(rt) });
  try {
    assert.equal(there.version, here.version);
    assert.equal(there.dir, here.dir);
    assert.equal(there.mirrors, here.mirrors);
    // Both views averaged, and one pass a crop (the reuse plan's paired views).
    for (const [batch, single] of [[crops.slice(0, 1), false], [crops, false], [crops, true]] as const) {
      const want = await here.predict(batch, single);
      const got = await there.predict(batch, single);
      assert.equal(got.length, batch.length * EMOTIONS.length);
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `output ${i}: ${got[i]} vs ${want[i]}`);
    }
    // The crops went over as a copy: the caller's (kept for reuse and thumbnails) are intact.
    assert.ok(crops.every((c) => c.length === INPUT_PIXELS && c.buffer.byteLength > 0));
    assert.equal((await there.predict([])).length, 0);
  } finally {
    here.dispose();
    there.dispose();
  }
});

test('a worker killed with a call in flight fails that call with a clear error, and the next call starts a fresh one; a bad crop fails its own call; dispose ends the worker after the calls in flight', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'emo-worker-'));
  await writeModel(dir, 'v1', 1);
  const m = await WorkerEmotionModel.load({ model: dir, flipTta: true });
  const crops = [new Uint8Array(INPUT_PIXELS).fill(90), new Uint8Array(INPUT_PIXELS).fill(200)];
  try {
    const before = await m.predict(crops);
    const inFlight = assert.rejects(m.predict(crops), { message: 'emotion model worker was killed' });
    await microtasks();
    await m.killWorker();
    await inFlight;
    assert.equal(m.running, false);
    assert.deepEqual(await m.predict(crops), before);
    assert.equal(m.running, true);
    await assert.rejects(m.predict([new Uint8Array(10)]), { message: `crop 0 has 10 bytes, expected ${INPUT_PIXELS}` });
    const last = m.predict(crops);
    await microtasks();
    m.dispose();
    assert.deepEqual(await last, before);
    assert.equal(m.running, false);
    await assert.rejects(m.predict(crops), { message: 'emotion model v1 (worker) was disposed' });
    // A directory that cannot be loaded (or a head it lacks) fails the load, naming it.
    await assert.rejects(WorkerEmotionModel.load({ model: path.join(dir, 'missing') }), /^Error: emotion model worker could not load .*missing: /);
    await assert.rejects(WorkerEmotionModel.load({ model: dir, head: 'nope' }), /^Error: emotion model worker could not load .*: .*nope/);
  } finally {
    m.dispose();
    await fsp.rm(dir, { recursive: true });
  }
});

test('in the classifier: a worker killed mid-batch is retried on a fresh worker, with the in-thread figures; hot reload loads a new version in a worker and ends the old one', async () => {
  const rt = await loadTf();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'emo-worker-'));
  await writeModel(dir, 'v1', 1);
  const initial = await WorkerEmotionModel.load({ model: dir });
  const handle = watchModel({ tf: rt.tf, dir, initial, logger: silentLogger, load: (d) => WorkerEmotionModel.load({ model: d }) });
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg: string, f?: Record<string, unknown>) => { warnings.push(`${msg}: ${f?.error}`); } };
  const frames: FacesMessage[] = [0, 1].map((seq) => ({
    frame: { schemaVersion: 1, cameraId: 'cam', seq, mediaTimeMs: seq * 40, capturedAtMs: 1e12 + seq, width: 64, height: 64 },
    faces: [{ box: { x: 0, y: 0, width: 10, height: 10 }, score: 0.9, crop: new Uint8Array(INPUT_PIXELS).fill(60 + 80 * seq) }],
  }));
  try {
    let killed = false;
    // The worker is killed once, just after the first model call went to it.
    const model = () => {
      const m = handle.current() as WorkerEmotionModel;
      return { version: m.version, dispose: () => m.dispose(), predict: (c: Uint8Array[]) => {
        const p = m.predict(c);
        if (!killed) { killed = true; void microtasks().then(() => m.killWorker()); }
        return p;
      } };
    };
    const out = await lastValueFrom(from(frames).pipe(classifyFaces({ model, config: { maxWaitMs: 0, maxBatchFrames: 4, reuse: { maxMs: 0, minMs: 0, maxChange: 0, minIou: 1, maxCameras: 1, idleMs: 1 } }, logger, sleep: async () => {} }), toArray()));
    assert.deepEqual(warnings, ['classifier batch failed: emotion model worker was killed']);
    const here = await loadEmotionModel(rt.tf, { model: dir });
    const want = await here.predict(frames.map((f) => f.faces[0].crop));
    here.dispose();
    assert.equal(out.length, 2);
    out.forEach((o, k) => EMOTIONS.forEach((e, c) => assert.ok(Math.abs(o.faces[0].probabilities[e] - want[k * 7 + c]) < 1e-5, `frame ${k} ${e}`)));

    await writeModel(dir, 'v2', 2);
    assert.equal(await handle.check(), true);
    const next = handle.current();
    assert.ok(next instanceof WorkerEmotionModel);
    assert.equal(next.version, 'v2');
    await new Promise((r) => setImmediate(r));
    assert.equal(initial.running, false);
    assert.equal((await next.predict([frames[0].faces[0].crop])).length, 7);
  } finally {
    handle.close();
    handle.current().dispose();
    initial.dispose();
    await fsp.rm(dir, { recursive: true });
  }
});
