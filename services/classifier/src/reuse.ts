/**
 * Classification reused for faces that did not change. Per camera the faces of the last
 * classified frame are kept (box, 48x48 crop, probabilities, model version, the media time of
 * their last fresh classification). A face of a new frame takes a kept face's probabilities
 * instead of a model call when:
 * - same camera and model version, the frame comes after the kept one (`seq`) and is no hard cut;
 * - its box overlaps the kept face's by IoU `minIou` or more (carried faces keep the identical box);
 * - its crop changed little: {@link cropChange} against the crop that was classified is at most
 *   `maxChange` (gray levels / 255);
 * - that face's last fresh classification is less than `maxMs` of media time old, and the frame's
 *   media time is not before it (a file that loops, a restarted stream: afresh). So every face is
 *   classified afresh at least every `maxMs` of media whatever the frame rate: with 300 ms, at
 *   10 fps on every third frame, at 25 fps on every eighth.
 * A face is also reused, changed or not, while its last fresh classification is less than
 * `minMs` of media time old (same box match, camera, model version and cut rules): a face is then
 * classified at most once per `minMs` whatever the frame rate. With 100 ms, the default `--fps 10`
 * frame interval, 10 fps classifies every frame as before, and 25 or 30 fps cost the model calls of
 * 10 fps (every third frame); between them a face keeps the probabilities of 33-67 ms before.
 * Otherwise it is classified afresh. The comparison is always against the crop the model saw,
 * so a slow drift adds up and ends the reuse. Memory is bounded: at most `maxCameras` cameras (the
 * least recently seen go first), a camera unseen for `idleMs` is forgotten, and a new model
 * version clears everything. Crops live in memory only, never written anywhere.
 *
 * Paired views: with a model that averages each face with its mirror image (mirror TTA, two passes
 * a face) and `pairMs` above 0, a face classified afresh whose last fresh classification is under
 * `pairMs` of media old (same box match, camera, model and cut rules) gets one pass only: the view,
 * plain or mirrored, that it did not get last time, averaged with the view it got then. So each
 * answer still averages a plain and a mirrored view, one of them up to `pairMs` older, at one pass
 * a face; a face new to the camera, or after a cut, gets both views at once.
 */
import { matchByIou, withinMediaTime, type Box, type FacesMessage } from '@emostream/contracts';

/** Settings of {@link ClassificationReuse}. */
export interface ReuseOptions {
  /** Media time (ms) a face's fresh classification is reused for, while the face does not change; 0: off. */
  maxMs: number;
  /** Media time (ms) after a face's fresh classification during which it is reused even if its crop changed; 0: off. */
  minMs: number;
  /** Largest {@link cropChange} of a reused face against the crop that was classified (0..1). */
  maxChange: number;
  /** Least IoU of the face's box with the kept face's box. */
  minIou: number;
  /** Most cameras remembered (least recently seen evicted first). */
  maxCameras: number;
  /** A camera not seen for this long (ms, the process clock) is forgotten. */
  idleMs: number;
  /** Media time (ms) within which a fresh classification takes one view and pairs it with the face's last one (mirror TTA models only); 0 or absent: both views every time. */
  pairMs?: number;
}

/** Cells per side of {@link cropChange}'s grid over the 48x48 crop (8x8 pixels each). */
export const CHANGE_GRID = 6;
/** Side of a crop, pixels. */
const SIDE = 48;
/** Emotions per face. */
const K = 7;

/**
 * How much a 48x48 crop changed: the largest, over a {@link CHANGE_GRID}x{@link CHANGE_GRID} grid
 * of cells, of the mean absolute difference of the cell's pixels, in gray levels / 255. A change
 * in one place (a mouth opening) shows in its cell rather than being averaged over the face.
 */
export function cropChange(a: Uint8Array, b: Uint8Array): number {
  const cell = SIDE / CHANGE_GRID;
  let worst = 0;
  for (let cy = 0; cy < CHANGE_GRID; cy++) {
    for (let cx = 0; cx < CHANGE_GRID; cx++) {
      let s = 0;
      for (let y = cy * cell; y < (cy + 1) * cell; y++) {
        const row = y * SIDE;
        for (let x = cx * cell; x < (cx + 1) * cell; x++) s += Math.abs(a[row + x] - b[row + x]);
      }
      if (s > worst) worst = s;
    }
  }
  return worst / (cell * cell) / 255;
}

