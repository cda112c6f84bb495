import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaceBox } from '@emostream/contracts';
import { INPUT_PIXELS, rawToModelCrop, shrinkBlocks, toGray, toModelCrop } from '@emostream/model';
import {
  ALIGN_MAX_SIDE, alignedGray, alignmentAngleRad, cropFace, eyeAngleRad, filterFaces, sampleRotatedSquare, squareRegion,
} from './crop.js';

const face = (x: number, y: number, side: number, score = 0.9, eyes?: FaceBox['eyes']): FaceBox =>
  ({ box: { x, y, width: side, height: side }, score, ...(eyes ? { eyes } : {}) });

test('squareRegion centres a square with the margin on every side', () => {
  const r = squareRegion({ x: 100, y: 50, width: 40, height: 60 }, 0.25, 640, 360);
  // Longer side 60, plus 25% on each side = 90, centred on (120, 80).
  assert.deepEqual(r, { x: 75, y: 35, side: 90 });
});

test('squareRegion shifts a square that sticks out of the frame back inside, keeping its side', () => {
  assert.deepEqual(squareRegion({ x: -10, y: -5, width: 50, height: 50 }, 0.1, 640, 360), { x: 0, y: 0, side: 60 });
  assert.deepEqual(squareRegion({ x: 610, y: 330, width: 40, height: 40 }, 0, 640, 360), { x: 600, y: 320, side: 40 });
});

test('squareRegion shrinks a square larger than the frame to its shorter side', () => {
  assert.deepEqual(squareRegion({ x: 200, y: 10, width: 300, height: 300 }, 0.5, 640, 360), { x: 170, y: 0, side: 360 });
  assert.deepEqual(squareRegion({ x: 0, y: 0, width: 100, height: 100 }, 0, 80, 60), { x: 20, y: 0, side: 60 });
});

test('squareRegion moves the centre by offsetYFraction of the box height (negative: up), 0 by default', () => {
  const box = { x: 100, y: 50, width: 40, height: 60 };
  assert.deepEqual(squareRegion(box, 0.25, 640, 360, 0), squareRegion(box, 0.25, 640, 360));
  // Centre (120, 80) moved up by 0.1 * 60 = 6 px to (120, 74): 90 px square at (75, 29).
  assert.deepEqual(squareRegion(box, 0.25, 640, 360, -0.1), { x: 75, y: 29, side: 90 });
  assert.deepEqual(squareRegion(box, 0.25, 640, 360, 0.2), { x: 75, y: 47, side: 90 });
  // Still kept inside the frame.
  assert.deepEqual(squareRegion({ x: 10, y: 5, width: 50, height: 50 }, 0, 640, 360, -0.5), { x: 10, y: 0, side: 50 });
});

test('eyeAngleRad: the face\'s roll over the full circle, from its left eye to its right one', () => {
  assert.equal(eyeAngleRad({ left: [10, 20], right: [30, 20] }), 0);
  assert.ok(Math.abs(eyeAngleRad({ left: [0, 0], right: [10, 10] }) - Math.PI / 4) < 1e-12);
  assert.ok(eyeAngleRad({ left: [0, 10], right: [10, 0] }) < 0);
  // On its side (the left eye above the right one) and upside down: the order says which way is up.
  assert.ok(Math.abs(eyeAngleRad({ left: [50, 10], right: [50, 40] }) - Math.PI / 2) < 1e-12);
  assert.ok(Math.abs(eyeAngleRad({ left: [50, 40], right: [50, 10] }) + Math.PI / 2) < 1e-12);
  assert.ok(Math.abs(eyeAngleRad({ left: [10, 10], right: [0, 0] }) + 3 * Math.PI / 4) < 1e-12);
  assert.equal(eyeAngleRad({ left: [30, 20], right: [10, 20] }), Math.PI);
});

test('alignmentAngleRad: only with eyes, alignment on, and a tilt between 1 degree and maxAlignDeg', () => {
  const deg = (d: number) => ({ left: [0, 0] as [number, number], right: [100 * Math.cos(d * Math.PI / 180), 100 * Math.sin(d * Math.PI / 180)] as [number, number] });
  const opts = { align: true, maxAlignDeg: 45 };
  assert.ok(Math.abs(alignmentAngleRad(face(0, 0, 10, 1, deg(20)), opts) - 20 * Math.PI / 180) < 1e-9);
  assert.equal(alignmentAngleRad(face(0, 0, 10, 1, deg(0.5)), opts), 0);
  assert.equal(alignmentAngleRad(face(0, 0, 10, 1, deg(60)), opts), 0);
  // A face on its side: left as it is under 45, turned upright (either way) under 90; upside down under 180.
  assert.equal(alignmentAngleRad(face(0, 0, 10, 1, deg(90)), opts), 0);
  assert.ok(Math.abs(alignmentAngleRad(face(0, 0, 10, 1, deg(90)), { ...opts, maxAlignDeg: 90 }) - Math.PI / 2) < 1e-9);
  assert.ok(Math.abs(alignmentAngleRad(face(0, 0, 10, 1, deg(-90)), { ...opts, maxAlignDeg: 90 }) + Math.PI / 2) < 1e-9);
  assert.equal(alignmentAngleRad(face(0, 0, 10, 1, deg(170)), { ...opts, maxAlignDeg: 90 }), 0);
  assert.ok(Math.abs(alignmentAngleRad(face(0, 0, 10, 1, deg(170)), { ...opts, maxAlignDeg: 180 }) - 170 * Math.PI / 180) < 1e-9);
  assert.equal(alignmentAngleRad(face(0, 0, 10, 1, deg(20)), { ...opts, align: false }), 0);
  assert.equal(alignmentAngleRad(face(0, 0, 10), opts), 0);
});

