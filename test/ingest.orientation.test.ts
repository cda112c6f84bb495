/**
 * Integration: photos with an EXIF Orientation tag (as phones store them: the sensor's picture
 * plus the turn a viewer applies) come out of ingest and `analyze` as a viewer shows them, for all
 * 8 values. The photos are made here, at run time, in a temp dir (no face image is kept): ffmpeg's
 * asymmetric test pattern, and the sample photo justin.jpg turned by hand.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import sharp from 'sharp';
import { createLogger } from '@emostream/runtime';
import { createIngestStats, frameSource, probeSource } from '@emostream/ingest';
import { analyze, analyzeCameras, parseSourceArg } from '@emostream/pipeline';
import { MEDIA, testModelDir } from './helpers/model.js';
import { filesMissing, requireResource } from './helpers/resources.js';

const JUSTIN = path.join(MEDIA, 'justin.jpg');
let tmp = '';
before(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'ingest-orientation-')); });
after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

/** RGB pixels of a picture (any size), and its size. */
interface Raw { data: Buffer; width: number; height: number }
const raw = async (img: sharp.Sharp): Promise<Raw> => {
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
};

/** A JPEG of `pixels` (stored as they are) tagged with EXIF Orientation `orientation`; little loss (q 98, no chroma subsampling). */
async function photo(name: string, pixels: Raw, orientation: number): Promise<string> {
  const file = path.join(tmp, name);
  await sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 3 } })
    .jpeg({ quality: 98, chromaSubsampling: '4:4:4' }).withMetadata({ orientation }).toFile(file);
  return file;
}

/** The one frame ingest decodes from a still image. */
async function decodeStill(file: string) {
  const logger = createLogger({ level: 'error', write: () => {} });
  const frames = await lastValueFrom(frameSource({ url: file, fpsLimit: 10 }, { logger, stats: createIngestStats() }).pipe(toArray()));
  assert.equal(frames.length, 1, 'a still image is one frame');
  return frames[0];
}

/** Mean absolute difference per byte (of two pictures of one size). */
function meanDiff(a: Buffer, b: Buffer): number {
  assert.equal(a.length, b.length, 'same size');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

test('EXIF orientation 1-8: the frame is the picture as a viewer shows it (sharp\'s auto-orient), sides swapped for 5-8', { timeout: 60_000 }, async () => {
  // ffmpeg's test pattern: no turn or mirror of it looks like another.
  const pattern = execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180',
    '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  const stored: Raw = { data: pattern, width: 320, height: 180 };
  for (let o = 1; o <= 8; o++) {
    const file = await photo(`pattern-${o}.jpg`, stored, o);
    const p = await probeSource(file);
    assert.deepEqual([p.width, p.height], o >= 5 ? [180, 320] : [320, 180], `orientation ${o}: the size as shown`);
    const f = await decodeStill(file);
    // What a viewer shows: libvips' auto-orient of the same file.
    const shown = await raw(sharp(file).rotate());
    assert.deepEqual([f.width, f.height], [shown.width, shown.height], `orientation ${o}: frame size`);
    const d = meanDiff(f.pixels.data, shown.data);
    assert.ok(d < 3, `orientation ${o}: the frame is the picture as shown (mean difference ${d.toFixed(2)})`);
    if (o >= 2 && o <= 4) {
      // The stored picture (what was read before) is far from it: the test sees a missed turn.
      const asStored = await raw(sharp(file));
      assert.ok(meanDiff(asStored.data, shown.data) > 20, `orientation ${o}: the stored picture differs from the shown one`);
    }
  }
});

/**
 * justin.jpg cut to a landscape 380x240 around the face (even sides: no scaling blurs the
 * comparison; far from square: a picture squeezed into the stored size shows).
 */
const upright = (): Promise<Raw> => raw(sharp(JUSTIN).extract({ left: 0, top: 44, width: 380, height: 240 }));

/** The pixels a phone stores for an upright picture it tags 6 (turned 90° CCW) or 8 (turned 90° CW). */
const storedFor = (o: 6 | 8, up: Raw) => raw(sharp(up.data, { raw: { width: up.width, height: up.height, channels: 3 } }).rotate(o === 6 ? 270 : 90));

test('a phone photo stored sideways with orientation 6 or 8: the frame is the upright photo', { timeout: 60_000 }, async (t) => {
  if (!requireResource(t, 'sample media', filesMissing(JUSTIN))) return;
  const up = await upright();
  for (const o of [6, 8] as const) {
    const sideways = await storedFor(o, up);
    assert.deepEqual([sideways.width, sideways.height], [up.height, up.width]);
    const f = await decodeStill(await photo(`justin-${o}.jpg`, sideways, o));
    assert.deepEqual([f.width, f.height], [up.width, up.height], `orientation ${o}: upright size`);
    const d = meanDiff(f.pixels.data, up.data);
    assert.ok(d < 4, `orientation ${o}: the upright photo (mean difference ${d.toFixed(2)})`);
  }
});

test('rotate 90, 180, 270 (a camera mounted sideways or upside down): every frame of a video is the picture turned clockwise', { timeout: 60_000 }, async () => {
  const clip = path.join(tmp, 'pattern.mp4');
  execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=10',
    '-frames:v', '3', '-c:v', 'libx264', '-crf', '12', '-pix_fmt', 'yuv444p', clip]);
  const logger = createLogger({ level: 'error', write: () => {} });
  const decode = (rotate: number) => lastValueFrom(frameSource({ url: clip, fpsLimit: 10, rotate }, { logger, stats: createIngestStats() }).pipe(toArray()));
  const upright = await decode(0);
  assert.equal(upright.length, 3);
  for (const deg of [90, 180, 270]) {
    const frames = await decode(deg);
    assert.equal(frames.length, 3, `rotate ${deg}: every frame`);
    for (const [i, f] of frames.entries()) {
      const u = upright[i];
      const want = await raw(sharp(u.pixels.data, { raw: { width: u.width, height: u.height, channels: 3 } }).rotate(deg));
      assert.deepEqual([f.width, f.height], [want.width, want.height], `rotate ${deg}, frame ${i}: the turned size`);
      const d = meanDiff(f.pixels.data, want.data);
      assert.ok(d < 1, `rotate ${deg}, frame ${i}: the picture turned ${deg}° clockwise (mean difference ${d.toFixed(2)})`);
    }
  }
});

