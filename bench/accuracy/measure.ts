/**
 * The through-the-pipeline measurement itself: labelled FER-2013 faces rendered into 1280x720
 * frames (bench/accuracy/render.ts), each frame through the detector stage's own operator
 * (`detectFaces` with BlazeFace and `parseDetectorConfig(...)`), the crops through the
 * classifier stage's own batch call (`classifyBatch` with the shipped model, mirror TTA as its
 * card says), the detections matched to the placed faces by IoU; beside it the same faces
 * classified from their 48x48 images with the model's own preprocessing (as `emostream
 * evaluate` does). Clips of one face run on through the `Aggregator`.
 *
 * Crop settings only change what is cut from a frame, not what BlazeFace finds, so every setting
 * of a sweep sees the same frames and the same detections: BlazeFace runs once per frame (a
 * memoising wrapper), `detectFaces` (filtering, cropping) once per setting.
 */
import { firstValueFrom, from, toArray } from 'rxjs';
import { EMOTIONS, SCHEMA_VERSION, type FaceBox, type FacesMessage, type Frame } from '@emostream/contracts';
import { mulberry32, silentLogger } from '@emostream/runtime';
import { imageFileToModelCrop, toModelCrop } from '@emostream/model';
import { detectFaces, parseDetectorConfig, sampleRotatedSquare, type DetectorConfig, type FaceDetector, type FaceEmbedder } from '@emostream/detector';
import { classifyBatch, type EmotionModel, type ReuseOptions } from '@emostream/classifier';
import { Aggregator } from '@emostream/aggregator';
import { readGray, type FerFace } from './faces.js';
import { clipPoses, DEFAULT_MOTION, DEFAULT_PLACEMENT, patchBox, placeFaces, type PlacedFace, type PlacementOptions } from './geometry.js';
import { framingOf, matchBoxes } from './match.js';
import { applyLighting, composeLitFrame, drawLook, drawTint, facePatch, filmFrame, normalTable, pasteFace, renderBackground, windowOf, type FrameLook } from './render.js';
import { argmaxAt, dominantEmotion, type ClipRecord, type FaceRecord } from './score.js';

/** One crop geometry of the sweep. */
export interface CropSetting {
  marginFraction: number;
  cropOffsetY: number;
  align: boolean;
}

/** A short name for tables and JSON keys: `m0.05 y+0 align`. */
export function settingKey(s: CropSetting): string {
  const y = s.cropOffsetY > 0 ? `+${s.cropOffsetY}` : s.cropOffsetY === 0 ? '0' : `${s.cropOffsetY}`;
  return `m${s.marginFraction} y${y} ${s.align ? 'align' : 'no-align'}`;
}

/** The shipped crop geometry: what `parseDetectorConfig({})` gives today. */
export function shippedSetting(): CropSetting {
  const c = parseDetectorConfig({});
  return { marginFraction: c.marginFraction, cropOffsetY: c.cropOffsetY, align: c.align };
}

/** A seed per (run seed, index), so frame k looks the same whatever ran before it. */
export function derivedSeed(seed: number, index: number, stream = 0): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A detector that runs the wrapped one once per frame buffer and hands every later call on the
 * same buffer the same boxes (copies). Frames are passed as raw RGB, which `detectFaces` uses as
 * it is, so each setting's operator asks about the very same buffer.
 */
export function memoDetector(inner: FaceDetector): FaceDetector & { calls: number; ms: number } {
  const seen = new WeakMap<Uint8Array, Promise<FaceBox[]>>();
  const self = {
    name: inner.name,
    calls: 0,
    ms: 0,
    detect(rgb: Uint8Array, width: number, height: number): Promise<FaceBox[]> {
      let p = seen.get(rgb);
      if (!p) {
        self.calls++;
        const t0 = performance.now();
        p = inner.detect(rgb, width, height).then((b) => { self.ms += performance.now() - t0; return b; });
        seen.set(rgb, p);
      }
      return p.then((boxes) => boxes.map((b) => structuredClone(b)));
    },
    dispose: () => undefined,
  };
  return self;
}