test('filterFaces drops low scores, small faces, nested duplicates and faces beyond maxFaces, by reason', () => {
  const faces = [
    face(0, 0, 100, 0.6),
    face(200, 0, 100, 0.95),
    face(220, 20, 60, 0.7), // centre inside the 0.95 face: a second detection of the same head
    face(400, 0, 20, 0.9), // too small
    face(500, 0, 100, 0.4), // low score
    face(600, 0, 100, 0.55), // a third good face, over maxFaces
  ];
  const r = filterFaces(faces, { minScore: 0.5, minFaceSizePx: 32, maxFaces: 2 });
  assert.deepEqual(r.kept.map((f) => f.score), [0.95, 0.6]);
  assert.deepEqual(r.skipped.map((s) => [s.face.score, s.reason]), [
    [0.9, 'too_small'], [0.7, 'duplicate'], [0.55, 'max_faces'], [0.4, 'low_score'],
  ]);
});

test('filterFaces keeps adjacent faces that merely overlap', () => {
  const r = filterFaces([face(0, 0, 100, 0.9), face(60, 0, 100, 0.8)], { minScore: 0.5, minFaceSizePx: 32, maxFaces: 10 });
  assert.equal(r.kept.length, 2);
});

/** A w x h RGB image whose red channel is x, green y, blue constant. */
function ramp(w: number, h: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 3;
    rgb[i] = x; rgb[i + 1] = y; rgb[i + 2] = 7;
  }
  return rgb;
}

test('sampleRotatedSquare with angle 0 copies the region exactly', () => {
  const rgb = ramp(50, 40);
  const out = sampleRotatedSquare(rgb, 50, 40, { x: 5, y: 7, side: 4 }, 0, [7, 9]);
  assert.equal(out.length, 4 * 4 * 3);
  assert.deepEqual([out[0], out[1], out[2]], [5, 7, 7]);
  const last = (3 * 4 + 3) * 3;
  assert.deepEqual([out[last], out[last + 1]], [8, 10]);
});

test('sampleRotatedSquare levels a tilted eye line: rotating by the eye angle maps the eyes onto one row', () => {
  // Two bright dots (the "eyes") on a line tilted by 30 degrees about the centre (50, 50).
  const w = 100, h = 100;
  const rgb = new Uint8Array(w * h * 3);
  const a = (30 * Math.PI) / 180;
  const eyes: [number, number][] = [[50 - 20 * Math.cos(a), 50 - 20 * Math.sin(a)], [50 + 20 * Math.cos(a), 50 + 20 * Math.sin(a)]];
  for (const [ex, ey] of eyes) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
    rgb.fill(255, ((Math.round(ey) + dy) * w + Math.round(ex) + dx) * 3, ((Math.round(ey) + dy) * w + Math.round(ex) + dx) * 3 + 3);
  }
  const angle = eyeAngleRad({ left: eyes[0], right: eyes[1] });
  const out = sampleRotatedSquare(rgb, w, h, { x: 0, y: 0, side: 100 }, angle, [50, 50]);
  // After alignment the dots sit at (30, 50) and (70, 50).
  const at = (x: number, y: number) => out[(y * 100 + x) * 3];
  assert.ok(at(30, 50) > 150 && at(70, 50) > 150, `dots at ${at(30, 50)}, ${at(70, 50)}`);
  assert.ok(at(33, 40) < 50 && at(67, 60) < 50);
});

test('sampleRotatedSquare repeats edge pixels outside the frame instead of black', () => {
  const rgb = new Uint8Array(20 * 20 * 3).fill(200);
  const out = sampleRotatedSquare(rgb, 20, 20, { x: 0, y: 0, side: 20 }, Math.PI / 4, [10, 10]);
  assert.equal(Math.min(...out), 200);
});

