/**
 * Face crop geometry, as plain functions: which detections to keep, the square region around a
 * face, the eye-line angle, the rotated sampling, and finally the classifier's 48x48 crop.
 */
import type { Box, FaceBox, FaceCrop } from '@emostream/contracts';
import { grayRegion, INPUT_SIZE, rawToModelCrop, shrinkBlocks } from '@emostream/model';

/** Why a detection was not cropped (the `reason` label of `facesSkipped`). */
export type SkipReason = 'low_score' | 'too_small' | 'duplicate' | 'max_faces';

/** Options of {@link filterFaces}. */
export interface FilterOptions {
  minScore: number;
  minFaceSizePx: number;
  maxFaces: number;
}

/** The detections to crop, strongest first, and the others with the reason they were dropped. */
export interface FilterResult {
  kept: FaceBox[];
  skipped: { face: FaceBox; reason: SkipReason }[];
}

/**
 * Chooses the faces to crop: strongest first, dropping those below `minScore`, those whose
 * smaller side is under `minFaceSizePx`, those whose centre lies inside a stronger kept face
 * (a second detection of the same head: BlazeFace's NMS keeps a profile's two halves when they
 * overlap little, and two faces cannot nest), and any beyond `maxFaces`.
 */
export function filterFaces(faces: readonly FaceBox[], opts: FilterOptions): FilterResult {
  const sorted = [...faces].sort((a, b) => b.score - a.score);
  const kept: FaceBox[] = [];
  const skipped: FilterResult['skipped'] = [];
  for (const face of sorted) {
    const { box } = face;
    let reason: SkipReason | undefined;
    if (face.score < opts.minScore) reason = 'low_score';
    else if (Math.min(box.width, box.height) < opts.minFaceSizePx) reason = 'too_small';
    else if (kept.some((k) => containsPoint(k.box, box.x + box.width / 2, box.y + box.height / 2))) reason = 'duplicate';
    else if (kept.length >= opts.maxFaces) reason = 'max_faces';
    if (reason) skipped.push({ face, reason });
    else kept.push(face);
  }
  return { kept, skipped };
}

function containsPoint(b: Box, x: number, y: number): boolean {
  return x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height;
}

/** A square of whole pixels in the frame: top-left corner and side. */
export interface SquareRegion {
  x: number;
  y: number;
  side: number;
}

/**
 * The square crop around a face box: centred on the box (moved down by `offsetYFraction` of the
 * box height, up when negative; 0 by default), side = the box's longer side plus
 * `marginFraction` of it on every side, then kept inside the frame. A square that sticks out of
 * the frame is shifted back in (it stays square, so the face is not stretched, at the cost of
 * being off-centre at the frame's edge); one larger than the frame shrinks to the frame's
 * shorter side.
 */