/** The faces `analyze` finds in a photo (one frame), through the library's hook. */
async function facesIn(file: string, name: string, model: string, rotate = 0) {
  const faces: Array<{ box: { x: number; y: number; width: number; height: number }; eyes?: { left: [number, number]; right: [number, number] } }> = [];
  await analyze(file, {
    out: path.join(tmp, `out-${name}`), camera: 'cam0', fps: 10, detector: 'blazeface', model, rtspTransport: 'tcp', giveUpAfter: 60,
    maxWidth: 1280, backend: 'auto', quiet: true, thumbnails: false, rotate,
  }, { onEmotions: (m) => { faces.push(...m.faces); } });
  return faces;
}

test('analyze on a photo stored sideways with orientation 6: the face found as in the upright photo', { timeout: 150_000 }, async (t) => {
  if (!requireResource(t, 'sample media', filesMissing(JUSTIN))) return;
  const model = await testModelDir();
  const up = await upright();
  const sideways = await storedFor(6, up);
  const [ref] = await facesIn(await photo('upright.jpg', up, 1), 'upright', model);
  const [face] = await facesIn(await photo('tagged.jpg', sideways, 6), 'tagged', model);
  // The same pixels without the tag, as they were read before.
  const [asStored] = await facesIn(await photo('untagged.jpg', sideways, 1), 'untagged', model);
  assert.ok(ref?.eyes && face?.eyes && asStored?.eyes, 'a face with eyes in each photo');
  /** The eye line's slope: level (near 0) on an upright face, steep on one lying sideways. */
  const slope = (e: { left: [number, number]; right: [number, number] }) => Math.abs(e.right[1] - e.left[1]) / Math.max(1e-6, Math.abs(e.right[0] - e.left[0]));
  assert.ok(slope(ref.eyes) < 0.2, `the upright photo's eyes are level (${slope(ref.eyes).toFixed(2)})`);
  assert.ok(slope(asStored.eyes) > 1, `without the tag the face lies sideways (eye slope ${slope(asStored.eyes).toFixed(2)})`);
  const off = Math.max(...[0, 1].flatMap((k) => [Math.abs(face.eyes!.left[k] - ref.eyes!.left[k]), Math.abs(face.eyes!.right[k] - ref.eyes!.right[k])]));
  assert.ok(off < 6, `the tagged photo's eyes are where the upright photo has them (within ${off.toFixed(1)} px)`);
});

