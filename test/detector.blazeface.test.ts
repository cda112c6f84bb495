/**
 * Integration: the BlazeFace detector run directly (services/detector/src/blazefaceModel.ts) finds
 * what Human 3.x itself finds with the same model and settings, on real photos, video frames and
 * tiles: the same boxes, scores and eyes. And a batch of images gives what each gives alone.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { FaceBox } from '@emostream/contracts';
import { loadTf, type TfRuntime } from '@emostream/runtime';
import { createBlazeFaceDetector, fromLetterbox, humanConfig, humanModelsDir, letterbox, type FaceDetector } from '@emostream/detector';
import { filesMissing, requireResource } from './helpers/resources.js';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MEDIA = path.resolve(root, '../shared/data/media');
const mediaMissing = filesMissing(...['couple.jpg', 'two_people.jpg', 'short_hamilton_clip.mp4', 'woman2.mp4'].map((f) => path.join(MEDIA, f)));

interface Rgb { data: Uint8Array; width: number; height: number }

async function photo(name: string, width?: number): Promise<Rgb> {
  const { data, info } = await sharp(path.join(MEDIA, name)).removeAlpha().resize(width).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Frames of a clip at `fps`, scaled to `width` x `height`, through a real ffmpeg. */
function frames(name: string, fps: number, width: number, height: number): Rgb[] {
  const buf = execFileSync('ffmpeg', ['-v', 'error', '-i', path.join(MEDIA, name), '-vf', `fps=${fps},scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 28 });
  const size = width * height * 3;
  return Array.from({ length: Math.floor(buf.length / size) }, (_, i) => ({ data: buf.subarray(i * size, (i + 1) * size), width, height }));
}

/** A region of an image, copied out (a tile). */
function region(img: Rgb, x: number, y: number, w: number, h: number): Rgb {
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) out.set(img.data.subarray(((y + r) * img.width + x) * 3, ((y + r) * img.width + x + w) * 3), r * w * 3);
  return { data: out, width: w, height: h };
}

const OPTS = { candidateScore: 0.3, iouThreshold: 0.3, maxCandidates: 20 };

/** The reference: Human's own detect() with {@link humanConfig}, the input letterboxed as the detector does. */
async function humanDetector(rt: TfRuntime): Promise<FaceDetector> {
  const { Human } = require('@vladmandic/human');
  const human = new Human(humanConfig(OPTS, humanModelsDir()));
  await human.load();
  return {
    name: 'human',
    async detect(rgb, width, height) {
      const lb = letterbox(width, height, 256);
      const input = await sharp(rgb, { raw: { width, height, channels: 3 } }).resize(lb.width, lb.height, { fit: 'fill' })
        .extend({ left: lb.left, top: lb.top, right: 256 - lb.width - lb.left, bottom: 256 - lb.height - lb.top, background: { r: 0, g: 0, b: 0 } }).raw().toBuffer();
      const t = rt.tf.tensor4d(input, [1, 256, 256, 3], 'int32');
      const r = await human.detect(t);
      t.dispose();
      const out: FaceBox[] = [];
      for (const f of r.face as Array<{ box: number[]; boxScore: number; annotations: Record<string, number[][]> }>) {
        const [x0, y0] = fromLetterbox(lb, width, height, f.box[0], f.box[1]);
        const [x1, y1] = fromLetterbox(lb, width, height, f.box[0] + f.box[2], f.box[1] + f.box[3]);
        const box = { x: Math.max(0, x0), y: Math.max(0, y0), width: Math.min(width, x1) - Math.max(0, x0), height: Math.min(height, y1) - Math.max(0, y0) };
        if (box.width <= 0 || box.height <= 0) continue;
        const a = fromLetterbox(lb, width, height, f.annotations.leftEye[0][0], f.annotations.leftEye[0][1]);
        const b = fromLetterbox(lb, width, height, f.annotations.rightEye[0][0], f.annotations.rightEye[0][1]);
        // Human's order (its leftEye is the eye on the image's left when the face is upright), as the detector keeps it.
        out.push({ box, score: f.boxScore, eyes: { left: a, right: b } });
      }
      return out.sort((p, q) => q.score - p.score);
    },
    dispose: () => undefined,
  };
}

function assertSameFaces(got: FaceBox[], want: FaceBox[], what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} faces, Human ${want.length}`);
  // Equal scores may come in either order: match each of Human's faces to the nearest one here.
  for (const w of want) {
    const g = got.find((f) => Math.abs(f.box.x - w.box.x) < 1e-3 && Math.abs(f.box.y - w.box.y) < 1e-3);
    assert.ok(g, `${what}: no face at ${JSON.stringify(w.box)}`);
    for (const k of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(g.box[k] - w.box[k]) < 1e-3, `${what}: box ${k} ${g.box[k]} vs ${w.box[k]}`);
    assert.equal(g.score, w.score, `${what}: score`);
    for (const e of ['left', 'right'] as const) {
      for (const c of [0, 1]) assert.ok(Math.abs(g.eyes![e][c] - w.eyes![e][c]) < 1e-2, `${what}: ${e} eye ${g.eyes![e][c]} vs ${w.eyes![e][c]}`);
    }
  }
}

describe('BlazeFace run directly against Human 3.x', () => {
  let rt: TfRuntime;
  let direct: FaceDetector;
  let human: FaceDetector;
  let images: Array<{ what: string; img: Rgb }> = [];
  before(async () => {
    if (mediaMissing) return;
    rt = await loadTf();
    direct = await createBlazeFaceDetector({ ...OPTS, tf: rt });
    human = await humanDetector(rt);
    const wide = frames('short_hamilton_clip.mp4', 2, 1280, 720);
    images = [
      { what: 'couple.jpg', img: await photo('couple.jpg') },
      { what: 'two_people.jpg', img: await photo('two_people.jpg') },
      ...frames('woman2.mp4', 1, 1280, 720).slice(0, 6).map((img, i) => ({ what: `woman2 720p frame ${i}`, img })),
      ...wide.map((img, i) => ({ what: `short_hamilton_clip 720p frame ${i}`, img })),
      // Tiles of the audience shot (its last frames), as the tile pass cuts them: faces 3-4x larger in the input.
      ...[0, 300, 600, 886].map((x) => ({ what: `short_hamilton_clip audience tile at x ${x}`, img: region(wide[wide.length - 2], x, 0, 394, 411) })),
    ];
  });

  test('each image: the same faces, boxes, scores and eyes as Human', async (t) => {
    if (!requireResource(t, 'sample media', mediaMissing)) return;
    let faces = 0;
    for (const { what, img } of images) {
      const want = await human.detect(img.data, img.width, img.height);
      assertSameFaces(await direct.detect(img.data, img.width, img.height), want, what);
      faces += want.length;
    }
    assert.ok(faces >= 20, `the images hold faces (${faces})`);
  });

  test('a batch gives what each image gives alone', async (t) => {
    if (!requireResource(t, 'sample media', mediaMissing)) return;
    const batch = images.slice(-8);
    const together = await direct.detectMany!(batch.map(({ img }) => ({ rgb: img.data, width: img.width, height: img.height })));
    assert.equal(together.length, batch.length);
    for (const [i, { what, img }] of batch.entries()) assertSameFaces(together[i], await direct.detect(img.data, img.width, img.height), `${what} (batch)`);
    assert.deepEqual(await direct.detectMany!([]), []);
  });
});

describe('BlazeFace batching across callers', () => {
  test('calls made while it is busy come back as each alone would, and a bad image fails only its own call', async (t) => {
    if (!requireResource(t, 'sample media', mediaMissing)) return;
    const rt = await loadTf();
    const det = await createBlazeFaceDetector({ ...OPTS, tf: rt });
    const imgs = frames('short_hamilton_clip.mp4', 1, 1280, 720).slice(-6);
    const alone: FaceBox[][] = [];
    for (const img of imgs) alone.push(await det.detect(img.data, img.width, img.height));
    assert.ok(alone.flat().length >= 4, 'the frames hold faces');
    // Six cameras' frames at once, one of them broken (its size is wrong).
    const calls = imgs.map((img) => det.detect(img.data, img.width, img.height));
    const broken = det.detect(imgs[0].data.subarray(0, 100), 1280, 720);
    const tiles = det.detectMany!([{ rgb: imgs[1].data, width: 1280, height: 720 }, { rgb: region(imgs[1], 0, 0, 394, 411).data, width: 394, height: 411 }]);
    await assert.rejects(broken, /expected 1280x720x3/);
    const together = await Promise.all(calls);
    together.forEach((faces, i) => assertSameFaces(faces, alone[i], `frame ${i} among concurrent calls`));
    const [full, tile] = await tiles;
    assertSameFaces(full, alone[1], 'detectMany among concurrent calls');
    assertSameFaces(tile, await det.detect(region(imgs[1], 0, 0, 394, 411).data, 394, 411), 'a tile among concurrent calls');
    await det.dispose();
    await assert.rejects(det.detect(imgs[0].data, 1280, 720), /after dispose/);
  });
});
