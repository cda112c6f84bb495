import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, from, toArray } from 'rxjs';
import { SCHEMA_VERSION, type FaceBox, type Frame } from '@emostream/contracts';
import { createMetrics, silentLogger } from '@emostream/runtime';
import { parseDetectorConfig, type DetectorConfigInput } from './config.js';
import { detectFaces } from './detectFaces.js';
import { cropFace } from './crop.js';
import type { FaceDetector } from './faceDetector.js';
import type { FaceEmbedder } from './embedder.js';

const W = 1280, H = 720;
const FACE: FaceBox = { box: { x: 400, y: 200, width: 160, height: 160 }, score: 0.9, eyes: { left: [440, 250], right: [520, 256] } };

/** A textured frame; `shift` moves the texture right (motion), `invert` turns the face's region negative. */
function frame(seq: number, o: { shift?: number; invert?: boolean; atMs?: number } = {}): Frame {
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = ((x - (o.shift ?? 0)) * 5 + y * 3) % 230;
      const inFace = x >= FACE.box.x && x < FACE.box.x + FACE.box.width && y >= FACE.box.y && y < FACE.box.y + FACE.box.height;
      if (o.invert && inFace) v = 255 - v;
      data.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  return { schemaVersion: SCHEMA_VERSION, cameraId: 'cam', seq, mediaTimeMs: o.atMs ?? seq * 100, capturedAtMs: 1e12 + seq, width: W, height: H, pixels: { format: 'rgb', data } };
}

/** A detector that finds FACE in every frame (or `faces(call)`), counting its calls and their input sizes. */
function fixedDetector(faces: (call: number) => FaceBox[] = () => [FACE]): FaceDetector & { calls: Array<[number, number]> } {
  const calls: Array<[number, number]> = [];
  return { name: 'fake', calls, async detect(_rgb, w, h) { calls.push([w, h]); return faces(calls.length - 1).map((f) => structuredClone(f)); }, dispose() {} };
}

async function run(frames: Frame[], config: DetectorConfigInput, detector = fixedDetector(), embedder?: FaceEmbedder) {
  const metrics = createMetrics();
  const out = await firstValueFrom(from(frames).pipe(detectFaces({
    detector, logger: silentLogger, metrics, embedder, config: parseDetectorConfig({ embeddings: false, tiles: 'off', ...config }),
  }), toArray()));
  const counted = Object.fromEntries((await metrics.detectorFrames.get()).values.map((v) => [`${v.labels.mode}/${v.labels.reason}`, v.value]));
  return { out, calls: detector.calls, counted };
}