test('analyze --rotate 180 on a photo taken upside down: the face found as in the upright photo', { timeout: 150_000 }, async (t) => {
  if (!requireResource(t, 'sample media', filesMissing(JUSTIN))) return;
  const model = await testModelDir();
  const up = await upright();
  const upsideDown = await raw(sharp(up.data, { raw: { width: up.width, height: up.height, channels: 3 } }).rotate(180));
  const [ref] = await facesIn(await photo('upright-ref.jpg', up, 1), 'upright-ref', model);
  const file = await photo('upside-down.jpg', upsideDown, 1);
  const [face] = await facesIn(file, 'turned', model, 180);
  assert.ok(ref?.eyes && face?.eyes, 'a face with eyes in the upright photo and in the turned one');
  const off = Math.max(...[0, 1].flatMap((k) => [Math.abs(face.eyes!.left[k] - ref.eyes!.left[k]), Math.abs(face.eyes!.right[k] - ref.eyes!.right[k])]));
  assert.ok(off < 6, `turned back, the eyes are where the upright photo has them (within ${off.toFixed(1)} px)`);
  // Left as it is, BlazeFace takes the upside-down face for an upright one: the eye it calls left
  // (the image's left on an upright face) is the person's right eye, so the crop is not turned.
  // That is what --rotate is for.
  const [asIs] = await facesIn(file, 'as-is', model);
  assert.ok(asIs?.eyes, 'a face with eyes in the turned photo read as it is');
  const turned = (p: [number, number]) => ({ x: up.width - p[0], y: up.height - p[1] });
  const dist = (e: [number, number], r: { x: number; y: number }) => Math.hypot(e[0] - r.x, e[1] - r.y);
  const [toOwn, toOther] = [dist(asIs.eyes.left, turned(ref.eyes.left)), dist(asIs.eyes.left, turned(ref.eyes.right))];
  assert.ok(toOther < toOwn, `without --rotate the face is read as upright: its 'left' eye is the person's right one (${toOther.toFixed(0)} px from it, ${toOwn.toFixed(0)} from the left)`);
});

test('a camera\'s own turn (#rotate=180 at the end of its URL) beside an upright camera: both faces found upright', { timeout: 150_000 }, async (t) => {
  if (!requireResource(t, 'sample media', filesMissing(JUSTIN))) return;
  const model = await testModelDir();
  const up = await upright();
  const upsideDown = await raw(sharp(up.data, { raw: { width: up.width, height: up.height, channels: 3 } }).rotate(180));
  const upFile = await photo('cam-up.jpg', up, 1);
  const downFile = await photo('cam-down.jpg', upsideDown, 1);
  const faces: Record<string, Array<{ eyes?: { left: [number, number]; right: [number, number] } }>> = { up: [], down: [] };
  // As the CLI parses --source and --cameras lines.
  const sources = [parseSourceArg(`up=${upFile}`), parseSourceArg(`down=${downFile}#rotate=180`, '--cameras cams.txt line 2')];
  const r = await analyzeCameras(sources, {
    out: path.join(tmp, 'out-cameras'), fps: 10, detector: 'blazeface', model, rtspTransport: 'tcp', giveUpAfter: 60,
    maxWidth: 1280, backend: 'auto', quiet: true, thumbnails: false,
  }, { onEmotions: (m) => { faces[m.frame.cameraId].push(...m.faces); } });
  assert.deepEqual(r.failed, []);
  const [ref] = faces.up;
  const [face] = faces.down;
  assert.ok(ref?.eyes && face?.eyes, 'a face with eyes from each camera');
  const off = Math.max(...[0, 1].flatMap((k) => [Math.abs(face.eyes!.left[k] - ref.eyes!.left[k]), Math.abs(face.eyes!.right[k] - ref.eyes!.right[k])]));
  assert.ok(off < 6, `the turned camera's eyes are where the upright camera has them (within ${off.toFixed(1)} px)`);
});
