import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, from, tap, toArray } from 'rxjs';
import { SCHEMA_VERSION, type FaceBox, type Frame } from '@emostream/contracts';
import { silentLogger } from '@emostream/runtime';
import { parseDetectorConfig, type DetectorConfigInput } from './config.js';
import { detectFaces } from './detectFaces.js';
import type { FaceDetector } from './faceDetector.js';

const W = 640, H = 360;
/** A 24 px "face" (a bright square) at (300, 200) of a dark frame. */
const FACE = { x: 300, y: 200, side: 24 };

function frame(seq: number, withFace = true): Frame {
  const data = Buffer.alloc(W * H * 3, 20);
  if (withFace) {
    for (let y = FACE.y; y < FACE.y + FACE.side; y++) for (let x = FACE.x; x < FACE.x + FACE.side; x++) data[(y * W + x) * 3] = 250;
  }
  return { schemaVersion: SCHEMA_VERSION, cameraId: 'cam', seq, mediaTimeMs: seq * 100, capturedAtMs: 1e12 + seq, width: W, height: H, pixels: { format: 'rgb', data } };
}

/**
 * A detector that, like BlazeFace, misses the small face in the whole frame and finds it in a
 * tile: it reports the bright square's bounding box only when its input is smaller than the frame.
 */
function smallFaceDetector(name = 'fake'): FaceDetector & { calls: Array<[number, number]> } {
  const calls: Array<[number, number]> = [];
  return {
    name, calls,
    async detect(rgb, width, height) {
      calls.push([width, height]);
      if (width === W && height === H) return [];
      let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
      for (let i = 0; i < width * height; i++) {
        if (rgb[i * 3] !== 250) continue;
        const x = i % width, y = Math.floor(i / width);
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
      }
      return x1 < 0 ? [] : [{ box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, score: 0.9, eyes: { left: [x0 + 6, y0 + 8], right: [x0 + 18, y0 + 8] } } satisfies FaceBox];
    },
    dispose() {},
  };
}

async function run(frames: Frame[], config: DetectorConfigInput, detector = smallFaceDetector()) {
  const out = await firstValueFrom(from(frames).pipe(detectFaces({ detector, logger: silentLogger, config: parseDetectorConfig({ embeddings: false, detectEveryMs: 0, ...config }) }), toArray()));
  return { out, calls: detector.calls };
}

test('tiles off: one full-frame call per frame, the small face is not found', async () => {
  const { out, calls } = await run([frame(0), frame(1)], { tiles: 'off' });
  assert.deepEqual(calls, [[W, H], [W, H]]);
  assert.deepEqual(out.map((m) => m.faces.length), [0, 0]);
});

test('tiles auto: a sweep of every tile finds the small face, mapped back to frame pixels with its eyes', async () => {
  const { out, calls } = await run([frame(0)], { tiles: 'auto', tilesSweepFrames: 1 });
  // 640x360 → 3x2 tiles of 256x206 and 5x3 of 160x144 (each letterboxed into the 256 px input by the detector).
  assert.equal(calls.length, 1 + 6 + 15);
  assert.deepEqual(calls[0], [W, H]);
  for (const [w, h] of calls.slice(1)) assert.ok(w < W && h < H, `${w}x${h}`);
  assert.equal(out[0].faces.length, 1);
  const f = out[0].faces[0];
  assert.deepEqual(f.box, { x: FACE.x, y: FACE.y, width: FACE.side, height: FACE.side });
  assert.deepEqual(f.eyes, { left: [FACE.x + 6, FACE.y + 8], right: [FACE.x + 18, FACE.y + 8] });
  assert.equal(f.crop.length, 48 * 48);
});

test('after the first sweep: a rolling share of the grid plus the tile that held the face', async () => {
  const { out, calls } = await run([0, 1, 2, 3].map((s) => frame(s)), { tiles: '3x2', tilesEveryFrames: 3, tilesSweepFrames: 1 });
  // Frame 0: full + all 6 tiles. The face is whole in tile 4 (row 1, column 1) only. Then 2 tiles
  // a frame in turn (6 tiles / 3 frames) plus tile 4: {0, 1, 4}, {2, 3, 4}, {4, 5}.
  const perFrame: number[] = [];
  let n = -1;
  for (const [w, h] of calls) {
    if (w === W && h === H) perFrame.push(0), n++;
    else perFrame[n]++;
  }
  assert.deepEqual(perFrame, [6, 3, 3, 2]);
  assert.deepEqual(out.map((m) => m.faces.length), [1, 1, 1, 1]);
});

