/**
 * Detection skipped on frames where every face is confidently tracked. BlazeFace is the
 * detector's largest cost (about 46 of 128 ms per 720p frame on 2 cores, bench/RESULTS.md), and
 * from one frame to the next a still face keeps its box. So per camera the last full detection's
 * faces (boxes, scores, eye keypoints) are remembered with a small picture of each box: an 8x8
 * grid of mean gray levels. On the next frames those faces are reused, re-cropped from the new
 * frame and re-aligned with the carried eyes, instead of running the detector, as long as:
 * - the frame is no hard cut and has the same size;
 * - less than `everyMs` of the camera's media time has passed since the full detection (and media
 *   time did not go back: a looped file or a restarted stream is detected afresh);
 * - every carried face scored at least `minScore`, and the detection dropped no candidate as too
 *   weak (between BlazeFace's candidate score and `minScore`: a face that comes and goes);
 * - no carried face's box changed: the mean absolute change of its 8x8 grid against the full
 *   detection's frame is at most `maxMotion` (gray levels / 255).
 * Otherwise the caller detects afresh and {@link DetectionCarry.record}s what it kept.
 *
 * Measured on woman2 and short_hamilton_clip at 720p and on the scene bench's clips (every frame
 * detected, each face's box on frame t compared with the detection on t+1..t+3): with the grid
 * change under 0.02 the carried box overlaps the fresh one by IoU 0.94 or more for 90% of the
 * faces (BlazeFace's own frame-to-frame jitter: median 0.98); faces that scored 0.7 or more were
 * all found again on the next two frames, those of 0.5-0.6 only in 91-92%.
 */
import { withinMediaTime, type Box, type FaceBox, type FaceCrop } from '@emostream/contracts';

/** Settings of {@link DetectionCarry}. */
export interface CarryOptions {
  /**
   * A full detection at least once per this much of a camera's media time, ms; 0: on every frame
   * (nothing carried). Media time, not a count of frames: at 10 fps 300 ms is every 3rd frame, at
   * 25 fps every 8th, so a new face elsewhere in the picture is found as soon at any frame rate.
   */
  everyMs: number;
  /** Least score of every carried face (0..1). */
  minScore: number;
  /** Largest change inside any carried face's box, the mean over its {@link GRID}x{@link GRID} cells of gray levels / 255. */
  maxMotion: number;
}

/** Cells per side of a face's gray grid. */
export const GRID = 8;

/**
 * Why a frame is detected afresh (`reason` of `detector_frames_total{mode="detected"}`), or
 * `tracked` when carried. `tile`: a tile searched on the frame before, between detections, found a
 * face the last detection did not have ({@link DetectionCarry.expire}).
 */
export type CarryReason = 'every_frame' | 'first' | 'cut' | 'due' | 'score' | 'motion' | 'size' | 'tile' | 'tracked';

/**
 * A detection on schedule (every frame, a camera's first, a cut, a new size, `everyMs` after the
 * last) rather than one the carry asks for between them because a face moved, scored weakly or
 * was found new in a tile.
 */
export function onSchedule(reason: Exclude<CarryReason, 'tracked'>): boolean {
  return reason !== 'motion' && reason !== 'score' && reason !== 'tile';
}

/** What {@link DetectionCarry.reuse} decided for one frame. */
/** One full detection of a camera, as an opaque token ({@link DetectionCarry.current}). */
export type Detection = object;

export type CarryDecision =
  | { carried: true; reason: 'tracked'; faces: FaceBox[] }
  | { carried: false; reason: Exclude<CarryReason, 'tracked'> };

interface CameraCarry {
  width: number;
  height: number;
  faces: FaceBox[];
  grids: Float32Array[];
  /** The detection dropped a weak candidate (low_score): no carry. */
  uncertain: boolean;
  /** Media time of the full detection's frame, ms. */
  detectedAtMs: number;
  /** The crops last cut of these faces (same order) and the media time of their frame, ms. */
  crops?: { atMs: number; crops: FaceCrop[] };
  /** A face was found that these lack ({@link DetectionCarry.expire}): the next frame is detected. */
  expired?: boolean;
}

/**
 * The mean gray level (0..1) of each cell of a `GRID` x `GRID` grid over `box` (clamped to the
 * frame), sampled on about 4x4 points per cell (every pixel for small boxes): about a thousand
 * reads per face whatever its size.
 */
export function boxGrid(rgb: Uint8Array, width: number, height: number, box: Box): Float32Array {
  const out = new Float32Array(GRID * GRID);
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(width, Math.ceil(box.x + box.width));
  const y1 = Math.min(height, Math.ceil(box.y + box.height));
  const cw = (x1 - x0) / GRID;
  const ch = (y1 - y0) / GRID;
  const step = Math.max(1, Math.floor(Math.min(cw, ch) / 4));
  for (let cy = 0; cy < GRID; cy++) {
    const ya = Math.floor(y0 + cy * ch);
    const yb = Math.max(ya + 1, Math.floor(y0 + (cy + 1) * ch));
    for (let cx = 0; cx < GRID; cx++) {
      const xa = Math.floor(x0 + cx * cw);
      const xb = Math.max(xa + 1, Math.floor(x0 + (cx + 1) * cw));
      let sum = 0;
      let n = 0;
      for (let y = ya; y < yb && y < height; y += step) {
        for (let x = xa; x < xb && x < width; x += step) {
          const i = (y * width + x) * 3;
          sum += rgb[i] + rgb[i + 1] + rgb[i + 2];
          n++;
        }
      }
      out[cy * GRID + cx] = n ? sum / n / 765 : 0;
    }
  }
  return out;
}