/** What the measurement runs on. */
export interface MeasureDeps {
  /** BlazeFace (`createDetector(parseDetectorConfig({}), { tf })`); wrapped by {@link memoDetector} here. */
  detector: FaceDetector;
  /** The shipped model (`loadEmotionModel`), mirror TTA as its card says. */
  model: EmotionModel;
  /** The embedder for the clips (the pipeline's default `embeddings: true`); none: embeddings off. */
  embedder?: FaceEmbedder;
  /**
   * The classifier's reuse settings for the clips (`BENCH_CLASSIFIER_SETTINGS`: reuse of unchanged
   * faces, paired mirror views), a fresh cache per clip; none: every frame's faces classified whole.
   */
  clipReuse?: ReuseOptions;
  log: (m: string) => void;
}

/** Classes predicted for the faces from their own 48x48 images (the model's preprocessing, as `evaluate`). */
export async function stillPredictions(model: EmotionModel, faces: readonly FerFace[]): Promise<Map<string, number>> {
  const probs = await predictInBatches(model, await Promise.all(faces.map((f) => imageFileToModelCrop(f.file))));
  return new Map(faces.map((f, k) => [f.id, argmaxAt(probs, k * EMOTIONS.length)]));
}

/** The model's probabilities (n*7, EMOTIONS order) for crops, in calls of up to 256 as a busy classifier batches them. */
export async function predictInBatches(model: Pick<EmotionModel, 'predict'>, crops: readonly Uint8Array[]): Promise<Float32Array> {
  const probs = new Float32Array(crops.length * EMOTIONS.length);
  for (let i = 0; i < crops.length; i += 256) probs.set(await model.predict(crops.slice(i, i + 256)), i * EMOTIONS.length);
  return probs;
}

/** Settings of the rendering shared by stills and clips. */
export interface RenderOptions {
  placement: PlacementOptions;
  /** Soft edge of the pasted face, fraction of its side. */
  feather: number;
  /** Backgrounds drawn per run (each frame takes a random 1280x720 window of one, 1.25x larger). */
  backgrounds: number;
}

/** 1280x720, faces 40-200 px, roll ±12°, an 8% soft edge, 12 backgrounds. */
export const DEFAULT_RENDER: RenderOptions = { placement: DEFAULT_PLACEMENT, feather: 0.08, backgrounds: 12 };

/** The run's backgrounds and noise table (drawn from the seed). */
export interface Stage { bgs: Buffer[]; bgW: number; bgH: number; table: Float32Array }

export async function stage(seed: number, o: RenderOptions): Promise<Stage> {
  const { width, height } = o.placement;
  const bgW = Math.round(width * 1.25), bgH = Math.round(height * 1.25);
  const bgs: Buffer[] = [];
  for (let i = 0; i < o.backgrounds; i++) bgs.push(await renderBackground(mulberry32(derivedSeed(seed, i, 1)), bgW, bgH));
  return { bgs, bgW, bgH, table: normalTable(mulberry32(derivedSeed(seed, 0, 2))) };
}

export function pickWindow(rng: () => number, st: Stage, o: RenderOptions): Buffer {
  const { width, height } = o.placement;
  const bg = st.bgs[Math.floor(rng() * st.bgs.length)];
  return windowOf(bg, st.bgW, Math.floor(rng() * (st.bgW - width)), Math.floor(rng() * (st.bgH - height)), width, height);
}

export function frameOf(cameraId: string, seq: number, fps: number, rgb: Buffer, o: RenderOptions): Frame {
  const mediaTimeMs = Math.round((seq * 1000) / fps);
  return {
    schemaVersion: SCHEMA_VERSION, cameraId, seq, mediaTimeMs, capturedAtMs: 1_800_000_000_000 + mediaTimeMs,
    width: o.placement.width, height: o.placement.height, pixels: { format: 'rgb', data: rgb },
  };
}