test('tilesReleaseScore: a face the full-frame pass places well and scores above it holds no tile; a weaker one, or 1, keeps it', async () => {
  // A 64 px face at 640x360: the full-frame pass sees it at 26 input px (its own box kept from 24, a
  // tile held under 30). This detector finds the bright square in every image, the frame included.
  const big = { x: 300, y: 160, side: 64 };
  const frames = [0, 1, 2, 3].map((seq) => {
    const f = frame(seq, false);
    for (let y = big.y; y < big.y + big.side; y++) for (let x = big.x; x < big.x + big.side; x++) f.pixels.data[(y * W + x) * 3] = 250;
    return f;
  });
  const everywhere = (score: number): FaceDetector & { calls: Array<[number, number]> } => {
    const inner = smallFaceDetector();
    return { ...inner, async detect(rgb, width, height) {
      inner.calls.push([width, height]);
      let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
      for (let i = 0; i < width * height; i++) {
        if (rgb[i * 3] !== 250) continue;
        const x = i % width, y = Math.floor(i / width);
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
      }
      return x1 < 0 ? [] : [{ box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, score }];
    } };
  };
  const tilesPerFrame = async (score: number, release: number) => {
    const { out, calls } = await run(frames, { tiles: '3x2', tilesEveryFrames: 3, tilesSweepFrames: 1, tilesReleaseScore: release, minScore: 0.5 }, everywhere(score));
    assert.deepEqual(out.map((m) => m.faces.length), [1, 1, 1, 1]);
    assert.deepEqual(out[3].faces[0].box, { x: big.x, y: big.y, width: big.side, height: big.side }, 'the full-frame box');
    const perFrame: number[] = [];
    for (const [w, h] of calls) if (w === W && h === H) perFrame.push(0); else perFrame[perFrame.length - 1]++;
    return perFrame;
  };
  // Released: the sweep, then the rolling share alone (2 tiles a frame); held: its tile (4) as well.
  assert.deepEqual(await tilesPerFrame(0.9, 0.8), [6, 2, 2, 2]);
  assert.deepEqual(await tilesPerFrame(0.75, 0.8), [6, 3, 3, 2]);
  assert.deepEqual(await tilesPerFrame(0.9, 1), [6, 3, 3, 2]);
});

test('a tile face under tilesMinScore is dropped; minFaceSizePx still applies to tile faces', async () => {
  assert.deepEqual((await run([frame(0)], { tiles: '3x2', tilesMinScore: 0.95 })).out[0].faces, []);
  assert.deepEqual((await run([frame(0)], { tiles: '3x2', minFaceSizePx: 25 })).out[0].faces, []);
});

test('auto leaves Haar alone (it searches its own pyramid); an explicit grid applies to any detector', async () => {
  const haar = await run([frame(0)], { detector: 'haar', tiles: 'auto' }, smallFaceDetector('haar'));
  assert.equal(haar.calls.length, 1);
  const grid = await run([frame(0)], { detector: 'haar', tiles: '2x1', tilesSweepFrames: 1 }, smallFaceDetector('haar'));
  assert.equal(grid.calls.length, 3);
  assert.equal(grid.out[0].faces.length, 1);
});

test('tilesSweepFrames: the first sweep is spread over that many detected frames, ceil(tiles / n) a frame plus the tile holding the face', async () => {
  const { out, calls } = await run([0, 1, 2, 3].map((s) => frame(s)), { tiles: 'auto', tilesSweepFrames: 3, tilesEveryFrames: 30, detectEveryMs: 0 });
  // 640x360: 3x2 + 5x3 tiles, 7 a frame. Sweep order 1, 3, 5, 0, 2, 4, 13 | 6, 10, 16, 20, 7, 9, 17 |
  // 19, 8, 11, 12, 14, 15, 18: the face is whole in coarse tile 4 and fine tile 13, both searched on
  // frame 0, which find it; it holds tile 13 (the smaller one), searched on every later frame besides
  // the sweep's share (frames 1 and 2) and then besides the rolling share (one tile, frame 3).
  const perFrame: number[] = [];
  for (const [w, h] of calls) {
    if (w === W && h === H) perFrame.push(0);
    else perFrame[perFrame.length - 1]++;
  }
  assert.deepEqual(perFrame, [7, 8, 8, 2]);
  assert.deepEqual(out.map((m) => m.faces.length), [1, 1, 1, 1]);
});