/**
 * A face's probabilities: known, or the `k`-th output of the batch being planned; with `k2` or
 * `with` too, the mean of that output and the `k2`-th (its mirror image) or of `with` (the other
 * view, from the face's classification before).
 */
interface Probs { p?: Float32Array; k?: number; k2?: number; with?: Probs }

/**
 * A face kept for a camera: the box and crop the model saw, its probabilities, the media time (ms)
 * of that classification; with paired views, the one pass it got last (`view` 1: mirrored).
 */
interface KeptFace { box: Box; crop: Uint8Array; probs: Probs; version: string; classifiedAtMs: number; last?: { view: 0 | 1; probs: Probs } }

/** A 48x48 crop mirrored left to right. */
export function mirrorCrop(crop: Uint8Array): Uint8Array {
  const out = new Uint8Array(crop.length);
  for (let y = 0; y < SIDE; y++) {
    const row = y * SIDE;
    for (let x = 0; x < SIDE; x++) out[row + x] = crop[row + SIDE - 1 - x];
  }
  return out;
}

interface CameraFaces { seq: number; faces: KeptFace[]; seenAt: number }

/** What {@link ClassificationReuse.plan} decided for a batch. */
export interface ReusePlan {
  /** The crops the model must classify, in order. */
  crops: Uint8Array[];
  /** The crops are single views (some mirrored here), one pass each: predict(crops, true). */
  single: boolean;
  /** Faces reused, per frame of the batch. */
  reused: number[];
  /**
   * Each frame's faces' probabilities (7 each), given the model's output for `crops`; keeps the
   * batch's faces for the next frames. Call once, after the model succeeded (a failed batch
   * changes nothing).
   */
  resolve(out: Float32Array): Float32Array[][];
}

/** The cache of the last classified faces per camera, and the decision per face. */
export class ClassificationReuse {
  private readonly cams = new Map<string, CameraFaces>();
  private version: string | undefined;

  constructor(private readonly o: ReuseOptions, private readonly now: () => number = () => performance.now()) {
    if (!Number.isInteger(o.maxMs) || o.maxMs < 0) throw new Error(`reuse maxMs must be a whole number of 0 or more, got ${o.maxMs}`);
    if (!Number.isInteger(o.minMs) || o.minMs < 0) throw new Error(`reuse minMs must be a whole number of 0 or more, got ${o.minMs}`);
    if (!Number.isInteger(o.maxCameras) || o.maxCameras < 1) throw new Error(`reuse maxCameras must be a positive whole number, got ${o.maxCameras}`);
  }

  /** Whether `o` reuses anything (`maxMs` or `minMs` above 0) or pairs views (`pairMs`). */
  static enabled(o: Pick<ReuseOptions, 'maxMs' | 'minMs' | 'pairMs'>): boolean {
    return o.maxMs > 0 || o.minMs > 0 || (o.pairMs ?? 0) > 0;
  }

  /** Cameras remembered now. */
  get cameras(): number {
    return this.cams.size;
  }