test('k = 3 on still frames: the detector runs on frames 0, 3, 6; every frame still has its message and face, in order', async () => {
  const { out, calls, counted } = await run([0, 1, 2, 3, 4, 5, 6].map((s) => frame(s)), { detectEveryMs: 300 });
  assert.equal(calls.length, 3);
  assert.deepEqual(out.map((m) => m.frame.seq), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(out.map((m) => m.faces.length), [1, 1, 1, 1, 1, 1, 1]);
  for (const m of out) assert.deepEqual({ box: m.faces[0].box, score: m.faces[0].score, eyes: m.faces[0].eyes }, FACE);
  assert.deepEqual(counted, { 'detected/first': 1, 'carried/tracked': 4, 'detected/due': 2 });
});

test('detectEveryMs 0: the detector runs on every frame, as before', async () => {
  const { calls, counted } = await run([0, 1, 2, 3].map((s) => frame(s)), { detectEveryMs: 0 });
  assert.equal(calls.length, 4);
  assert.deepEqual(counted, { 'detected/every_frame': 4 });
});

test('a carried face is cropped from the current frame, aligned with the carried eyes', async () => {
  // carryMaxMotion 1: the inverted face region does not stop the carry here.
  const frames = [frame(0), frame(1, { invert: true })];
  const { out, calls } = await run(frames, { detectEveryMs: 300, carryMaxMotion: 1 });
  assert.equal(calls.length, 1);
  const config = parseDetectorConfig({});
  const opts = { marginFraction: config.marginFraction, align: config.align, maxAlignDeg: config.maxAlignDeg, cropOffsetY: config.cropOffsetY };
  const expected = await cropFace(frames[1].pixels.data, W, H, FACE, opts);
  assert.deepEqual(out[1].faces[0].crop, expected.crop);
  assert.notDeepEqual(out[1].faces[0].crop, out[0].faces[0].crop);
});

test('at 25 fps a carried face keeps its last crop for cropReuseMs of media time, then is cut afresh; 0 cuts every frame', async () => {
  // Frames 40 ms apart; the face region is inverted from frame 1 on (carryMaxMotion 1 keeps the carry going).
  const frames = [0, 1, 2, 3, 4].map((s) => frame(s, { atMs: s * 40, invert: s > 0 }));
  const config = parseDetectorConfig({});
  const opts = { marginFraction: config.marginFraction, align: config.align, maxAlignDeg: config.maxAlignDeg, cropOffsetY: config.cropOffsetY };
  const fresh = await Promise.all(frames.map(async (f) => (await cropFace(f.pixels.data, W, H, FACE, opts)).crop));
  assert.notDeepEqual(fresh[1], fresh[0]);
  const reused = await run(frames, { detectEveryMs: 300, carryMaxMotion: 1, cropReuseMs: 100 });
  assert.equal(reused.calls.length, 1);
  // 0 ms cut; 40 and 80 ms take it; 120 ms is cut afresh; 160 ms takes that one.
  assert.deepEqual(reused.out.map((m) => m.faces[0].crop), [fresh[0], fresh[0], fresh[0], fresh[3], fresh[3]]);
  for (const m of reused.out) assert.deepEqual({ box: m.faces[0].box, score: m.faces[0].score, eyes: m.faces[0].eyes }, FACE);
  const every = await run(frames, { detectEveryMs: 300, carryMaxMotion: 1, cropReuseMs: 0 });
  assert.deepEqual(every.out.map((m) => m.faces[0].crop), fresh);
  // A detected frame is always cut afresh: detectEveryMs 0 detects every frame.
  const detected = await run(frames, { detectEveryMs: 0, cropReuseMs: 100 });
  assert.deepEqual(detected.out.map((m) => m.faces[0].crop), fresh);
});

test('motion in a face\'s box, a weak face or a weak candidate makes the next frame a detection', async () => {
  const moved = await run([frame(0), frame(1, { shift: 6 }), frame(2, { shift: 6 })], { detectEveryMs: 300 });
  assert.equal(moved.calls.length, 2);
  assert.deepEqual(moved.counted, { 'detected/first': 1, 'detected/motion': 1, 'carried/tracked': 1 });
  const weak = await run([frame(0), frame(1)], { detectEveryMs: 300 }, fixedDetector(() => [{ ...FACE, score: 0.6 }]));
  assert.deepEqual(weak.counted, { 'detected/first': 1, 'detected/score': 1 });
  // A candidate under minScore (dropped as low_score) beside a strong face: no carry either.
  const flicker = await run([frame(0), frame(1)], { detectEveryMs: 300 }, fixedDetector(() => [FACE, { box: { x: 900, y: 300, width: 100, height: 100 }, score: 0.45 }]));
  assert.deepEqual(flicker.counted, { 'detected/first': 1, 'detected/score': 1 });
});

test('the tile pass runs on detected frames only', async () => {
  // Tiles auto at 1280x720: the first frame searches every tile; carried frames call nothing.
  const first = await run([frame(0)], { detectEveryMs: 300, tiles: 'auto' });
  assert.ok(first.calls.length > 1, 'tiles searched on frame 0');
  const carried = await run([frame(0), frame(1), frame(2)], { detectEveryMs: 300, tiles: 'auto' });
  assert.equal(carried.calls.length, first.calls.length, 'frames 1 and 2 carried: no call');
  const every = await run([frame(0), frame(1), frame(2)], { detectEveryMs: 0, tiles: 'auto' });
  assert.ok(every.calls.length >= first.calls.length + 4, `k = 1: the full frame and a share of the tiles on frames 1 and 2 (${every.calls.length} calls)`);
});

test('tilesRolling: a detection the carry asks for because a face moved searches no rolling share (scheduled); every: it does', async () => {
  // Frame 1 moves the texture (motion), frame 4 is due (300 ms after it). Tiles auto at 1280x720
  // (53 tiles, 2 a rolling share); FACE is 160 px: it holds no tile.
  const frames = [frame(0), ...[1, 2, 3, 4].map((seq) => frame(seq, { shift: 6 }))];
  const perFrame = async (tilesRolling: 'scheduled' | 'every') => {
    const { calls, counted } = await run(frames, { detectEveryMs: 300, tiles: 'auto', tilesRolling });
    assert.deepEqual(counted, { 'detected/first': 1, 'detected/motion': 1, 'carried/tracked': 2, 'detected/due': 1 });
    const n: number[] = [];
    for (const [w, h] of calls) if (w === W && h === H) n.push(0); else n[n.length - 1]++;
    return n;
  };
  assert.deepEqual(await perFrame('scheduled'), [53, 0, 2]);
  assert.deepEqual(await perFrame('every'), [53, 2, 2]);
});

test('embeddings follow their own schedule on carried frames (embedEveryMs of media time), from the current frame', async () => {
  const seen: number[] = [];
  const embedder: FaceEmbedder = {
    async embed(rgb, _w, _h, boxes) {
      seen.push(rgb[((FACE.box.y + 1) * W + FACE.box.x + 1) * 3]);
      return boxes.map(() => new Float32Array([1, 0, 0, 0]));
    },
    dispose() {},
  };
  // Frame 2's face region is inverted (carryMaxMotion 1 keeps the carry going).
  const frames = [frame(0), frame(1), frame(2, { invert: true }), frame(3), frame(4), frame(5)];
  const { out, calls } = await run(frames, { embeddings: true, detectEveryMs: 300, embedEveryMs: 200, embedMaxEveryMs: 200, carryMaxMotion: 1 }, fixedDetector(), embedder);
  assert.equal(calls.length, 2);
  // A new face on frame 0, then every 200 ms of media (frames 100 ms apart): 0, 2, 4 (2 and 4 are carried frames).
  assert.deepEqual(out.map((m) => m.faces[0].embedding !== undefined), [true, false, true, false, true, false]);
  const px = (f: Frame) => f.pixels.data[((FACE.box.y + 1) * W + FACE.box.x + 1) * 3];
  assert.deepEqual(seen, [px(frames[0]), px(frames[2]), px(frames[4])]);
  assert.notEqual(px(frames[2]), px(frames[0]));
});