test('a live camera\'s frames (isLive) spread the sweep over tilesSweepFramesLive frames; a file\'s keep tilesSweepFrames', async () => {
  const perFrame = (calls: Array<[number, number]>) => {
    const n: number[] = [];
    for (const [w, h] of calls) { if (w === W && h === H) n.push(0); else n[n.length - 1]++; }
    return n;
  };
  const config = parseDetectorConfig({ embeddings: false, detectEveryMs: 0, tiles: 'auto', tilesSweepFrames: 1, tilesSweepFramesLive: 3, tilesEveryFrames: 30, tilesApartLive: false });
  const liveDetector = smallFaceDetector();
  const frames = [0, 1, 2, 3].map((s) => frame(s));
  const live = await firstValueFrom(from(frames).pipe(detectFaces({ detector: liveDetector, logger: silentLogger, config, isLive: () => true }), toArray()));
  // As tilesSweepFrames 3 (the test above): 7, 8, 8 tiles, then the held tile and the rolling share.
  assert.deepEqual(perFrame(liveDetector.calls), [7, 8, 8, 2]);
  assert.deepEqual(live.map((m) => m.faces.length), [1, 1, 1, 1]);
  const fileDetector = smallFaceDetector();
  await firstValueFrom(from(frames).pipe(detectFaces({ detector: fileDetector, logger: silentLogger, config, isLive: () => false }), toArray()));
  assert.equal(perFrame(fileDetector.calls)[0], 21, 'a file sweeps all 21 tiles on its first frame');
});

test('tilesApartLive: a live camera\'s frame searches the full frame or its tile share, never both; a face the share finds is detected on the next frame', async () => {
  // Each frame's detector calls: 'F' the full frame, 't' a tile.
  const byFrame = async (config: DetectorConfigInput, seqs = [0, 1, 2, 3, 4, 5]) => {
    const detector = smallFaceDetector();
    const marks: number[] = [];
    const frames = seqs.map((s) => frame(s));
    const out = await firstValueFrom(from(frames).pipe(
      detectFaces({ detector, logger: silentLogger, config: parseDetectorConfig({ embeddings: false, tiles: 'auto', tilesSweepFramesLive: 3, tilesEveryFrames: 30, detectEveryMs: 300, ...config }), isLive: () => true }),
      tap(() => marks.push(detector.calls.length)), toArray()));
    const kinds = detector.calls.map(([w, h]) => (w === W && h === H ? 'F' : 't'));
    return { faces: out.map((m) => m.faces.length), calls: marks.map((end, i) => kinds.slice(marks[i - 1] ?? 0, end).join('')) };
  };
  // Frame 0 searches the frame (the sweep's first share waits); frame 1 carries the detection (no
  // face) and searches that share alone: tiles 4 and 13 find the face, 13 is held and frame 2 is
  // detected (reason tile), with its held tile. Frame 3 carries the face and searches the sweep's
  // next share alone (nothing new); frame 4 carries; frame 5 is due: the frame and the held tile.
  const apart = await byFrame({});
  assert.deepEqual(apart.calls, ['F', 'ttttttt', 'Ft', 'ttttttt', '', 'Ft']);
  assert.deepEqual(apart.faces, [0, 0, 1, 1, 1, 1]);
  // As files do: the frame and the share together, the face found on the first frame.
  const together = await byFrame({ tilesApartLive: false });
  assert.deepEqual(together.calls[0], 'Fttttttt');
  assert.deepEqual(together.faces[0], 1);
  // Every frame detected (nothing carried): the share is searched with the next frame's detection.
  const everyFrame = await byFrame({ detectEveryMs: 0 });
  assert.deepEqual(everyFrame.calls.slice(0, 3), ['F', 'Fttttttt', 'Ft']);
  assert.deepEqual(everyFrame.faces.slice(0, 2), [0, 1]);
  // A frame skipped (seq 4: the camera is behind): that frame's detection takes its share with it.
  const behind = await byFrame({}, [0, 1, 2, 3, 5, 6]);
  assert.deepEqual(behind.calls, ['F', 'ttttttt', 'Ft', 'ttttttt', 'Ftttttttt', '']);
});