/**
 * Renders still frame `index` of a run: the faces placed (seeded by run seed and index), pasted
 * over a window of one of the run's backgrounds, then the camera (lighting, blur, noise, JPEG,
 * decoded back). `beforeCamera` sees the canvas and placements before the camera touches them.
 */
export async function renderStillFrame(
  st: Stage, ro: RenderOptions, o: { seed: number; name: string; index: number; faces: readonly FerFace[] },
  beforeCamera?: (canvas: Buffer, placed: PlacedFace[]) => Promise<void>,
): Promise<{ frame: Frame; placed: PlacedFace[]; jpegBytes: number }> {
  const { width, height } = ro.placement;
  const rng = mulberry32(derivedSeed(o.seed, o.index));
  const placed = placeFaces(rng, o.faces.length, ro.placement);
  const canvas = pickWindow(rng, st, ro);
  for (let k = 0; k < o.faces.length; k++) {
    const { gray, side } = await readGray(o.faces[k].file);
    pasteFace(canvas, width, height, await facePatch(gray, side, placed[k].side), placed[k], drawTint(rng), ro.feather);
  }
  await beforeCamera?.(canvas, placed);
  const look = drawLook(rng);
  applyLighting(canvas, width, height, look);
  const filmed = await filmFrame(canvas, width, height, look, st.table, derivedSeed(o.seed, o.index, 3));
  return { frame: frameOf(`accuracy-${o.name}`, o.index, 10, filmed.rgb, ro), placed, jpegBytes: filmed.jpegBytes };
}

/**
 * A still frame as the first frame of a camera of its own. The frames of a run are unrelated
 * pictures: as consecutive frames of one camera, the detector would carry boxes from the frame
 * before and search for small faces only in the tiles of its rolling share (the first frame's
 * sweep of every tile, then a few a detection), so whether a small face was found would depend on
 * the frame's place in the run. As a camera's first frame each is searched whole, full frame and
 * every tile, as a video's faces are by the time they have been in view a few seconds.
 */
export function ownScene(frame: Frame): Frame {
  return { ...frame, cameraId: `${frame.cameraId}-${frame.seq}` };
}

/** Why a placed face was not among the detector stage's faces. */
export type MissReason = 'not_found' | 'low_score' | 'too_small' | 'other_filter';

/** Options of {@link measureStills}. */
export interface StillsOptions {
  name: string;
  faces: readonly FerFace[];
  /** The faces' still predictions ({@link stillPredictions}). */
  still: Map<string, number>;
  seed: number;
  facesPerFrame: number;
  settings: readonly CropSetting[];
  render?: RenderOptions;
  /** Frames rendered and run per batch (bounds memory: 2.8 MB per frame). */
  chunkFrames?: number;
}

/** What {@link measureStills} measured. */
export interface StillsResult {
  /** Per setting (by {@link settingKey}), one record per face, in face order. */
  records: Map<string, FaceRecord[]>;
  frames: number;
  /** Detections matched to no placed face (the same for every setting). */
  falseDetections: number;
  /** Faces the detector stage did not return, by reason. */
  missed: Record<MissReason, number>;
  /** Where BlazeFace's box sits on the placed face (matched faces): per face, for medians. */
  framing: Array<{ side: number; marginToPatch: number; offsetYToPatch: number; sideRatio: number }>;
  meanJpegBytes: number;
  msRender: number;
  msDetect: number;
  msCropClassify: number;
}

/**
 * Detector settings of a crop setting for stills: each frame is a new scene, given to the
 * detector as its own camera ({@link ownScene}), so no cut detection or embeddings (they change no
 * box or crop).
 */
function stillConfig(s: CropSetting): DetectorConfig {
  return parseDetectorConfig({ marginFraction: s.marginFraction, cropOffsetY: s.cropOffsetY, align: s.align, sceneCuts: false, embeddings: false });
}

/**
 * The placed patch itself cut from a frame, de-rotated by its true roll: FER-2013's framing
 * exactly, as a perfect detector and crop would give it; then the model's preprocessing.
 */