test('cropFace gives a 48x48 equalised crop of the face region', async () => {
  const rgb = ramp(120, 100);
  const c = await cropFace(rgb, 120, 100, face(30, 20, 50, 0.9, { left: [40, 40], right: [70, 44] }), { marginFraction: 0.05, align: true, maxAlignDeg: 45 });
  assert.equal(c.crop.length, INPUT_PIXELS);
  assert.equal(Math.min(...c.crop), 0);
  assert.equal(Math.max(...c.crop), 255);
  assert.equal(c.score, 0.9);
  assert.deepEqual(c.box, { x: 30, y: 20, width: 50, height: 50 });
});

test('cropFace with cropOffsetY crops the region moved along the box height; absent or 0 is today\'s crop', async () => {
  const rgb = ramp(120, 100);
  const base = { marginFraction: 0.05, align: false, maxAlignDeg: 45 };
  const f = face(30, 20, 50);
  const plain = await cropFace(rgb, 120, 100, f, base);
  assert.deepEqual((await cropFace(rgb, 120, 100, f, { ...base, cropOffsetY: 0 })).crop, plain.crop);
  // Moving the crop up by 0.1 of the box height is the same crop as the box moved up by 5 px.
  const up = await cropFace(rgb, 120, 100, f, { ...base, cropOffsetY: -0.1 });
  const moved = await cropFace(rgb, 120, 100, face(30, 15, 50), base);
  assert.deepEqual(up.crop, moved.crop);
  assert.notDeepEqual(up.crop, plain.crop);
  assert.deepEqual(up.box, f.box);
});

/** A picture with detail at several scales (a face-sized pattern of blobs and edges), as RGB. */
function textured(w: number, h: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = 128 + 60 * Math.sin(x / 9) * Math.cos(y / 13) + 40 * Math.sin((x + 2 * y) / 31) + ((x >> 4) + (y >> 4)) % 2 * 20;
    const i = (y * w + x) * 3;
    rgb[i] = Math.max(0, Math.min(255, v)); rgb[i + 1] = Math.max(0, Math.min(255, v * 0.8 + 20)); rgb[i + 2] = Math.max(0, Math.min(255, 255 - v));
  }
  return rgb;
}

test('alignedGray turns a large tilted face at a reduced side, a 48x48 crop within about a gray level of the full-resolution colour turn', async () => {
  const w = 640, h = 480, rgb = textured(w, h);
  for (const [region, deg, side] of [[{ x: 150, y: 100, side: 300 }, 8, 100], [{ x: 0, y: 0, side: 250 }, -20, 125], [{ x: 390, y: 230, side: 250 }, 30, 125], [{ x: 100, y: 100, side: 191 }, 12, 191]] as const) {
    const angle = (deg * Math.PI) / 180, centre: [number, number] = [region.x + region.side / 2, region.y + region.side / 2];
    const p = alignedGray(rgb, w, h, region, angle, centre);
    assert.equal(p.side, side);
    assert.equal(p.data.length, side * side);
    const fast = rawToModelCrop(p.data, p.side, p.side, 1);
    const full = await toModelCrop(sampleRotatedSquare(rgb, w, h, region, angle, centre), { width: region.side, height: region.side, channels: 3 });
    let d = 0;
    for (let i = 0; i < full.length; i++) d += Math.abs(full[i] - fast[i]);
    assert.ok(d / full.length < 2, `${deg} deg at (${region.x}, ${region.y}): mean difference ${(d / full.length).toFixed(2)} gray levels`);
  }
});

test('alignedGray of an untilted face is the gray of sampleRotatedSquare (block-averaged from ALIGN_MAX_SIDE); of a small tilted one, within a gray level', () => {
  const w = 320, h = 240, rgb = textured(w, h);
  const mid = { x: 20, y: 10, side: ALIGN_MAX_SIDE - 1 }, big = { x: 20, y: 10, side: 200 }, small = { x: 40, y: 30, side: 150 };
  const gray = (r: { x: number; y: number; side: number }) => toGray(sampleRotatedSquare(rgb, w, h, r, 0, [0, 0]), r.side * r.side, 3);
  assert.deepEqual(alignedGray(rgb, w, h, mid, 0, [120, 110]), { data: gray(mid), side: mid.side });
  assert.deepEqual(alignedGray(rgb, w, h, big, 0, [120, 110]), { data: shrinkBlocks(gray(big), 200, 200, 2).data, side: 100 });
  const turned = alignedGray(rgb, w, h, small, 0.2, [112, 102]);
  const colour = toGray(sampleRotatedSquare(rgb, w, h, small, 0.2, [112, 102]), small.side * small.side, 3);
  assert.equal(turned.side, small.side);
  let worst = 0;
  for (let i = 0; i < colour.length; i++) worst = Math.max(worst, Math.abs(colour[i] - turned.data[i]));
  assert.ok(worst <= 2, `largest difference ${worst} gray levels`);
});