export function squareRegion(box: Box, marginFraction: number, frameWidth: number, frameHeight: number, offsetYFraction = 0): SquareRegion {
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2 + offsetYFraction * box.height;
  const wanted = Math.max(box.width, box.height) * (1 + 2 * marginFraction);
  const side = Math.max(1, Math.min(Math.round(wanted), frameWidth, frameHeight));
  const x = clamp(Math.round(cx - side / 2), 0, frameWidth - side);
  const y = clamp(Math.round(cy - side / 2), 0, frameHeight - side);
  return { x, y, side };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/**
 * The face's roll: the angle of the line from its `left` eye (the one on the image's left when the
 * face is upright) to its `right` one, radians in (-π, π], positive when the right eye is lower
 * (image y points down): 0 upright, ±π/2 a face lying on its side, π upside down. Rotating the
 * image by minus this levels the eyes, the face upright.
 */
export function eyeAngleRad(eyes: NonNullable<FaceBox['eyes']>): number {
  return Math.atan2(eyes.right[1] - eyes.left[1], eyes.right[0] - eyes.left[0]);
}

/**
 * Samples the square `region` out of an RGB frame after rotating the frame by `-angleRad` about
 * `centre` (the face centre), so a face tilted by `angleRad` comes out upright. Bilinear
 * interpolation; points that fall outside the frame repeat its edge pixels (black corners would
 * skew the histogram equalisation). With angle 0 this is an exact copy of the region.
 */
export function sampleRotatedSquare(
  rgb: Uint8Array, width: number, height: number,
  region: SquareRegion, angleRad: number, centre: readonly [number, number],
): Uint8Array {
  const { side } = region;
  const out = new Uint8Array(side * side * 3);
  if (angleRad === 0) {
    for (let v = 0; v < side; v++) {
      const src = ((region.y + v) * width + region.x) * 3;
      out.set(rgb.subarray(src, src + side * 3), v * side * 3);
    }
    return out;
  }
  return turnedSquare({ data: rgb, width, height, left: 0, top: 0, kx: 1, ky: 1, channels: 3 }, region, side, angleRad, centre);
}

/**
 * Where a turned square reads its pixels: the frame itself (`left`, `top` 0, scales 1), or a part
 * of it from (`left`, `top`) shrunk by `kx` x `ky` into `width` x `height`; `channels` a pixel
 * (3: RGB, 1: gray).
 */
interface TurnSource { data: Uint8Array; width: number; height: number; left: number; top: number; kx: number; ky: number; channels: 1 | 3 }

/**
 * The square `region` of the frame turned by `-angleRad` about `centre`, sampled bilinearly at
 * `side` x `side` pixels from `src` (points outside it repeat its edge pixels). With the frame
 * itself and `side` = `region.side`, every point is computed exactly as one pixel per pixel.
 */
function turnedSquare(src: TurnSource, region: SquareRegion, side: number, angleRad: number, centre: readonly [number, number]): Uint8Array {
  const channels = src.channels;
  const out = new Uint8Array(side * side * channels);
  const cos = Math.cos(angleRad);
  const sin = Math.sin(angleRad);
  const [fx, fy] = centre;
  const { data, width, left, top, kx, ky } = src;
  const maxX = width - 1;
  const maxY = src.height - 1;
  const step = region.side / side;
  const halfX = (kx - 1) / 2, halfY = (ky - 1) / 2;
  // Each column's terms, once (the same floats as computed per pixel).
  const cosQx = new Float64Array(side), sinQx = new Float64Array(side);
  for (let u = 0; u < side; u++) {
    const qx = region.x + (u + 0.5) * step - 0.5 - fx;
    cosQx[u] = cos * qx;
    sinQx[u] = sin * qx;
  }
  let o = 0;
  for (let v = 0; v < side; v++) {
    const qy = region.y + (v + 0.5) * step - 0.5 - fy;
    const sinQy = sin * qy, cosQy = cos * qy;
    for (let u = 0; u < side; u++) {
      // Frame point p = f + R(angle)·(q - f) (the output is the frame rotated by -angle about f),
      // then its place in the source (pixel centres kept under the shrink).
      const px = clamp((fx + cosQx[u] - sinQy - left) * kx + halfX, 0, maxX);
      const py = clamp((fy + sinQx[u] + cosQy - top) * ky + halfY, 0, maxY);
      // px, py >= 0: truncation is the floor, and (x + 0.5) | 0 rounds as Math.round does.
      const x0 = px | 0;
      const y0 = py | 0;
      const x1 = x0 < maxX ? x0 + 1 : maxX;
      const y1 = y0 < maxY ? y0 + 1 : maxY;
      const ax = px - x0;
      const ay = py - y0;
      const i00 = (y0 * width + x0) * channels;
      const i01 = (y0 * width + x1) * channels;
      const i10 = (y1 * width + x0) * channels;
      const i11 = (y1 * width + x1) * channels;
      for (let c = 0; c < channels; c++) {
        const t = data[i00 + c] + (data[i01 + c] - data[i00 + c]) * ax;
        const b = data[i10 + c] + (data[i11 + c] - data[i10 + c]) * ax;
        out[o++] = (t + (b - t) * ay + 0.5) | 0;
      }
    }
  }
  return out;
}

/** Options of {@link cropFace}. */
export interface CropOptions {
  marginFraction: number;
  align: boolean;
  maxAlignDeg: number;
  /**
   * Shift of the crop centre along the face's vertical axis, fraction of the box height
   * (negative: up); 0 when absent. With alignment it follows the rotated face's axis.
   */
  cropOffsetY?: number;
}

/** Tilts below this are not corrected: at 1° a 48 px crop's corner moves by about half a pixel. */
const MIN_ALIGN_RAD = (1 * Math.PI) / 180;

/**
 * The rotation {@link cropFace} applies for a face: its eye-line angle when alignment is on, the
 * detector gave eyes and the tilt lies between 1° and `maxAlignDeg`; 0 otherwise.
 */
export function alignmentAngleRad(face: FaceBox, opts: Pick<CropOptions, 'align' | 'maxAlignDeg'>): number {
  if (!opts.align || !face.eyes) return 0;
  const a = eyeAngleRad(face.eyes);
  if (Math.abs(a) < MIN_ALIGN_RAD || Math.abs(a) > (opts.maxAlignDeg * Math.PI) / 180) return 0;
  return a;
}

/**
 * Cuts one face out of an RGB frame into the classifier's input: the square region around the
 * box (eye-aligned when known, in gray: {@link alignedGray}), then `rawToModelCrop`, the
 * conversion `toModelCrop` runs on the training job's images (48x48 gray, histogram-equalised).
 *
 * Framing: FER-2013's faces were "registered so that the face is more or less centred and
 * occupies about the same amount of space in each image"; in its 48x48 images the face fills
 * the frame, from the forehead (hairline cut) to the chin and cheek to cheek. BlazeFace's own
 * box (Human's `scale: 1`) spans about the same brow-to-chin, cheek-to-cheek area, and so does
 * the paper's Haar box, so the default margin is small (`marginFraction` 0.05: 10% wider than
 * the box) — checked by eye against FER-2013 samples. A loose crop (Human's default 1.4x box)
 * would shrink the face to ~70% of the crop and show the model hair and background it never
 * saw in training.
 */
export async function cropFace(
  rgb: Uint8Array, width: number, height: number, face: FaceBox, opts: CropOptions,
): Promise<FaceCrop> {
  // The region lies in the de-rotated picture around the box centre (sampleRotatedSquare), so
  // the vertical offset moves the crop along the face's own vertical axis.
  const region = squareRegion(face.box, opts.marginFraction, width, height, opts.cropOffsetY ?? 0);
  const angle = alignmentAngleRad(face, opts);
  const centre: [number, number] = [face.box.x + face.box.width / 2, face.box.y + face.box.height / 2];
  const patch = alignedGray(rgb, width, height, region, angle, centre);
  const crop = rawToModelCrop(patch.data, patch.side, patch.side, 1);
  return { ...face, crop };
}

/**
 * Side, px, from which a face is not cut at full resolution: four times the model's input. Such
 * a face is first averaged over blocks of k x k pixels (k = floor(side / 96)), then turned
 * upright (when tilted) and resized to 48 from 96-191 px.
 */
export const ALIGN_MAX_SIDE = 4 * INPUT_SIZE;

/**
 * The square `region` turned upright (as {@link sampleRotatedSquare}), as 8-bit gray (the
 * model's own gray, @emostream/model's `grayRegion`) of side `region.side`, or, for a face of
 * {@link ALIGN_MAX_SIDE} px or more, averaged over blocks of k x k pixels first
 * (k = floor(side / 96)) and of side / k. Before Session 33 the square was turned in colour and
 * then made gray by sharp, and a tilted face over 144 px shrunk with sharp first: one or two
 * sharp calls a face, whose fixed cost was ten times the arithmetic. The 48x48 crops differ from
 * those by about a gray level (crop.test.ts), and the model's accuracy on the pipeline's crops of
 * PublicTest was the same (bench/RESULTS.md, Session 33).
 */
export function alignedGray(
  rgb: Uint8Array, width: number, height: number,
  region: SquareRegion, angleRad: number, centre: readonly [number, number],
): { data: Uint8Array; side: number } {
  const k = region.side >= ALIGN_MAX_SIDE ? Math.floor(region.side / (ALIGN_MAX_SIDE / 2)) : 1;
  // A part of the frame as gray, averaged over k x k blocks.
  const gray = (left: number, top: number, w: number, h: number) => {
    const g = grayRegion(rgb, width, left, top, w, h);
    return k > 1 ? shrinkBlocks(g, w, h, k) : { data: g, width: w, height: h };
  };
  if (angleRad === 0) {
    const g = gray(region.x, region.y, region.side, region.side);
    return { data: g.data, side: g.width };
  }
  const cos = Math.cos(angleRad), sin = Math.sin(angleRad);
  const [fx, fy] = centre;
  // The frame points the turned square draws from: the bounds of its four corners, 2 px wider.
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [qx, qy] of [[region.x, region.y], [region.x + region.side, region.y], [region.x, region.y + region.side], [region.x + region.side, region.y + region.side]]) {
    const px = fx + cos * (qx - fx) - sin * (qy - fy), py = fy + sin * (qx - fx) + cos * (qy - fy);
    x0 = Math.min(x0, px); x1 = Math.max(x1, px); y0 = Math.min(y0, py); y1 = Math.max(y1, py);
  }
  const left = clamp(Math.floor(x0) - 2, 0, width - 1), top = clamp(Math.floor(y0) - 2, 0, height - 1);
  const bw = clamp(Math.ceil(x1) + 2, left + 1, width) - left, bh = clamp(Math.ceil(y1) + 2, top + 1, height) - top;
  const src = gray(left, top, bw, bh);
  const side = Math.ceil(region.side / k);
  return { data: turnedSquare({ ...src, left, top, kx: 1 / k, ky: 1 / k, channels: 1 }, region, side, angleRad, centre), side };
}