/** The mean absolute difference of two grids (0..1). */
export function gridMotion(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** Per-camera memory of the last full detection, deciding frame by frame whether to carry it. */
export class DetectionCarry {
  private readonly cams = new Map<string, CameraCarry>();
  constructor(private readonly o: CarryOptions) {
    if (!Number.isInteger(o.everyMs) || o.everyMs < 0) throw new Error(`everyMs must be a whole number of ms, 0 or more, got ${o.everyMs}`);
  }

  /**
   * This frame's faces when the last full detection can be carried onto it (copies of its faces,
   * boxes and eyes unchanged), or why not. Frames of a camera must come in order; each frame is
   * asked once, with its media time.
   */
  reuse(cameraId: string, rgb: Uint8Array, width: number, height: number, sceneCut: boolean, mediaTimeMs: number): CarryDecision {
    if (this.o.everyMs === 0) return { carried: false, reason: 'every_frame' };
    const cam = this.cams.get(cameraId);
    if (!cam) return { carried: false, reason: 'first' };
    if (sceneCut) return { carried: false, reason: 'cut' };
    if (cam.width !== width || cam.height !== height) return { carried: false, reason: 'size' };
    if (!withinMediaTime(mediaTimeMs, cam.detectedAtMs, this.o.everyMs)) return { carried: false, reason: 'due' };
    if (cam.expired) return { carried: false, reason: 'tile' };
    if (cam.uncertain || cam.faces.some((f) => f.score < this.o.minScore)) return { carried: false, reason: 'score' };
    for (let i = 0; i < cam.faces.length; i++) {
      if (gridMotion(cam.grids[i], boxGrid(rgb, width, height, cam.faces[i].box)) > this.o.maxMotion) return { carried: false, reason: 'motion' };
    }
    return { carried: true, reason: 'tracked', faces: cam.faces.map(copyFace) };
  }

  /**
   * A full detection of this frame (at `mediaTimeMs`) kept `faces`: the camera's new reference.
   * `uncertain`: it also dropped a candidate for its low score (then the next frame is detected again).
   */
  record(cameraId: string, rgb: Uint8Array, width: number, height: number, faces: readonly FaceBox[], mediaTimeMs: number, uncertain = false): void {
    if (this.o.everyMs === 0) return;
    const kept = faces.map(copyFace);
    this.cams.set(cameraId, { width, height, faces: kept, grids: kept.map((f) => boxGrid(rgb, width, height, f.box)), uncertain, detectedAtMs: mediaTimeMs });
  }

  /**
   * The crops last cut of the carried faces ({@link keepCrops}), when they were cut less than
   * `maxAgeMs` of media time before `mediaTimeMs` (copies: the crop bytes are shared, never
   * written); undefined when there are none that young, or `maxAgeMs` is 0. A fresh detection
   * ({@link record}) forgets them: its boxes are new. `detection`: only that detection's crops.
   */
  crops(cameraId: string, mediaTimeMs: number, maxAgeMs: number, detection?: Detection): FaceCrop[] | undefined {
    const cam = this.cams.get(cameraId);
    if (detection !== undefined && cam !== detection) return undefined;
    const kept = cam?.crops;
    if (!kept || maxAgeMs <= 0 || !withinMediaTime(mediaTimeMs, kept.atMs, maxAgeMs)) return undefined;
    return kept.crops.map(copyCrop);
  }

  /**
   * The crops cut on this frame (at `mediaTimeMs`) of the faces of the camera's last detection, in
   * its order. `detection` ({@link current} when the frame's faces were chosen): kept only while
   * that detection is still the camera's last (the next frame's may have come in the meantime).
   */
  keepCrops(cameraId: string, mediaTimeMs: number, crops: readonly FaceCrop[], detection?: Detection): void {
    const cam = this.cams.get(cameraId);
    if (!cam || crops.length !== cam.faces.length || (detection !== undefined && cam !== detection)) return;
    cam.crops = { atMs: mediaTimeMs, crops: crops.map(copyCrop) };
  }

  /** The camera's last detection, as a token for {@link keepCrops} and {@link crops} (undefined before the first). */
  current(cameraId: string): Detection | undefined {
    return this.cams.get(cameraId);
  }

  /** A face was found that the camera's last detection lacks: its next frame is detected afresh (reason `tile`). */
  expire(cameraId: string): void {
    const cam = this.cams.get(cameraId);
    if (cam) cam.expired = true;
  }

  /** Forgets a camera. */
  forget(cameraId: string): void {
    this.cams.delete(cameraId);
  }
}

/** A crop's face detached as {@link copyFace} does, its crop bytes shared (never written). */
const copyCrop = (c: FaceCrop): FaceCrop => ({ ...copyFace(c), crop: c.crop });

/** A face's box, score and eyes, detached from the detector's object (no crop, no embedding). */
function copyFace(f: FaceBox): FaceBox {
  const out: FaceBox = { box: { ...f.box }, score: f.score };
  if (f.eyes) out.eyes = { left: [f.eyes.left[0], f.eyes.left[1]], right: [f.eyes.right[0], f.eyes.right[1]] };
  return out;
}