  /**
   * Plans a batch of frames (frames of a camera in order) for `modelVersion`; `mirrors`: the model
   * averages each face with its mirror image (then views may be paired, `pairMs`).
   */
  plan(batch: readonly FacesMessage[], modelVersion: string, mirrors = false): ReusePlan {
    const crops: Uint8Array[] = [];
    const pairMs = mirrors ? this.o.pairMs ?? 0 : 0;
    const reused: number[] = [];
    const perFrame: Probs[][] = [];
    // The batch's own frames are remembered as it goes (a later frame may reuse an earlier one's
    // faces, classified in this very batch); the cache itself changes only in resolve().
    const pending = new Map<string, CameraFaces>();
    const on = ClassificationReuse.enabled(this.o);
    if (this.version !== modelVersion) this.clear(); // a new model: nothing of the old one is reused
    this.version = modelVersion;
    const at = this.now();
    for (const m of batch) {
      const cam = m.frame.cameraId;
      const prev = on ? pending.get(cam) ?? this.fresh(cam, at) : undefined;
      const usable = prev && m.frame.seq > prev.seq && !m.frame.sceneCut ? prev.faces : [];
      const match = matchByIou(m.faces.map((f) => f.box), usable.map((f) => f.box), this.o.minIou);
      const kept: KeptFace[] = [];
      const probs: Probs[] = [];
      const t = m.frame.mediaTimeMs;
      let n = 0;
      m.faces.forEach((f, i) => {
        const old = match[i] === undefined ? undefined : usable[match[i]!];
        // Reused while its fresh classification is under minMs of media old, or under maxMs and
        // the crop barely changed; media time that went back (a file that loops, a restarted
        // stream) classifies afresh.
        const reuse = old !== undefined && old.version === modelVersion && (withinMediaTime(t, old.classifiedAtMs, this.o.minMs)
          || (withinMediaTime(t, old.classifiedAtMs, this.o.maxMs) && cropChange(old.crop, f.crop) <= this.o.maxChange));
        if (reuse) {
          kept.push(old);
          probs.push(old.probs);
          n++;
          return;
        }
        let p: Probs;
        let last: KeptFace['last'];
        if (!pairMs) {
          p = { k: crops.length };
          crops.push(f.crop);
        } else if (old?.last && old.version === modelVersion && withinMediaTime(t, old.classifiedAtMs, pairMs)) {
          // The view it did not get last time, paired with the one it got.
          const view = old.last.view === 1 ? 0 : 1;
          last = { view, probs: { k: crops.length } };
          crops.push(view === 1 ? mirrorCrop(f.crop) : f.crop);
          p = { ...last.probs, with: old.last.probs };
        } else {
          // Both views now; the mirrored one is remembered, so the next pass is the plain view.
          p = { k: crops.length, k2: crops.length + 1 };
          last = { view: 1, probs: { k: crops.length + 1 } };
          crops.push(f.crop, mirrorCrop(f.crop));
        }
        kept.push({ box: { ...f.box }, crop: Uint8Array.from(f.crop), probs: p, version: modelVersion, classifiedAtMs: t, ...(last ? { last } : {}) });
        probs.push(p);
      });
      reused.push(n);
      perFrame.push(probs);
      if (on) pending.set(cam, { seq: m.frame.seq, faces: kept, seenAt: at });
    }
    let done = false;
    return {
      crops, reused, single: pairMs > 0,
      resolve: (out) => {
        if (done) throw new Error('a reuse plan is resolved once');
        done = true;
        const value = (p: Probs): Float32Array => {
          if (p.p) return p.p;
          const a = out.slice(p.k! * K, (p.k! + 1) * K);
          const b = p.k2 !== undefined ? out.subarray(p.k2 * K, (p.k2 + 1) * K) : p.with ? value(p.with) : undefined;
          if (b) for (let c = 0; c < K; c++) a[c] = (a[c] + b[c]) / 2;
          return (p.p = a);
        };
        const result = perFrame.map((faces) => faces.map(value));
        if (pending.size) this.keep(pending, modelVersion, value);
        return result;
      },
    };
  }

  /** Forgets every camera. */
  clear(): void {
    this.cams.clear();
    this.version = undefined;
  }

  /** A camera's kept faces when still fresh (and marks it seen); an idle one is forgotten. */
  private fresh(cam: string, at: number): CameraFaces | undefined {
    const c = this.cams.get(cam);
    if (c && at - c.seenAt > this.o.idleMs) this.cams.delete(cam);
    return c && at - c.seenAt <= this.o.idleMs ? c : undefined;
  }

  private keep(pending: Map<string, CameraFaces>, modelVersion: string, value: (p: Probs) => Float32Array): void {
    if (this.version !== modelVersion) return; // another model planned since: its faces only
    for (const [cam, c] of pending) {
      for (const f of c.faces) {
        f.probs = { p: value(f.probs) };
        if (f.last) f.last = { view: f.last.view, probs: { p: value(f.last.probs) } };
      }
      this.cams.delete(cam); // re-inserted last: the Map's order is the recency order
      this.cams.set(cam, c);
    }
    const at = this.now();
    for (const [cam, c] of this.cams) {
      if (this.cams.size <= this.o.maxCameras && at - c.seenAt <= this.o.idleMs) break;
      this.cams.delete(cam);
    }
  }
}