export async function oracleCrop(rgb: Uint8Array, width: number, height: number, p: PlacedFace): Promise<Uint8Array> {
  const centre: [number, number] = [p.x + p.side / 2, p.y + p.side / 2];
  const patch = sampleRotatedSquare(rgb, width, height, { x: p.x, y: p.y, side: p.side }, (p.rollDeg * Math.PI) / 180, centre);
  return toModelCrop(patch, { width: p.side, height: p.side, channels: 3 });
}

/** Classes of crops, classified in batches of up to 256 through the classifier's model call. */
async function classifyCrops(model: EmotionModel, crops: Uint8Array[]): Promise<number[]> {
  const probs = await predictInBatches(model, crops);
  return crops.map((_, k) => argmaxAt(probs, k * EMOTIONS.length));
}

/**
 * Renders the faces `facesPerFrame` to a frame and runs every frame through the detector stage
 * once per crop setting; the detector stage's crops go through the classifier stage's batch call
 * (`classifyBatch`), gathered over frames into batches of about 256 faces as a busy classifier
 * would batch them. Detections are matched to the placed faces. Each face is also cut out exactly
 * (its placed patch, de-rotated: {@link oracleCrop}) from the frame before and after the camera
 * (lighting, blur, noise, JPEG), which splits the gap into what the camera costs and what the
 * detector's geometry costs.
 */
