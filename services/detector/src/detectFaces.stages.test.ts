import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type FaceBox, type FacesMessage, type Frame } from '@emostream/contracts';
import { createMetrics, silentLogger } from '@emostream/runtime';
import { parseDetectorConfig } from './config.js';
import { detectionStages } from './detectFaces.js';
import type { FaceDetector } from './faceDetector.js';
import type { FaceEmbedder } from './embedder.js';

const W = 320, H = 240;
const FACE: FaceBox = { box: { x: 100, y: 60, width: 96, height: 96 }, score: 0.9 };

function frame(seq: number, cameraId = 'cam'): Frame {
  const data = Buffer.alloc(W * H * 3);
  const k = seq * 13 + (cameraId === 'cam' ? 0 : cameraId.charCodeAt(0) * 29);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + k) % 251;
  return { schemaVersion: SCHEMA_VERSION, cameraId, seq, mediaTimeMs: seq * 100, capturedAtMs: 1e12 + seq, width: W, height: H, pixels: { format: 'rgb', data } };
}

/** A frame's mark in the logs and gates below: its first byte (the frames differ there). */
const id = (f: Frame) => f.pixels.data[0];

/** A detector that finds FACE on every call and logs the frames it was called for. */
function detector(log: string[]): FaceDetector {
  return { name: 'fake', async detect(rgb) { log.push(`detect ${rgb[0]}`); return [structuredClone(FACE)]; }, dispose() {} };
}

/** An embedder whose call for a frame waits for `release(frame)`; a call for a frame `fail` names throws. */
function gatedEmbedder(log: string[], fail: (mark: number) => boolean = () => false) {
  const gates = new Map<number, () => void>();
  const embedder: FaceEmbedder = {
    async embed(rgb, _w, _h, boxes) {
      log.push(`embed ${rgb[0]}`);
      await new Promise<void>((resolve) => { gates.set(rgb[0], resolve); });
      if (fail(rgb[0])) throw new Error('embedder broke');
      return boxes.map(() => new Float32Array(1024).fill(0.5));
    },
    dispose() {},
  };
  const release = async (f: Frame) => {
    while (!gates.has(id(f))) await new Promise((r) => setImmediate(r));
    gates.get(id(f))!();
  };
  return { embedder, release };
}

/** Whether `p` has settled by the time the event loop has turned a few times. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; }, () => { done = true; });
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

// Every frame is detected and embedded (embedEveryMs 100 = the frame interval): each frame's second part waits on the gate.
const config = parseDetectorConfig({ tiles: 'off', detectEveryMs: 0, embedEveryMs: 100, embedMaxEveryMs: 100 });

test('a frame\'s crops and embeddings run beside the next frame\'s detection, at most one frame behind, and messages come in order', async () => {
  const log: string[] = [];
  const { embedder, release } = gatedEmbedder(log);
  const start = detectionStages({ detector: detector(log), embedder, logger: silentLogger, config });
  const [f0, f1, f2] = [frame(0), frame(1), frame(2)];

  const s0 = await start(f0);
  assert.equal(await settled(s0.done), false, 'frame 0 waits for its embedding');
  const second = start(f1);
  assert.equal(await settled(second), true, 'frame 1\'s detection does not wait for frame 0\'s embedding');
  const s1 = await second;
  while (!log.includes(`embed ${id(f0)}`)) await new Promise((r) => setImmediate(r));
  assert.ok(log.includes(`detect ${id(f1)}`), 'frame 1 was detected while frame 0 was being finished');
  const third = start(f2);
  assert.equal(await settled(third), false, 'frame 2 waits: frame 0 is still being finished');
  assert.equal(await settled(s1.done), false, 'frame 1 is finished after frame 0, not beside it');

  await release(f0);
  const m0 = await s0.done;
  assert.equal(m0?.frame.seq, 0);
  assert.equal(m0?.faces.length, 1);
  assert.ok(m0?.faces[0].embedding, 'frame 0 got its embedding');
  const s2 = await third;
  await release(f1);
  assert.equal((await s1.done)?.frame.seq, 1);
  await release(f2);
  assert.equal((await s2.done)?.frame.seq, 2);
  assert.deepEqual(log.filter((l) => l.startsWith('embed')), [f0, f1, f2].map((f) => `embed ${id(f)}`), 'finished one after another, in order');
  assert.deepEqual(log.filter((l) => l.startsWith('detect')), [f0, f1, f2].map((f) => `detect ${id(f)}`));
});

test('a second part that fails loses only its own frame: counted, dropped or replaced by `failed`, the next frames go on', async () => {
  for (const withFailed of [false, true]) {
    const log: string[] = [];
    const { embedder, release } = gatedEmbedder(log, (mark) => mark === id(frame(1)));
    const metrics = createMetrics();
    const start = detectionStages({
      detector: detector(log), embedder, logger: silentLogger, metrics, config,
      ...(withFailed ? { failed: (f: Frame, e: Error) => ({ dead: f.seq, why: e.message }) } : {}),
    });
    const started = [];
    for (let i = 0; i < 3; i++) {
      const s = start(frame(i));
      await release(frame(i));
      started.push(await s);
    }
    const out = await Promise.all(started.map((s) => s.done));
    assert.equal((out[0] as FacesMessage).frame.seq, 0);
    assert.deepEqual(out[1], withFailed ? { dead: 1, why: 'embedder broke' } : undefined);
    assert.equal((out[2] as FacesMessage).frame.seq, 2);
    const dropped = (await metrics.framesDropped.get()).values.find((v) => v.labels.reason === 'detect_error');
    assert.equal(dropped?.value, 1);
  }
});

test('cameras are apart: one camera\'s slow second part does not hold another camera\'s frames', async () => {
  const log: string[] = [];
  const { embedder, release } = gatedEmbedder(log);
  const start = detectionStages({ detector: detector(log), embedder, logger: silentLogger, config });
  const [fa0, fa1, fb0] = [frame(0, 'a'), frame(1, 'a'), frame(0, 'b')];
  const a0 = await start(fa0);
  const started1 = start(fa1);
  assert.equal(await settled(started1), true);
  const a1 = await started1;
  // Camera a's frame 0 is still being embedded; camera b's frame starts and finishes regardless.
  const b0 = start(fb0);
  assert.equal(await settled(b0), true);
  await release(fb0);
  assert.equal((await (await b0).done)?.frame.cameraId, 'b');
  assert.equal(await settled(a0.done), false);
  await release(fa0);
  assert.equal((await a0.done)?.frame.seq, 0);
  await release(fa1);
  assert.equal((await a1.done)?.frame.seq, 1);
});