export async function measureStills(deps: MeasureDeps, o: StillsOptions): Promise<StillsResult> {
  const ro = o.render ?? DEFAULT_RENDER;
  const { width, height } = ro.placement;
  const chunk = o.chunkFrames ?? 24;
  const st = await stage(o.seed, ro);
  const det = memoDetector(deps.detector);
  const records = new Map<string, FaceRecord[]>();
  const missed: Record<MissReason, number> = { not_found: 0, low_score: 0, too_small: 0, other_filter: 0 };
  const framing: StillsResult['framing'] = [];
  // Per setting: its detector config, its records, and the frames' messages waiting for the classifier.
  const runs = o.settings.map((s) => ({ key: settingKey(s), config: stillConfig(s), out: [] as FaceRecord[], msgs: [] as FacesMessage[], wait: [] as Array<{ rec: FaceRecord; msg: number; face: number }> }));
  for (const r of runs) records.set(r.key, r.out);
  const oracle: Array<{ rec: FaceRecord[]; clean: Uint8Array; filmed: Uint8Array }> = [];
  const flush = async (r: (typeof runs)[number]) => {
    if (!r.msgs.length) return;
    const classified = await classifyBatch(deps.model, r.msgs);
    for (const w of r.wait) {
      const p = classified[w.msg].faces[w.face].probabilities;
      w.rec.pipe = argmaxAt(EMOTIONS.map((e) => p[e]));
    }
    r.msgs = []; r.wait = [];
  };
  let falseDetections = 0, jpegBytes = 0, msRender = 0, msCropClassify = 0;
  const nFrames = Math.ceil(o.faces.length / o.facesPerFrame);
  for (let f0 = 0; f0 < nFrames; f0 += chunk) {
    const t0 = performance.now();
    const frames: Array<{ frame: Frame; faces: FerFace[]; placed: PlacedFace[] }> = [];
    for (let f = f0; f < Math.min(nFrames, f0 + chunk); f++) {
      const faces = o.faces.slice(f * o.facesPerFrame, (f + 1) * o.facesPerFrame);
      let clean: Uint8Array[] = [];
      const { frame, placed, jpegBytes: bytes } = await renderStillFrame(st, ro, { seed: o.seed, name: o.name, index: f, faces }, async (canvas, ps) => {
        clean = await Promise.all(ps.map((p) => oracleCrop(canvas, width, height, p)));
      });
      jpegBytes += bytes;
      const rgb = (frame.pixels as { data: Buffer }).data;
      const filmedCrops = await Promise.all(placed.map((p) => oracleCrop(rgb, width, height, p)));
      frames.push({ frame, faces, placed });
      placed.forEach((_, k) => oracle.push({ rec: [], clean: clean[k], filmed: filmedCrops[k] }));
    }
    msRender += performance.now() - t0;
    // BlazeFace once per frame (its raw candidates tell why a face was missed, and where its box
    // sits on the face); then the detector stage per setting, the boxes coming from the memo.
    const rawOf: Array<Array<FaceBox | undefined>> = [];
    for (const fr of frames) {
      const raw = await det.detect((fr.frame.pixels as { data: Buffer }).data, width, height);
      const truth = fr.placed.map(patchBox);
      const rawMatch = matchBoxes(truth, raw.map((b) => b.box));
      rawOf.push(fr.placed.map((p, k) => {
        const m = rawMatch.matches.find((x) => x.truth === k);
        if (m) framing.push({ side: p.side, ...framingOf(truth[k], raw[m.detection].box) });
        return m ? raw[m.detection] : undefined;
      }));
    }
    const t1 = performance.now();
    const firstOracle = oracle.length - frames.reduce((n, fr) => n + fr.faces.length, 0);
    for (const r of runs) {
      const msgs = await firstValueFrom(from(frames.map((x) => ownScene(x.frame))).pipe(detectFaces({ detector: det, logger: silentLogger, config: r.config }), toArray()));
      let q = firstOracle;
      frames.forEach((fr, i) => {
        const truth = fr.placed.map(patchBox);
        const mr = matchBoxes(truth, msgs[i].faces.map((x) => x.box));
        // Only the matched faces go to the classifier (false detections are counted, not scored).
        const keep = mr.matches.map((m) => m.detection);
        const msgIndex = r.msgs.length;
        r.msgs.push({ frame: msgs[i].frame, faces: keep.map((j) => msgs[i].faces[j]) });
        fr.faces.forEach((face, k) => {
          const rec: FaceRecord = { id: face.id, label: face.label, side: fr.placed[k].side, still: o.still.get(face.id)! };
          const m = mr.matches.findIndex((x) => x.truth === k);
          if (m >= 0) { rec.iou = mr.matches[m].iou; r.wait.push({ rec, msg: msgIndex, face: m }); }
          r.out.push(rec);
          oracle[q++].rec.push(rec);
        });
        if (r === runs[0]) {
          falseDetections += mr.unmatchedDetections.length;
          for (const k of mr.unmatchedTruth) missed[missReason(rawOf[i][k], r.config)]++;
        }
      });
      if (r.wait.length >= 256) await flush(r);
    }
    msCropClassify += performance.now() - t1;
    deps.log(`accuracy ${o.name}: ${Math.min(nFrames, f0 + chunk)}/${nFrames} frames`);
  }
  const t2 = performance.now();
  for (const r of runs) await flush(r);
  // The exact crops: one classification per face, shared by every setting's record of it.
  const cleanPred = await classifyCrops(deps.model, oracle.map((x) => x.clean));
  const filmedPred = await classifyCrops(deps.model, oracle.map((x) => x.filmed));
  oracle.forEach((x, i) => { for (const rec of x.rec) { rec.oracleClean = cleanPred[i]; rec.oracle = filmedPred[i]; } });
  msCropClassify += performance.now() - t2;
  return { records, frames: nFrames, falseDetections, missed, framing, meanJpegBytes: jpegBytes / nFrames, msRender, msDetect: det.ms, msCropClassify };
}

/** Why the detector stage dropped a face, from BlazeFace's raw candidate on it (none: not found). */
export function missReason(raw: FaceBox | undefined, cfg: Pick<DetectorConfig, 'minScore' | 'minFaceSizePx'>): MissReason {
  if (!raw) return 'not_found';
  if (raw.score < cfg.minScore) return 'low_score';
  if (Math.min(raw.box.width, raw.box.height) < cfg.minFaceSizePx) return 'too_small';
  return 'other_filter';
}
